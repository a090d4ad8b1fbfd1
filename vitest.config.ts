import { defineConfig } from "vitest/config";

// One vitest run over every package so CI prints a single summary. Each package
// may add its own vitest.config.ts (picked up as a project) for package-local settings.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "examples/*"],
  },
});
