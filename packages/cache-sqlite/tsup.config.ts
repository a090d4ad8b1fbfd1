import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // The native driver stays the user's install (an optional peer), loaded at run time.
  external: ["better-sqlite3", "@nq/core"],
});
