/**
 * The runner end to end with @nq/source-tradovate against its local Tradovate-compatible server on
 * 127.0.0.1 (REST + market-data WebSocket): the shipped all_sources profile falling back into Tradovate
 * after Databento fails, and a strict Tradovate-first profile failing with the source's reason. Only
 * addresses, outputs and the sources this test does not exercise (Barchart's Chromium) are patched.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalDatabentoServer, type LocalDatabentoServer } from "@nq/source-databento/test-server";
import { DEFAULT_USER, startLocalTradovateServer, type LocalTradovateServer } from "@nq/source-tradovate/test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProfile } from "./run.js";

const PROFILES = fileURLToPath(new URL("../profiles/", import.meta.url));
const DATABENTO_KEY = "db-CANARYtradovateCANARYtradovat";

// A profile read back from JSON, patched field by field: deliberately untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Profile = Record<string, any>;
const dir = mkdtempSync(join(tmpdir(), "nq-runner-tradovate-"));
mkdirSync(join(dir, "nothing-saved-here"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** all_sources with Databento and Tradovate pointed at local servers, Barchart (a browser) off. */
function allSources(tradovate: LocalTradovateServer, databentoUrl: string, patch: (profile: Profile) => void = () => {}): string {
  const profile = JSON.parse(readFileSync(join(PROFILES, "all_sources.json"), "utf8")) as Profile;
  profile.output = { dir: "out" };
  if (profile.cache) profile.cache.path = "cache.db";
  profile.data_sources.barchart.enabled = false;
  profile.data_sources.databento.config.base_url = databentoUrl;
  profile.data_sources.saved.config.dir = "nothing-saved-here";
  Object.assign(profile.data_sources.tradovate.config, { rest_url: tradovate.url, md_url: tradovate.mdUrl, collect_timeout_ms: 10_000, device_id: "runner-e2e-device" });
  profile.request.max_expirations = 2;
  patch(profile);
  const file = join(dir, `all_sources-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

const env = {
  DATABENTO_API_KEY: DATABENTO_KEY,
  TRADOVATE_USERNAME: DEFAULT_USER.name,
  TRADOVATE_PASSWORD: DEFAULT_USER.password,
  TRADOVATE_CID: String(DEFAULT_USER.cid),
  TRADOVATE_SEC: DEFAULT_USER.sec,
};

describe("runner with Tradovate's local server", () => {
  let tradovate: LocalTradovateServer;
  let databento: LocalDatabentoServer;
  beforeAll(async () => {
    tradovate = await startLocalTradovateServer();
    // A key without the GLBX.MDP3 licence: Databento fails with an EntitlementError.
    databento = await startLocalDatabentoServer({ apiKeys: [DATABENTO_KEY], entitledDatasets: [], fixturesDir: null });
  });
  afterAll(async () => {
    await tradovate?.close();
    await databento?.close();
  });

  it("all_sources falls back into Tradovate after Databento fails: substituted, live, every contract priced off its future", async () => {
    const profilePath = allSources(tradovate, databento.url);
    const { summary, exitCode } = await runProfile({ profilePath, env, useCache: false });
    expect(exitCode, JSON.stringify(summary.attempts)).toBe(0);
    expect(summary.source).toBe("tradovate");
    const outcomes = Object.fromEntries(summary.attempts.map((a) => [a.source, a.outcome]));
    expect(outcomes).toMatchObject({ databento: "failed", barchart: "skipped", tradovate: "success", saved: "skipped" });
    const order = summary.attempts.map((a) => a.source);
    expect(order.indexOf("tradovate")).toBe(order.indexOf("barchart") + 1);
    expect(summary.attempts.find((a) => a.source === "databento")!.error).toMatchObject({ name: "EntitlementError" });
    expect(summary.notices[0]).toMatch(/^SUBSTITUTED: the chain comes from "tradovate", not the first choice "databento" \(databento: .*GLBX\.MDP3/);
    expect(summary.notices.join("\n")).not.toMatch(/DELAYED: "tradovate"/);
    const chain = summary.chain!;
    expect(chain.optionsSummary.expirations).toHaveLength(2);
    expect(chain.optionsSummary.calls).toBeGreaterThan(0);
    expect(chain.optionsSummary.puts).toBeGreaterThan(0);
    const written = JSON.parse(readFileSync(summary.outputs!.json, "utf8")) as { contracts: { underlyingPrice: number | null; underlyingPriceBasis: string | null }[] };
    expect(written.contracts.length).toBeGreaterThan(0);
    expect(written.contracts.every((c) => c.underlyingPrice !== null && c.underlyingPriceBasis === "mid")).toBe(true);
    // The socket was let go of, and no credential reached the summary or the outputs.
    await expect.poll(() => tradovate.openConnections()).toBe(0);
    const text = JSON.stringify(summary) + readFileSync(summary.outputs!.json, "utf8") + readFileSync(summary.outputs!.csv, "utf8");
    for (const secret of [DEFAULT_USER.password, DEFAULT_USER.sec, DATABENTO_KEY]) expect(text).not.toContain(secret);
  });

  it("strict, Tradovate first: a refused login fails the run (exit 1) with the source's reason and no password", async () => {
    const profilePath = allSources(tradovate, databento.url, (p) => {
      p.data_source_priority = ["tradovate", "saved"];
      p.fallback = "strict";
    });
    const { summary, exitCode } = await runProfile({ profilePath, env: { ...env, TRADOVATE_PASSWORD: "wrong-password-e2e" }, useCache: false });
    expect(exitCode).toBe(1);
    expect(summary.chain).toBeNull();
    expect(summary.attempts[0]).toMatchObject({ source: "tradovate", outcome: "failed" });
    expect(summary.attempts[0]!.error).toMatchObject({ name: "AuthError" });
    expect(summary.attempts[0]!.reason).toMatch(/tradovate: the login was refused: Incorrect username or password/);
    expect(summary.attempts[1]).toMatchObject({ source: "saved", outcome: "skipped" });
    expect(JSON.stringify(summary)).not.toContain("wrong-password-e2e");
  });

  it("strict, Tradovate first: a hung market-data socket is ended by the source's deadline, with that reason", async () => {
    const hung = await startLocalTradovateServer();
    hung.setFaults({ hangAuthorize: true });
    try {
      const profilePath = allSources(hung, databento.url, (p) => {
        p.data_source_priority = ["tradovate"];
        p.fallback = "strict";
        p.data_sources.tradovate.deadline_ms = 1_000;
      });
      const started = Date.now();
      const { summary, exitCode } = await runProfile({ profilePath, env, useCache: false });
      expect(exitCode).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(summary.attempts[0]!.error).toMatchObject({ name: "TimeoutError" });
      expect(summary.attempts[0]!.reason).toMatch(/gave up after 1 s \(the source's deadline\)/);
      await expect.poll(() => hung.openConnections()).toBe(0);
    } finally {
      await hung.close();
    }
  });

  it("without Tradovate credentials, all_sources skips Tradovate and says which variable is missing", async () => {
    const profilePath = allSources(tradovate, databento.url);
    const { summary } = await runProfile({ profilePath, env: { DATABENTO_API_KEY: DATABENTO_KEY }, useCache: false });
    const attempt = summary.attempts.find((a) => a.source === "tradovate")!;
    expect(attempt.outcome).toBe("skipped");
    expect(attempt.reason).toMatch(/TRADOVATE_(USERNAME|PASSWORD|CID|SEC)/);
  });
});
