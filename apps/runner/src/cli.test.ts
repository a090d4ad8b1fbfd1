import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// The CLI as a user runs it: the built dist/cli.js in a child process (`pnpm test` builds first).
const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "nq-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("DATABENTO") && key !== "INIT_CWD"));
  return spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: "utf8", env: { ...clean, ...env }, timeout: 120_000 });
}

describe.skipIf(!existsSync(CLI))("nq-runner CLI", () => {
  it("runs the default profile with no key and no network: skips Databento, saying why, and writes the sample chain", () => {
    const run = cli(["--out", "default-out", "--json", "--no-cache"]);
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.ok).toBe(true);
    expect(summary.source).toBe("saved");
    expect(summary.attempts[0]).toMatchObject({ source: "databento", outcome: "skipped" });
    expect(summary.attempts[0].reason).toMatch(/DATABENTO_API_KEY/);
    expect(summary.chain.optionsSummary.total).toBeGreaterThan(0);
    expect(summary.notices.join("\n")).toMatch(/SAMPLE DATA/);
    expect(existsSync(summary.outputs.json) && existsSync(summary.outputs.csv)).toBe(true);
  });

  it("prints the summary table", () => {
    // With the profile's cache on, as a user runs it (the cache file goes beside the profile's outputs).
    const run = cli(["--out", "table-out"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Sources \(in priority order\)/);
    expect(run.stdout).toMatch(/databento\s+skipped/);
    expect(run.stdout).toMatch(/saved\s+ANSWERED/);
    expect(run.stdout).toMatch(/! SAMPLE DATA/);
  });

  it("exits 2 naming the bad field, and writes nothing", () => {
    const profile = join(dir, "bad.json");
    writeFileSync(profile, JSON.stringify({ profile_name: "bad", data_source_priority: ["saved"], data_sources: { saved: { plugin: "@nq/source-saved", enabled: "yes" } }, output: { dir: "bad-out" } }));
    const run = cli(["--config", profile]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/data_sources\.saved\.enabled: .*expected boolean/);
    expect(existsSync(join(dir, "bad-out"))).toBe(false);
  });

  it("exits 2 for a plugin package that is not installed, naming it", () => {
    const profile = join(dir, "ghost.json");
    writeFileSync(profile, JSON.stringify({ profile_name: "ghost", data_source_priority: ["x"], data_sources: { x: { plugin: "nq-source-ghost" } }, output: { dir: "ghost-out" } }));
    const run = cli(["--config", profile]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/the plugin package "nq-source-ghost" is not installed/);
    expect(existsSync(join(dir, "ghost-out"))).toBe(false);
  });

  it("accepts the literal -- that `pnpm start -- …` passes before the flags", () => {
    const run = cli(["--", "--out", "dashdash-out", "--json", "--no-cache"]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).ok).toBe(true);
  });

  it("rejects a bad flag value with usage help", () => {
    const run = cli(["--max-expirations", "zero"]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/expected a positive whole number/);
  });

  it("writes JSON that the CSV agrees with, row for row", () => {
    const run = cli(["--out", "agree-out", "--json", "--no-cache"]);
    const summary = JSON.parse(run.stdout);
    const chain = JSON.parse(readFileSync(summary.outputs.json, "utf8"));
    const csv = readFileSync(summary.outputs.csv, "utf8").trimEnd().split("\n");
    expect(csv.length - 1).toBe(chain.contracts.length);
    const [first] = chain.contracts;
    expect(csv[1]!.startsWith(`${first.symbol},${first.underlying},${first.product},${first.root},${first.expiration}`)).toBe(true);
  });
});
