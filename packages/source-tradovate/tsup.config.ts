import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "test-server/index": "src/test-server/index.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  external: ["@nq/core", "ws"],
});
