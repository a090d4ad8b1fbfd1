import { defineProject } from "vitest/config";

// Each test file starts its own PostgreSQL server (initdb takes a few seconds on a busy machine).
export default defineProject({ test: { name: "store-postgres", testTimeout: 60_000, hookTimeout: 120_000 } });
