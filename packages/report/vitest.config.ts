import { defineProject } from "vitest/config";
import { clientVitePlugin } from "./build/client.mjs";

export default defineProject({
  plugins: [clientVitePlugin()],
  test: { name: "report", testTimeout: 60_000, hookTimeout: 60_000 },
});
