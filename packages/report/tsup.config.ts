import { defineConfig } from "tsup";
import { clientEsbuildPlugin } from "./build/client.mjs";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  esbuildPlugins: [clientEsbuildPlugin()],
});
