/**
 * Two normalized chains of the same product, compared field by field: which contracts both carry, which
 * only one does, and for each field how many values match exactly, within a tolerance, or not at all —
 * overall and per expiration, with the worst differences listed. Contracts are joined on their canonical
 * symbol; those left over are joined again on (expiration, strike, right), so two feeds whose symbol
 * spellings still differ are compared all the same.
 *
 * Settlement and open interest are published once per trade date: two feeds carrying them for different
 * dates are counted as `datesDiffer`, not as mismatches. Expected differences (a delayed feed, session
 * volume against cleared volume, different as-of times) are explained in `notes`.
 */
import type { OptionContract, OptionsChain } from "@nq/core";

export const COMPARE_FIELDS = ["settlement", "openInterest", "volume", "clearedVolume", "bid", "ask", "mid", "last"] as const;
export type CompareField = (typeof COMPARE_FIELDS)[number];

/** Two values are within tolerance when |a − b| ≤ max(abs, rel × max(|a|, |b|)). */
export interface Tolerance {
  abs?: number;
  rel?: number;
}

/**
 * Defaults: settlement to one tick (0.25); open interest and cleared volume exactly (both are the
 * exchange's published numbers); session volume to 10 %; quotes and last to a point or 2 % (feeds sample
 * the book at different instants).
 */
export const DEFAULT_TOLERANCES: Record<CompareField, Tolerance> = {
  settlement: { abs: 0.25 },
  openInterest: { abs: 0 },
  clearedVolume: { abs: 0 },
  volume: { abs: 0, rel: 0.1 },
  bid: { abs: 1, rel: 0.02 },
  ask: { abs: 1, rel: 0.02 },
  mid: { abs: 1, rel: 0.02 },
  last: { abs: 1, rel: 0.02 },
};

export type FieldStatus = "exact" | "withinTolerance" | "mismatch" | "datesDiffer" | "onlyA" | "onlyB" | "bothMissing";

export interface FieldStats {
  /** Contracts both chains carry with a value in both. */
  compared: number;
  exact: number;
  withinTolerance: number;
  mismatch: number;
  /** Both have a value but for different trade dates (settlement, open interest, cleared volume). */
  datesDiffer: number;
  /** Joined contracts with a value in A only, or in B only. */
  onlyA: number;
  onlyB: number;
  bothMissing: number;
  /** The largest |a − b| among compared values (dates agreeing); null when none. */
  maxAbsDiff: number | null;
}

export interface Difference {
  symbol: string;
  expiration: string;
  strike: number;
  right: "C" | "P";
  field: CompareField;
  a: number | null;
  b: number | null;
  /** b − a */
  diff: number | null;
  /** |b − a| / max(|a|, |b|) */
  relDiff: number | null;
  status: FieldStatus;
  aDate: string | null;
  bDate: string | null;
}

export interface ChainSide {
  source: string;
  asOf: string;
  fetchedAt: string;
  delayed: boolean;
  sample: boolean;
  complete: boolean;
  cache: string;
  contracts: number;
  expirations: string[];
}

export interface ExpiryComparison {
  expiration: string;
  joined: number;
  onlyInA: number;
  onlyInB: number;
  fields: Record<CompareField, FieldStats>;
}

export interface ComparedContract {
  key: string;
  symbol: string;
  expiration: string;
  strike: number;
  right: "C" | "P";
  side: "both" | "onlyA" | "onlyB";
  a: OptionContract | null;
  b: OptionContract | null;
  fields: Partial<Record<CompareField, Difference>>;
}

export interface ComparisonReport {
  a: ChainSide;
  b: ChainSide;
  tolerances: Record<CompareField, Tolerance>;
  joined: number;
  onlyInA: number;
  onlyInB: number;
  /** How the joined contracts were matched. */
  joinedBy: { symbol: number; expirationStrikeRight: number };
  fields: Record<CompareField, FieldStats>;
  expirations: ExpiryComparison[];
  /** Per field, the largest non-exact differences (mismatches first), at most `worstPerField` each. */
  worst: Difference[];
  /** Up to 20 symbols each chain has that the other lacks. */
  examplesOnlyInA: string[];
  examplesOnlyInB: string[];
  /** Why some differences are expected, and what the counts do not say. */
  notes: string[];
  /** Every contract of either chain, joined (for CSV). */
  contracts: ComparedContract[];
}

export interface CompareOptions {
  tolerances?: Partial<Record<CompareField, Tolerance>>;
  /** Differences listed per field in `worst` (default 5). */
  worstPerField?: number;
  /** Restrict to these fields (default: all). */
  fields?: readonly CompareField[];
}

/** Compares chain `b` against chain `a` (the reference, usually the paid feed). */
export function compareChains(a: OptionsChain, b: OptionsChain, options: CompareOptions = {}): ComparisonReport {
  const tolerances = { ...DEFAULT_TOLERANCES, ...(options.tolerances ?? {}) } as Record<CompareField, Tolerance>;
  const fields = options.fields ?? COMPARE_FIELDS;
  const worstPerField = options.worstPerField ?? 5;

  const pairs = joinContracts(a.contracts, b.contracts);
  const overall = emptyFieldMap(fields);
  const byExpiry = new Map<string, ExpiryComparison>();
  const differences: Difference[] = [];
  const compared: ComparedContract[] = [];

  for (const pair of pairs) {
    const any = (pair.a ?? pair.b)!;
    const expiry = byExpiry.get(any.expiration) ?? { expiration: any.expiration, joined: 0, onlyInA: 0, onlyInB: 0, fields: emptyFieldMap(fields) };
    byExpiry.set(any.expiration, expiry);
    const side: ComparedContract["side"] = pair.a && pair.b ? "both" : pair.a ? "onlyA" : "onlyB";
    const row: ComparedContract = {
      key: keyOf(any),
      symbol: any.symbol,
      expiration: any.expiration,
      strike: any.strike,
      right: any.right,
      side,
      a: pair.a,
      b: pair.b,
      fields: {},
    };
    compared.push(row);
    if (side === "onlyA") {
      expiry.onlyInA += 1;
      continue;
    }
    if (side === "onlyB") {
      expiry.onlyInB += 1;
      continue;
    }
    expiry.joined += 1;
    for (const field of fields) {
      const difference = compareField(field, pair.a!, pair.b!, tolerances[field]);
      row.fields[field] = difference;
      count(overall[field]!, difference);
      count(expiry.fields[field]!, difference);
      if (difference.status === "mismatch" || difference.status === "withinTolerance" || difference.status === "datesDiffer") differences.push(difference);
    }
  }

  const worst: Difference[] = [];
  const rank: Record<FieldStatus, number> = { mismatch: 0, datesDiffer: 1, withinTolerance: 2, exact: 3, onlyA: 4, onlyB: 4, bothMissing: 5 };
  for (const field of fields) {
    const ofField = differences
      .filter((d) => d.field === field)
      .sort((x, y) => rank[x.status] - rank[y.status] || Math.abs(y.diff ?? 0) - Math.abs(x.diff ?? 0) || x.symbol.localeCompare(y.symbol));
    worst.push(...ofField.slice(0, worstPerField));
  }

  const expirations = [...byExpiry.values()].sort((x, y) => x.expiration.localeCompare(y.expiration));
  const onlyA = compared.filter((c) => c.side === "onlyA");
  const onlyB = compared.filter((c) => c.side === "onlyB");
  const report: ComparisonReport = {
    a: sideOf(a),
    b: sideOf(b),
    tolerances,
    joined: compared.length - onlyA.length - onlyB.length,
    onlyInA: onlyA.length,
    onlyInB: onlyB.length,
    joinedBy: { symbol: pairs.filter((p) => p.by === "symbol").length, expirationStrikeRight: pairs.filter((p) => p.by === "esr").length },
    fields: overall as Record<CompareField, FieldStats>,
    expirations,
    worst,
    examplesOnlyInA: onlyA.slice(0, 20).map((c) => c.symbol),
    examplesOnlyInB: onlyB.slice(0, 20).map((c) => c.symbol),
    notes: [],
    contracts: compared,
  };
  report.notes = explainDifferences(report, a, b);
  return report;
}

interface Pair {
  a: OptionContract | null;
  b: OptionContract | null;
  by: "symbol" | "esr" | null;
}

/** Symbol first; what is left on both sides, by (expiration, strike, right). */
function joinContracts(aList: OptionContract[], bList: OptionContract[]): Pair[] {
  const pairs: Pair[] = [];
  const bBySymbol = new Map<string, OptionContract>();
  for (const c of bList) if (c.symbol) bBySymbol.set(c.symbol, c);
  const usedB = new Set<OptionContract>();
  const leftA: OptionContract[] = [];
  for (const c of aList) {
    const match = c.symbol ? bBySymbol.get(c.symbol) : undefined;
    if (match && !usedB.has(match) && keyOf(match) === keyOf(c)) {
      usedB.add(match);
      pairs.push({ a: c, b: match, by: "symbol" });
    } else leftA.push(c);
  }
  const bByKey = new Map<string, OptionContract>();
  for (const c of bList) if (!usedB.has(c)) bByKey.set(keyOf(c), c);
  for (const c of leftA) {
    const match = bByKey.get(keyOf(c));
    if (match) {
      bByKey.delete(keyOf(c));
      usedB.add(match);
      pairs.push({ a: c, b: match, by: "esr" });
    } else pairs.push({ a: c, b: null, by: null });
  }
  for (const c of bList) if (!usedB.has(c)) pairs.push({ a: null, b: c, by: null });
  return pairs.sort((x, y) => {
    const p = (x.a ?? x.b)!;
    const q = (y.a ?? y.b)!;
    return p.expiration.localeCompare(q.expiration) || p.strike - q.strike || p.right.localeCompare(q.right);
  });
}

function keyOf(c: Pick<OptionContract, "expiration" | "strike" | "right">): string {
  return `${c.expiration}|${c.strike}|${c.right}`;
}

function valueOf(field: CompareField, c: OptionContract): number | null {
  if (field === "mid") return c.bid !== null && c.ask !== null ? (c.bid + c.ask) / 2 : null;
  const v = c[field];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function dateOf(field: CompareField, c: OptionContract): string | null {
  if (field === "settlement") return c.settlementDate;
  if (field === "openInterest") return c.openInterestDate;
  if (field === "clearedVolume") return c.clearedVolumeDate;
  return null;
}

export function withinTolerance(a: number, b: number, tolerance: Tolerance): boolean {
  const allowed = Math.max(tolerance.abs ?? 0, (tolerance.rel ?? 0) * Math.max(Math.abs(a), Math.abs(b)));
  // Float noise (0.1 + 0.2) is not a difference.
  return Math.abs(a - b) <= allowed + 1e-9;
}

function compareField(field: CompareField, ca: OptionContract, cb: OptionContract, tolerance: Tolerance): Difference {
  const a = valueOf(field, ca);
  const b = valueOf(field, cb);
  const aDate = dateOf(field, ca);
  const bDate = dateOf(field, cb);
  const diff = a !== null && b !== null ? b - a : null;
  const scale = a !== null && b !== null ? Math.max(Math.abs(a), Math.abs(b)) : 0;
  let status: FieldStatus;
  if (a === null && b === null) status = "bothMissing";
  else if (a === null) status = "onlyB";
  else if (b === null) status = "onlyA";
  else if (aDate !== null && bDate !== null && aDate !== bDate && a !== b) status = "datesDiffer";
  else if (a === b) status = "exact";
  else if (withinTolerance(a, b, tolerance)) status = "withinTolerance";
  else status = "mismatch";
  return {
    symbol: ca.symbol,
    expiration: ca.expiration,
    strike: ca.strike,
    right: ca.right,
    field,
    a,
    b,
    diff,
    relDiff: diff === null ? null : scale === 0 ? 0 : Math.abs(diff) / scale,
    status,
    aDate,
    bDate,
  };
}

function emptyStats(): FieldStats {
  return { compared: 0, exact: 0, withinTolerance: 0, mismatch: 0, datesDiffer: 0, onlyA: 0, onlyB: 0, bothMissing: 0, maxAbsDiff: null };
}

function emptyFieldMap(fields: readonly CompareField[]): Record<CompareField, FieldStats> {
  return Object.fromEntries(fields.map((f) => [f, emptyStats()])) as Record<CompareField, FieldStats>;
}

function count(stats: FieldStats, d: Difference): void {
  stats[d.status] += 1;
  if (d.status === "exact" || d.status === "withinTolerance" || d.status === "mismatch" || d.status === "datesDiffer") stats.compared += 1;
  if (d.diff !== null && d.status !== "datesDiffer") stats.maxAbsDiff = Math.max(stats.maxAbsDiff ?? 0, Math.abs(d.diff));
}

function sideOf(chain: OptionsChain): ChainSide {
  const m = chain.metadata;
  return {
    source: m.source,
    asOf: m.asOf,
    fetchedAt: m.fetchedAt,
    delayed: m.delayed,
    sample: m.sample,
    complete: m.complete,
    cache: m.cache,
    contracts: chain.contracts.length,
    expirations: [...chain.optionsSummary.expirations],
  };
}

function explainDifferences(report: ComparisonReport, a: OptionsChain, b: OptionsChain): string[] {
  const notes: string[] = [];
  const A = report.a.source;
  const B = report.b.source;
  const gapMin = Math.round(Math.abs(Date.parse(report.a.asOf) - Date.parse(report.b.asOf)) / 60_000);
  for (const side of [report.a, report.b]) {
    if (side.delayed) {
      notes.push(
        `"${side.source}" is delayed (Barchart's free data: ~10–20 minutes): its bid, ask, mid, last and session volume describe an earlier moment, so they are expected to differ; settlement and open interest (published once per trade date) should match when their dates agree.`,
      );
    }
    if (side.sample) notes.push(`"${side.source}" is SAMPLE DATA (generated, not market data): differences say nothing about a real feed.`);
    if (!side.complete) notes.push(`"${side.source}" answered an incomplete chain: contracts it lacks are not necessarily missing from the market.`);
  }
  if (gapMin > 0) notes.push(`The as-of times differ by ${gapMin} minute${gapMin === 1 ? "" : "s"} (${A} ${report.a.asOf}, ${B} ${report.b.asOf}): quotes, last and session volume move in between.`);
  notes.push(
    `"volume" is session volume (contracts traded in the as-of session up to as-of, from the trades the feed saw); "clearedVolume" is the exchange's cleared volume for a whole trade date, usually the previous session's. A feed that reports only one of them leaves the other one-sided; compare like with like.`,
  );
  for (const field of ["settlement", "openInterest", "clearedVolume"] as const) {
    const stats = report.fields[field];
    if (!stats || stats.datesDiffer === 0) continue;
    const example = report.contracts.find((c) => c.fields[field]?.status === "datesDiffer")?.fields[field];
    notes.push(
      `${stats.datesDiffer} ${field} value${stats.datesDiffer === 1 ? " is" : "s are"} for different trade dates (e.g. ${A} ${example?.aDate}, ${B} ${example?.bDate}): counted as datesDiffer, not mismatches.`,
    );
  }
  const aExp = new Set(a.optionsSummary.expirations);
  const bExp = new Set(b.optionsSummary.expirations);
  const onlyA = [...aExp].filter((e) => !bExp.has(e));
  const onlyB = [...bExp].filter((e) => !aExp.has(e));
  if (onlyA.length || onlyB.length) {
    notes.push(
      `The chains cover different expirations (only ${A}: ${onlyA.join(", ") || "none"}; only ${B}: ${onlyB.join(", ") || "none"}): their contracts are one-sided by scope, not by error.`,
    );
  }
  if (report.joinedBy.expirationStrikeRight > 0) {
    notes.push(`${report.joinedBy.expirationStrikeRight} contract${report.joinedBy.expirationStrikeRight === 1 ? " was" : "s were"} joined on (expiration, strike, right) because their symbols are spelled differently.`);
  }
  return notes;
}

const CSV_BASE = ["symbol", "expiration", "strike", "right", "side", "symbol_a", "symbol_b"] as const;

/** One row per contract of either chain: for each field the value in A and B, b − a, and the status. */
export function comparisonToCsv(report: ComparisonReport, fields: readonly CompareField[] = COMPARE_FIELDS): string {
  const header = [...CSV_BASE];
  const perField: string[] = [];
  for (const f of fields) {
    const snake = f.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
    perField.push(`${snake}_a`, `${snake}_b`, `${snake}_diff`, `${snake}_status`);
    if (f === "settlement" || f === "openInterest" || f === "clearedVolume") perField.push(`${snake}_date_a`, `${snake}_date_b`);
  }
  const lines = [[...header, ...perField].join(",")];
  for (const c of report.contracts) {
    const cells: (string | number | null)[] = [c.symbol, c.expiration, c.strike, c.right, c.side, c.a?.symbol ?? null, c.b?.symbol ?? null];
    for (const f of fields) {
      const d = c.fields[f];
      const a = c.a ? valueOf(f, c.a) : null;
      const b = c.b ? valueOf(f, c.b) : null;
      cells.push(a, b, d?.diff ?? null, d?.status ?? c.side);
      if (f === "settlement" || f === "openInterest" || f === "clearedVolume") cells.push(c.a ? dateOf(f, c.a) : null, c.b ? dateOf(f, c.b) : null);
    }
    lines.push(cells.map(csvCell).join(","));
  }
  return `${lines.join("\n")}\n`;
}

function csvCell(value: string | number | null): string {
  if (value === null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(Number(value.toPrecision(12))) : "";
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The report without its per-contract rows (what `--json` prints; the CSV has the rows). */
export function comparisonSummary(report: ComparisonReport): Omit<ComparisonReport, "contracts"> {
  const { contracts: _contracts, ...rest } = report;
  return rest;
}
