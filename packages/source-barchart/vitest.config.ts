import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "source-barchart",
    // Browser tests share one Chromium per file; keep files from launching browsers all at once on 2 cores.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
