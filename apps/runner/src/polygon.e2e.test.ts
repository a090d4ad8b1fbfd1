/**
 * The runner end to end with @nq/source-polygon against its local Polygon-compatible server on 127.0.0.1:
 * the shipped all_sources profile falling back into Polygon's NDX chain (a labelled proxy), and a strict
 * Polygon-only profile failing with the source's reason. Only addresses, outputs and the sources this
 * test does not exercise are patched.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LocalPolygonServer, startLocalPolygonServer } from "@nq/source-polygon/test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProfile } from "./run.js";

const PROFILES = fileURLToPath(new URL("../profiles/", import.meta.url));
const KEY = "pgRUNNERcanary0123456789abcdefKEY";

// A profile read back from JSON, patched field by field: deliberately untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Profile = Record<string, any>;
const dir = mkdtempSync(join(tmpdir(), "nq-runner-polygon-"));
mkdirSync(join(dir, "nothing-saved-here"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** all_sources with Polygon pointed at the local server; sources other than Databento, saved and Polygon off. */
function allSources(url: string, patch: (profile: Profile) => void = () => {}): string {
  const profile = JSON.parse(readFileSync(join(PROFILES, "all_sources.json"), "utf8")) as Profile;
  profile.output = { dir: "out" };
  if (profile.cache) profile.cache.path = "cache.db";
  for (const [name, source] of Object.entries(profile.data_sources as Record<string, Profile>)) {
    if (!["databento", "saved", "polygon"].includes(name)) source.enabled = false;
  }
  profile.data_sources.saved.config.dir = "nothing-saved-here";
  Object.assign(profile.data_sources.polygon.config, { base_url: url, rate_limit: null });
  profile.request.max_expirations = 2;
  patch(profile);
  const file = join(dir, `all_sources-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

// No Databento key: Databento is skipped with that reason, as on a machine with only a Polygon key.
const env = { POLYGON_API_KEY: KEY };

describe("runner with Polygon's local server", () => {
  let server: LocalPolygonServer;
  let basic: LocalPolygonServer;
  beforeAll(async () => {
    server = await startLocalPolygonServer({ apiKeys: [KEY] });
    basic = await startLocalPolygonServer({ apiKeys: [KEY], plan: "basic" });
  });
  afterAll(async () => {
    await server?.close();
    await basic?.close();
  });

  it("all_sources falls back into Polygon: substituted, delayed, and labelled PROXY with the NDX terms", async () => {
    const profilePath = allSources(server.url);
    const { summary, exitCode } = await runProfile({ profilePath, env, useCache: false });
    expect(exitCode, JSON.stringify(summary.attempts)).toBe(0);
    expect(summary.source).toBe("polygon");
    const outcomes = Object.fromEntries(summary.attempts.map((a) => [a.source, a.outcome]));
    expect(outcomes).toMatchObject({ databento: "skipped", saved: "failed", polygon: "success" });
    const notices = summary.notices.join("\n");
    expect(summary.notices[0]).toMatch(/^SUBSTITUTED: the chain comes from "polygon", not the first choice "databento"/);
    expect(notices).toMatch(/DELAYED: "polygon" data is not live/);
    expect(notices).toMatch(/PROXY: NDX index options, not NQ futures options/);
    expect(notices).toMatch(/\$100 per index point .*cash-settled, European exercise/);
    const chain = summary.chain!;
    expect(chain.optionsSummary.underlying).toBe("I:NDX");
    expect(chain.optionsSummary.expirations.length).toBeLessThanOrEqual(2);
    expect(chain.optionsSummary.calls).toBeGreaterThan(0);
    expect(chain.optionsSummary.puts).toBeGreaterThan(0);
    const written = JSON.parse(readFileSync(summary.outputs!.json, "utf8")) as {
      metadata: { warnings: string[] };
      contracts: { product: string; multiplier: number; underlying: string }[];
    };
    expect(written.metadata.warnings[0]).toBe("PROXY: NDX index options, not NQ futures options");
    expect(written.contracts.length).toBeGreaterThan(0);
    expect(written.contracts.every((c) => c.product === "NDX" && c.multiplier === 100 && c.underlying === "I:NDX")).toBe(true);
    expect(JSON.stringify(summary)).not.toContain(KEY);
  });

  it("without the opt-in (allow_proxy false), Polygon is not used and the run says why", async () => {
    const profilePath = allSources(server.url, (p) => {
      p.data_sources.polygon.config.allow_proxy = false;
    });
    const { summary, exitCode } = await runProfile({ profilePath, env, useCache: false });
    expect(exitCode).toBe(1);
    const polygon = summary.attempts.find((a) => a.source === "polygon")!;
    expect(polygon).toMatchObject({ outcome: "failed" });
    expect(polygon.reason).toMatch(/no options on CME futures.*"allow_proxy": true/);
  });

  it("strict, Polygon only, a key whose plan has no options: the run fails with the entitlement reason and no key in sight", async () => {
    const profilePath = allSources(basic.url, (p) => {
      p.data_source_priority = ["polygon"];
      p.fallback = "strict";
    });
    const { summary, exitCode } = await runProfile({ profilePath, env, useCache: false });
    expect(exitCode).toBe(1);
    expect(summary.attempts).toHaveLength(1);
    expect(summary.attempts[0]!.error).toMatchObject({ name: "EntitlementError", source: "polygon" });
    expect(summary.attempts[0]!.reason).toMatch(/not entitled.*Options Starter or higher/);
    expect(summary.notices.join("\n")).toMatch(/NO SOURCE ANSWERED/);
    expect(JSON.stringify(summary)).not.toContain(KEY);
    expect(basic.requests.every((r) => r.query.apiKey === "***")).toBe(true);
  });

  it("strict, Polygon only, no POLYGON_API_KEY: skipped with the variable named, and the run fails", async () => {
    const profilePath = allSources(server.url, (p) => {
      p.data_source_priority = ["polygon"];
      p.fallback = "strict";
    });
    const { summary, exitCode } = await runProfile({ profilePath, env: {}, useCache: false });
    expect(exitCode).toBe(1);
    expect(summary.attempts[0]).toMatchObject({ source: "polygon", outcome: "skipped" });
    expect(summary.attempts[0]!.reason).toMatch(/POLYGON_API_KEY/);
  });
});
