/**
 * The built CLI in a child process: exit codes, signals, a kill -9 mid-write, progress on stderr, and
 * `pnpm start -- --json` printing JSON only.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { writeFakeProfile } from "./test-plugin.js";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const REPO = fileURLToPath(new URL("../../..", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "nq-cli-exit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
function workspace(): string {
  const dir = join(root, String(++counter));
  mkdirSync(dir);
  return dir;
}

function cleanEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("DATABENTO") && key !== "INIT_CWD" && !key.startsWith("npm_")));
  return { ...clean, ...env };
}

function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd ?? root, encoding: "utf8", env: cleanEnv(options.env), timeout: 120_000 });
}

function tempFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".tmp")) : [];
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!existsSync(CLI))("exit codes (2: usage, profile or flag)", () => {
  it.each([
    [["--bogus"], /unknown option '--bogus'/],
    [["--max-expirations", "0"], /--max-expirations <n>.*expected a positive whole number/],
    [["--as-of", "yesterday"], /--as-of <time>.*expected an ISO 8601 time/],
  ])("%j exits 2 with usage help", (args, message) => {
    const run = cli(args);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/Usage: nq-runner/);
    expect(run.stdout).toBe("");
  });

  it("a bad flag on a subcommand exits 2 too (serve --bogus)", () => {
    const run = cli(["serve", "--bogus"]);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/unknown option '--bogus'/);
  });

  it("--profile nonexistent exits 2 and lists the available profiles", () => {
    const run = cli(["--profile", "nonexistent"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--profile nonexistent: no such profile .*available: all_sources, databento_only, default, demo_databento/);
  });

  it("a malformed API key (a ConfigError in the source) exits 2, naming the field", () => {
    const dir = workspace();
    const run = cli(["--profile", "databento_only", "--no-cache", "--out", join(dir, "out")], { env: { DATABENTO_API_KEY: "db-short" } });
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/error: data_sources\.databento\.config(\.api_key)?: .*malformed/);
    expect(run.stderr).not.toContain("db-short");
  });
});

describe.skipIf(!existsSync(CLI))("exit code 3: the chain could not be written", () => {
  it("says why, still prints the summary, and leaves no temporary file", () => {
    const dir = workspace();
    const profile = writeFakeProfile(dir, {});
    writeFileSync(join(dir, "blocker"), "a file where the output folder should be");
    const run = cli(["--config", profile, "--out", join(dir, "blocker", "out")]);
    expect(run.status, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/cannot create the output folder .*blocker\/out: a file is in the way of the output folder; choose another with --out/);
    expect(run.stderr).toMatch(/Sources \(in priority order\)/);
    expect(run.stderr).toMatch(/NOT WRITTEN/);
    const json = cli(["--config", profile, "--out", join(dir, "blocker", "out"), "--json"]);
    expect(json.status).toBe(3);
    expect(JSON.parse(json.stdout).outputError).toMatchObject({ code: "ENOTDIR" });
  });
});

describe.skipIf(!existsSync(CLI))("cache commands", () => {
  it("`--config X cache stats` uses X's cache, not the default profile's", () => {
    const dir = workspace();
    const profile = writeFakeProfile(dir, {}, { cache: { plugin: "@nq/cache-sqlite", path: "x-cache.db" } });
    const run = cli(["--config", profile, "cache", "stats", "--json"]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).location).toBe(join(dir, "x-cache.db"));
  });

  it("`cache stats` only inspects: a damaged cache file is neither moved aside nor changed", () => {
    const dir = workspace();
    const profile = writeFakeProfile(dir, {}, { cache: { plugin: "@nq/cache-sqlite", path: "damaged.db" } });
    const garbage = "this is not an SQLite database, and stats must leave it alone\n".repeat(100);
    writeFileSync(join(dir, "damaged.db"), garbage);
    const run = cli(["--config", profile, "cache", "stats", "--json"]);
    expect(run.status).toBe(5);
    expect(run.stderr).toMatch(/damaged.*left untouched/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(readFileSync(join(dir, "damaged.db"), "utf8")).toBe(garbage);
    expect(readdirSync(dir).filter((name) => name.startsWith("damaged.db") && name !== "damaged.db" && !/-(wal|shm)$/.test(name))).toEqual([]);
  });

  it("`--profile X cache stats` uses X's cache", () => {
    const run = cli(["--profile", "demo_databento", "cache", "stats", "--json"]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).location).toMatch(/outputs\/demo-cache\.db$/);
  });
});

describe.skipIf(!existsSync(CLI))("signals and crashes", () => {
  it("SIGTERM aborts a hanging source, closes it, and exits 143 within 2 s with a partial-run message", async () => {
    const dir = workspace();
    const marker = join(dir, "closed");
    const profile = writeFakeProfile(dir, { mode: "hang", closeMarker: marker });
    const child = spawn(process.execPath, [CLI, "--config", profile, "--no-cache"], { cwd: dir, env: cleanEnv() });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on("exit", (code) => resolve({ code, at: Date.now() })));
    await waitFor(() => stderr.includes("will hang"), 20_000);
    const sent = Date.now();
    child.kill("SIGTERM");
    const { code, at } = await exited;
    expect(at - sent).toBeLessThan(2000);
    expect(code).toBe(143);
    expect(stderr).toMatch(/interrupted by SIGTERM: partial run, no chain was written \(was at fake: waiting for a server that never answers\)/);
    expect(readFileSync(marker, "utf8")).toBe("closed");
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  it("after a kill -9 during output writing, the next run leaves no temporary file", async () => {
    const dir = workspace();
    const profile = writeFakeProfile(join(dir), {}, { data_source_priority: ["saved"], data_sources: { saved: { plugin: "@nq/source-saved", config: { include_sample: true } } } });
    const out = join(dir, "out");
    const child = spawn(process.execPath, [CLI, "--config", profile, "--no-cache"], { cwd: dir, env: cleanEnv({ NQ_RUNNER_TEST_WRITE_DELAY_MS: "300" }), stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    await waitFor(() => tempFiles(out).length > 0, 30_000);
    child.kill("SIGKILL");
    await exited;
    expect(tempFiles(out).length).toBeGreaterThan(0);
    const next = cli(["--config", profile, "--no-cache", "-v"], { cwd: dir });
    expect(next.status, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/removed 1 temporary file\(s\) left by an interrupted run/);
    expect(tempFiles(out)).toEqual([]);
  });
});

describe.skipIf(!existsSync(CLI))("progress on stderr", () => {
  it("prints throttled plain progress lines when stderr is not a terminal, and nothing but JSON on stdout with --json", () => {
    const dir = workspace();
    const profile = writeFakeProfile(dir, {});
    const run = cli(["--config", profile, "--json"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\[progress\] fake: series NQZ6 · 1\/2 · 2\.0 KiB · \$0\.00 spent/);
    expect(JSON.parse(run.stdout).source).toBe("fake");
    expect(run.stdout).not.toMatch(/progress/);
  });
});

describe.skipIf(!existsSync(CLI))("pnpm start prints only the runner's output on stdout", () => {
  it.each([
    [["start", "--"]],
    [["--filter", "runner", "start", "--"]],
    [["--silent", "start", "--"]],
  ])("pnpm %j --json gives valid JSON", (pnpmArgs) => {
    const dir = workspace();
    const run = spawnSync("pnpm", [...pnpmArgs, "--json", "--no-cache", "--out", dir], { cwd: REPO, encoding: "utf8", env: cleanEnv(), timeout: 300_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).ok).toBe(true);
  }, 300_000);
});
