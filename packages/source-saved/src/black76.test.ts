import { describe, expect, it } from "vitest";
import { black76, normalCdf } from "./black76.js";

describe("black76", () => {
  it("matches the closed form at the money: F=K=100, T=1, σ=20%, r=0 gives 100·(2N(0.1)−1) = 7.9656", () => {
    const { call, put } = black76({ future: 100, strike: 100, years: 1, volatility: 0.2, rate: 0 });
    expect(call).toBeCloseTo(7.9656, 3);
    expect(put).toBeCloseTo(7.9656, 3);
  });

  it("keeps put-call parity C − P = e^(−rT)(F − K)", () => {
    for (const strike of [18000, 21000, 25000, 30000]) {
      const { call, put } = black76({ future: 25412.5, strike, years: 0.08, volatility: 0.18, rate: 0.043 });
      expect(call - put).toBeCloseTo(Math.exp(-0.043 * 0.08) * (25412.5 - strike), 6);
    }
  });

  it("gives deltas that differ by the discount factor and stay within their bounds", () => {
    const { callDelta, putDelta } = black76({ future: 25000, strike: 25500, years: 0.25, volatility: 0.2, rate: 0.04 });
    expect(callDelta - putDelta).toBeCloseTo(Math.exp(-0.04 * 0.25), 9);
    expect(callDelta).toBeGreaterThan(0);
    expect(callDelta).toBeLessThan(0.5);
    expect(putDelta).toBeLessThan(-0.5);
  });

  it("has a normal CDF accurate to 1e-7 at known points", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.1586553, 6);
  });
});
