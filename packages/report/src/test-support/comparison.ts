/**
 * A comparison of two synthetic chains for the compare page's tests, shaped like @nq/ops's
 * `ComparisonReport` (this package does not depend on @nq/ops; the runner's test feeds the real one).
 * B is A with settlement, open interest and volume nudged by strike and expiry, some contracts only in A
 * and some only in B.
 */
import { syntheticChain } from "../../scripts/synthetic-chain.mjs";
import type { ComparisonForReport, CompareDifferenceForReport } from "../compare.js";
import type { CompareFieldCounts } from "../compare-data.js";

type Contract = ReturnType<typeof syntheticChain>["contracts"][number];
const FIELDS = ["settlement", "openInterest", "volume"] as const;
const TOLERANCE: Record<(typeof FIELDS)[number], { abs: number; rel?: number }> = { settlement: { abs: 0.25 }, openInterest: { abs: 0 }, volume: { abs: 0, rel: 0.1 } };

export interface SyntheticComparisonOptions {
  expiries?: number;
  strikesPerExpiry?: number;
  a?: Parameters<typeof syntheticChain>[0];
  b?: Parameters<typeof syntheticChain>[0];
}

export function syntheticComparison(options: SyntheticComparisonOptions = {}): ComparisonForReport {
  const shape = { expiries: options.expiries ?? 3, strikesPerExpiry: options.strikesPerExpiry ?? 40 };
  const chainA = syntheticChain({ ...shape, source: "databento", sample: true, ...options.a });
  const chainB = syntheticChain({ ...shape, source: "barchart", sample: true, delayed: true, ...options.b });
  const dates = chainA.optionsSummary.expirations;
  const bByKey = new Map(chainB.contracts.map((c, i) => [key(c), { c, i }]));
  const pairs: { a: Contract | null; b: Contract | null }[] = [];
  chainA.contracts.forEach((a, i) => {
    if (i % 23 === 5) return; // only in B
    const e = dates.indexOf(a.expiration);
    const b = { ...bByKey.get(key(a))!.c };
    b.settlement = (a.settlement ?? 0) + (((i * 7 + e * 3) % 5) - 2) * 0.25 * (e + 1);
    if (i % 3 === 0) b.openInterest = (a.openInterest ?? 0) + (((i * 13 + e) % 11) - 5) * (e + 1);
    if (i % 4 === 1) b.volume = Math.round((a.volume ?? 0) * (1.05 + 0.1 * e)) + e;
    pairs.push(i % 17 === 3 ? { a, b: null } : { a, b });
  });
  chainA.contracts.forEach((a, i) => {
    if (i % 23 === 5) pairs.push({ a: null, b: bByKey.get(key(a))!.c });
  });
  const empty = (): CompareFieldCounts => ({ compared: 0, exact: 0, withinTolerance: 0, mismatch: 0, datesDiffer: 0, onlyA: 0, onlyB: 0, bothMissing: 0, maxAbsDiff: null });
  const overall = Object.fromEntries(FIELDS.map((f) => [f, empty()])) as Record<string, CompareFieldCounts>;
  const perExpiry = new Map(dates.map((d) => [d, { expiration: d, joined: 0, onlyInA: 0, onlyInB: 0, fields: Object.fromEntries(FIELDS.map((f) => [f, empty()])) as Record<string, CompareFieldCounts> }]));
  const contracts: ComparisonForReport["contracts"][number][] = [];
  const differences: CompareDifferenceForReport[] = [];
  for (const { a, b } of pairs) {
    const any = (a ?? b)!;
    const expiry = perExpiry.get(any.expiration)!;
    const side = a && b ? "both" : a ? "onlyA" : "onlyB";
    const row = { symbol: any.symbol, expiration: any.expiration, strike: any.strike, right: any.right as "C" | "P", side, a, b, fields: {} as Record<string, CompareDifferenceForReport> } as const;
    contracts.push(row);
    if (side === "onlyA") expiry.onlyInA += 1;
    else if (side === "onlyB") expiry.onlyInB += 1;
    else {
      expiry.joined += 1;
      for (const field of FIELDS) {
        const va = a![field] as number;
        const vb = b![field] as number;
        const diff = vb - va;
        const allowed = Math.max(TOLERANCE[field].abs, (TOLERANCE[field].rel ?? 0) * Math.max(Math.abs(va), Math.abs(vb)));
        const status = diff === 0 ? "exact" : Math.abs(diff) <= allowed + 1e-9 ? "withinTolerance" : "mismatch";
        const d: CompareDifferenceForReport = { symbol: any.symbol, expiration: any.expiration, strike: any.strike, right: row.right, field, a: va, b: vb, diff, status, aDate: null, bDate: null };
        row.fields[field] = d;
        for (const stats of [overall[field]!, expiry.fields[field]!]) {
          stats[status] += 1;
          stats.compared += 1;
          stats.maxAbsDiff = Math.max(stats.maxAbsDiff ?? 0, Math.abs(diff));
        }
        if (status !== "exact") differences.push(d);
      }
    }
  }
  const side = (chain: typeof chainA) => ({ ...chain.metadata, contracts: chain.contracts.length, expirations: chain.optionsSummary.expirations });
  return {
    a: side(chainA),
    b: side(chainB),
    tolerances: TOLERANCE,
    joined: contracts.filter((c) => c.side === "both").length,
    onlyInA: contracts.filter((c) => c.side === "onlyA").length,
    onlyInB: contracts.filter((c) => c.side === "onlyB").length,
    joinedBy: { symbol: contracts.filter((c) => c.side === "both").length, expirationStrikeRight: 0 },
    fields: overall,
    expirations: [...perExpiry.values()],
    worst: FIELDS.flatMap((f) =>
      differences
        .filter((d) => d.field === f)
        .sort((x, y) => (x.status === "mismatch" ? 0 : 1) - (y.status === "mismatch" ? 0 : 1) || Math.abs(y.diff!) - Math.abs(x.diff!))
        .slice(0, 5),
    ),
    notes: [`"barchart" is delayed: its session volume describes an earlier moment, so it is expected to differ.`, `"databento" is SAMPLE DATA (generated, not market data): differences say nothing about a real feed.`],
    contracts,
  };
}

function key(c: Contract): string {
  return `${c.expiration}|${c.strike}|${c.right}`;
}
