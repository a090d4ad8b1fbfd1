import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_SAMPLE_OPTIONS, generateSampleChain, strikeLadder } from "./sample-chain.js";

const SHIPPED = new URL("../samples/nq-sample.chain.json", import.meta.url);

describe("the generated NQ sample chain", () => {
  const chain = generateSampleChain();

  it("is exactly the file the package ships (run `pnpm --filter @nq/source-saved generate-sample` after changing the generator)", () => {
    expect(readFileSync(SHIPPED, "utf8")).toBe(`${JSON.stringify(chain, null, 2)}\n`);
  });

  it("is flagged as sample data on the chain and on every contract", () => {
    expect(chain.metadata.sample).toBe(true);
    expect(chain.metadata.warnings.join(" ")).toMatch(/SAMPLE DATA/);
    expect(chain.contracts.every((c) => c.provenance.sample)).toBe(true);
  });

  it("covers every configured series, with calls and puts paired on each strike", () => {
    expect(chain.optionsSummary.expirations).toEqual(DEFAULT_SAMPLE_OPTIONS.series.map((s) => s.expiration));
    expect(chain.optionsSummary.calls).toBe(chain.optionsSummary.puts);
    expect(chain.qualityMetrics.invalidRows).toBe(0);
    const roots = new Set(chain.contracts.map((c) => c.root));
    expect([...roots].sort()).toEqual(["NQ", "Q4A", "Q4C", "QN4", "QNE"]);
    const mar = chain.contracts.filter((c) => c.expiration === "2027-03-19");
    expect(new Set(mar.map((c) => c.underlying))).toEqual(new Set(["NQH7"]));
  });

  it("lists strikes every 25 points near the money, 50 further out and 100 in the wings", () => {
    const ladder = strikeLadder(25412.5, 0.17, 0.08);
    const gaps = (lo: number, hi: number) => {
      const inside = ladder.filter((k) => k >= lo && k <= hi);
      return new Set(inside.slice(1).map((k, i) => k - inside[i]!));
    };
    expect(gaps(25000, 25800)).toEqual(new Set([25])); // within ±3%
    expect(gaps(23500, 24400)).toEqual(new Set([50])); // 4–7% below
    expect(gaps(ladder[0]!, 23300)).toEqual(new Set([100])); // beyond 8%
  });

  it("prices settlements consistently with put-call parity, to within a tick each side", () => {
    const dec = chain.contracts.filter((c) => c.expiration === "2026-12-18");
    const years = (Date.parse("2026-12-18T21:00:00Z") - Date.parse(DEFAULT_SAMPLE_OPTIONS.asOf)) / (365 * 86400_000);
    const discount = Math.exp(-DEFAULT_SAMPLE_OPTIONS.rate * years);
    for (const strike of [24000, 25000, 25400, 26000]) {
      const call = dec.find((c) => c.strike === strike && c.right === "C")!;
      const put = dec.find((c) => c.strike === strike && c.right === "P")!;
      expect(Math.abs(call.settlement! - put.settlement! - discount * (25412.5 - strike))).toBeLessThanOrEqual(0.5);
    }
  });

  it("has quotes on 0.25 ticks, never crossed, with deltas falling as strikes rise", () => {
    for (const c of chain.contracts) {
      if (c.bid !== null) expect(c.bid % 0.25).toBe(0);
      expect(c.ask! % 0.25).toBe(0);
      if (c.bid !== null) expect(c.bid).toBeLessThan(c.ask!);
    }
    const calls = chain.contracts.filter((c) => c.expiration === "2026-12-18" && c.right === "C" && c.delta !== null);
    expect(calls.length).toBeGreaterThan(50);
    calls.slice(1).forEach((c, i) => expect(c.delta!).toBeLessThanOrEqual(calls[i]!.delta!));
  });

  it("gets implied volatility and greeks from core's Black-76, marked computed, at the generator's rate", () => {
    expect(chain.metadata.analyticsRate).toBe(DEFAULT_SAMPLE_OPTIONS.rate);
    const computed = chain.contracts.filter((c) => c.greeksSource === "computed");
    // Every contract with a price has them, except where the price is at or below intrinsic (counted).
    const unavailable = Object.values(chain.qualityMetrics.analyticsUnavailable).reduce((a, b) => a + b, 0);
    expect(computed.length + unavailable).toBe(chain.contracts.length);
    expect(Object.keys(chain.qualityMetrics.analyticsUnavailable).every((r) => r === "price-below-intrinsic" || r === "price-at-intrinsic")).toBe(true);
    expect(computed.length).toBeGreaterThan(0.9 * chain.contracts.length);
    expect(chain.contracts.filter((c) => c.greeksSource === null).every((c) => c.impliedVolatility === null && c.delta === null)).toBe(true);
    // Near the money the solved volatility is the generator's smile, give or take the quote's rounding.
    const atm = chain.contracts.find((c) => c.expiration === "2026-12-18" && c.strike === 25400 && c.right === "C")!;
    expect(atm.ivBasis).toBe("mid");
    expect(atm.impliedVolatility!).toBeGreaterThan(0.16);
    expect(atm.impliedVolatility!).toBeLessThan(0.19);
    expect(atm.delta!).toBeGreaterThan(0.45);
    expect(atm.delta!).toBeLessThan(0.56);
  });

  it("concentrates open interest near the money", () => {
    const dec = chain.contracts.filter((c) => c.expiration === "2026-12-18");
    const near = dec.filter((c) => Math.abs(c.strike - 25412.5) < 500);
    const far = dec.filter((c) => Math.abs(c.strike - 25412.5) > 3000);
    const mean = (cs: typeof dec) => cs.reduce((s, c) => s + c.openInterest!, 0) / cs.length;
    expect(mean(near)).toBeGreaterThan(10 * mean(far));
  });
});
