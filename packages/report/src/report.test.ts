import { describe, expect, it } from "vitest";
import { syntheticChain } from "../scripts/synthetic-chain.mjs";
import {
  atmStrike,
  bannerFlags,
  buildReportData,
  decodeColumn,
  decodeSide,
  decodeStrikes,
  encodeColumn,
  encodeStrikes,
  maxPainStrike,
  putCallRatio,
  renderChainHtml,
} from "./index.js";

describe("analytics", () => {
  it("ATM is the strike nearest the underlying, the lower one on a tie; null without a price", () => {
    expect(atmStrike([24900, 25000, 25100], 25040)).toBe(25000);
    expect(atmStrike([24900, 25000, 25100], 25050)).toBe(25000);
    expect(atmStrike([24900, 25000, 25100], 25051)).toBe(25100);
    expect(atmStrike([24900, 25000], null)).toBeNull();
    expect(atmStrike([], 25000)).toBeNull();
  });

  it("max pain equals the brute-force minimum of the writers' payout", () => {
    const strikes = [100, 110, 120, 130, 140, 150];
    const calls = [5, 0, 40, 10, null, 3];
    const puts = [20, 35, 5, null, 0, 1];
    const payout = (K: number) =>
      strikes.reduce((sum, k, i) => sum + (calls[i] ?? 0) * Math.max(0, K - k) + (puts[i] ?? 0) * Math.max(0, k - K), 0);
    const brute = strikes.reduce((best, K) => (payout(K) < payout(best) ? K : best), strikes[0]!);
    expect(maxPainStrike(strikes, calls, puts)).toBe(brute);
    expect(maxPainStrike(strikes, strikes.map(() => null), strikes.map(() => 0))).toBeNull();
  });

  it("put/call ratios: unknowns do not count as zero; no calls means no ratio", () => {
    expect(putCallRatio([10, null, 30], [20, 40, null])).toEqual({ calls: 40, puts: 60, ratio: 1.5 });
    expect(putCallRatio([null, null], [5])).toEqual({ calls: null, puts: 5, ratio: null });
    expect(putCallRatio([0], [5]).ratio).toBeNull();
  });
});

describe("compact encoding", () => {
  it("round-trips columns with unknowns (empty, never zero) and scaled integers", () => {
    const values = [1404.75, null, 0, 0.05, null];
    expect(encodeColumn(values)).toBe("1404.75,,0,0.05,");
    expect(decodeColumn(encodeColumn(values), values.length)).toEqual(values);
    const iv = [0.2681, null, 0.1234];
    expect(encodeColumn(iv, 1e4)).toBe("2681,,1234");
    expect(decodeColumn(encodeColumn(iv, 1e4), 3, 1e4)).toEqual(iv);
  });

  it("round-trips delta-encoded strikes, fractional ones included", () => {
    const strikes = [0.05, 0.1, 0.15, 24000, 24012.5, 24025];
    expect(decodeStrikes(encodeStrikes(strikes))).toEqual(strikes);
    expect(encodeStrikes([24000, 24025, 24050])).toBe("24000,25,25");
    expect(decodeStrikes("")).toEqual([]);
  });

  it("buildReportData keeps every contract, aligns calls and puts by strike, and uses each expiry's own underlying", () => {
    const chain = syntheticChain({ expiries: 6, strikesPerExpiry: 30 });
    chain.contracts = chain.contracts.filter((c) => !(c.right === "P" && c.strike === chain.contracts[0]!.strike));
    const data = buildReportData(chain);
    expect(data.expiries.map((e) => e.date)).toEqual([...chain.optionsSummary.expirations].sort());
    expect(data.totalContracts).toBe(chain.contracts.length);
    const first = data.expiries[0]!;
    const strikes = decodeStrikes(first.k);
    const puts = decodeSide(first.p, strikes.length);
    expect(puts.ib[0]).toBe("-"); // the removed put
    expect(puts.ib[1]).toBe(chain.contracts.find((c) => c.right === "P" && c.strike === strikes[1])!.ivBasis === "mid" ? "m" : "s");
    const calls = decodeSide(first.c, strikes.length);
    const source = chain.contracts.find((c) => c.expiration === first.date && c.right === "C" && c.strike === strikes[5])!;
    expect([calls.bid[5], calls.ask[5], calls.oi[5], calls.set[5], calls.iv[5], calls.dl[5]]).toEqual([
      source.bid,
      source.ask,
      source.openInterest,
      source.settlement,
      source.impliedVolatility,
      source.delta,
    ]);
    expect(data.expiries.map((e) => e.underlying)).toEqual(["NQZ6", "NQZ6", "NQZ6", "NQZ6", "NQH7", "NQH7"]);
    expect(data.expiries[5]!.underlyingPrice).toBe(25641.75);
    expect(data.expiries[5]!.stats.atm).toBe(atmStrike(decodeStrikes(data.expiries[5]!.k), 25641.75));
  });
});

describe("banner", () => {
  const base = syntheticChain({ expiries: 1, strikesPerExpiry: 4, sample: false });
  const meta = base.metadata;

  it("a clean chain says COMPLETE; sample, proxy, substitution, incompleteness, delay, cache and spend in that order", () => {
    expect(bannerFlags(base).map((f) => f.label)).toEqual(["COMPLETE"]);
    const flags = bannerFlags(
      {
        metadata: {
          ...meta,
          sample: true,
          delayed: true,
          complete: false,
          incompleteReasons: ["a", "b"],
          cache: "hit",
          spendUsd: 0.25,
          warnings: ["SAMPLE DATA: x", "PROXY: NDX index options, not NQ futures options", "something else"],
          proxy: {
            for: "NQ",
            underlying: "I:NDX",
            product: "NDX",
            kind: "index-options",
            multiplier: 100,
            settlement: "cash",
            exercise: "european",
            label: "PROXY: NDX index options, not NQ futures options",
          },
        } as unknown as typeof meta,
      },
      { substituted: true, firstChoice: "databento" },
    );
    expect(flags.map((f) => f.label)).toEqual(["SAMPLE DATA", "PROXY", "SUBSTITUTED", "INCOMPLETE", "DELAYED", "FROM CACHE", "SPEND", "NOTE"]);
    expect(flags.find((f) => f.label === "PROXY")!.text).toMatch(/^NDX index options, not NQ futures options \(I:NDX, multiplier 100, cash-settled, european exercise\)/);
    expect(flags.find((f) => f.label === "INCOMPLETE")!.details).toEqual(["a", "b"]);
    expect(flags.find((f) => f.label === "SPEND")!.text).toContain("$0.25");
    expect(flags.every((f) => f.text.length > 10)).toBe(true);
  });

  it("the page escapes what the feed wrote and keeps </script> out of the embedded data", () => {
    const chain = syntheticChain({ expiries: 1, strikesPerExpiry: 4, sample: false, complete: false, incompleteReasons: ['<img src=x onerror="alert(1)"></script>'] });
    const html = renderChainHtml(chain, { compress: "never" });
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    const data = html.slice(html.indexOf('id="nq-report-data"'), html.indexOf("</script>", html.indexOf('id="nq-report-data"')));
    expect(data).not.toMatch(/<\/script/i);
    // no URL the page could fetch: nothing but the inline script and styles
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).toContain("default-src 'none'");
  });

  it("compresses large data and keeps small data readable", () => {
    const small = renderChainHtml(syntheticChain({ expiries: 1, strikesPerExpiry: 10 }));
    expect(small).toContain('type="application/json"');
    const large = renderChainHtml(syntheticChain({ expiries: 10, strikesPerExpiry: 1000 }));
    expect(large).toContain('type="application/gzip-base64"');
    expect(Buffer.byteLength(large)).toBeLessThan(1_000_000);
  });
});
