import { describe, expect, it } from "vitest";
import { black76, black76Price, impliedVolatility, type Black76Inputs, type OptionKind } from "./black76.js";
import { normalCdf, normalPdf } from "./normal.js";

// Reference values: 0.5·erfc(−x/√2) from CPython's math.erfc (correctly rounded to ~1 ulp).
const NORMAL_CDF: [number, number][] = [
  [-10, 7.619853024160593e-24],
  [-20, 2.7536241186063314e-89],
  [-8, 6.220960574271819e-16],
  [-6.5, 4.016000583859125e-11],
  [-5, 2.866515718791946e-7],
  [-4.49, 3.5611586795975568e-6],
  [-3, 0.0013498980316300957],
  [-1.96, 0.024997895148220435],
  [-1, 0.15865525393145707],
  [0, 0.5],
  [0.5, 0.6914624612740131],
  [1.96, 0.9750021048517795],
  [5, 0.9999997133484281],
];

describe("the standard normal distribution", () => {
  it("matches reference values to 2e-16 absolute and, in the lower tail, 1e-11 relative", () => {
    for (const [x, expected] of NORMAL_CDF) {
      expect(Math.abs(normalCdf(x) - expected)).toBeLessThanOrEqual(2.3e-16);
      if (x < 0) expect(Math.abs(normalCdf(x) - expected) / expected).toBeLessThan(1e-11);
    }
  });

  it("is symmetric, monotone and bounded, with 0 and 1 at the infinities", () => {
    for (let x = -40; x <= 40; x += 0.37) {
      expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 15);
      expect(normalCdf(x + 0.37)).toBeGreaterThanOrEqual(normalCdf(x));
    }
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalPdf(0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 16);
  });
});

describe("Black-76 prices against published examples", () => {
  it("Hull's futures option: F = K = 20, r = 9%, σ = 25%, T = 4 months gives a European put of 1.12", () => {
    // Hull, Options, Futures, and Other Derivatives ("Black's model" example). Closed form by hand:
    // d1 = σ√T/2 = 0.0721688, p = e^(−0.03)·20·(2N(d1) − 1) = 1.1166414565589.
    const put = black76Price({ future: 20, strike: 20, years: 4 / 12, volatility: 0.25, rate: 0.09, right: "P" });
    expect(put.toFixed(2)).toBe("1.12");
    expect(put).toBeCloseTo(1.1166414565589438, 12);
  });

  it("Haug's Brent futures option: F = K = 19, T = 0.75, r = 10%, σ = 28% gives call = put = 1.7011", () => {
    // Haug, The Complete Guide to Option Pricing Formulas, Black-76 example.
    const call = black76Price({ future: 19, strike: 19, years: 0.75, volatility: 0.28, rate: 0.1, right: "C" });
    const put = black76Price({ future: 19, strike: 19, years: 0.75, volatility: 0.28, rate: 0.1, right: "P" });
    expect(call.toFixed(4)).toBe("1.7011");
    expect(put).toBeCloseTo(call, 14);
  });

  it("gives Hull's example's greeks from the closed forms (delta e^(−rT)N(d1), theta per day, vega per point)", () => {
    const put = black76({ future: 20, strike: 20, years: 4 / 12, volatility: 0.25, rate: 0.09, right: "P" });
    const call = black76({ future: 20, strike: 20, years: 4 / 12, volatility: 0.25, rate: 0.09, right: "C" });
    expect(put.delta).toBeCloseTo(-0.4573067303602805, 13);
    expect(call.delta).toBeCloseTo(0.5131388031882277, 13);
    expect(call.gamma).toBeCloseTo(0.13376450266134562, 13);
    expect(call.theta).toBeCloseTo(-0.004305639868976754, 14);
    expect(call.vega).toBeCloseTo(0.044588167553781866, 14);
    expect(call.delta - put.delta).toBeCloseTo(Math.exp(-0.09 / 3), 14);
  });

  it("keeps put–call parity c − p = e^(−rT)(F − K) across strikes, expiries and rates", () => {
    for (const future of [100, 25412.5])
      for (const moneyness of [0.5, 0.9, 1, 1.1, 2])
        for (const years of [1 / 365, 0.25, 2])
          for (const rate of [-0.01, 0, 0.05]) {
            const strike = future * moneyness;
            const args = { future, strike, years, volatility: 0.22, rate };
            const c = black76Price({ ...args, right: "C" });
            const p = black76Price({ ...args, right: "P" });
            expect(Math.abs(c - p - Math.exp(-rate * years) * (future - strike))).toBeLessThan(1e-11 * future);
          }
  });

  it("has greeks equal to the price's own derivatives (central differences)", () => {
    for (const right of ["C", "P"] as OptionKind[])
      for (const [future, strike, years, volatility, rate] of [
        [25000, 25500, 0.25, 0.2, 0.04],
        [25000, 22000, 10 / 365, 0.35, 0.05],
        [100, 100, 2, 0.15, 0],
      ] as const) {
        const at: Black76Inputs = { future, strike, years, volatility, rate, right };
        const g = black76(at);
        const price = (o: Partial<Black76Inputs>) => black76Price({ ...at, ...o });
        const hF = future * 1e-4;
        expect(g.delta).toBeCloseTo((price({ future: future + hF }) - price({ future: future - hF })) / (2 * hF), 7);
        const deltaAt = (f: number) => black76({ ...at, future: f }).delta;
        expect(g.gamma / ((deltaAt(future + hF) - deltaAt(future - hF)) / (2 * hF))).toBeCloseTo(1, 5);
        const hV = 1e-5;
        expect(g.vega).toBeCloseTo(((price({ volatility: volatility + hV }) - price({ volatility: volatility - hV })) / (2 * hV)) * 0.01, 5);
        const hT = 1e-6;
        expect(g.theta).toBeCloseTo(-((price({ years: years + hT }) - price({ years: years - hT })) / (2 * hT)) / 365, 5);
      }
  });

  it("refuses inputs it cannot price, rather than returning NaN", () => {
    const ok = { future: 100, strike: 100, years: 1, volatility: 0.2, rate: 0, right: "C" as const };
    expect(() => black76({ ...ok, future: 0 })).toThrow(RangeError);
    expect(() => black76({ ...ok, strike: Number.NaN })).toThrow(RangeError);
    expect(() => black76({ ...ok, years: 0 })).toThrow(RangeError);
    expect(() => black76({ ...ok, volatility: -0.1 })).toThrow(RangeError);
    expect(() => black76Price({ ...ok, rate: Infinity })).toThrow(RangeError);
  });
});

describe("implied volatility", () => {
  it("recovers Hull's 25% from his put price, to within 1e-10 in price", () => {
    const price = 1.1166414565589438;
    const result = impliedVolatility({ price, future: 20, strike: 20, years: 4 / 12, rate: 0.09, right: "P" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.volatility).toBeCloseTo(0.25, 12);
    expect(Math.abs(black76Price({ future: 20, strike: 20, years: 4 / 12, volatility: result.volatility, rate: 0.09, right: "P" }) - price)).toBeLessThanOrEqual(1e-10);
  });

  it("round-trips price → IV → price within 1e-8 over deep ITM/OTM strikes, 1 minute to 3 years, 1% to 300% vol", () => {
    const future = 25000;
    let solved = 0;
    let worstPrice = 0;
    let worstVol = 0;
    for (const years of [1 / (365 * 24 * 60), 1 / (365 * 24), 1 / 365, 7 / 365, 0.1, 0.5, 1, 3])
      for (const volatility of [0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3])
        for (const moneyness of [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1, 1.001, 1.01, 1.05, 1.1, 1.2, 1.5, 2, 3])
          for (const right of ["C", "P"] as OptionKind[])
            for (const rate of [0, 0.05]) {
              const strike = future * moneyness;
              const price = black76Price({ future, strike, years, volatility, rate, right });
              const discount = Math.exp(-rate * years);
              const timeValue = price / discount - Math.max(right === "C" ? future - strike : strike - future, 0);
              const result = impliedVolatility({ price, future, strike, years, rate, right });
              if (!result.ok && result.reason === "price-at-intrinsic") {
                // The time value is below double precision's resolution of this price: nothing to solve.
                expect(Math.abs(timeValue)).toBeLessThan(1e-11 * future);
                continue;
              }
              expect(result.ok, JSON.stringify({ years, volatility, moneyness, right, rate })).toBe(true);
              if (!result.ok) continue;
              solved += 1;
              const back = black76Price({ future, strike, years, volatility: result.volatility, rate, right });
              worstPrice = Math.max(worstPrice, Math.abs(back - price));
              // Where the option has a real price, the volatility itself comes back.
              const otm = Math.min(price, price - discount * (right === "C" ? future - strike : strike - future));
              if (otm > 1e-6 * future) worstVol = Math.max(worstVol, Math.abs(result.volatility / volatility - 1));
            }
    expect(solved).toBeGreaterThan(2700); // of 4,352 (2,728 here): the rest have no time value double precision resolves
    expect(worstPrice).toBeLessThanOrEqual(1e-8);
    expect(worstVol).toBeLessThan(1e-7);
  });

  it("converges to 1e-10 in price for a chain's worth of NQ quotes", () => {
    const future = 25412.5;
    for (let i = 0; i < 400; i += 1) {
      const strike = 21000 + i * 25;
      const years = (1 + (i % 40)) / 365;
      const volatility = 0.12 + 0.4 * Math.abs(strike / future - 1);
      const right: OptionKind = i % 2 ? "P" : "C";
      const price = black76Price({ future, strike, years, volatility, rate: 0.043, right });
      const result = impliedVolatility({ price, future, strike, years, rate: 0.043, right });
      if (!result.ok) {
        expect(result.reason).toBe("price-at-intrinsic");
        continue;
      }
      expect(Math.abs(black76Price({ future, strike, years, volatility: result.volatility, rate: 0.043, right }) - price)).toBeLessThanOrEqual(1e-10);
    }
  });

  it("says why there is no volatility: below intrinsic, at intrinsic, at or above the bound", () => {
    const base = { future: 25000, years: 0.1, rate: 0.05 };
    const discount = Math.exp(-0.05 * 0.1);
    expect(impliedVolatility({ ...base, strike: 24000, right: "C", price: 999 * discount })).toEqual({ ok: false, reason: "price-below-intrinsic" });
    expect(impliedVolatility({ ...base, strike: 26000, right: "P", price: 900 })).toEqual({ ok: false, reason: "price-below-intrinsic" });
    expect(impliedVolatility({ ...base, strike: 26000, right: "C", price: -1 })).toEqual({ ok: false, reason: "price-below-intrinsic" });
    expect(impliedVolatility({ ...base, strike: 26000, right: "C", price: 0 })).toEqual({ ok: false, reason: "price-at-intrinsic" });
    expect(impliedVolatility({ ...base, strike: 24000, right: "C", price: 1000 * discount })).toEqual({ ok: false, reason: "price-at-intrinsic" });
    expect(impliedVolatility({ ...base, strike: 24000, right: "C", price: 25000 * discount })).toEqual({ ok: false, reason: "price-above-upper-bound" });
    expect(impliedVolatility({ ...base, strike: 24000, right: "P", price: 24000 })).toEqual({ ok: false, reason: "price-above-upper-bound" });
    // Just inside the bound is solvable (an enormous volatility), never NaN.
    const nearBound = impliedVolatility({ ...base, strike: 24000, right: "C", price: 24990 * discount });
    expect(nearBound.ok && Number.isFinite(nearBound.volatility)).toBe(true);
  });

  it("solves a quarter-point offer on a far strike a minute before expiry", () => {
    const result = impliedVolatility({ price: 0.25, future: 25000, strike: 25300, years: 1 / (365 * 24 * 60), rate: 0.04, right: "C" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Number.isFinite(result.volatility)).toBe(true);
    expect(Math.abs(black76Price({ future: 25000, strike: 25300, years: 1 / (365 * 24 * 60), volatility: result.volatility, rate: 0.04, right: "C" }) - 0.25)).toBeLessThanOrEqual(1e-10);
  });
});
