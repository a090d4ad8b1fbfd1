import { describe, expect, it } from "vitest";
import { compareChains, comparisonToCsv } from "./compare.js";
import { chain, contract } from "./test-chains.js";

describe("compareChains", () => {
  const E1 = "2026-11-20";
  const E2 = "2026-12-18";
  const base = [
    contract({ expiration: E1, strike: 21000, right: "C" }),
    contract({ expiration: E1, strike: 21000, right: "P" }),
    contract({ expiration: E1, strike: 21100, right: "C" }),
    contract({ expiration: E2, strike: 21000, right: "C" }),
  ];

  it("counts exact matches, within-tolerance, mismatches, dates that differ and one-sided contracts, per field and per expiry", () => {
    const a = chain("databento", [...base, contract({ expiration: E2, strike: 21500, right: "P" })]);
    const b = chain(
      "barchart",
      [
        contract({ expiration: E1, strike: 21000, right: "C", bid: 100.5 }, "b"), // bid within 1 point
        contract({ expiration: E1, strike: 21000, right: "P", openInterest: 480, settlement: 99 }, "b"), // OI and settlement mismatch
        contract({ expiration: E1, strike: 21100, right: "C", settlement: 101, settlementDate: "2026-11-17", symbol: "MQZ26|21100C" }, "b"), // another date; another spelling
        contract({ expiration: E2, strike: 21000, right: "C", volume: null }, "b"), // volume only in A
        contract({ expiration: E2, strike: 22000, right: "C" }, "b"), // only in B
      ],
      { delayed: true, asOf: "2026-11-19T14:50:00.000Z" },
    );
    const report = compareChains(a, b);
    expect(report).toMatchObject({ joined: 4, onlyInA: 1, onlyInB: 1, joinedBy: { symbol: 3, expirationStrikeRight: 1 } });
    expect(report.fields.settlement).toMatchObject({ compared: 4, exact: 2, mismatch: 1, datesDiffer: 1 });
    expect(report.fields.openInterest).toMatchObject({ compared: 4, exact: 3, mismatch: 1, maxAbsDiff: 20 });
    expect(report.fields.bid).toMatchObject({ exact: 3, withinTolerance: 1, mismatch: 0 });
    expect(report.fields.volume).toMatchObject({ exact: 3, onlyA: 1 });
    expect(report.fields.mid).toMatchObject({ exact: 3, withinTolerance: 1 });
    expect(report.expirations.map((e) => [e.expiration, e.joined, e.onlyInA, e.onlyInB, e.fields.openInterest.mismatch])).toEqual([
      [E1, 3, 0, 0, 1],
      [E2, 1, 1, 1, 0],
    ]);
    const mismatches = report.worst.filter((d) => d.status === "mismatch").map((d) => [d.field, d.symbol, d.a, d.b, d.diff]);
    expect(mismatches).toEqual([
      ["settlement", "NQX6 P21000", 100.25, 99, -1.25],
      ["openInterest", "NQX6 P21000", 500, 480, -20],
    ]);
    expect(report.examplesOnlyInA).toEqual(["NQZ6 P21500"]);
    expect(report.examplesOnlyInB).toEqual(["NQZ6 C22000"]);
    const notes = report.notes.join("\n");
    expect(notes).toMatch(/"barchart" is delayed/);
    expect(notes).toMatch(/as-of times differ by 10 minutes/);
    expect(notes).toMatch(/session volume/);
    expect(notes).toMatch(/1 settlement value is for different trade dates \(e\.g\. databento 2026-11-18, barchart 2026-11-17\)/);
    expect(notes).toMatch(/joined on \(expiration, strike, right\)/);
  });

  it("tolerances come from the caller; identical chains are all exact", () => {
    const a = chain("databento", base);
    const b = chain("barchart", base.map((c) => ({ ...c, bid: c.bid! + 0.5 })));
    expect(compareChains(a, b, { tolerances: { bid: { abs: 0 } } }).fields.bid.mismatch).toBe(4);
    const same = compareChains(a, chain("x", base));
    for (const stats of Object.values(same.fields)) expect(stats.mismatch + stats.withinTolerance + stats.datesDiffer).toBe(0);
    expect(same.fields.settlement.exact).toBe(4);
  });

  it("writes one CSV row per contract of either chain, empty cells for unknown values", () => {
    const a = chain("databento", base.slice(0, 1));
    const b = chain("barchart", [contract({ expiration: E1, strike: 21000, right: "C", last: null }), contract({ expiration: E1, strike: 21200, right: "C" })]);
    const lines = comparisonToCsv(compareChains(a, b)).trim().split("\n");
    expect(lines).toHaveLength(3);
    const header = lines[0]!.split(",");
    const row = Object.fromEntries(header.map((h, i) => [h, lines[1]!.split(",")[i]]));
    expect(row).toMatchObject({ symbol: "NQX6 C21000", side: "both", settlement_status: "exact", last_a: "100.5", last_b: "", last_status: "onlyA", settlement_date_a: "2026-11-18" });
    expect(lines[2]).toContain(",onlyB,");
  });
});
