import { describe, expect, it } from "vitest";
import { buildCompareData, CHART_FIELDS, decodeColumn, decodeStrikes, renderComparePage } from "./index.js";
import { syntheticComparison } from "./test-support/comparison.js";

describe("compare page data", () => {
  it("one entry per expiry, nearest first, with strikes, A/B values, B − A and status codes per side", () => {
    const report = syntheticComparison({ expiries: 3, strikesPerExpiry: 20 });
    const data = buildCompareData(report);
    expect(data.expiries.map((e) => e.date)).toEqual([...report.expirations.map((e) => e.expiration)].sort());
    const first = data.expiries[0]!;
    const strikes = decodeStrikes(first.k);
    expect(strikes).toHaveLength(20);
    expect(first.c.pr).toHaveLength(20);
    for (const field of CHART_FIELDS) expect(first.c.f[field].s).toHaveLength(20);
    // every joined contract's diff is b − a
    const contract = report.contracts.find((c) => c.expiration === first.date && c.side === "both" && c.right === "C")!;
    const i = strikes.indexOf(contract.strike);
    const a = decodeColumn(first.c.f.settlement.a, 20)[i]!;
    const b = decodeColumn(first.c.f.settlement.b, 20)[i]!;
    expect(decodeColumn(first.c.f.settlement.d, 20)[i]).toBeCloseTo(b - a, 9);
    // one-sided contracts are marked A / B
    const onlyA = report.contracts.filter((c) => c.side === "onlyA" && c.expiration === first.date).length;
    const onlyB = report.contracts.filter((c) => c.side === "onlyB" && c.expiration === first.date).length;
    expect(onlyA + onlyB).toBeGreaterThan(0);
    expect([...first.c.pr, ...first.p.pr].filter((x) => x === "A")).toHaveLength(onlyA);
    expect([...first.c.pr, ...first.p.pr].filter((x) => x === "B")).toHaveLength(onlyB);
    expect(first.onlyInA).toBe(onlyA);
    expect(data.a.source).toBe("databento");
    expect(data.b.flags.map((f) => f.label)).toContain("DELAYED");
    expect(data.a.flags.map((f) => f.label)).toContain("SAMPLE DATA");
  });

  it("the page: self-contained, a banner naming both sources with their provenance in words, the counts, worst and notes written without JavaScript", () => {
    const report = syntheticComparison({ a: { sample: false, complete: false, incompleteReasons: ["series Q2A missing"] } });
    const html = renderComparePage(report, { generatedAt: new Date("2026-11-20T21:05:00Z") });
    expect(html).not.toMatch(/(src|href)=["']?https?:/i);
    expect(html).toContain('data-side="A" data-source="databento"');
    expect(html).toContain('data-side="B" data-source="barchart"');
    expect(html).toMatch(/A \(reference\): databento/);
    expect(html).toContain('data-flag="INCOMPLETE"');
    expect(html).toContain("series Q2A missing");
    expect(html).toContain('data-flag="DELAYED"');
    expect(html).toContain('data-flag="SAMPLE DATA"'); // B is sample
    expect(html).toContain("Per-field counts, all expiries");
    for (const words of ["Exact", "Within tolerance", "Mismatch", "Dates differ", "Value only in A (databento)"]) expect(html).toContain(words);
    expect(html).toContain('id="worst-table"');
    expect(html).toContain("is delayed: its session volume");
    expect(html).toContain('id="nq-compare-data" type="application/json"');
    expect(html).toContain("Tolerances (the larger applies)");
  });

  it("escapes what the sources say, and compresses a large comparison", () => {
    const report = syntheticComparison({ expiries: 2, strikesPerExpiry: 10 });
    report.notes = ["<script>alert(1)</script>"];
    const html = renderComparePage(report, { compress: "always" });
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain('type="application/gzip-base64"');
  });
});
