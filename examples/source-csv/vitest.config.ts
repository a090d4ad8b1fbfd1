import { defineProject } from "vitest/config";

export default defineProject({ test: { name: "example-source-csv" } });
