import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IncompleteDataError, normalizeChain } from "@nq/core";
import { describe, expect, it } from "vitest";
import { barchartSource } from "./index.js";
import { parseQuotesResponse, parseQuoteRow, readTradeTime } from "./quotes-parser.js";
import { captureToResult } from "./rows.js";
import { barchartFixturesDir, fixturesSkipMessage, hasBarchartFixtures } from "./test-environment.js";

interface RawRow {
  [field: string]: unknown;
  raw: Record<string, unknown>;
}

/** Counts taken straight from the capture's own fields, independently of the parser. */
function countsOf(file: string) {
  const text = readFileSync(join(barchartFixturesDir, file), "utf8");
  const json = JSON.parse(text) as { total: number; data: { Call: RawRow[]; Put: RawRow[] } };
  const all = [...json.data.Call, ...json.data.Put];
  return {
    text,
    json,
    all,
    total: json.total,
    calls: all.filter((r) => r.optionType === "Call").length,
    puts: all.filter((r) => r.optionType === "Put").length,
    rawBidZero: all.filter((r) => r.raw.bidPrice === 0).length,
    rawAskZero: all.filter((r) => r.raw.askPrice === 0).length,
    settlementShown: all.filter((r) => String(r.lastPrice).endsWith("s")).length,
    volumeNull: all.filter((r) => r.raw.volume === null).length,
    oiNull: all.filter((r) => r.raw.openInterest === null).length,
    timeShown: all.filter((r) => /CT$/.test(String(r.tradeTime))).length,
  };
}

describe.skipIf(!hasBarchartFixtures)(`real captures (${hasBarchartFixtures ? barchartFixturesDir : fixturesSkipMessage})`, () => {
  for (const [file, series] of [
    ["quotes_MC7M25_2025-06-08.json", "MC7M5"],
    ["quotes_MC6M25_2025-06-02.json", "MC6M5"],
  ] as const) {
    it(`${file}: every row parses, with the capture's own counts`, () => {
      const counts = countsOf(file);
      const parsed = parseQuotesResponse(counts.text);
      expect(parsed.problems).toEqual([]);
      expect(parsed.quotes).toHaveLength(counts.total);
      expect(parsed.total).toBe(counts.total);
      expect(parsed.quotes.filter((q) => q.right === "C")).toHaveLength(counts.calls);
      expect(parsed.quotes.filter((q) => q.right === "P")).toHaveLength(counts.puts);
      expect(parsed.quotes.filter((q) => q.bid === null)).toHaveLength(counts.rawBidZero);
      expect(parsed.quotes.filter((q) => q.ask === null)).toHaveLength(counts.rawAskZero);
      expect(parsed.quotes.filter((q) => q.isSettlement)).toHaveLength(counts.settlementShown);
      expect(parsed.quotes.filter((q) => q.settlement !== null)).toHaveLength(counts.settlementShown);
      expect(parsed.quotes.filter((q) => q.volume === null)).toHaveLength(counts.volumeNull);
      expect(parsed.quotes.filter((q) => q.openInterest === null)).toHaveLength(counts.oiNull);
      expect(parsed.quotes.filter((q) => q.tradeTime !== null)).toHaveLength(counts.timeShown);
      // Row by row against the raw object: strike, right, and the raw numbers where present.
      parsed.quotes.forEach((quote, index) => {
        const row = counts.all[index]!;
        expect(quote.strike).toBe(row.raw.strike);
        expect(quote.right).toBe(row.optionType === "Call" ? "C" : "P");
        expect(quote.symbol).toBe(`${series}|${String(row.raw.strike)}${quote.right}`);
        expect(quote.bid).toBe(row.raw.bidPrice === 0 ? null : row.raw.bidPrice);
        expect(quote.volume).toBe(row.raw.volume);
        expect(quote.last ?? quote.settlement).toBe(row.lastPrice === "N/A" ? null : row.raw.lastPrice);
      });
    });
  }

  it("MC7M25: the rows described in the reference read as documented", () => {
    const { quotes } = parseQuotesResponse(countsOf("quotes_MC7M25_2025-06-08.json").text);
    // The figures SOURCES.md gives for this capture.
    expect([quotes.filter((q) => q.right === "C").length, quotes.filter((q) => q.right === "P").length]).toEqual([293, 293]);
    expect([quotes.filter((q) => q.bid === null).length, quotes.filter((q) => q.ask === null).length]).toEqual([108, 0]);
    expect(quotes.filter((q) => q.isSettlement)).toHaveLength(475);
    expect([quotes.filter((q) => q.volume === null).length, quotes.filter((q) => q.openInterest === null).length]).toEqual([323, 268]);
    expect(quotes.filter((q) => q.open === null)).toHaveLength(336);
    expect(quotes.filter((q) => q.tradeTime !== null)).toHaveLength(109);
    const deepCall = quotes.find((q) => q.strike === 15000 && q.right === "C")!;
    expect(deepCall).toMatchObject({ bid: 6696.75, ask: 6781.25, last: 6787, settlement: null, isSettlement: false, open: null, volume: null, openInterest: null });
    expect(deepCall).toMatchObject({ tradeDate: "2025-06-06", tradeTime: null, premium: 135740, priceChange: 207.75 });
    const put = quotes.find((q) => q.strike === 17500 && q.right === "P")!;
    expect(put).toMatchObject({ bid: null, ask: 0.45, last: null, settlement: 0.05, isSettlement: true, priceChange: 0, openInterest: 7, volume: null });
    // Time-of-day rows: the exact epoch, whose Chicago clock is the time shown, across midnight.
    const timed = quotes.filter((q) => q.tradeTime !== null);
    expect(new Set(timed.map((q) => q.tradeDate))).toEqual(new Set(["2025-06-08", "2025-06-09"]));
  });

  it("MC6M25 (captured after expiry): no bid or ask anywhere, comma volumes read, one real last trade", () => {
    const counts = countsOf("quotes_MC6M25_2025-06-02.json");
    const { quotes } = parseQuotesResponse(counts.text);
    expect(quotes.every((q) => q.bid === null && q.ask === null)).toBe(true);
    const commaVolumes = counts.all.filter((r) => String(r.volume).includes(","));
    expect(commaVolumes.map((r) => r.volume).sort()).toEqual(["1,237", "1,349", "2,037"]);
    for (const row of commaVolumes) {
      expect(quotes.find((q) => q.symbol === row.raw.symbol)!.volume).toBe(Number(String(row.volume).replace(/,/g, "")));
    }
    const traded = quotes.filter((q) => !q.isSettlement);
    expect(traded.map((q) => [q.strike, q.right])).toEqual([[14000, "C"]]);
    expect(traded[0]!.last).toBeGreaterThan(0);
    expect(traded[0]!.tradeTime).not.toBeNull();
  });

  it("the real page + the real MC7M25 response normalize to a complete chain (293 calls, 293 puts, expiry from the page)", () => {
    const counts = countsOf("quotes_MC7M25_2025-06-08.json");
    const pageHtml = readFileSync(join(barchartFixturesDir, "page_NQM25_MC7M25_2025-06-08.excerpt.html"), "utf8");
    const result = captureToResult({
      fetchedAt: "2025-06-09T05:32:18Z",
      baseUrl: "https://www.barchart.com",
      product: "NQ",
      notes: [],
      series: [{ seriesCode: "MC7M25", pageUrl: "https://www.barchart.com/futures/quotes/NQM25/options/MC7M25", pageHtml, quotesUrl: "", quotesBody: counts.text }],
    });
    const chain = normalizeChain(result, {
      source: "barchart",
      capabilities: barchartSource.capabilities,
      request: { product: "NQ" },
      fetchedAt: new Date("2025-06-09T05:32:18Z"),
    });
    expect(chain.qualityMetrics.invalidRows).toBe(0);
    expect(chain.optionsSummary).toMatchObject({ calls: counts.calls, puts: counts.puts, underlying: "NQM5", underlyingPrice: 21745, expirations: ["2025-06-09"] });
    expect(chain.metadata.delayed).toBe(true);
    const c = chain.contracts.find((x) => x.strike === 15000 && x.right === "C")!;
    expect(c).toMatchObject({ symbol: "Q2AM5 C15000", rawSymbol: "MC7M5|15000C", root: "Q2A", underlying: "NQM5", multiplier: 20, bid: 6696.75, volume: null, openInterest: null, settlement: null, last: 6787 });
    expect(chain.contracts.filter((x) => x.settlement !== null)).toHaveLength(counts.settlementShown);
  });
});

describe("quote rows (synthetic edge cases)", () => {
  it("reads formatted values when a row has no raw object", () => {
    const quote = parseQuoteRow({ strike: "21,000.00P", optionType: "Put", lastPrice: "1,194.38s", bidPrice: "N/A", askPrice: "1,200.00", volume: "1,237", openInterest: "N/A", priceChange: "unch", tradeTime: "05/30/25" });
    expect(quote).toMatchObject({ strike: 21000, right: "P", settlement: 1194.38, last: null, bid: null, ask: 1200, volume: 1237, openInterest: null, priceChange: 0, tradeDate: "2025-05-30" });
  });

  it("reads tradeTime as a date, a time with CT (date from the epoch) or bare epoch seconds", () => {
    expect(readTradeTime("06/06/25", 1749168000)).toEqual({ tradeDate: "2025-06-06", tradeTime: null });
    // 00:00:23 CT on 06/09 is 05:00:23 UTC.
    expect(readTradeTime("00:00 CT", 1749445223)).toEqual({ tradeDate: "2025-06-09", tradeTime: "2025-06-09T05:00:23.000Z" });
    expect(readTradeTime(undefined, 1749445223)).toEqual({ tradeDate: "2025-06-09", tradeTime: "2025-06-09T05:00:23.000Z" });
    expect(() => readTradeTime("yesterday", null)).toThrow(/tradeTime/);
  });

  it("flattens groupBy=strikePrice and plain-array shapes", () => {
    const leg = (right: string) => ({ raw: { strike: 100, optionType: right, bidPrice: 1, askPrice: 2, lastPrice: 1.5, volume: null, openInterest: 3 }, lastPrice: "1.50" });
    expect(parseQuotesResponse({ data: { "100.00": [leg("Call"), leg("Put")] } }).quotes.map((q) => q.right)).toEqual(["C", "P"]);
    expect(parseQuotesResponse({ data: [leg("Call")] }).quotes).toHaveLength(1);
  });

  it("reports malformed JSON and wrong shapes as IncompleteDataError, a bad row as a problem", () => {
    expect(() => parseQuotesResponse('{"count":2,"data":{"Call":[')).toThrow(IncompleteDataError);
    expect(() => parseQuotesResponse({ error: "nope" })).toThrow(/no "data" field/);
    expect(() => parseQuotesResponse({ data: { Call: "x" } })).toThrow(/expected an array/);
    const parsed = parseQuotesResponse({ data: { Call: [{ raw: { strike: -1, optionType: "Call" } }] } });
    expect(parsed.quotes).toHaveLength(0);
    expect(parsed.problems[0]).toMatch(/strike: expected a positive number/);
  });
});
