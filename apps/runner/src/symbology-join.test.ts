/**
 * Issue 10, one symbology: the same instrument from Databento and from Barchart gets the same `symbol`,
 * `root`, `underlying` and `expiration`, so two chains join on `symbol`.
 *
 * 1. The local generators: a chain from the local Databento server (the source's real HTTP client and row
 *    transform) and one from the local Barchart site (its pages and quotes fetched over plain HTTP, no
 *    browser, then Barchart's own capture → rows transform), for the same trade date.
 * 2. Real spellings: Barchart's real captured MC7M25 page and quotes (shared fixtures) against Databento
 *    definitions spelled as CME spells that series (raw_symbol "Q2AM5 C15000", asset Q2A, underlying NQM5 —
 *    CME's codes, not a captured Databento file), through Databento's row transform.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { normalizeChain, silentLogger, SpendLedger, type OptionContract, type OptionsChain } from "@nq/core";
import { captureToResult, parseSeriesPage, barchartSource, type ChainCapture } from "@nq/source-barchart";
import { startLocalBarchartSite, type LocalBarchartSite } from "@nq/source-barchart/test-site";
import { ChainRecords, databento, toSourceRows, type OptionDefinition } from "@nq/source-databento";
import { chainToCsv, CSV_COLUMNS } from "./outputs.js";
import { startLocalDatabentoServer, type LocalDatabentoServer } from "@nq/source-databento/test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const KEY = "db-SymbologyJoinTestKey000000000";
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const sharedDir = process.env.NQ_SHARED_DIR ? resolve(process.env.NQ_SHARED_DIR) : resolve(repoRoot, "../shared");
const barchartFixtures = join(sharedDir, "fixtures/barchart");
const haveFixtures = existsSync(join(barchartFixtures, "quotes_MC7M25_2025-06-08.json"));

const key = (c: OptionContract) => `${c.expiration}|${c.strike}|${c.right}`;

/** Joins two chains on symbol; also says which contracts share (expiration, strike, right) but not a symbol. */
function join2(a: OptionsChain, b: OptionsChain) {
  const bySymbol = new Map(b.contracts.map((c) => [c.symbol, c]));
  const byKey = new Map(b.contracts.map((c) => [key(c), c]));
  const pairs = a.contracts.flatMap((c) => (bySymbol.has(c.symbol) ? [[c, bySymbol.get(c.symbol)!] as const] : []));
  const sameKeyOtherSymbol = a.contracts.filter((c) => byKey.has(key(c)) && byKey.get(key(c))!.symbol !== c.symbol).map((c) => `${c.symbol} vs ${byKey.get(key(c))!.symbol}`);
  const sharedKeys = a.contracts.filter((c) => byKey.has(key(c))).length;
  return { pairs, sameKeyOtherSymbol, sharedKeys };
}

describe("a Databento chain and a Barchart chain from the local generators join on symbol", () => {
  let server: LocalDatabentoServer;
  let site: LocalBarchartSite;
  let dbChain: OptionsChain;
  let bcChain: OptionsChain;

  beforeAll(async () => {
    server = await startLocalDatabentoServer({ apiKeys: [KEY], fixturesDir: null, contracts: 2000 });
    site = await startLocalBarchartSite({ today: "2026-11-20", fixturesDir: null, underlyingPrice: 21_000 });

    const source = await databento.create(databento.configSchema.parse({ api_key: KEY, base_url: server.url }), { log: silentLogger, spend: new SpendLedger(), now: () => new Date("2026-11-20T21:30:00Z") });
    const request = { product: "NQ" };
    const result = await source.load(request, { signal: new AbortController().signal });
    dbChain = normalizeChain(result, { source: "databento", capabilities: databento.capabilities, request, fetchedAt: new Date() });

    const capture = await crawlOverPlainHttp(site, "2026-11-20T20:50:00.000Z");
    bcChain = normalizeChain(captureToResult(capture), { source: "barchart", capabilities: barchartSource.capabilities, request, fetchedAt: new Date(capture.fetchedAt) });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await site?.close();
  });

  it("finds every shared strike through the symbol, with identical expiration, root and underlying", () => {
    expect(dbChain.qualityMetrics.invalidRows).toBe(0);
    expect(bcChain.qualityMetrics.invalidRows).toBe(0);
    const { pairs, sameKeyOtherSymbol, sharedKeys } = join2(dbChain, bcChain);
    // Both generators list these series on 2026-11-20; Barchart calls them MC4X26, MQ4X26, MQ6X26, NQZ26, NQH27.
    expect([...new Set(pairs.map(([d]) => d.root))].sort()).toEqual(["NQ", "Q4C", "QN4", "QNE"]);
    expect([...new Set(pairs.map(([d]) => d.expiration))].sort()).toEqual(["2026-11-25", "2026-11-27", "2026-11-30", "2026-12-18", "2027-03-19"]);
    expect(pairs.length).toBeGreaterThan(50);
    // Every contract both chains hold (same expiration, strike, right) is found by the symbol join, and nothing else is.
    expect(sameKeyOtherSymbol).toEqual([]);
    expect(pairs.length).toBe(sharedKeys);
    for (const [d, b] of pairs) {
      expect([b.expiration, b.root, b.underlying, b.strike, b.right], d.symbol).toEqual([d.expiration, d.root, d.underlying, d.strike, d.right]);
    }
    // The feeds' own spellings stay beside the canonical symbol.
    const [d, b] = pairs.find(([x]) => x.root === "QN4")!;
    expect(d.rawSymbol).toBe(d.symbol);
    expect(b.rawSymbol).toBe(`MQ4X6|${d.strike}${d.right}`);
  });

  it("both chains come out with IV and delta for every contract that has a price (issue 10), each from its own future", () => {
    for (const chain of [dbChain, bcChain]) {
      const priced = chain.contracts.filter((c) => ((c.bid !== null && c.ask !== null) || c.settlement !== null) && c.underlyingPrice !== null);
      expect(priced.length, chain.metadata.source).toBeGreaterThan(50);
      const missing = priced.filter((c) => c.impliedVolatility === null || c.delta === null);
      // None is left without a value except for a counted reason (a price at or below intrinsic).
      const counted = Object.values(chain.qualityMetrics.analyticsUnavailable).reduce((a, b) => a + b, 0);
      expect(missing.length, chain.metadata.source).toBeLessThanOrEqual(counted);
      expect(missing.length, chain.metadata.source).toBeLessThan(priced.length / 5);
    }
    expect(bcChain.contracts.every((c) => c.underlyingPrice !== null)).toBe(true);
  });
});

describe.skipIf(!haveFixtures)("Barchart's real MC7M25 capture and CME-spelled Databento definitions join on symbol", () => {
  it("finds all 586 contracts, with identical symbol, root, underlying and expiration", () => {
    const page = readFileSync(join(barchartFixtures, "page_NQM25_MC7M25_2025-06-08.excerpt.html"), "utf8");
    const quotes = readFileSync(join(barchartFixtures, "quotes_MC7M25_2025-06-08.json"), "utf8");
    const fetchedAt = "2025-06-09T05:32:18.000Z";
    const capture: ChainCapture = {
      fetchedAt,
      baseUrl: "https://www.barchart.com",
      product: "NQ",
      notes: [],
      series: [{ seriesCode: "MC7M25", pageUrl: "https://www.barchart.com/futures/quotes/NQM25/options/MC7M25", pageHtml: page, quotesUrl: "", quotesBody: quotes, pageFetchedAt: fetchedAt }],
    };
    const request = { product: "NQ" };
    const bcChain = normalizeChain(captureToResult(capture), { source: "barchart", capabilities: barchartSource.capabilities, request, fetchedAt: new Date(fetchedAt), analytics: false });
    expect(bcChain.optionsSummary.total).toBe(586);

    // What Databento's definition schema carries for this series, spelled as CME spells it.
    const expirationNs = BigInt(Date.parse("2025-06-09T20:00:00Z")) * 1_000_000n; // 15:00 CT, Monday weeklies' close
    const definitions: OptionDefinition[] = bcChain.contracts.map((c, i) => ({
      instrumentId: 1000 + i,
      rawSymbol: `Q2AM5 ${c.right}${c.strike}`,
      asset: "Q2A",
      underlying: "NQM5",
      right: c.right,
      strikeRaw: BigInt(c.strike) * 1_000_000_000n,
      expirationNs,
      multiplier: 20,
      underlyingId: 0,
    }));
    const asOfNs = BigInt(Date.parse("2025-06-09T05:30:00Z")) * 1_000_000n;
    const rows = toSourceRows(definitions, new ChainRecords({ asOfNs, sessionOpenNs: asOfNs - 12n * 3_600_000_000_000n }));
    const dbChain = normalizeChain({ rows, asOf: "2025-06-09T05:30:00Z" }, { source: "databento", capabilities: databento.capabilities, request, fetchedAt: new Date(fetchedAt), analytics: false });

    const { pairs, sameKeyOtherSymbol } = join2(dbChain, bcChain);
    expect(sameKeyOtherSymbol).toEqual([]);
    expect(pairs.length).toBe(586);
    for (const [d, b] of pairs) expect([b.symbol, b.root, b.underlying, b.expiration], d.symbol).toEqual([d.symbol, d.root, d.underlying, d.expiration]);
    const call = pairs.find(([x]) => x.strike === 15000 && x.right === "C")!;
    // rawSymbol is in the chain JSON (a contract field) and in the CSV's raw_symbol column.
    expect(JSON.parse(JSON.stringify(bcChain)).contracts[0]).toHaveProperty("rawSymbol");
    const [header, firstRow] = chainToCsv([call[1], { ...call[1], rawSymbol: null }]).split("\n");
    const column = header!.split(",").indexOf("raw_symbol");
    expect(column).toBe(CSV_COLUMNS.indexOf("raw_symbol"));
    expect(firstRow!.split(",")[column]).toBe("MC7M5|15000C");
    expect(chainToCsv([{ ...call[1], rawSymbol: null }]).split("\n")[1]!.split(",")[column]).toBe("");
    expect([call[0].symbol, call[0].rawSymbol, call[1].rawSymbol, call[1].root, call[1].underlying, call[1].expiration]).toEqual([
      "Q2AM5 C15000",
      "Q2AM5 C15000",
      "MC7M5|15000C",
      "Q2A",
      "NQM5",
      "2025-06-09",
    ]);
  });
});

/**
 * The local Barchart site's series pages and quotes, fetched the way the page's own script would (the
 * session cookies and X-XSRF-TOKEN from the first page), without a browser: a ChainCapture like the
 * crawler's, for Barchart's own capture → rows transform.
 */
async function crawlOverPlainHttp(site: LocalBarchartSite, fetchedAt: string): Promise<ChainCapture> {
  const first = await fetch(`${site.url}/futures/quotes/NQZ26/options?futuresOptionsView=merged&moneyness=allRows`);
  await first.text();
  const cookies = first.headers.getSetCookie().map((c) => c.split(";")[0]!);
  const xsrf = decodeURIComponent(cookies.find((c) => c.startsWith("XSRF-TOKEN="))!.slice("XSRF-TOKEN=".length));
  const headers = { cookie: cookies.join("; "), "x-xsrf-token": xsrf, accept: "application/json" };
  const series: ChainCapture["series"] = [];
  for (const s of site.series) {
    const path = s.code === s.future ? `/futures/quotes/${s.future}/options` : `/futures/quotes/${s.future}/options/${s.code}`;
    const pageUrl = `${site.url}${path}?futuresOptionsView=merged&moneyness=allRows`;
    const pageHtml = await (await fetch(pageUrl, { headers: { cookie: headers.cookie } })).text();
    const api = parseSeriesPage(pageHtml).apiConfig;
    if (!api) throw new Error(`${s.code}: the local page has no data-api-config`);
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(api)) if (name !== "method" && typeof value === "string") params.set(name, value);
    params.set("raw", "1");
    const quotesUrl = `${site.url}/proxies/core-api/v1/${api.method}/get?${params.toString()}`;
    const answer = await fetch(quotesUrl, { headers });
    if (!answer.ok) throw new Error(`${s.code}: quotes answered ${answer.status}`);
    series.push({ seriesCode: s.code, pageUrl, pageHtml, pageFetchedAt: fetchedAt, quotesUrl, quotesBody: await answer.text() });
  }
  return { fetchedAt, baseUrl: site.url, product: "NQ", series, notes: [] };
}
