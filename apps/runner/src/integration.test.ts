/**
 * The runner end to end with the real plugins against the project's local servers on 127.0.0.1: a
 * Databento-compatible HTTP server and a Barchart-like site in headless Chromium. The shipped profiles
 * are used as they are, with only their addresses, output and politeness settings pointed at the test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { locateBrowser } from "@nq/source-barchart";
import { startLocalBarchartSite, type LocalBarchartSite } from "@nq/source-barchart/test-site";
import { startLocalDatabentoServer, type LocalDatabentoServer } from "@nq/source-databento/test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProfile } from "./run.js";

const PROFILES = fileURLToPath(new URL("../profiles/", import.meta.url));
const KEY = "db-CANARYrunnerCANARYrunnerCANAR";
const browser = await locateBrowser({}).then(
  (found) => found.path,
  () => null,
);
const inCi = Boolean(process.env.CI) && process.env.CI !== "false";
if (!browser && !inCi) console.warn("[runner] no Chromium found: skipping the Barchart fallback test (CI runs it)");

// A profile read back from JSON, patched field by field: deliberately untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Profile = Record<string, any>;
const dir = mkdtempSync(join(tmpdir(), "nq-runner-it-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A shipped profile, with local addresses and a private output folder and cache. */
function shippedProfile(name: string, patch: (profile: Profile) => void): string {
  const profile = JSON.parse(readFileSync(join(PROFILES, `${name}.json`), "utf8")) as Profile;
  profile.output = { dir: "out" };
  if (profile.cache) profile.cache.path = "cache.db";
  patch(profile);
  const file = join(dir, `${name}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

const env = { DATABENTO_API_KEY: KEY };
const getRangeCalls = (server: LocalDatabentoServer) => server.requests.filter((r) => r.path.endsWith("timeseries.get_range")).length;

describe("runner with Databento's local server", () => {
  let server: LocalDatabentoServer;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ apiKeys: [KEY], fixturesDir: null });
  });
  afterAll(() => server.close());

  it("second identical run is served by the cache: no request reaches the server, the CSV is byte-identical, the spend saved is reported", async () => {
    const profilePath = shippedProfile("databento_only", (p) => {
      p.data_sources.databento.config.base_url = server.url;
    });
    const before = server.requests.length;
    const first = await runProfile({ profilePath, env });
    expect(first.exitCode, JSON.stringify(first.summary.attempts)).toBe(0);
    expect(first.summary.attempts[0]).toMatchObject({ source: "databento", cache: "miss" });
    expect(first.summary.spendUsd).toBeGreaterThan(0);
    const firstCsv = readFileSync(first.summary.outputs!.csv);
    const afterFirst = server.requests.length;
    expect(afterFirst).toBeGreaterThan(before);

    const second = await runProfile({ profilePath, env });
    expect(second.exitCode).toBe(0);
    expect(server.requests.length).toBe(afterFirst);
    expect(second.summary.attempts[0]).toMatchObject({ cache: "hit", spendUsd: 0 });
    expect(second.summary.cache.savedUsd).toBeCloseTo(first.summary.spendUsd, 9);
    expect(second.summary.notices.join("\n")).toMatch(/FROM CACHE/);
    expect(readFileSync(second.summary.outputs!.csv).equals(firstCsv)).toBe(true);

    const refreshed = await runProfile({ profilePath, env, refresh: true });
    expect(refreshed.summary.attempts[0]!.cache).toBe("miss");
    expect(server.requests.length).toBeGreaterThan(afterFirst);
  });

  it("the demo profile (generated data from the local server) is labelled sample data", async () => {
    const profilePath = shippedProfile("demo_databento", (p) => {
      p.data_sources.databento.config.base_url = server.url;
    });
    const { summary, exitCode } = await runProfile({ profilePath, env, useCache: false });
    expect(exitCode, JSON.stringify(summary.attempts)).toBe(0);
    expect(summary.chain!.metadata.sample).toBe(true);
    expect(summary.notices.join("\n")).toMatch(/SAMPLE DATA/);
  });

  it("a run over its spend cap sends no get_range and falls back to the saved chain", async () => {
    const profilePath = shippedProfile("default", (p) => {
      p.data_sources.databento.config.base_url = server.url;
      p.data_sources.saved.config.dir = "nothing-saved-here";
      p.run_cost_limit_usd = 0.0000001;
    });
    const before = getRangeCalls(server);
    const { summary, exitCode } = await runProfile({ profilePath, env, useCache: false });
    expect(exitCode).toBe(0);
    expect(getRangeCalls(server)).toBe(before);
    expect(summary.attempts[0]).toMatchObject({ source: "databento", outcome: "failed" });
    expect(summary.attempts[0]!.error).toMatchObject({ name: "CostLimitError" });
    expect(summary.source).toBe("saved");
    expect(summary.notices[0]).toMatch(/^SUBSTITUTED/);
  });

  it("under databento_only (strict), a key without the licence fails the run loudly, naming the dataset", async () => {
    const unlicensed = await startLocalDatabentoServer({ apiKeys: [KEY], entitledDatasets: [], fixturesDir: null });
    try {
      const profilePath = shippedProfile("databento_only", (p) => {
        p.data_sources.databento.config.base_url = unlicensed.url;
      });
      const { summary, exitCode } = await runProfile({ profilePath, env, useCache: false });
      expect(exitCode).toBe(1);
      expect(summary.attempts).toHaveLength(1);
      expect(summary.attempts[0]!.error).toMatchObject({ name: "EntitlementError" });
      expect(summary.attempts[0]!.reason).toMatch(/GLBX\.MDP3/);
      expect(JSON.stringify(summary)).not.toContain(KEY);
    } finally {
      await unlicensed.close();
    }
  });
});

describe.skipIf(!browser && !inCi)("all_sources: Databento unlicensed (403) falls back to Barchart in headless Chromium", () => {
  let databento: LocalDatabentoServer;
  let barchart: LocalBarchartSite;
  beforeAll(async () => {
    databento = await startLocalDatabentoServer({ apiKeys: [KEY], entitledDatasets: [], fixturesDir: null });
    barchart = await startLocalBarchartSite({ today: "2026-11-20", fixturesDir: null });
  });
  afterAll(async () => {
    await databento?.close();
    await barchart?.close();
  });

  it("answers from Barchart and says so: substituted, delayed, with Databento's reason", async () => {
    const profilePath = shippedProfile("all_sources", (p) => {
      p.data_sources.databento.config.base_url = databento.url;
      Object.assign(p.data_sources.barchart.config, { base_url: barchart.url, min_interval_ms: 0, jitter_ms: 0, executable_path: browser ?? undefined });
      delete p.data_sources.barchart.config.save_dir;
      p.request.max_expirations = 2;
    });
    const { summary, exitCode } = await runProfile({ profilePath, env, useCache: false });
    expect(exitCode, JSON.stringify(summary.attempts)).toBe(0);
    expect(summary.source).toBe("barchart");
    expect(summary.attempts.map((a) => [a.source, a.outcome])).toEqual([
      ["databento", "failed"],
      ["barchart", "success"],
      ["tradovate", "skipped"],
      ["saved", "skipped"],
      ["polygon", "skipped"],
    ]);
    expect(summary.attempts[0]!.error).toMatchObject({ name: "EntitlementError" });
    expect(summary.notices[0]).toMatch(/^SUBSTITUTED: the chain comes from "barchart", not the first choice "databento" \(databento: .*GLBX\.MDP3/);
    expect(summary.notices.join("\n")).toMatch(/DELAYED: "barchart" data is not live/);
    expect(summary.chain!.optionsSummary.calls).toBeGreaterThan(0);
    expect(summary.chain!.optionsSummary.puts).toBeGreaterThan(0);
  }, 120_000);
});
