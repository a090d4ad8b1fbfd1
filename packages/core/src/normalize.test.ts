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

  it("merges duplicates, keeping every known value and the newer quote", () => {
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
    expect(chain.contracts[0]).toMatchObject({ bid: 12, ask: 13, openInterest: 500 });
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
