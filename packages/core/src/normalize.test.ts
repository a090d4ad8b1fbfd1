import { describe, expect, it } from "vitest";
import { normalizeChain, type NormalizeContext } from "./normalize.js";
import type { SourceCapabilities, SourceRow } from "./source.js";

const capabilities: SourceCapabilities = {
  chain: true, quotes: true, openInterest: true, settlement: true, volume: true, greeks: false,
  impliedVolatility: false, streaming: false, needsCredentials: false, costsMoney: false, delayed: false,
};
const context: NormalizeContext = { source: "test", capabilities, request: { product: "NQ" }, fetchedAt: new Date("2026-11-20T21:05:00Z") };
const asOf = "2026-11-20T21:00:00Z";
const row = (over: SourceRow): SourceRow => ({ expiration: "2026-12-18", strike: 25000, right: "C", bid: 10, ask: 11, ...over });

describe("normalizeChain", () => {
  it("turns rows into contracts with provenance, sorted by expiration, strike, then calls before puts", () => {
    const chain = normalizeChain(
      { rows: [row({ strike: 25100, right: "P" }), row({ expiration: "2026-11-27" }), row({ strike: 25100 }), row({ right: "put" })], asOf },
      context,
    );
    expect(chain.contracts.map((c) => `${c.expiration} ${c.strike}${c.right}`)).toEqual([
      "2026-11-27 25000C",
      "2026-12-18 25000P",
      "2026-12-18 25100C",
      "2026-12-18 25100P",
    ]);
    expect(chain.contracts[0]!.provenance).toEqual({ source: "test", asOf: "2026-11-20T21:00:00.000Z", fetchedAt: "2026-11-20T21:05:00.000Z", delayed: false, sample: false });
    expect(chain.optionsSummary).toMatchObject({ total: 4, calls: 2, puts: 2, expirations: ["2026-11-27", "2026-12-18"] });
    expect(chain.strikeRange).toEqual({ min: 25000, max: 25100, distinct: 2 });
    expect(chain.contracts[0]!.multiplier).toBe(20);
  });

  it("keeps unknown values null and real zeros zero", () => {
    const chain = normalizeChain({ rows: [row({ bid: null, openInterest: 0, volume: undefined })], asOf }, context);
    const c = chain.contracts[0]!;
    expect(c.bid).toBeNull();
    expect(c.openInterest).toBe(0);
    expect(c.volume).toBeNull();
    expect(c.delta).toBeNull();
    expect(chain.qualityMetrics.missingBidAskShare).toBe(1);
    expect(chain.qualityMetrics.zeroOpenInterestShare).toBe(1);
  });

  it("keeps the trading dates of settlement and open interest as YYYY-MM-DD", () => {
    const chain = normalizeChain({ rows: [row({ settlement: 5, settlementDate: "2026-11-19", openInterest: 9, openInterestDate: new Date("2026-11-18T00:00:00Z") })], asOf }, context);
    expect(chain.contracts[0]).toMatchObject({ settlementDate: "2026-11-19", openInterestDate: "2026-11-18" });
    const bad = normalizeChain({ rows: [row({ settlementDate: "last friday" })], asOf }, context);
    expect(bad.qualityMetrics.invalidReasons).toEqual({ "settlementDate: expected a YYYY-MM-DD date or null, got a string": 1 });
  });

  it("counts each bad row with its reason instead of dropping it silently or crashing", () => {
    const chain = normalizeChain(
      {
        rows: [row({}), row({ strike: "abc" }), row({ strike: -5 }), row({ right: "X" }), row({ expiration: "12/18/26" }), row({ bid: -1 }), null as unknown as SourceRow],
        asOf,
      },
      context,
    );
    expect(chain.contracts).toHaveLength(1);
    expect(chain.qualityMetrics.invalidRows).toBe(6);
    expect(chain.qualityMetrics.invalidReasons).toEqual({
      "strike: expected a number, got a string": 1,
      "strike: expected a positive number": 1,
      'right: expected "C"/"P" (or "call"/"put"), got a string': 1,
      "expiration: expected a YYYY-MM-DD date, got a string": 1,
      "bid: expected a non-negative number or null, got a negative number": 1,
      "row: expected an object": 1,
    });
    expect(chain.qualityMetrics.rowsReceived).toBe(7);
  });

  it("resolves duplicates by keeping the row with the newer quote whole, and counts the conflict", () => {
    const chain = normalizeChain(
      {
        rows: [
          row({ bid: 10, ask: 11, openInterest: 500, quoteTime: "2026-11-20T20:00:00Z" }),
          row({ bid: 12, ask: 13, openInterest: null, quoteTime: "2026-11-20T20:59:00Z" }),
        ],
        asOf,
      },
      context,
    );
    expect(chain.contracts).toHaveLength(1);
    expect(chain.qualityMetrics.duplicateRows).toBe(1);
    expect(chain.qualityMetrics.conflictingDuplicates).toBe(1);
    // Never one row's bid with another's open interest: the newer row wins as a whole.
    expect(chain.contracts[0]).toMatchObject({ bid: 12, ask: 13, openInterest: null });
  });

  it("keeps the newer row whole even when it comes first", () => {
    const chain = normalizeChain(
      { rows: [row({ bid: 19, ask: 20, quoteTime: "2026-11-20T20:59:00Z" }), row({ bid: 10, ask: 11, quoteTime: "2026-11-20T20:00:00Z" })], asOf },
      context,
    );
    expect(chain.contracts[0]).toMatchObject({ bid: 19, ask: 20 });
  });

  it("rejects impossible calendar dates instead of rolling them over", () => {
    const chain = normalizeChain({ rows: [row({ expiration: "2026-02-31" }), row({ settlementDate: "2026-04-31" }), row({ strike: 25100 })], asOf }, context);
    expect(chain.contracts).toHaveLength(1);
    expect(chain.qualityMetrics.invalidRows).toBe(2);
    expect(Object.keys(chain.qualityMetrics.invalidReasons).join(" ")).toMatch(/expiration: expected a YYYY-MM-DD date.*settlementDate: expected a real calendar date/);
  });

  it("flags quote times after the as-of time", () => {
    const chain = normalizeChain({ rows: [row({ quoteTime: "2999-01-01T00:00:00Z" }), row({ strike: 25100, quoteTime: "2026-11-20T20:59:00Z" })], asOf }, context);
    expect(chain.qualityMetrics.futureQuoteTimes).toBe(1);
  });

  it("carries each contract's own underlying price and lists every underlying in the summary", () => {
    const chain = normalizeChain(
      {
        rows: [
          row({ underlying: "NQZ6", underlyingPrice: 21000.25, underlyingPriceBasis: "mid", underlyingPriceTime: "2026-11-20T20:59:59Z", expiration: "2026-11-27" }),
          row({ underlying: "NQH7", underlyingPrice: 21150, underlyingPriceBasis: "last", underlyingPriceTime: "2026-11-20T20:58:00Z", expiration: "2027-03-19" }),
          row({ underlying: "NQZ6", underlyingPrice: 21000.25, underlyingPriceBasis: "mid", underlyingPriceTime: "2026-11-20T20:59:59Z", expiration: "2026-11-27", right: "P" }),
        ],
        asOf,
      },
      context,
    );
    expect(chain.contracts.map((c) => [c.underlying, c.underlyingPrice, c.underlyingPriceBasis])).toEqual([
      ["NQZ6", 21000.25, "mid"],
      ["NQZ6", 21000.25, "mid"],
      ["NQH7", 21150, "last"],
    ]);
    expect(chain.optionsSummary.underlyings).toEqual([
      { symbol: "NQZ6", price: 21000.25, basis: "mid", time: "2026-11-20T20:59:59.000Z", expirations: ["2026-11-27"], contracts: 2 },
      { symbol: "NQH7", price: 21150, basis: "last", time: "2026-11-20T20:58:00.000Z", expirations: ["2027-03-19"], contracts: 1 },
    ]);
    expect(chain.optionsSummary).toMatchObject({ underlying: "NQZ6", underlyingPrice: 21000.25 });
  });

  it("rejects an unknown underlying price basis", () => {
    const chain = normalizeChain({ rows: [row({ underlyingPrice: 21000, underlyingPriceBasis: "guess" })], asOf }, context);
    expect(chain.qualityMetrics.invalidRows).toBe(1);
  });

  it("calls a chain with no quotes at all hollow, and not complete", () => {
    const chain = normalizeChain({ rows: [row({ bid: null, ask: null, volume: 0 }), row({ strike: 25100, bid: null, ask: null, volume: null })], asOf }, context);
    expect(chain.metadata.complete).toBe(false);
    expect(chain.metadata.incompleteReasons).toEqual(["hollow chain: none of the 2 contracts has a bid or an ask, and none traded"]);
  });

  it("calls a mostly unquoted chain incomplete, with a threshold the profile sets", () => {
    const rows = [row({ bid: null }), row({ strike: 25100, ask: null }), row({ strike: 25200 })];
    expect(normalizeChain({ rows, asOf }, context).metadata.incompleteReasons).toEqual([
      '67% of contracts lack a bid or an ask (the limit is 50%, "quality.max_missing_bid_ask_share")',
    ]);
    expect(normalizeChain({ rows, asOf }, { ...context, maxMissingBidAskShare: 0.7 }).metadata.complete).toBe(true);
    // A source that gives no quotes is not judged by them.
    expect(normalizeChain({ rows, asOf }, { ...context, capabilities: { ...capabilities, quotes: false } }).metadata.complete).toBe(true);
  });

  it("keeps the source's own incomplete reasons", () => {
    const chain = normalizeChain({ rows: [row({})], asOf, complete: false, incompleteReasons: ["HTTP 206: NQZ6 C21000 not resolved"] }, context);
    expect(chain.metadata).toMatchObject({ complete: false, incompleteReasons: ["HTTP 206: NQZ6 C21000 not resolved"] });
    expect(normalizeChain({ rows: [row({})], asOf, complete: false }, context).metadata.incompleteReasons).toEqual(["test said the data is partial"]);
  });

  it("decides 'expired' by the CME trade date in Chicago, not the UTC date", () => {
    // 20:30 CT Monday 2026-11-23 is 02:30 UTC Tuesday; the trade date is Tuesday 2026-11-24.
    const evening = "2026-11-24T02:30:00Z";
    const rows = [
      row({ expiration: "2026-11-23", expirationTime: "2026-11-23T21:00:00Z" }),
      row({ expiration: "2026-11-24" }),
      row({ expiration: "2026-11-25" }),
      row({ expiration: "2026-11-27" }),
    ];
    const chain = normalizeChain({ rows, asOf: evening }, { ...context, request: { product: "NQ", maxExpirations: 2 } });
    expect(chain.optionsSummary.expirations).toEqual(["2026-11-24", "2026-11-25"]);
    // In the afternoon of Monday (trade date Monday), Monday's options still trade until they expire.
    const afternoon = normalizeChain({ rows, asOf: "2026-11-23T20:00:00Z" }, { ...context, request: { product: "NQ", maxExpirations: 2 } });
    expect(afternoon.optionsSummary.expirations).toEqual(["2026-11-23", "2026-11-24"]);
    // 17:30 CT Monday is still Monday in UTC (23:30Z) but already Tuesday's session: Monday has expired.
    const undated = rows.map((r) => ({ ...r, expirationTime: null }));
    const justOpened = normalizeChain({ rows: undated, asOf: "2026-11-23T23:30:00Z" }, { ...context, request: { product: "NQ", maxExpirations: 2 } });
    expect(justOpened.optionsSummary.expirations).toEqual(["2026-11-24", "2026-11-25"]);
  });

  it("measures crossed and stale quotes", () => {
    const chain = normalizeChain(
      {
        rows: [
          row({ strike: 1, bid: 12, ask: 11, quoteTime: "2026-11-20T20:59:00Z" }),
          row({ strike: 2, quoteTime: "2026-11-20T19:00:00Z" }),
          row({ strike: 3, quoteTime: null }),
        ],
        asOf,
      },
      context,
    );
    expect(chain.qualityMetrics.crossedQuotes).toBe(1);
    expect(chain.qualityMetrics.staleQuotes).toBe(1);
  });

  it("applies the request's strike window, expirations and nearest-N expirations, counting what it filters", () => {
    const rows = [row({ strike: 24000 }), row({ strike: 25000 }), row({ strike: 26000 }), row({ expiration: "2026-11-27" }), row({ expiration: "2027-03-19" }), row({ expiration: "2026-11-13" })];
    const windowed = normalizeChain({ rows, asOf }, { ...context, request: { product: "NQ", strikeMin: 24500, strikeMax: 25500 } });
    expect(windowed.contracts.map((c) => c.strike)).toEqual([25000, 25000, 25000, 25000]);
    expect(windowed.qualityMetrics.filteredRows).toBe(2);
    const nearest = normalizeChain({ rows, asOf }, { ...context, request: { product: "NQ", maxExpirations: 2 } });
    expect(nearest.optionsSummary.expirations).toEqual(["2026-11-27", "2026-12-18"]);
    const listed = normalizeChain({ rows, asOf }, { ...context, request: { product: "NQ", expirations: ["2027-03-19"] } });
    expect(listed.contracts).toHaveLength(1);
  });

  it("reports the source's own completeness and warnings, and refuses an invalid as-of time", () => {
    const chain = normalizeChain({ rows: [row({})], asOf, complete: false, warnings: ["206 partial"] }, context);
    expect(chain.metadata.complete).toBe(false);
    expect(chain.metadata.warnings).toEqual(["206 partial"]);
    expect(() => normalizeChain({ rows: [], asOf: "yesterday" }, context)).toThrow(/asOf \(yesterday\) is not a valid time/);
  });
});

describe("normalizeChain analytics", () => {
  const quoted = (over: SourceRow): SourceRow =>
    row({ underlying: "NQZ6", underlyingPrice: 25000, expirationTime: "2026-12-18T14:30:00Z", strike: 25500, bid: 520, ask: 526, ...over });

  it("computes implied volatility and greeks for contracts the feed gives none for, marked computed, at the context's rate", () => {
    const chain = normalizeChain({ rows: [quoted({}), quoted({ right: "P", bid: 1010, ask: 1016 })], asOf }, { ...context, analytics: { rate: 0.043 } });
    expect(chain.metadata.analyticsRate).toBe(0.043);
    expect(chain.qualityMetrics.analyticsUnavailable).toEqual({});
    for (const c of chain.contracts) {
      expect(c).toMatchObject({ greeksSource: "computed", ivBasis: "mid" });
      expect(c.impliedVolatility).toBeGreaterThan(0.05);
      expect(c.impliedVolatility).toBeLessThan(1);
      expect(c.gamma).toBeGreaterThan(0);
      expect(c.vega).toBeGreaterThan(0);
      expect(c.theta).toBeLessThan(0);
    }
    const [call, put] = chain.contracts;
    expect(call!.delta! - put!.delta!).toBeGreaterThan(0.99);
  });

  it("uses a rate of 0 when the context names none, and computes nothing with analytics: false", () => {
    expect(normalizeChain({ rows: [quoted({})], asOf }, context).metadata.analyticsRate).toBe(0);
    const off = normalizeChain({ rows: [quoted({}), quoted({ strike: 25600, delta: 0.4 })], asOf }, { ...context, analytics: false });
    expect(off.metadata.analyticsRate).toBeNull();
    expect(off.qualityMetrics.analyticsUnavailable).toEqual({});
    expect(off.contracts[0]).toMatchObject({ impliedVolatility: null, delta: null, greeksSource: null, ivBasis: null });
    expect(off.contracts[1]).toMatchObject({ delta: 0.4, greeksSource: "feed" });
  });

  it("keeps the feed's own values, marked as the feed's, and validates gamma, theta and vega", () => {
    const chain = normalizeChain(
      { rows: [quoted({ impliedVolatility: 0.2, delta: 0.41, gamma: 0.0002, theta: -5.1, vega: 48 }), quoted({ strike: 25600, gamma: -1 }), quoted({ strike: 25700, theta: "x" })], asOf },
      context,
    );
    expect(chain.contracts).toHaveLength(1);
    expect(chain.contracts[0]).toMatchObject({ impliedVolatility: 0.2, delta: 0.41, gamma: 0.0002, theta: -5.1, vega: 48, greeksSource: "feed", ivBasis: null });
    expect(chain.qualityMetrics.invalidReasons).toEqual({
      "gamma: expected a non-negative number or null, got a negative number": 1,
      "theta: expected a number or null, got a string": 1,
    });
  });

  it("counts each contract left without analytics by reason, never writing NaN", () => {
    const chain = normalizeChain(
      {
        rows: [
          quoted({ bid: null, settlement: 530 }),
          quoted({ strike: 25600, bid: null, ask: 400 }),
          quoted({ strike: 25700, underlyingPrice: null, underlyingPriceBasis: null }),
          quoted({ strike: 20000, right: "C", bid: 4900, ask: 4950 }),
          quoted({ strike: 25800, expiration: "2026-11-20", expirationTime: "2026-11-20T20:00:00Z" }),
        ],
        asOf,
      },
      context,
    );
    const byStrike = new Map(chain.contracts.map((c) => [c.strike, c]));
    expect(byStrike.get(25500)).toMatchObject({ ivBasis: "settlement", greeksSource: "computed" });
    expect(chain.qualityMetrics.analyticsUnavailable).toEqual({ "no-price": 1, "no-underlying-price": 1, "price-below-intrinsic": 1, expired: 1 });
    expect(JSON.stringify(chain)).not.toMatch(/NaN|Infinity/);
    for (const c of chain.contracts) for (const v of [c.impliedVolatility, c.delta, c.gamma, c.theta, c.vega]) expect(v === null || Number.isFinite(v)).toBe(true);
  });

  it("without an expiration time, measures to the expiration date's standard expiry on the CME calendar", () => {
    const withTime = normalizeChain({ rows: [quoted({})], asOf }, context).contracts[0]!;
    const withoutTime = normalizeChain({ rows: [quoted({ expirationTime: null })], asOf }, context).contracts[0]!;
    expect(withoutTime.greeksSource).toBe("computed");
    // Same price, a slightly later expiry (15:00 CT rather than 08:30 CT): a slightly lower volatility.
    expect(withoutTime.impliedVolatility!).toBeLessThan(withTime.impliedVolatility!);
    expect(withoutTime.impliedVolatility! / withTime.impliedVolatility!).toBeGreaterThan(0.99);
  });
});
