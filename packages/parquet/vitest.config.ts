import { defineProject } from "vitest/config";

export default defineProject({ test: { name: "parquet", testTimeout: 120_000, hookTimeout: 120_000 } });
