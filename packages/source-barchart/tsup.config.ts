import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", "test-site/index": "src/test-site/index.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // puppeteer is an optional peer: imported dynamically only when installed.
  external: ["@nq/core", "puppeteer-core", "puppeteer", "zod"],
});
