/**
 * The compare page: two chains of the same product side by side, from @nq/ops's `compareChains` report —
 * a provenance banner for each side, per expiry (a selector, nearest first) the settlement, open interest
 * and volume differences by strike for calls and puts, the one-sided contracts, the per-field counts, the
 * worst differences and the notes on expected differences. One self-contained HTML file, like chain.html,
 * made of the same banner, figures, styles and charts.
 *
 * The input is typed structurally (`ComparisonForReport`) so this package does not depend on @nq/ops; an
 * @nq/ops `ComparisonReport` fits it as it is.
 */
import { gzipSync } from "node:zlib";
import { compareJs as COMPARE_JS, css as CLIENT_CSS } from "virtual:nq-report-client";
import {
  CHART_FIELDS,
  COMPARE_DATA_VERSION,
  STATUS_CODE,
  type CompareCode,
  type CompareData,
  type CompareEncodedExpiry,
  type CompareEncodedSide,
  type CompareFieldCounts,
  type CompareSideView,
  countsTableHtml,
} from "./compare-data.js";
import { encodeColumn, encodeStrikes, type BannerFact } from "./data.js";
import { escapeHtml, renderFacts, renderFlags } from "./html.js";
import { bannerFlags, formatNumber, formatTime, type ChainForReport } from "./model.js";
import { mostCommon } from "./analytics.js";

export interface CompareSideForReport {
  source: string;
  asOf: string;
  fetchedAt: string;
  delayed: boolean;
  sample: boolean;
  complete: boolean;
  cache: string;
  contracts: number;
  expirations: readonly string[];
}

export interface CompareDifferenceForReport {
  symbol: string;
  expiration: string;
  strike: number;
  right: "C" | "P";
  field: string;
  a: number | null;
  b: number | null;
  diff: number | null;
  status: string;
  aDate: string | null;
  bDate: string | null;
}

export interface CompareContractValues {
  symbol: string;
  settlement: number | null;
  openInterest: number | null;
  volume: number | null;
  underlying?: string | null;
  underlyingPrice?: number | null;
}

/** What the page needs of @nq/ops's `ComparisonReport` (which fits as it is). */
export interface ComparisonForReport {
  a: CompareSideForReport;
  b: CompareSideForReport;
  tolerances: Record<string, { abs?: number; rel?: number }>;
  joined: number;
  onlyInA: number;
  onlyInB: number;
  joinedBy?: { symbol: number; expirationStrikeRight: number };
  fields: Record<string, CompareFieldCounts>;
  expirations: readonly { expiration: string; joined: number; onlyInA: number; onlyInB: number; fields: Record<string, CompareFieldCounts> }[];
  worst: readonly CompareDifferenceForReport[];
  notes: readonly string[];
  /** Every contract of either chain, joined. */
  contracts: readonly {
    symbol: string;
    expiration: string;
    strike: number;
    right: "C" | "P";
    side: "both" | "onlyA" | "onlyB";
    a: CompareContractValues | null;
    b: CompareContractValues | null;
    fields: Partial<Record<string, CompareDifferenceForReport>>;
  }[];
}

export interface ComparePageOptions {
  title?: string;
  /** "auto" (default): gzip+base64 when the data is over `compressAbove` characters. */
  compress?: "auto" | "always" | "never";
  compressAbove?: number;
  /** Shown in the footer; default now. */
  generatedAt?: Date;
}

export const COMPARE_FIELD_LABELS: Record<string, string> = {
  settlement: "settlement",
  openInterest: "open interest",
  volume: "volume (session)",
  clearedVolume: "cleared volume",
  bid: "bid",
  ask: "ask",
  mid: "mid",
  last: "last",
};

const STATUS_WORDS: Record<string, string> = {
  exact: "exact",
  withinTolerance: "within tolerance",
  mismatch: "mismatch",
  datesDiffer: "dates differ",
  onlyA: "value only in A",
  onlyB: "value only in B",
  bothMissing: "neither",
};

export function buildCompareData(report: ComparisonForReport, options: { title?: string } = {}): CompareData {
  const byExpiry = new Map<string, Map<number, { C?: ComparisonForReport["contracts"][number]; P?: ComparisonForReport["contracts"][number] }>>();
  for (const contract of report.contracts) {
    let strikes = byExpiry.get(contract.expiration);
    if (!strikes) byExpiry.set(contract.expiration, (strikes = new Map()));
    let row = strikes.get(contract.strike);
    if (!row) strikes.set(contract.strike, (row = {}));
    row[contract.right] = contract;
  }
  const asOfDay = Date.parse(`${report.a.asOf.slice(0, 10)}T00:00:00Z`);
  const stats = new Map(report.expirations.map((e) => [e.expiration, e]));
  const dates = [...new Set([...byExpiry.keys(), ...stats.keys()])].sort();
  const expiries: CompareEncodedExpiry[] = dates.map((date) => {
    const rows = byExpiry.get(date) ?? new Map();
    const strikes = [...rows.keys()].sort((x, y) => x - y);
    const all = [...rows.values()].flatMap((r) => [r.C, r.P]).filter((c): c is NonNullable<typeof c> => c !== undefined);
    const sides = all.flatMap((c) => [c.a, c.b]).filter((v): v is CompareContractValues => v !== null);
    const underlying = mostCommon(sides.map((v) => v.underlying ?? null));
    const underlyingPrice = mostCommon(sides.filter((v) => (v.underlying ?? null) === underlying).map((v) => v.underlyingPrice ?? null));
    const s = stats.get(date);
    return {
      date,
      dte: Math.round((Date.parse(`${date}T00:00:00Z`) - asOfDay) / 86_400_000),
      underlying,
      underlyingPrice,
      joined: s?.joined ?? 0,
      onlyInA: s?.onlyInA ?? 0,
      onlyInB: s?.onlyInB ?? 0,
      fields: s?.fields ?? {},
      k: encodeStrikes(strikes),
      c: encodeSide(strikes.map((k) => rows.get(k)!.C ?? null)),
      p: encodeSide(strikes.map((k) => rows.get(k)!.P ?? null)),
    };
  });
  const sample = report.a.sample || report.b.sample;
  const title =
    options.title ??
    `Comparison · A = ${report.a.source} · B = ${report.b.source}${sample ? " · SAMPLE" : ""} · as of ${formatTime(report.a.asOf)}`;
  return {
    v: COMPARE_DATA_VERSION,
    title,
    a: sideView("A", report.a),
    b: sideView("B", report.b),
    fieldLabels: Object.fromEntries(Object.keys(report.fields).map((f) => [f, COMPARE_FIELD_LABELS[f] ?? f])),
    expiries,
  };
}

function encodeSide(contracts: (ComparisonForReport["contracts"][number] | null)[]): CompareEncodedSide {
  const presence = (c: ComparisonForReport["contracts"][number] | null, field: string): CompareCode => {
    if (!c) return "-";
    if (c.side === "onlyA") return "A";
    if (c.side === "onlyB") return "B";
    return STATUS_CODE[c.fields[field]?.status ?? "bothMissing"] ?? "n";
  };
  const f = Object.fromEntries(
    CHART_FIELDS.map((field) => [
      field,
      {
        a: encodeColumn(contracts.map((c) => c?.a?.[field] ?? null)),
        b: encodeColumn(contracts.map((c) => c?.b?.[field] ?? null)),
        d: encodeColumn(contracts.map((c) => c?.fields[field]?.diff ?? null)),
        s: contracts.map((c) => presence(c, field)).join(""),
      },
    ]),
  ) as CompareEncodedSide["f"];
  return {
    pr: contracts.map((c) => presence(c, "settlement")).join(""),
    f,
    sym: contracts.map((c) => (c ? c.symbol.replace(/\|/g, "/") : "")).join("|"),
  };
}

function sideView(role: "A" | "B", side: CompareSideForReport): CompareSideView {
  const metadata = { ...side, cache: side.cache } as unknown as ChainForReport["metadata"];
  const facts: BannerFact[] = [
    { label: "Source", value: side.source },
    { label: "As of", value: formatTime(side.asOf) },
    { label: "Fetched", value: formatTime(side.fetchedAt) },
    { label: "Delayed", value: side.delayed ? "yes — not live" : "no" },
    { label: "Data", value: side.sample ? "SAMPLE (generated)" : "market data" },
    { label: "Complete", value: side.complete ? "yes" : "NO — partial" },
    { label: "Cache", value: side.cache === "hit" ? "from cache" : side.cache === "miss" ? "fetched (cache miss)" : "not used" },
    { label: "Contracts", value: `${formatNumber(side.contracts)} in ${side.expirations.length} expiries` },
  ];
  return { role, source: side.source, asOf: side.asOf, sample: side.sample, delayed: side.delayed, complete: side.complete, flags: bannerFlags({ metadata }), facts };
}

/** The per-field counts as an HTML table (shared with the browser, which draws the per-expiry one). */
export const renderCountsTable = countsTableHtml;

function renderWorst(report: ComparisonForReport): string {
  if (!report.worst.length) return "<p>No differences: every compared value is exact.</p>";
  const A = escapeHtml(report.a.source);
  const B = escapeHtml(report.b.source);
  const value = (v: number | null) => (v === null ? "–" : formatNumber(v));
  const rows = report.worst.map(
    (d) =>
      `<tr class="status-${escapeHtml(d.status)}"><th scope="row">${escapeHtml(d.symbol)}</th><td>${escapeHtml(d.expiration)}</td><td>${escapeHtml(formatNumber(d.strike))}</td><td>${d.right === "C" ? "call" : "put"}</td><td>${escapeHtml(
        COMPARE_FIELD_LABELS[d.field] ?? d.field,
      )}</td><td>${value(d.a)}${d.aDate ? ` <span class="basis">(${escapeHtml(d.aDate)})</span>` : ""}</td><td>${value(d.b)}${d.bDate ? ` <span class="basis">(${escapeHtml(d.bDate)})</span>` : ""}</td><td>${value(d.diff)}</td><td><span class="status-word">${escapeHtml(STATUS_WORDS[d.status] ?? d.status)}</span></td></tr>`,
  );
  return `<div class="table-wrap" tabindex="0" role="region" aria-labelledby="worst-heading"><table id="worst-table"><caption class="visually-hidden">The largest differences per field, mismatches first; B − A.</caption><thead><tr><th scope="col">Symbol</th><th scope="col">Expiry</th><th scope="col">Strike</th><th scope="col">Right</th><th scope="col">Field</th><th scope="col">A (${A})</th><th scope="col">B (${B})</th><th scope="col">B − A</th><th scope="col">Status</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

function renderTolerances(report: ComparisonForReport): string {
  const words = Object.entries(report.tolerances)
    .filter(([field]) => field in report.fields)
    .map(([field, t]) => {
      const parts = [t.abs !== undefined ? `${formatNumber(t.abs)} absolute` : null, t.rel ? `${formatNumber(t.rel * 100)}% relative` : null].filter(Boolean);
      return `${COMPARE_FIELD_LABELS[field] ?? field}: ${parts.length ? parts.join(" or ") : "exact"}`;
    });
  return words.length ? `<p class="note">Tolerances (the larger applies): ${escapeHtml(words.join(" · "))}.</p>` : "";
}

function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

function renderSide(side: CompareSideView, reference: boolean): string {
  return `<section class="side" data-side="${side.role}" data-source="${escapeHtml(side.source)}" data-sample="${side.sample}" data-delayed="${side.delayed}" data-complete="${side.complete}" aria-labelledby="side-${side.role}">
<h2 id="side-${side.role}">${side.role}${reference ? " (reference)" : ""}: ${escapeHtml(side.source)}</h2>
${renderFlags(side.flags)}
${renderFacts(side.facts)}
</section>`;
}

/** The compare page for a comparison report, as one self-contained HTML string. */
export function renderComparePage(report: ComparisonForReport, options: ComparePageOptions = {}): string {
  const data = buildCompareData(report, options.title ? { title: options.title } : {});
  const json = scriptJson(data);
  const compress = options.compress ?? "auto";
  const packed = compress === "always" || (compress === "auto" && json.length > (options.compressAbove ?? 200_000));
  const dataTag = packed
    ? `<script id="nq-compare-data" type="application/gzip-base64">${gzipSync(JSON.stringify(data), { level: 9 }).toString("base64")}</script>`
    : `<script id="nq-compare-data" type="application/json">${json}</script>`;
  const A = report.a.source;
  const B = report.b.source;
  const expiryOptions = data.expiries
    .map(
      (e, i) =>
        `<option value="${escapeHtml(e.date)}">${escapeHtml(e.date)} · ${e.dte >= 0 ? `${e.dte}d` : "expired"} · ${e.joined} in both, ${e.onlyInA + e.onlyInB} one-sided${i === 0 ? " (nearest)" : ""}</option>`,
    )
    .join("");
  const figure = (id: string, caption: string) =>
    `<figure id="${id}" data-points="0"><figcaption>${caption}</figcaption><div class="chart"></div><p class="alt"></p></figure>`;
  const generated = formatTime((options.generatedAt ?? new Date()).toISOString());
  const joinedBy = report.joinedBy?.expirationStrikeRight ? ` (${report.joinedBy.expirationStrikeRight} joined on expiry, strike and right because their symbols differ)` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(data.title)}</title>
<style>${CLIENT_CSS}</style>
</head>
<body>
<a class="skip" href="#diff-heading">Skip to the differences</a>
<div class="wrap">
<header class="banner compare-banner" id="banner" role="region" aria-label="Data provenance of both chains" data-sample="${data.a.sample || data.b.sample}">
<h1>${escapeHtml(data.title)}</h1>
<p class="summary">${escapeHtml(`${formatNumber(report.joined)} contracts in both · ${formatNumber(report.onlyInA)} only in A (${A}) · ${formatNumber(report.onlyInB)} only in B (${B})${joinedBy}. Differences are B − A.`)}</p>
<div class="sides">
${renderSide(data.a, true)}
${renderSide(data.b, false)}
</div>
</header>
<main id="app">
<section aria-labelledby="overall-heading">
<h2 id="overall-heading">All expiries</h2>
${renderCountsTable(report.fields, data.fieldLabels, A, B, "Per-field counts, all expiries")}
${renderTolerances(report)}
</section>
<section aria-labelledby="diff-heading">
<h2 id="diff-heading">By expiry</h2>
<div class="controls" role="group" aria-label="What to show">
<div><label for="expiry">Expiry</label><select id="expiry">${expiryOptions}</select></div>
</div>
<section id="expiry-stats" aria-live="polite" aria-label="This expiry"><noscript><p>The charts and the per-expiry tables need JavaScript; the provenance, the counts, the worst differences and the notes are complete without it.</p></noscript></section>
<section id="charts" class="charts" aria-label="Differences by strike">
${figure("fig-settlement", "Settlement difference by strike (B − A)")}
${figure("fig-openInterest", "Open interest difference by strike (B − A)")}
${figure("fig-volume", "Volume difference by strike (B − A)")}
</section>
<div id="expiry-counts"></div>
<section aria-labelledby="onesided-heading">
<h3 id="onesided-heading">One-sided contracts</h3>
<div id="one-sided"></div>
</section>
<section aria-labelledby="mismatch-heading">
<h3 id="mismatch-heading">Mismatches in this expiry</h3>
<div id="expiry-mismatches"></div>
</section>
</section>
<section aria-labelledby="worst-heading">
<h2 id="worst-heading">Worst differences</h2>
${renderWorst(report)}
</section>
<section aria-labelledby="notes-heading">
<h2 id="notes-heading">Expected differences</h2>
${report.notes.length ? `<ul class="notes">${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` : "<p>No notes.</p>"}
</section>
</main>
<footer>A = ${escapeHtml(A)} (${formatNumber(report.a.contracts)} contracts) · B = ${escapeHtml(B)} (${formatNumber(report.b.contracts)} contracts) · page made by @nq/report at ${escapeHtml(generated)} · self-contained: it loads nothing from the network.</footer>
</div>
${dataTag}
<script>${inlineScript(COMPARE_JS)}</script>
</body>
</html>
`;
}
