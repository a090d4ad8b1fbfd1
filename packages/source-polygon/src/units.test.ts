/** The pure pieces: next_url handling, error classification, timestamps, OCC roots, rows, New York time, the query. */
import { AuthError, EntitlementError, InvalidRequestError, NoDataError, RateLimitError, ServiceUnavailableError } from "@nq/core";
import { describe, expect, it } from "vitest";
import { configSchema } from "./config.js";
import { errorForResponse, parseRetryAfter, stripApiKey } from "./errors.js";
import { followable } from "./extract.js";
import { nearestExpirationsComplete } from "./index.js";
import { newYorkDate, newYorkInstant } from "./new-york-time.js";
import { toSnapshotQuery } from "./query.js";
import { epochMs, oneRootPerContract, rootOf, toChainFacts } from "./rows.js";
import { UNDERLYING_PROFILES } from "./config.js";

const config = configSchema.parse({ api_key: "x".repeat(32), allow_proxy: true });
const now = new Date("2026-11-18T15:00:00Z");

describe("followable(next_url)", () => {
  it("keeps the path and query only, drops any key, and survives a doubled port", () => {
    expect(followable("https://api.polygon.io/v3/snapshot/options/I:NDX?cursor=abc")).toBe("/v3/snapshot/options/I:NDX?cursor=abc");
    expect(followable("https://api.polygon.io:443:443/v3/snapshot/options/I:NDX?cursor=abc&apiKey=SECRET")).toBe("/v3/snapshot/options/I:NDX?cursor=abc");
    expect(followable("https://api.massive.com/v3/snapshot/options/QQQ?apikey=S&cursor=c%3D")).toBe("/v3/snapshot/options/QQQ?cursor=c%3D");
    expect(followable("/v3/snapshot/options/QQQ?cursor=z")).toBe("/v3/snapshot/options/QQQ?cursor=z");
    expect(followable("not a url")).toBeNull();
  });
});

describe("errors", () => {
  const body = (o: unknown) => JSON.stringify(o);
  it.each([
    [401, body({ status: "ERROR", error: "Unknown API Key" }), AuthError],
    [403, body({ status: "NOT_AUTHORIZED", message: "You are not entitled to this data. Please upgrade your plan at https://polygon.io/pricing" }), EntitlementError],
    [200, body({ status: "NOT_AUTHORIZED", message: "You are not entitled to this data." }), EntitlementError],
    [401, body({ status: "NOT_AUTHORIZED", message: "You are not entitled to this data." }), EntitlementError],
    [403, body({ status: "ERROR", error: "API Key was not provided" }), AuthError],
    [403, "<html>Forbidden</html>", EntitlementError],
    [429, "", RateLimitError],
    [500, body({ status: "ERROR", error: "boom" }), ServiceUnavailableError],
    [502, "Bad Gateway", ServiceUnavailableError],
    [404, body({ status: "NOT_FOUND" }), NoDataError],
    [400, body({ status: "ERROR", error: "bad limit" }), InvalidRequestError],
  ] as const)("HTTP %i %s → the right class", (status, text, expected) => {
    expect(errorForResponse(status, text, null, "page 1")).toBeInstanceOf(expected);
  });

  it("strips an echoed apiKey from the provider's message", () => {
    const error = errorForResponse(500, body({ status: "ERROR", error: "failed GET /v3/x?cursor=a&apiKey=TOPSECRET123&b=1" }), null, "page 2");
    expect(error.message).not.toContain("TOPSECRET123");
    expect(stripApiKey("u?apikey%3DSECRET&x")).toBe("u?apikey%3D***&x");
  });

  it("reads Retry-After in seconds or as a date", () => {
    expect(parseRetryAfter("12")).toBe(12_000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
  });
});

describe("rows", () => {
  it("nanosecond timestamps (beyond 2^53) become milliseconds; other epochs are recognised", () => {
    expect(epochMs(1651254260800059648)).toBe(1651254260800);
    expect(epochMs(1651254260800)).toBe(1651254260800);
    expect(epochMs(1651254260)).toBe(1651254260000);
    expect(epochMs(undefined)).toBeNull();
    expect(epochMs(0)).toBeNull();
  });

  it("reads the OCC root", () => {
    expect(rootOf("O:NDXP261120C21000000")).toBe("NDXP");
    expect(rootOf("O:NDX261218P20500000")).toBe("NDX");
    expect(rootOf("O:QQQ261120C00505000")).toBe("QQQ");
    expect(rootOf("O:AAPL1230616C00150000")).toBe("AAPL");
    expect(rootOf("garbage")).toBeNull();
  });

  it("gives null, never 0, for what a result leaves out; the index level from `value`, an ETF's from `price`", () => {
    const bare = {
      details: { contract_type: "put", exercise_style: "european", expiration_date: "2026-11-20", shares_per_contract: 100, strike_price: 20000, ticker: "O:NDXP261120P20000000" },
      day: {},
      open_interest: 12,
      underlying_asset: { ticker: "I:NDX", value: 20850.5, last_updated: 1763650000000000000, change_to_break_even: 1 },
    };
    const facts = toChainFacts([bare, { details: { contract_type: "other" } }], UNDERLYING_PROFILES["I:NDX"], config, now);
    expect(facts.rows).toHaveLength(1);
    expect(facts.skipped).toEqual({ 'contract_type "other"': 1 });
    expect(facts.rows[0]).toMatchObject({ bid: null, ask: null, last: null, volume: null, delta: null, impliedVolatility: null, openInterest: 12, underlyingPrice: 20850.5, right: "P" });
    expect(facts.underlyingPrice).toBe(20850.5);
    expect(facts.delayed).toBeNull();
    const etf = toChainFacts([{ ...bare, underlying_asset: { ticker: "QQQ", price: 507, timeframe: "REAL-TIME" } }], UNDERLYING_PROFILES.QQQ, config, now);
    expect(etf.underlyingPrice).toBe(507);
    expect(etf.delayed).toBe(false);
  });

  it("the chain's as-of is the newest time in it, never after the fetch", () => {
    const at = (ms: number) => ms * 1e6;
    const result = (quoteMs: number) => ({
      details: { contract_type: "call", expiration_date: "2026-11-20", strike_price: 1, ticker: "O:NDXP261120C00001000" },
      last_quote: { bid: 1, ask: 2, bid_size: 1, ask_size: 1, midpoint: 1.5, last_updated: at(quoteMs), timeframe: "DELAYED" },
    });
    const facts = toChainFacts([result(now.getTime() - 60_000), result(now.getTime() + 3_600_000)], UNDERLYING_PROFILES["I:NDX"], config, now);
    expect(facts.asOf.toISOString()).toBe(new Date(now.getTime() - 60_000).toISOString());
    expect(facts.delayed).toBe(true);
  });

  it("one root per (expiration, strike, right): the PM-settled one", () => {
    const rows = [
      { expiration: "2026-11-20", strike: 20000, right: "C", root: "NDX" },
      { expiration: "2026-11-20", strike: 20000, right: "C", root: "NDXP" },
      { expiration: "2026-11-20", strike: 20000, right: "P", root: "NDX" },
    ];
    const { rows: kept, dropped } = oneRootPerContract(rows, ["NDX"]);
    expect(kept.map((r) => `${r.root} ${r.right}`).sort()).toEqual(["NDX P", "NDXP C"]);
    expect(dropped).toEqual({ NDX: 1 });
  });
});

describe("New York time", () => {
  it("16:00 New York is 21:00 UTC in winter and 20:00 UTC in summer; the date is New York's", () => {
    expect(newYorkInstant("2026-11-20", "16:00")).toBe("2026-11-20T21:00:00.000Z");
    expect(newYorkInstant("2026-07-17", "16:00")).toBe("2026-07-17T20:00:00.000Z");
    expect(newYorkInstant("2026-03-09", "09:30")).toBe("2026-03-09T13:30:00.000Z");
    expect(newYorkDate(new Date("2026-11-21T03:00:00Z"))).toBe("2026-11-20");
  });
});

describe("query", () => {
  it("sorts by expiration, asks from today (New York) on, and sends the strike window for NDX", () => {
    const query = toSnapshotQuery({ product: "NQ", strikeMin: 20000, strikeMax: 21000, expirations: ["2026-11-20", "2026-12-18"] }, config, now);
    expect(query.path).toBe("/v3/snapshot/options/I:NDX");
    expect(query.params).toEqual({
      limit: "250",
      sort: "expiration_date",
      order: "asc",
      "expiration_date.gte": "2026-11-20",
      "expiration_date.lte": "2026-12-18",
      "strike_price.gte": "20000",
      "strike_price.lte": "21000",
    });
    expect(toSnapshotQuery({ product: "NQ", expirations: ["2026-11-20"] }, config, now).params.expiration_date).toBe("2026-11-20");
    expect(toSnapshotQuery({ product: "NQ" }, { ...config, expiration_window_days: 7 }, now).params["expiration_date.lte"]).toBe("2026-11-25");
    expect(() => toSnapshotQuery({ product: "ES" }, config, now)).toThrow(InvalidRequestError);
  });

  it("stops early only past the N-th expiration, counting today's as possibly expired", () => {
    const r = (expiration_date: string) => ({ details: { expiration_date } });
    expect(nearestExpirationsComplete([r("2026-11-18"), r("2026-11-19")], 1, now)).toBeNull();
    expect(nearestExpirationsComplete([r("2026-11-18"), r("2026-11-19"), r("2026-11-20")], 1, now)).toMatch(/nearest 1/);
    expect(nearestExpirationsComplete([r("2026-11-19"), r("2026-11-20")], 1, now)).toMatch(/nearest 1/);
  });
});
