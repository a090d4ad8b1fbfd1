/**
 * The data the compare page embeds, shared by the Node side (which encodes it) and the browser side
 * (which decodes it); no Node or DOM imports here. Per expiry, one row per strike (delta-encoded, as on the
 * chain page) and per side (calls, puts) the A and B values of settlement, open interest and volume, the
 * difference B − A, and one status character per strike and field.
 */
import type { BannerFact, BannerFlag } from "./data.js";

export const COMPARE_DATA_VERSION = 1;

/**
 * One character per strike and field:
 * `-` no contract at this strike on this side · `A` contract only in A · `B` contract only in B ·
 * `e` exact · `t` within tolerance · `m` mismatch · `d` dates differ · `a` value only in A · `b` value only
 * in B · `n` neither has a value.
 */
export type CompareCode = "-" | "A" | "B" | "e" | "t" | "m" | "d" | "a" | "b" | "n";

export const STATUS_CODE: Record<string, CompareCode> = {
  exact: "e",
  withinTolerance: "t",
  mismatch: "m",
  datesDiffer: "d",
  onlyA: "a",
  onlyB: "b",
  bothMissing: "n",
};

/** The three fields drawn by strike. */
export const CHART_FIELDS = ["settlement", "openInterest", "volume"] as const;
export type ChartField = (typeof CHART_FIELDS)[number];

export interface CompareEncodedSide {
  /** one CompareCode per strike: presence (`-`, `A`, `B`) or, for contracts in both, the settlement status */
  pr: string;
  /** per chart field: A values, B values, B − A, and status codes */
  f: Record<ChartField, { a: string; b: string; d: string; s: string }>;
  /** symbols, "|"-separated, per strike ("" where no contract) */
  sym: string;
}

export interface CompareFieldCounts {
  compared: number;
  exact: number;
  withinTolerance: number;
  mismatch: number;
  datesDiffer: number;
  onlyA: number;
  onlyB: number;
  bothMissing: number;
  maxAbsDiff: number | null;
}

export interface CompareEncodedExpiry {
  date: string;
  /** whole days from A's as-of date */
  dte: number;
  underlying: string | null;
  underlyingPrice: number | null;
  joined: number;
  onlyInA: number;
  onlyInB: number;
  fields: Record<string, CompareFieldCounts>;
  k: string;
  c: CompareEncodedSide;
  p: CompareEncodedSide;
}

export interface CompareSideView {
  /** "A" or "B" */
  role: string;
  source: string;
  asOf: string;
  sample: boolean;
  delayed: boolean;
  complete: boolean;
  flags: BannerFlag[];
  facts: BannerFact[];
}

export interface CompareData {
  v: number;
  title: string;
  a: CompareSideView;
  b: CompareSideView;
  /** field key → words ("open interest") */
  fieldLabels: Record<string, string>;
  expiries: CompareEncodedExpiry[];
}

const esc = (text: string): string => text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const count = (value: number): string => value.toLocaleString("en-US", { maximumFractionDigits: 4 });

/** The per-field counts as an HTML table: the page's overall table (Node) and the per-expiry one (browser). */
export function countsTableHtml(fields: Record<string, CompareFieldCounts>, labels: Record<string, string>, a: string, b: string, caption: string): string {
  const head = ["Field", "Compared", "Exact", "Within tolerance", "Mismatch", "Dates differ", `Value only in A (${a})`, `Value only in B (${b})`, "Max |B − A|"];
  const rows = Object.entries(fields).map(([field, s]) => {
    const cells = [s.compared, s.exact, s.withinTolerance, s.mismatch, s.datesDiffer, s.onlyA, s.onlyB].map((n) => count(n));
    cells.push(s.maxAbsDiff === null ? "–" : count(s.maxAbsDiff));
    return `<tr${s.mismatch > 0 ? ' class="has-mismatch"' : ""}><th scope="row">${esc(labels[field] ?? field)}</th>${cells
      .map((c, i) => `<td${i === 3 && s.mismatch > 0 ? ' class="mismatch"' : ""}>${esc(c)}</td>`)
      .join("")}</tr>`;
  });
  return `<div class="table-wrap counts-wrap" tabindex="0" role="region" aria-label="${esc(caption)}"><table class="counts"><caption>${esc(caption)}</caption><thead><tr>${head
    .map((h) => `<th scope="col">${esc(h)}</th>`)
    .join("")}</tr></thead><tbody>${rows.join("") || `<tr><td colspan="${head.length}">No field compared.</td></tr>`}</tbody></table></div>`;
}

