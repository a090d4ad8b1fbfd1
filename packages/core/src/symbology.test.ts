import { describe, expect, it } from "vitest";
import { normalizeChain } from "./normalize.js";
import {
  canonicalContractNames,
  canonicalFutureSymbol,
  cmeOptionRoot,
  inferNqOptionRoot,
  NQ_OPTION_SERIES,
  parseFutureSymbol,
  parseOptionSymbol,
  resolveContractYear,
  ruleExpiration,
  SymbolError,
} from "./symbology.js";

const AS_OF_2026 = "2026-11-20T20:00:00Z";

describe("futures symbols", () => {
  it("gives NQZ6 for CME's NQZ6, a two-digit NQZ26 and Barchart's spelling alike", () => {
    for (const spelling of ["NQZ6", "NQZ26", " nqz26 "]) {
      expect(parseFutureSymbol(spelling, AS_OF_2026)).toMatchObject({ symbol: "NQZ6", root: "NQ", month: 12, monthCode: "Z", year: 2026 });
    }
    expect(canonicalFutureSymbol("NQH27", AS_OF_2026)).toBe("NQH7");
    expect(parseFutureSymbol("NQH7", AS_OF_2026).year).toBe(2027);
    expect(parseFutureSymbol("NQM25", AS_OF_2026)).toMatchObject({ symbol: "NQM5", year: 2025 });
  });

  it("resolves a one-digit year's decade by the as-of time", () => {
    expect(parseFutureSymbol("NQZ9", "2029-06-01T00:00:00Z").year).toBe(2029);
    expect(parseFutureSymbol("NQZ0", "2030-06-01T00:00:00Z").year).toBe(2030);
    expect(parseFutureSymbol("NQZ0", "2029-06-01T00:00:00Z").year).toBe(2030);
    // A contract that expired within the last year is still the recent one, not one nine years out.
    expect(parseFutureSymbol("NQZ9", "2030-01-05T00:00:00Z").year).toBe(2029);
    expect(parseFutureSymbol("NQH0", "2029-12-01T00:00:00Z").year).toBe(2030);
    expect(resolveContractYear("9", 12, new Date("2039-11-30T00:00:00Z"))).toBe(2039);
    expect(resolveContractYear("26", 3, AS_OF_2026)).toBe(2026);
  });

  it("rejects bad input with what was expected", () => {
    for (const bad of ["NQ", "NQA6", "NQZ", "NQZ666", "", 42, null]) {
      expect(() => parseFutureSymbol(bad, AS_OF_2026)).toThrow(SymbolError);
      expect(() => parseFutureSymbol(bad, AS_OF_2026)).toThrow(/expected a futures symbol: root, month letter \(F G H J K M N Q U V X Z\) and a 1- or 2-digit year, like "NQZ6"/);
    }
    expect(() => parseFutureSymbol("NQA6", AS_OF_2026)).toThrow(/got "NQA6"/);
    expect(() => parseFutureSymbol("NQZ6", "not a time")).toThrow(/asOf: expected a time to resolve the year's decade/);
  });
});

describe("option series codes: the one table", () => {
  it("maps every Barchart code to its CME code, and every CME code to itself", () => {
    const barchart: Record<string, string> = {};
    for (const series of NQ_OPTION_SERIES) {
      expect(cmeOptionRoot(series.root)).toBe(series.root);
      if (series.barchart) barchart[series.barchart] = series.root;
    }
    expect(barchart).toEqual({
      NQ: "NQ",
      MQ1: "QN1", MQ2: "QN2", MQ3: "QN3", MQ4: "QN4", MQ5: "QN5", MQ6: "QNE",
      MC6: "Q1A", MC7: "Q2A", MC8: "Q3A", MC9: "Q4A",
      MM1: "Q1B", MM2: "Q2B", MM3: "Q3B", MM4: "Q4B", MM5: "Q5B",
      MC1: "Q1C", MC2: "Q2C", MC3: "Q3C", MC4: "Q4C", MC5: "Q5C",
      MM6: "Q1D", MM7: "Q2D", MM8: "Q3D", MM9: "Q4D",
    });
    for (const [code, root] of Object.entries(barchart)) expect(cmeOptionRoot(code)).toBe(root);
    // Every CME code: NQ, QN1–QN4 (+ the unlisted QN5), QNE, Q1A–Q5D.
    expect(NQ_OPTION_SERIES.map((s) => s.root).sort()).toEqual(
      ["NQ", "QN1", "QN2", "QN3", "QN4", "QN5", "QNE", ...[1, 2, 3, 4, 5].flatMap((w) => ["A", "B", "C", "D"].map((d) => `Q${w}${d}`))].sort(),
    );
    expect(NQ_OPTION_SERIES.filter((s) => !s.listedByCme).map((s) => s.root)).toEqual(["QN5"]);
  });

  it("puts each weekly code on its weekday and week of the month", () => {
    const weekdayOf = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay();
    for (const series of NQ_OPTION_SERIES) {
      if (series.rule.kind !== "weekday") continue;
      for (const [year, month] of [[2025, 6], [2026, 9], [2026, 11], [2027, 3]] as const) {
        const date = ruleExpiration(series.root, year, month);
        if (date === null) {
          expect(series.rule.week, `${series.root} ${year}-${month}`).toBe(5);
          continue;
        }
        expect(weekdayOf(date), `${series.root} ${date}`).toBe(series.rule.weekday);
        expect(Math.floor((Number(date.slice(8)) - 1) / 7) + 1, `${series.root} ${date}`).toBe(series.rule.week);
      }
    }
  });

  it("matches the expiries read off Barchart's own series pages (reference §2)", () => {
    const pages: [string, number, number, string][] = [
      ["MQ4", 2025, 6, "2025-06-27"], // MQ4M25
      ["MQ2", 2025, 7, "2025-07-11"], // MQ2N25
      ["MM6", 2025, 7, "2025-07-03"], // MM6N25 ("6 Days to expiration on 07/03/25")
      ["MC6", 2025, 6, "2025-06-02"], // MC6M25 (fixture)
      ["MC7", 2025, 6, "2025-06-09"], // MC7M25 (fixture, page "1 Days to expiration on 06/09/25")
      ["MC7", 2026, 9, "2026-09-14"], // MC7U26 (Monday 7 September is Labor Day; week 2 is the 14th)
    ];
    for (const [code, year, month, date] of pages) expect(ruleExpiration(code, year, month), code).toBe(date);
  });

  it("knows the quarterly third Friday and the end of month's last business day", () => {
    expect(ruleExpiration("NQ", 2026, 12)).toBe("2026-12-18");
    expect(ruleExpiration("QNE", 2025, 6)).toBe("2025-06-30");
    expect(ruleExpiration("QNE", 2026, 10)).toBe("2026-10-30"); // the 31st is a Saturday
    expect(ruleExpiration("MQ6", 2026, 5)).toBe("2026-05-29");
  });

  it("names the series of a bare expiration date", () => {
    expect(inferNqOptionRoot("2026-12-18")).toBe("NQ");
    expect(inferNqOptionRoot("2026-11-20")).toBe("QN3"); // third Friday of a serial month
    expect(inferNqOptionRoot("2026-11-30")).toBe("QNE");
    expect(inferNqOptionRoot("2026-11-27")).toBe("QN4");
    expect(inferNqOptionRoot("2026-11-23")).toBe("Q4A");
    expect(inferNqOptionRoot("2026-11-03")).toBe("Q1B");
    expect(inferNqOptionRoot("2026-11-25")).toBe("Q4C");
    expect(inferNqOptionRoot("2026-11-05")).toBe("Q1D");
    expect(() => inferNqOptionRoot("2026-11-21")).toThrow(/weekend/);
  });

  it("rejects an unknown code, naming the codes it expected", () => {
    expect(() => cmeOptionRoot("MQ7")).toThrow(SymbolError);
    expect(() => cmeOptionRoot("MQ7")).toThrow(/expected an NQ option series code — CME's NQ, QN1–QN4, QNE, Q1A–Q5A.*Barchart's MQ1–MQ6, MC1–MC9, MM1–MM9 — got "MQ7"/);
    expect(() => cmeOptionRoot("")).toThrow(/got an empty string/);
    expect(cmeOptionRoot("EW3", "ES")).toBe("EW3");
  });
});

describe("option symbols", () => {
  it("reads CME's and Barchart's spellings of one contract into one canonical symbol", () => {
    const cme = parseOptionSymbol("Q2AM5 C15000", "2025-06-09T05:32:00Z");
    const barchart = parseOptionSymbol("MC7M5|15000C", "2025-06-09T05:32:00Z");
    expect(cme).toMatchObject({ symbol: "Q2AM5 C15000", root: "Q2A", rawRoot: "Q2A", series: "Q2AM5", year: 2025, month: 6, right: "C", strike: 15000, spelling: "cme" });
    expect(barchart).toMatchObject({ symbol: "Q2AM5 C15000", root: "Q2A", rawRoot: "MC7", series: "Q2AM5", year: 2025, month: 6, right: "C", strike: 15000, spelling: "barchart" });
    expect(barchart.seriesRow).toMatchObject({ rule: { kind: "weekday", weekday: 1, week: 2 } });
    expect(parseOptionSymbol("NQU6|21000P", AS_OF_2026).symbol).toBe("NQU6 P21000");
    expect(parseOptionSymbol("QN4Z6 C21000", AS_OF_2026).symbol).toBe("QN4Z6 C21000");
    expect(parseOptionSymbol("MQ4Z6|21000C", AS_OF_2026).symbol).toBe("QN4Z6 C21000");
    expect(parseOptionSymbol("MQ6Z26|21012.5P", AS_OF_2026).symbol).toBe("QNEZ6 P21012.5");
  });

  it("rejects bad input with what was expected", () => {
    expect(() => parseOptionSymbol("NQZ6 X21000", AS_OF_2026)).toThrow(/expected an option symbol like "QN4Z6 C21000" .* or "MQ4Z6\|21000C" \(Barchart\); got "NQZ6 X21000"/);
    expect(() => parseOptionSymbol("NQZ6", AS_OF_2026)).toThrow(SymbolError);
    expect(() => parseOptionSymbol("XX9Z6 C21000", AS_OF_2026)).toThrow(/root: expected an NQ option series code/);
    expect(() => parseOptionSymbol("NQZ6 C0", AS_OF_2026)).toThrow(/positive strike/);
  });
});

describe("a row's names", () => {
  const base = { product: "NQ", expiration: "2025-06-09", right: "C" as const, strike: 15000, asOf: "2025-06-09T05:32:00Z" };

  it("agree for a Databento row and a Barchart row of one instrument", () => {
    const databento = canonicalContractNames({ ...base, rawSymbol: "Q2AM5 C15000", root: "Q2A", underlying: "NQM5" });
    const barchart = canonicalContractNames({ ...base, rawSymbol: "MC7M5|15000C", root: "MC7", underlying: "NQM25" });
    expect(databento).toEqual({ symbol: "Q2AM5 C15000", rawSymbol: "Q2AM5 C15000", root: "Q2A", underlying: "NQM5" });
    expect(barchart).toEqual({ symbol: "Q2AM5 C15000", rawSymbol: "MC7M5|15000C", root: "Q2A", underlying: "NQM5" });
  });

  it("refuse a symbol that contradicts the row", () => {
    expect(() => canonicalContractNames({ ...base, rawSymbol: "MC7M5|15000P" })).toThrow(/names a put, but the row's right is C/);
    expect(() => canonicalContractNames({ ...base, rawSymbol: "MC7M5|15010C" })).toThrow(/names strike 15010, but the row's strike is 15000/);
    expect(() => canonicalContractNames({ ...base, rawSymbol: "MC7M5|15000C", root: "MC8" })).toThrow(/root "MC8" is not the series of symbol "MC7M5\|15000C" \(Q2A\)/);
    expect(() => canonicalContractNames({ ...base, rawSymbol: "MC7U5|15000C" })).toThrow(/names U5 \(2025-09\), but the expiration is 2025-06-09/);
    expect(() => canonicalContractNames({ ...base, rawSymbol: "ZZ7M5|15000C" })).toThrow(/root: expected an NQ option series code/);
    expect(() => canonicalContractNames({ ...base, root: "WEEKLY" })).toThrow(/got "WEEKLY"/);
  });

  it("build the symbol from the root and expiration when the feed's spelling is its own, or absent", () => {
    expect(canonicalContractNames({ ...base, symbol: "NQ 2025-06-09 C15000", root: "MC7" })).toMatchObject({ symbol: "Q2AM5 C15000", rawSymbol: "NQ 2025-06-09 C15000", root: "Q2A" });
    expect(canonicalContractNames({ ...base })).toEqual({ symbol: "Q2AM5 C15000", rawSymbol: null, root: "Q2A", underlying: null });
    expect(canonicalContractNames({ ...base, underlying: "front month" }).underlying).toBe("front month");
  });

  it("reach the chain through the normalizer, with rawSymbol beside symbol and bad symbols counted", () => {
    const chain = normalizeChain(
      {
        asOf: "2025-06-09T05:32:00Z",
        underlying: "NQM25",
        rows: [
          { rawSymbol: "MC7M5|15000C", root: "MC7", underlying: "NQM25", expiration: "2025-06-09", strike: 15000, right: "C", bid: 1, ask: 2 },
          { symbol: "Q2AM5 P15000", root: "Q2A", underlying: "NQM5", expiration: "2025-06-09", strike: 15000, right: "P", bid: 1, ask: 2 },
          { rawSymbol: "MC7M5|15000C", expiration: "2025-06-09", strike: 15100, right: "C", bid: 1, ask: 2 },
        ],
      },
      { source: "test", capabilities: { delayed: true }, request: { product: "NQ" }, fetchedAt: new Date("2025-06-09T05:40:00Z"), analytics: false },
    );
    expect(chain.contracts.map((c) => [c.symbol, c.rawSymbol, c.root, c.underlying])).toEqual([
      ["Q2AM5 C15000", "MC7M5|15000C", "Q2A", "NQM5"],
      ["Q2AM5 P15000", "Q2AM5 P15000", "Q2A", "NQM5"],
    ]);
    expect(chain.optionsSummary.underlying).toBe("NQM5");
    expect(chain.qualityMetrics.invalidReasons).toEqual({ 'symbol "MC7M5|15000C" names strike 15000, but the row\'s strike is 15100': 1 });
  });
});
