/**
 * Issue 9 acceptance: the book a trader acts on. Against the local server, for every quote schema, in
 * HTTP mode and file mode, every contract's bid, ask and sizes equal the top of book at the as-of time
 * T as the generated market defines it (`bookAt`, computed from the event lists, not from the bytes):
 * at the 16:00 CT close (the closing minute's bbo-1m record is stamped exactly T), mid-session (quiet
 * strikes whose book was set hours before T), and with no as-of after the close. Every contract carries
 * its own underlying future's price.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeChain, type OptionsChain, type SourceResult } from "@nq/core";
import { databento } from "./index.js";
import type { QuoteSchema } from "./config.js";
import { bookAt, futureBookAt, generateDay, type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, signal, sourceFor } from "./test-support/source-harness.js";

const CONTRACTS = 300;
const CLOSE = "2026-11-19T22:00:00.000Z"; // Thursday 16:00 CT: trade date 2026-11-19
const MIDDAY = "2026-11-19T18:00:00.000Z"; // Thursday 12:00 CT
const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

function chainOf(result: SourceResult, asOf?: string): OptionsChain {
  const request = asOf ? { product: "NQ", asOf } : { product: "NQ" };
  return normalizeChain(result, { source: "databento", capabilities: databento.capabilities, request, fetchedAt: new Date() });
}

/** rawSymbol → instrument id in the generated universe of a day. */
function idsOf(date: string): Map<string, number> {
  return new Map(generateDay(date, CONTRACTS).options.map((o) => [o.rawSymbol, o.instrumentId]));
}

function expectBookAt(chain: OptionsChain, at: string): { quiet: number; exactlyAtT: number } {
  const ids = idsOf(at.slice(0, 10));
  let quiet = 0;
  let exactlyAtT = 0;
  expect(chain.contracts.length).toBeGreaterThan(40);
  for (const c of chain.contracts) {
    const id = ids.get(c.symbol);
    expect(id, c.symbol).toBeDefined();
    const book = bookAt(id!, ns(at), { contracts: CONTRACTS });
    expect(book, c.symbol).not.toBeNull();
    expect({ symbol: c.symbol, bid: c.bid, ask: c.ask, bidSize: c.bidSize, askSize: c.askSize }).toEqual({
      symbol: c.symbol,
      bid: book!.bid,
      ask: book!.ask,
      bidSize: book!.bidSize,
      askSize: book!.askSize,
    });
    if (Date.parse(at) - Number(book!.tsNs / 1_000_000n) > 3 * 3_600_000) quiet += 1;
    if (c.quoteTime === at) exactlyAtT += 1;
  }
  return { quiet, exactlyAtT };
}

describe("the book at as-of, over HTTP, for every quote schema", () => {
  let server: LocalDatabentoServer;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: CONTRACTS, apiKeys: [CANARY_KEY], fixturesDir: null });
  });
  afterAll(async () => server.close());

  const schemas: QuoteSchema[] = ["bbo-1m", "bbo-1s", "mbp-1"];
  for (const schema of schemas) {
    it(`${schema}: at the 16:00 CT close, including records stamped exactly at T and quiet strikes quoted hours before`, async () => {
      const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, schemas: ["statistics", "trades", schema] });
      const chain = chainOf(await source.load({ product: "NQ", asOf: CLOSE }, { signal: signal() }), CLOSE);
      const { quiet, exactlyAtT } = expectBookAt(chain, CLOSE);
      expect(quiet).toBeGreaterThan(0);
      // A quiet strike's hours-old quote is the book, reported with its own time and counted stale.
      expect(chain.qualityMetrics.staleQuotes).toBeGreaterThanOrEqual(quiet);
      expect(chain.qualityMetrics.missingBidAskShare).toBe(0);
      if (schema === "bbo-1m") expect(exactlyAtT).toBeGreaterThan(0);
      expect(chain.metadata.complete).toBe(true);
    });

    it(`${schema}: mid-session, a quiet strike's book set hours earlier is still the book`, async () => {
      const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, schemas: ["trades", schema] });
      const chain = chainOf(await source.load({ product: "NQ", asOf: MIDDAY }, { signal: signal() }), MIDDAY);
      const { quiet } = expectBookAt(chain, MIDDAY);
      expect(quiet).toBeGreaterThan(0);
    });
  }

  it("with no as-of and data ending at the next session's first instant (17:00 CT), the chain is the close's — not hollow", async () => {
    const late = await startLocalDatabentoServer({ contracts: CONTRACTS, apiKeys: [CANARY_KEY], fixturesDir: null, availableEnd: "2026-11-19T23:00:00Z" });
    try {
      const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: late.url }, { now: new Date("2026-11-19T23:30:00Z") });
      const result = await source.load({ product: "NQ" }, { signal: signal() });
      expect(new Date(result.asOf).toISOString()).toBe(CLOSE);
      expect(result.asOfReason).toMatch(/daily break.*close of the last session \(trade date 2026-11-19/);
      const chain = chainOf(result);
      expectBookAt(chain, CLOSE);
      expect(chain.metadata.complete).toBe(true);
      expect(chain.contracts.filter((c) => c.volume !== null && c.volume > 0).length).toBeGreaterThan(0);
    } finally {
      await late.close();
    }
  });

  it("every contract carries its own future's price (mid at T), and the chain hangs off two futures", async () => {
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    const chain = chainOf(await source.load({ product: "NQ", asOf: CLOSE }, { signal: signal() }), CLOSE);
    const futures = new Set(chain.contracts.map((c) => c.underlying));
    expect(futures.size).toBeGreaterThanOrEqual(2);
    for (const symbol of futures) {
      const book = futureBookAt(symbol, ns(CLOSE), { contracts: CONTRACTS })!;
      const mid = (book.bid + book.ask) / 2;
      for (const c of chain.contracts.filter((x) => x.underlying === symbol)) {
        expect([c.symbol, c.underlyingPrice, c.underlyingPriceBasis]).toEqual([c.symbol, mid, "mid"]);
        expect(c.underlyingPriceTime).not.toBeNull();
      }
    }
    const prices = chain.optionsSummary.underlyings.map((u) => u.price);
    expect(new Set(prices).size).toBe(prices.length);
    expect(chain.optionsSummary.underlyings.every((u) => u.basis === "mid")).toBe(true);
  });

  it("comes out with Black-76 IV and delta for every contract that has a price, from its own future", async () => {
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    const chain = chainOf(await source.load({ product: "NQ", asOf: CLOSE }, { signal: signal() }), CLOSE);
    const priced = chain.contracts.filter((c) => (c.bid !== null && c.ask !== null) || c.settlement !== null);
    expect(priced.length).toBe(chain.contracts.length);
    const missing = priced.filter((c) => c.impliedVolatility === null || c.delta === null);
    // A price at or below intrinsic has no IV: that is counted with its reason, never a made-up number.
    const unavailable = Object.values(chain.qualityMetrics.analyticsUnavailable).reduce((a, b) => a + b, 0);
    expect(missing.length).toBe(unavailable);
    expect(missing.length).toBeLessThan(priced.length / 10);
    expect(priced.filter((c) => c.impliedVolatility !== null).every((c) => c.greeksSource === "computed" && (c.ivBasis === "mid" || c.ivBasis === "settlement"))).toBe(true);
  });

  it("keeps cleared volume (stat 6) apart from session volume, each with its own date", async () => {
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    const chain = chainOf(await source.load({ product: "NQ", asOf: MIDDAY }, { signal: signal() }), MIDDAY);
    const withCleared = chain.contracts.filter((c) => c.clearedVolume !== null);
    expect(withCleared.length).toBeGreaterThan(0);
    expect(withCleared.every((c) => c.clearedVolumeDate === "2026-11-18")).toBe(true);
  });

  it("spends at most a third of a naive full-session mbp-1 + trades pull for the same chain", async () => {
    const since = server.requests.length;
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    await source.load({ product: "NQ", asOf: CLOSE }, { signal: signal() });
    const spent = server.spend(since).costUsd;
    const parents = "NQ.OPT,Q4C.OPT,QN4.OPT,QNE.OPT,Q3C.OPT,QN3.OPT";
    const session = { start: "2026-11-18T23:00:00Z", end: CLOSE };
    const naive =
      server.estimate({ schema: "mbp-1", symbols: parents, stype_in: "parent", ...session }).costUsd +
      server.estimate({ schema: "trades", symbols: parents, stype_in: "parent", ...session }).costUsd +
      server.estimate({ schema: "definition", symbols: parents, stype_in: "parent", start: "2026-11-19T00:00:00Z", end: CLOSE }).costUsd +
      server.estimate({ schema: "statistics", symbols: parents, stype_in: "parent", start: "2026-11-17T23:00:00Z", end: CLOSE }).costUsd;
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(naive / 3);
  });

  it("a partial answer (HTTP 206) makes the chain incomplete, with the reason", async () => {
    server.setFault({ kind: "partial", endpoints: ["timeseries.get_range"], times: 1 });
    try {
      const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
      const result = await source.load({ product: "NQ", asOf: CLOSE }, { signal: signal() });
      expect(result.complete).toBe(false);
      expect(result.incompleteReasons!.join(" ")).toMatch(/206|could not resolve/);
      expect(chainOf(result, CLOSE).metadata.complete).toBe(false);
    } finally {
      server.setFault(null);
    }
  });

  it("'--max-expirations 2' at 20:30 CT keeps two whole series: selection and normalizer use the same trade date", async () => {
    const evening = "2026-11-24T02:30:00.000Z"; // Monday 20:30 CT, trade date Tuesday 2026-11-24
    const later = await startLocalDatabentoServer({ contracts: CONTRACTS, apiKeys: [CANARY_KEY], fixturesDir: null, availableEnd: "2026-11-24T03:00:00Z" });
    try {
      const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: later.url }, { now: new Date("2026-11-24T03:00:00Z") });
      const request = { product: "NQ", asOf: evening, maxExpirations: 2 };
      const result = await source.load(request, { signal: signal() });
      const chain = normalizeChain(result, { source: "databento", capabilities: databento.capabilities, request, fetchedAt: new Date() });
      expect(chain.optionsSummary.expirations).toHaveLength(2);
      expect(chain.qualityMetrics.filteredRows).toBe(0);
      expect(chain.optionsSummary.expirations.every((e) => e >= "2026-11-24")).toBe(true);
    } finally {
      await later.close();
    }
  });
});

describe("the book at as-of from local files (file mode): the same fold as HTTP", () => {
  let server: LocalDatabentoServer;
  let dir: string;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: CONTRACTS, apiKeys: [CANARY_KEY], fixturesDir: null });
    dir = await mkdtemp(join(tmpdir(), "nq-book-files-"));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function download(schema: string, symbols: string, start: string, end: string, name: string): Promise<string> {
    const res = await fetch(`${server.url}/v0/timeseries.get_range`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${CANARY_KEY}:`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ dataset: "GLBX.MDP3", symbols, stype_in: "parent", schema, start, end, encoding: "dbn", compression: "zstd" }).toString(),
    });
    // 206: some of the candidate series parents do not exist on the day; the others' data is all there.
    if (res.status !== 200 && res.status !== 206) throw new Error(`download of ${schema} failed: ${res.status}`);
    const file = join(dir, name);
    await writeFile(file, new Uint8Array(await res.arrayBuffer()));
    return file;
  }

  for (const schema of ["bbo-1m", "mbp-1"] as const) {
    it(`${schema}: whole-day files give the book at the close, and ignore what comes after it`, async () => {
      const parents = "NQ.OPT,Q4C.OPT,QN4.OPT,QNE.OPT,Q3C.OPT,QN3.OPT,NQ.FUT";
      // A whole UTC day: the files hold records after T (the evening session), which must not count.
      const files = [
        await download("definition", parents, "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z", `def-${schema}.dbn.zst`),
        await download("trades", parents, "2026-11-18T23:00:00Z", "2026-11-20T00:00:00Z", `trades-${schema}.dbn.zst`),
        await download(schema, parents, "2026-11-18T23:00:00Z", "2026-11-20T00:00:00Z", `quotes-${schema}.dbn.zst`),
      ];
      const { source } = await sourceFor({ files, schemas: ["trades", schema] });
      const chain = chainOf(await source.load({ product: "NQ", asOf: CLOSE }, { signal: signal() }), CLOSE);
      const { quiet } = expectBookAt(chain, CLOSE);
      expect(quiet).toBeGreaterThan(0);
      expect(chain.contracts.every((c) => c.underlyingPriceBasis === "mid")).toBe(true);
      // The trade file covers the whole session: an option that did not trade has volume 0, not null.
      expect(chain.contracts.some((c) => c.volume === 0)).toBe(true);
      expect(chain.contracts.every((c) => c.volume !== null)).toBe(true);
    });
  }

  it("volume is null, never 0, when the trade file does not cover the session", async () => {
    const parents = "NQ.OPT,Q4C.OPT,QN4.OPT,QNE.OPT,Q3C.OPT,QN3.OPT";
    const files = [
      await download("definition", parents, "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z", "def-short.dbn.zst"),
      await download("trades", parents, "2026-11-19T21:00:00Z", "2026-11-19T22:00:00Z", "trades-short.dbn.zst"),
    ];
    const { source } = await sourceFor({ files, schemas: ["trades"] });
    const result = await source.load({ product: "NQ", asOf: CLOSE }, { signal: signal() });
    expect(result.rows.every((r) => r.volume === null || (typeof r.volume === "number" && r.volume > 0))).toBe(true);
    expect(result.warnings!.join(" ")).toMatch(/do not cover the whole session/);
  });
});
