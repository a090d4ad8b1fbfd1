import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeSourceConformance } from "@nq/core/testing";
import { NoDataError, normalizeChain, SpendLedger, silentLogger, type OptionsChain } from "@nq/core";
import { afterEach, describe, expect, it } from "vitest";
import { generateSampleChain } from "./sample-chain.js";
import savedSource, { type SavedSourceConfig } from "./index.js";

/** A chain as a live source's run would have saved it (not flagged sample). */
function savedRun(asOf: string, source: string, strikeShift = 0): OptionsChain {
  const sample = generateSampleChain();
  const rows = sample.contracts.slice(0, 40).map((c) => ({ ...c, strike: c.strike + strikeShift, provenance: undefined }));
  return normalizeChain(
    { rows, asOf, delayed: false },
    { source, capabilities: savedSource.capabilities, request: { product: "NQ" }, fetchedAt: new Date(asOf) },
  );
}

const temps: string[] = [];
function folderWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-saved-"));
  temps.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterEach(() => {
  while (temps.length) rmSync(temps.pop()!, { recursive: true, force: true });
});

async function load(config: Partial<SavedSourceConfig>, asOf?: string) {
  const source = await savedSource.create(savedSource.configSchema.parse(config), { log: silentLogger, spend: new SpendLedger(), now: () => new Date() });
  return source.load({ product: "NQ", ...(asOf ? { asOf } : {}) }, { signal: new AbortController().signal });
}

describeSourceConformance(savedSource, {
  setup: () => {
    const dir = mkdtempSync(join(tmpdir(), "nq-saved-conformance-"));
    writeFileSync(join(dir, "run.chain.json"), JSON.stringify(savedRun("2026-11-19T20:00:00.000Z", "databento")));
    const empty = mkdtempSync(join(tmpdir(), "nq-saved-empty-"));
    return {
      config: { dir, include_sample: false, max_age_hours: null },
      failures: [{ name: "an empty folder", config: { dir: empty, include_sample: false, max_age_hours: null }, expected: NoDataError }],
      teardown: () => {
        rmSync(dir, { recursive: true, force: true });
        rmSync(empty, { recursive: true, force: true });
      },
    };
  },
});

describe("saved source", () => {
  it("replays the newest saved chain at or before the requested time, and says where it came from", async () => {
    const dir = folderWith({
      "a.chain.json": JSON.stringify(savedRun("2026-11-18T20:00:00.000Z", "databento", 0)),
      "b.chain.json": JSON.stringify(savedRun("2026-11-19T20:00:00.000Z", "barchart", 5)),
    });
    const latest = await load({ dir });
    expect(latest.asOf).toBe("2026-11-19T20:00:00.000Z");
    expect(latest.delayed).toBe(true);
    expect(latest.warnings?.[0]).toMatch(/replayed from .*b\.chain\.json: loaded from barchart/);
    const earlier = await load({ dir }, "2026-11-18T23:00:00.000Z");
    expect(earlier.asOf).toBe("2026-11-18T20:00:00.000Z");
    expect(earlier.rows[0]!.strike).toBe(savedRun("2026-11-18T20:00:00.000Z", "x").contracts[0]!.strike);
  });

  it("passes over a damaged file with a warning instead of failing", async () => {
    const dir = folderWith({
      "broken.chain.json": "{ not json",
      "other.chain.json": JSON.stringify({ hello: "world" }),
      "good.chain.json": JSON.stringify(savedRun("2026-11-19T20:00:00.000Z", "databento")),
    });
    const result = await load({ dir });
    expect(result.rows).toHaveLength(40);
    expect(result.warnings!.join("\n")).toMatch(/skipped .*broken\.chain\.json/);
    expect(result.warnings!.join("\n")).toMatch(/skipped .*other\.chain\.json: not a saved chain \(metadata/);
  });

  it("uses the shipped sample only when allowed, and marks it as sample data", async () => {
    const dir = folderWith({});
    await expect(load({ dir })).rejects.toBeInstanceOf(NoDataError);
    const sample = await load({ dir, include_sample: true });
    expect(sample.sample).toBe(true);
    expect(sample.warnings![0]).toMatch(/^SAMPLE DATA \(generated, not market data\)/);
    expect(sample.rows.length).toBe(generateSampleChain().contracts.length);
  });

  it("ignores chains older than max_age_hours", async () => {
    const dir = folderWith({ "old.chain.json": JSON.stringify(savedRun("2026-11-01T20:00:00.000Z", "databento")) });
    await expect(load({ dir, max_age_hours: 24 }, "2026-11-19T20:00:00.000Z")).rejects.toThrow(/no saved NQ chain/);
    await expect(load({ dir, max_age_hours: 24 * 30 }, "2026-11-19T20:00:00.000Z")).resolves.toBeTruthy();
  });

  it("rejects an unknown config field, naming it", () => {
    const parsed = savedSource.configSchema.safeParse({ dir: "x", dri: "typo" });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("dri");
  });
});
