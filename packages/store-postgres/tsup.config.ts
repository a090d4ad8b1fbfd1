import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "test-support/index": "src/test-support/index.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  external: ["@nq/core", "@nq/history", "pg", "vitest", "kysely"],
});
