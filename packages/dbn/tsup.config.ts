import { defineConfig } from "tsup";

export default defineConfig({
  // hostile.ts: generated hostile inputs for the benchmark (not exported from the package).
  entry: ["src/index.ts", "src/cli.ts", "src/hostile.ts"],
  format: ["esm"],
  dts: { entry: "src/index.ts" },
  sourcemap: true,
  clean: true,
  target: "node20",
});
