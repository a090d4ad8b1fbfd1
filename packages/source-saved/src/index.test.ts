import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeSourceConformance } from "@nq/core/testing";
import { NoDataError, normalizeChain, SpendLedger, silentLogger, type ChainRequest, type OptionsChain } from "@nq/core";
import { afterEach, describe, expect, it } from "vitest";
import { generateSampleChain } from "./sample-chain.js";
import savedSource, { SAMPLE_CHAIN_FILE, type SavedSourceConfig } from "./index.js";

type SavedFile = OptionsChain & { metadata: OptionsChain["metadata"] & { request?: ChainRequest } };

/**
 * A chain as a live source's run would have saved it (not flagged sample), recording the request it
 * answered in `metadata.request` as the runner does; `request: null` writes a file from before that field.
 */
function savedRun(asOf: string, source: string, strikeShift = 0, request: ChainRequest | null = { product: "NQ" }): SavedFile {
  const sample = generateSampleChain();
  const rows = sample.contracts.slice(0, 40).map((c) => ({ ...c, strike: c.strike + strikeShift, provenance: undefined }));
  const chain = normalizeChain(
    { rows, asOf, delayed: false },
    { source, capabilities: savedSource.capabilities, request: request ?? { product: "NQ" }, fetchedAt: new Date(asOf) },
  );
  return request === null ? chain : { ...chain, metadata: { ...chain.metadata, request } };
}

/** The whole generated sample chain (seven expirations) as a run saved it, narrowed by `request`. */
function savedFull(asOf: string, request: ChainRequest | null, sample = false): SavedFile {
  const rows = generateSampleChain().contracts.map((c) => ({ ...c, provenance: undefined }));
  const chain = normalizeChain(
    { rows, asOf, delayed: false, sample },
    { source: "databento", capabilities: savedSource.capabilities, request: request ?? { product: "NQ" }, fetchedAt: new Date(asOf) },
  );
  return request === null ? chain : { ...chain, metadata: { ...chain.metadata, request } };
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
  return loadFor(config, { product: "NQ", ...(asOf ? { asOf } : {}) });
}

async function loadFor(config: Partial<SavedSourceConfig>, request: ChainRequest, now = new Date()) {
  const source = await savedSource.create(savedSource.configSchema.parse(config), { log: silentLogger, spend: new SpendLedger(), now: () => now });
  return source.load(request, { signal: new AbortController().signal });
}

/** The error a load fails with (the test fails if it does not fail). */
async function loadError(config: Partial<SavedSourceConfig>, request: ChainRequest, now = new Date()): Promise<Error> {
  const error = await loadFor(config, request, now).then(
    () => null,
    (e: unknown) => e as Error,
  );
  if (error === null) throw new Error("expected the load to fail");
  return error;
}

const expirationsOf = (rows: { expiration?: unknown }[]) => [...new Set(rows.map((r) => String(r.expiration)))].sort();
const ALL_SAMPLE_EXPIRATIONS = generateSampleChain().optionsSummary.expirations;

describeSourceConformance(savedSource, {
  setup: () => {
    const dir = mkdtempSync(join(tmpdir(), "nq-saved-conformance-"));
    writeFileSync(join(dir, "run.chain.json"), JSON.stringify(savedRun("2026-11-19T20:00:00.000Z", "databento")));
    const empty = mkdtempSync(join(tmpdir(), "nq-saved-empty-"));
    return {
      config: { dir, include_sample: false, max_age_hours: null, as_of_tolerance_hours: 72 },
      failures: [{ name: "an empty folder", config: { dir: empty, include_sample: false, max_age_hours: null, as_of_tolerance_hours: 72 }, expected: NoDataError }],
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
    await expect(load({ dir, max_age_hours: 24 * 30, as_of_tolerance_hours: 24 * 30 }, "2026-11-19T20:00:00.000Z")).resolves.toBeTruthy();
  });

  it("rejects an unknown config field, naming it", () => {
    const parsed = savedSource.configSchema.safeParse({ dir: "x", dri: "typo" });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("dri");
  });
});

describe("honest replays: scope", () => {
  const asOf = "2026-11-20T21:00:00.000Z";
  const now = new Date("2026-11-21T12:00:00.000Z");

  it("never replays a proxy chain (NDX options standing in for NQ) as an NQ chain", async () => {
    const full = savedFull(asOf, { product: "NQ" });
    const proxy = { ...full, metadata: { ...full.metadata, proxy: { for: "NQ", underlying: "I:NDX", product: "NDX", kind: "index-options", multiplier: 100, settlement: "cash", exercise: "european", label: "PROXY: NDX index options, not NQ futures options" } } };
    const dir = folderWith({ "proxy.chain.json": JSON.stringify(proxy) });
    const error = await loadError({ dir }, { product: "NQ" }, new Date(asOf));
    expect(error.message).toMatch(/a proxy chain \(PROXY: NDX index options/);
  });

  it("never answers a request without narrowing from a chain saved with --max-expirations 2", async () => {
    const dir = folderWith({ "narrow.chain.json": JSON.stringify(savedFull(asOf, { product: "NQ", maxExpirations: 2 })) });
    const error = await loadError({ dir }, { product: "NQ" }, now);
    expect(error).toBeInstanceOf(NoDataError);
    expect(error.message).toMatch(/asked: NQ, all expirations, all strikes, the latest as-of/);
    expect(error.message).toMatch(/narrow\.chain\.json \(NQ as of 2026-11-20T21:00:00\.000Z, saved for the nearest 2 expirations, .*narrower than asked/);
  });

  it("passes over a newer narrowed chain for an older full one, and says so", async () => {
    const dir = folderWith({
      "full.chain.json": JSON.stringify(savedFull("2026-11-20T20:00:00.000Z", { product: "NQ" })),
      "narrow.chain.json": JSON.stringify(savedFull(asOf, { product: "NQ", maxExpirations: 2 })),
    });
    const result = await loadFor({ dir }, { product: "NQ" }, now);
    expect(result.asOf).toBe("2026-11-20T20:00:00.000Z");
    expect(expirationsOf(result.rows)).toEqual(ALL_SAMPLE_EXPIRATIONS);
    expect(result.warnings!.join("\n")).toMatch(/passed over 1 saved chain as new or newer: narrow\.chain\.json .*saved for the nearest 2 expirations/);
  });

  it("answers a request inside the saved scope: fewer nearest expirations, a named held expiration", async () => {
    const dir = folderWith({ "narrow.chain.json": JSON.stringify(savedFull(asOf, { product: "NQ", maxExpirations: 2 })) });
    const one = await loadFor({ dir }, { product: "NQ", maxExpirations: 1 }, now);
    expect(one.warnings![0]).toMatch(/saved for the nearest 2 expirations, all strikes, the latest as-of/);
    const two = await loadFor({ dir }, { product: "NQ", maxExpirations: 2 }, now);
    expect(expirationsOf(two.rows)).toEqual(ALL_SAMPLE_EXPIRATIONS.slice(0, 2));
    await expect(loadFor({ dir }, { product: "NQ", expirations: [ALL_SAMPLE_EXPIRATIONS[1]!] }, now)).resolves.toBeTruthy();
    await expect(loadFor({ dir }, { product: "NQ", maxExpirations: 3 }, now)).rejects.toThrow(/saved for the nearest 2 expirations; asked: the nearest 3 expirations/);
    await expect(loadFor({ dir }, { product: "NQ", expirations: ["2027-03-19"] }, now)).rejects.toThrow(/does not hold expiration 2027-03-19/);
  });

  it("answers a strike window only from a chain saved for a window that contains it", async () => {
    const dir = folderWith({ "window.chain.json": JSON.stringify(savedFull(asOf, { product: "NQ", strikeMin: 24000, strikeMax: 26000 })) });
    await expect(loadFor({ dir }, { product: "NQ", strikeMin: 24500, strikeMax: 25500 }, now)).resolves.toBeTruthy();
    await expect(loadFor({ dir }, { product: "NQ" }, now)).rejects.toThrow(/holds strikes 24000–26000 only; asked: \(all\)/);
    await expect(loadFor({ dir }, { product: "NQ", strikeMin: 23000, strikeMax: 25000 }, now)).rejects.toThrow(/holds strikes 24000–26000 only; asked: 23000–25000/);
  });

  it("a chain saved for named expirations answers those, not the nearest N", async () => {
    const named = [ALL_SAMPLE_EXPIRATIONS[0]!, ALL_SAMPLE_EXPIRATIONS[4]!];
    const dir = folderWith({ "named.chain.json": JSON.stringify(savedFull(asOf, { product: "NQ", expirations: named })) });
    const result = await loadFor({ dir }, { product: "NQ", expirations: [named[1]!] }, now);
    expect(expirationsOf(result.rows)).toEqual(named);
    await expect(loadFor({ dir }, { product: "NQ", maxExpirations: 1 }, now)).rejects.toThrow(/saved for expirations .*; asked: the nearest 1 expiration/);
  });

  it("takes a file that does not record its request to hold only its own expirations and strikes", async () => {
    // Written before metadata.request: a --max-expirations 2 run, indistinguishable from a full chain by name.
    const legacy = savedFull(asOf, null);
    const narrowed = normalizeChain(
      { rows: legacy.contracts.map((c) => ({ ...c, provenance: undefined })), asOf, delayed: false },
      { source: "databento", capabilities: savedSource.capabilities, request: { product: "NQ", maxExpirations: 2 }, fetchedAt: new Date(asOf) },
    );
    const dir = folderWith({ "nq-databento-20261120T210000Z.chain.json": JSON.stringify(narrowed) });
    const error = await loadError({ dir }, { product: "NQ" }, now);
    expect(error.message).toMatch(/does not record the request it answered/);
    expect(error.message).toMatch(/scope not recorded; holds expirations 2026-11-23, 2026-11-25, strikes/);
    const inside = await loadFor({ dir }, { product: "NQ", expirations: ["2026-11-25"], strikeMin: 25000, strikeMax: 25500 }, now);
    expect(expirationsOf(inside.rows)).toEqual(["2026-11-23", "2026-11-25"]);
    expect(inside.warnings![0]).toMatch(/scope not recorded/);
  });

  it("falls back to the full shipped sample rather than a narrowed saved replay of it", async () => {
    const dir = folderWith({ "nq-saved-20261120T210000Z.chain.json": JSON.stringify(savedFull(asOf, { product: "NQ", maxExpirations: 2 }, true)) });
    const result = await loadFor({ dir, include_sample: true }, { product: "NQ" }, now);
    expect(result.sample).toBe(true);
    expect(result.warnings![0]).toContain("nq-sample.chain.json");
    expect(expirationsOf(result.rows)).toEqual(ALL_SAMPLE_EXPIRATIONS);
  });
});

describe("honest replays: as-of", () => {
  const dirWith = (asOf: string, request: ChainRequest = { product: "NQ" }) => folderWith({ "run.chain.json": JSON.stringify(savedFull(asOf, request)) });

  it("refuses a 2026 chain (saved or sample) for --as-of 2020-01-01, naming what was asked and what there is", async () => {
    const dir = dirWith("2026-11-19T20:00:00.000Z");
    const error = await loadError({ dir, include_sample: true }, { product: "NQ", asOf: "2020-01-01" });
    expect(error).toBeInstanceOf(NoDataError);
    expect(error.message).toMatch(/asked: NQ, all expirations, all strikes, as of 2020-01-01/);
    expect(error.message).toMatch(/run\.chain\.json \(NQ as of 2026-11-19T20:00:00\.000Z, .*after the asked 2020-01-01T00:00:00\.000Z/);
    expect(error.message).toMatch(/the generated sample \(as of 2026-11-20T21:00:00\.000Z\) does not match either: as of .*after the asked/);
  });

  it("replays an older chain within as_of_tolerance_hours flagged STALE, and refuses one beyond it", async () => {
    const dir = dirWith("2026-11-20T21:00:00.000Z");
    const monday = await loadFor({ dir }, { product: "NQ", asOf: "2026-11-23T14:00:00.000Z" });
    expect(monday.asOf).toBe("2026-11-20T21:00:00.000Z");
    expect(monday.warnings![1]).toBe(
      "STALE: asked as of 2026-11-23T14:00:00.000Z; replaying run.chain.json as of 2026-11-20T21:00:00.000Z, 65.0 h earlier (within as_of_tolerance_hours 72)",
    );
    const error = await loadError({ dir }, { product: "NQ", asOf: "2026-11-24T14:00:00.000Z" });
    expect(error.message).toMatch(/as of 2026-11-20T21:00:00\.000Z, 3\.7 days before the asked 2026-11-24T14:00:00\.000Z \(as_of_tolerance_hours is 72\)/);
    await expect(loadFor({ dir, as_of_tolerance_hours: 0 }, { product: "NQ", asOf: "2026-11-20T21:05:00.000Z" })).rejects.toThrow(/5 min before the asked/);
  });

  it("is not STALE when the as-of is the one the saved run asked for, or matches exactly", async () => {
    const dir = dirWith("2026-11-20T20:59:58.000Z", { product: "NQ", asOf: "2026-11-20T21:00:00Z" });
    const same = await loadFor({ dir, as_of_tolerance_hours: 0 }, { product: "NQ", asOf: "2026-11-20T21:00:00.000Z" });
    expect(same.warnings!.join("\n")).not.toMatch(/STALE/);
    const exact = await loadFor({ dir }, { product: "NQ", asOf: "2026-11-20T20:59:58Z" });
    expect(exact.warnings!.join("\n")).not.toMatch(/STALE/);
  });

  it("flags the latest replay STALE when it is older than the tolerance, but never the sample's fictional time", async () => {
    const dir = dirWith("2026-11-19T20:00:00.000Z");
    const later = new Date("2026-12-01T12:00:00.000Z");
    const latest = await loadFor({ dir }, { product: "NQ" }, later);
    expect(latest.warnings![1]).toMatch(/^STALE: the newest usable saved chain, run\.chain\.json, is as of 2026-11-19T20:00:00\.000Z, 11\.7 days ago/);
    const sample = await loadFor({ include_sample: true }, { product: "NQ" }, later);
    expect(sample.warnings!.join("\n")).not.toMatch(/STALE/);
  });
});

describe("honest replays: provenance", () => {
  it("names the file it replays, where it was loaded from and when, and what it was saved for", async () => {
    const dir = folderWith({ "run.chain.json": JSON.stringify(savedFull("2026-11-20T21:00:00.000Z", { product: "NQ", maxExpirations: 3 })) });
    const result = await loadFor({ dir }, { product: "NQ", maxExpirations: 3 }, new Date("2026-11-20T22:00:00.000Z"));
    expect(result.warnings![0]).toBe(
      `replayed from ${join(dir, "run.chain.json")}: loaded from databento at 2026-11-20T21:00:00.000Z, as of 2026-11-20T21:00:00.000Z; saved for the nearest 3 expirations, all strikes, the latest as-of`,
    );
    expect(result.delayed).toBe(true);
  });

  it("the sample says SAMPLE DATA, its file and its as-of; sample: true even when only the contracts say so", async () => {
    const sample = await loadFor({ include_sample: true }, { product: "NQ" });
    expect(sample.warnings![0]).toMatch(/^SAMPLE DATA \(generated, not market data\) from .*samples\/nq-sample\.chain\.json, as of 2026-11-20T21:00:00\.000Z$/);
    const chain = savedFull("2026-11-20T21:00:00.000Z", { product: "NQ" }, true);
    const mislabelled = { ...chain, metadata: { ...chain.metadata, sample: false } };
    const dir = folderWith({ "run.chain.json": JSON.stringify(mislabelled) });
    const replay = await loadFor({ dir }, { product: "NQ" });
    expect(replay.sample).toBe(true);
    expect(replay.warnings![0]).toMatch(/^SAMPLE DATA/);
  });

  it("computes a saved chain's computed analytics again instead of passing them off as the feed's, and keeps a feed's own", async () => {
    const sample = JSON.parse(readFileSync(SAMPLE_CHAIN_FILE, "utf8")) as OptionsChain;
    const [first, second] = sample.contracts;
    const feedGiven = { ...second!, impliedVolatility: 0.31, delta: 0.2, gamma: null, theta: null, vega: null, ivBasis: null, greeksSource: "feed" as const };
    const saved = { ...sample, metadata: { ...sample.metadata, request: { product: "NQ" } }, contracts: [first!, feedGiven] };
    const dir = folderWith({ "sample.chain.json": JSON.stringify(saved) });
    const replay = await loadFor({ dir }, { product: "NQ" });
    expect(replay.rows[0]).not.toHaveProperty("impliedVolatility");
    expect(replay.rows[0]).not.toHaveProperty("greeksSource");
    expect(replay.rows[1]).toMatchObject({ impliedVolatility: 0.31, delta: 0.2 });
    const chain = normalizeChain(replay, { source: "saved", capabilities: savedSource.capabilities, request: { product: "NQ" }, fetchedAt: new Date(), analytics: { rate: sample.metadata.analyticsRate! } });
    const byKey = (c: { strike: number; right: string }) => chain.contracts.find((x) => x.strike === c.strike && x.right === c.right)!;
    expect(byKey(first!)).toMatchObject({ greeksSource: "computed", ivBasis: first!.ivBasis });
    expect(byKey(first!).impliedVolatility).toBeCloseTo(first!.impliedVolatility!, 12);
    expect(byKey(second!)).toMatchObject({ greeksSource: "feed", impliedVolatility: 0.31, delta: 0.2, gamma: null, ivBasis: null });
  });

  it("the shipped sample's file name says sample, and the file is flagged sample throughout", () => {
    expect(SAMPLE_CHAIN_FILE).toMatch(/nq-sample\.chain\.json$/);
    const chain = JSON.parse(readFileSync(SAMPLE_CHAIN_FILE, "utf8")) as OptionsChain;
    expect(chain.metadata.sample).toBe(true);
    expect(chain.contracts.every((c) => c.provenance.sample)).toBe(true);
  });
});

describe("symbology of replayed chains", () => {
  const asOf = "2025-06-09T05:22:00.000Z";
  const barchartRows = [
    { rawSymbol: "MC7M5|15000C", root: "MC7", underlying: "NQM25", expiration: "2025-06-09", strike: 15000, right: "C", bid: 6696.75, ask: 6781.25 },
    { rawSymbol: "MC7M5|15000P", root: "MC7", underlying: "NQM25", expiration: "2025-06-09", strike: 15000, right: "P", bid: 0.05, ask: 0.1 },
  ];
  const replay = async (file: OptionsChain) => {
    const dir = folderWith({ "nq-barchart.chain.json": JSON.stringify({ ...file, metadata: { ...file.metadata, request: { product: "NQ" } } }) });
    const result = await load({ dir }, asOf);
    return normalizeChain(result, { source: "saved", capabilities: savedSource.capabilities, request: { product: "NQ" }, fetchedAt: new Date(asOf) });
  };

  it("a saved chain replays with the same canonical symbol, root and underlying, and the feed's rawSymbol", async () => {
    const saved = normalizeChain({ rows: barchartRows, asOf }, { source: "barchart", capabilities: { delayed: true }, request: { product: "NQ" }, fetchedAt: new Date(asOf) });
    const replayed = await replay(saved);
    const names = (chain: OptionsChain) => chain.contracts.map((c) => [c.symbol, c.rawSymbol, c.root, c.underlying, c.expiration]);
    expect(names(saved)).toEqual([
      ["Q2AM5 C15000", "MC7M5|15000C", "Q2A", "NQM5", "2025-06-09"],
      ["Q2AM5 P15000", "MC7M5|15000P", "Q2A", "NQM5", "2025-06-09"],
    ]);
    expect(names(replayed)).toEqual(names(saved));
    expect(replayed.qualityMetrics.invalidRows).toBe(0);
  });

  it("a file from before rawSymbol (the feed's spelling in symbol) comes out canonical too", async () => {
    const saved = normalizeChain({ rows: barchartRows, asOf }, { source: "barchart", capabilities: { delayed: true }, request: { product: "NQ" }, fetchedAt: new Date(asOf) });
    const old = {
      ...saved,
      contracts: saved.contracts.map(({ rawSymbol, ...c }) => ({ ...c, symbol: rawSymbol!, root: "MC7", underlying: "NQM25" })),
    } as unknown as OptionsChain;
    const replayed = await replay(old);
    expect(replayed.contracts.map((c) => [c.symbol, c.rawSymbol, c.root, c.underlying])).toEqual([
      ["Q2AM5 C15000", "MC7M5|15000C", "Q2A", "NQM5"],
      ["Q2AM5 P15000", "MC7M5|15000P", "Q2A", "NQM5"],
    ]);
  });
});
