import { describe, expect, it } from "vitest";
import type { OptionContract } from "../contract.js";
import { black76 } from "./black76.js";
import { analyticsPrice, applyAnalytics, contractAnalytics, type ContractAnalyticsInput } from "./chain.js";

const base: ContractAnalyticsInput = { right: "C", strike: 25500, bid: null, ask: null, settlement: null, underlyingPrice: 25000, years: 0.25 };

describe("contractAnalytics", () => {
  it("solves from the mid when both sides are quoted, and its greeks are Black-76's at that volatility", () => {
    const model = black76({ future: 25000, strike: 25500, years: 0.25, volatility: 0.2, rate: 0.04, right: "C" });
    const result = contractAnalytics({ ...base, bid: model.price - 2, ask: model.price + 2, settlement: 1 }, 0.04);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.ivBasis).toBe("mid");
    expect(result.impliedVolatility).toBeCloseTo(0.2, 10);
    expect(result.delta).toBeCloseTo(model.delta, 9);
    expect(result.gamma).toBeCloseTo(model.gamma, 12);
    expect(result.theta).toBeCloseTo(model.theta, 8);
    expect(result.vega).toBeCloseTo(model.vega, 8);
  });

  it("falls back to the settlement with one side missing or a crossed quote, and says so", () => {
    const settlement = black76({ future: 25000, strike: 25500, years: 0.25, volatility: 0.3, rate: 0, right: "C" }).price;
    for (const quote of [{ bid: null, ask: 900 }, { bid: 900, ask: null }, { bid: 901, ask: 900 }]) {
      const result = contractAnalytics({ ...base, ...quote, settlement }, 0);
      expect(result).toMatchObject({ ok: true, ivBasis: "settlement" });
      if (result.ok) expect(result.impliedVolatility).toBeCloseTo(0.3, 10);
    }
    expect(analyticsPrice({ bid: 5, ask: 5, settlement: null })).toEqual({ basis: "mid", price: 5 });
  });

  it("gives a reason instead of a number when there is no price, no future, no time or no valid volatility", () => {
    expect(contractAnalytics({ ...base, bid: null, ask: 10 }, 0)).toEqual({ ok: false, reason: "no-price" });
    expect(contractAnalytics({ ...base, settlement: 10, underlyingPrice: null }, 0)).toEqual({ ok: false, reason: "no-underlying-price" });
    expect(contractAnalytics({ ...base, settlement: 10, years: 0 }, 0)).toEqual({ ok: false, reason: "expired" });
    expect(contractAnalytics({ ...base, settlement: 10, years: -0.01 }, 0)).toEqual({ ok: false, reason: "expired" });
    expect(contractAnalytics({ ...base, settlement: 10, years: null }, 0)).toEqual({ ok: false, reason: "expired" });
    // A deep in-the-money put's mid below its intrinsic value: the mid is not swapped for the settlement.
    expect(contractAnalytics({ ...base, right: "P", strike: 27000, bid: 1990, ask: 1996, settlement: 2010 }, 0)).toEqual({ ok: false, reason: "price-below-intrinsic" });
    expect(contractAnalytics({ ...base, settlement: 0 }, 0)).toEqual({ ok: false, reason: "price-at-intrinsic" });
    expect(contractAnalytics({ ...base, settlement: 25000 }, 0)).toEqual({ ok: false, reason: "price-above-upper-bound" });
    expect(() => contractAnalytics({ ...base, settlement: 10 }, Number.NaN)).toThrow(RangeError);
  });
});

function contract(over: Partial<OptionContract>): OptionContract {
  return {
    symbol: "NQZ6 C25500", rawSymbol: null, underlying: "NQZ6", underlyingPrice: 25000, underlyingPriceBasis: "mid", underlyingPriceTime: null,
    product: "NQ", root: "NQ", expiration: "2026-12-18", expirationTime: "2026-12-18T14:30:00.000Z", strike: 25500, right: "C",
    bid: 500, ask: 504, bidSize: 1, askSize: 1, last: null, volume: null, clearedVolume: null, clearedVolumeDate: null,
    openInterest: null, openInterestDate: null, settlement: null, settlementDate: null,
    impliedVolatility: null, ivBasis: null, delta: null, gamma: null, theta: null, vega: null, greeksSource: null,
    multiplier: 20, quoteTime: null, rawStrike: null,
    provenance: { source: "t", asOf: "2026-11-20T21:00:00.000Z", fetchedAt: "2026-11-20T21:00:00.000Z", delayed: false, sample: false },
    ...over,
  };
}

describe("applyAnalytics", () => {
  const asOf = new Date("2026-11-20T21:00:00Z");

  it("computes for contracts without the feed's values, keeps the feed's, and counts what it cannot do", () => {
    const contracts = [
      contract({}),
      contract({ strike: 25600, impliedVolatility: 0.5, delta: 0.3, greeksSource: "feed" }),
      contract({ strike: 25700, underlyingPrice: null }),
      contract({ strike: 25800, bid: null, ask: null }),
      contract({ strike: 25900, expiration: "2026-11-20", expirationTime: "2026-11-20T21:00:00.000Z" }),
    ];
    const unavailable = applyAnalytics(contracts, asOf, { rate: 0.04 });
    expect(unavailable).toEqual({ "no-underlying-price": 1, "no-price": 1, expired: 1 });
    const [computed, feed, ...rest] = contracts;
    expect(computed).toMatchObject({ greeksSource: "computed", ivBasis: "mid" });
    for (const field of ["impliedVolatility", "delta", "gamma", "theta", "vega"] as const) expect(Number.isFinite(computed![field])).toBe(true);
    expect(feed).toMatchObject({ greeksSource: "feed", ivBasis: null, impliedVolatility: 0.5, delta: 0.3, gamma: null, theta: null, vega: null });
    for (const c of rest) expect(c).toMatchObject({ greeksSource: null, ivBasis: null, impliedVolatility: null, delta: null, gamma: null, theta: null, vega: null });
  });

  it("measures time to the expiration instant in ACT/365 years, and uses each contract's own future", () => {
    const years = (Date.parse("2026-12-18T14:30:00.000Z") - asOf.getTime()) / (365 * 86_400_000);
    const price = black76({ future: 25100, strike: 25500, years, volatility: 0.21, rate: 0.04, right: "C" }).price;
    const [a, b] = [contract({ bid: price, ask: price, underlyingPrice: 25100 }), contract({ underlyingPrice: 25300, bid: price, ask: price })];
    applyAnalytics([a!, b!], asOf, { rate: 0.04 });
    expect(a!.impliedVolatility).toBeCloseTo(0.21, 10);
    expect(b!.impliedVolatility).toBeLessThan(0.21);
  });
});
