import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

interface JsonReport {
  testResults: { name: string; assertionResults: { title: string; status: string }[] }[];
}

/** Runs the kit over the fixture sources in a separate vitest process and returns each test's status. */
function runKit(): Record<string, Record<string, string>> {
  const manifest = createRequire(import.meta.url).resolve("vitest/package.json");
  const vitest = join(dirname(manifest), "vitest.mjs");
  const config = fileURLToPath(new URL("./fixtures/vitest.config.ts", import.meta.url));
  const run = spawnSync(process.execPath, [vitest, "run", "--config", config, "--reporter=json"], { encoding: "utf8", env: { ...process.env, CI: "true" } });
  const report = JSON.parse(run.stdout.slice(run.stdout.indexOf("{"))) as JsonReport;
  const byFile: Record<string, Record<string, string>> = {};
  for (const file of report.testResults) {
    const name = file.name.includes("broken") ? "broken" : file.name.includes("separate") ? "separate" : "good";
    byFile[name] = Object.fromEntries(file.assertionResults.map((test) => [test.title, test.status]));
  }
  return byFile;
}

describe("the conformance kit", () => {
  const results = runKit();

  it("passes a source that keeps the contract", () => {
    expect(Object.values(results.good ?? {})).not.toHaveLength(0);
    expect(results.good).toSatisfy((tests: Record<string, string>) => Object.values(tests).every((status) => status === "passed"));
  });

  it("passes a source built against a separate copy of @nq/core (its own node_modules), loaded by path", () => {
    expect(Object.values(results.separate ?? {})).not.toHaveLength(0);
    expect(results.separate).toSatisfy((tests: Record<string, string>) => Object.values(tests).every((status) => status === "passed"));
    expect(results.separate?.["fails with the expected typed SourceError for each failure fixture"]).toBe("passed");
  });

  it("fails a source that reports 0 for unknown, ignores aborts, throws untyped errors and leaks its key", () => {
    const broken = results.broken ?? {};
    expect(broken["uses null, never 0 or NaN, for what it does not give"]).toBe("failed");
    expect(broken["honours an AbortSignal that is already aborted"]).toBe("failed");
    expect(broken["fails with the expected typed SourceError for each failure fixture"]).toBe("failed");
    expect(broken["never shows a secret in an error, a log line or a result"]).toBe("failed");
    expect(broken["has a well-formed definition (name, capability map, zod config schema, create)"]).toBe("passed");
  });
});
