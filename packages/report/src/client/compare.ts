/**
 * The compare page in the browser: reads the embedded comparison, then draws the selected expiry — its
 * stats, settlement / open interest / volume differences (B − A) by strike for calls and puts, the
 * per-field counts, the one-sided contracts and the mismatches — and redraws on every change of expiry,
 * width or colour scheme. Fetches nothing.
 */
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import type uPlot from "uplot";
import { CHART_FIELDS, countsTableHtml, type ChartField, type CompareData, type CompareEncodedExpiry, type CompareEncodedSide } from "../compare-data.js";
import { decodeColumn, decodeStrikes } from "../data.js";
import { pointCount, renderFigure, type ChartSpec, type Marker } from "./charts.js";
import { money, num } from "./format.js";
import { loadEmbedded } from "./load.js";

interface SideView {
  pr: string;
  sym: string[];
  f: Record<ChartField, { a: (number | null)[]; b: (number | null)[]; d: (number | null)[]; s: string }>;
}

interface ExpiryView {
  meta: CompareEncodedExpiry;
  strikes: number[];
  c: SideView;
  p: SideView;
}

export interface CompareState {
  ready: boolean;
  expiry: string | null;
  figures: Record<string, { points: number; expiry: string | null }>;
  error: string | null;
}

declare global {
  interface Window {
    __nqCompare?: CompareState;
  }
}

const state: CompareState = { ready: false, expiry: null, figures: {}, error: null };
window.__nqCompare = state;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T | null;
const fmt = (v: number | null, digits = 2) => (v === null ? "unknown" : num(v, digits));
const esc = (text: string) => text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** Differences drawn: values both sides have for the same date (exact, within tolerance, mismatch). */
const DRAWN = new Set(["e", "t", "m"]);
const FIGURE: Record<ChartField, { id: string; noun: string; digits: number }> = {
  settlement: { id: "fig-settlement", noun: "settlement", digits: 2 },
  openInterest: { id: "fig-openInterest", noun: "open interest", digits: 0 },
  volume: { id: "fig-volume", noun: "volume", digits: 0 },
};

function decodeSide(side: CompareEncodedSide, n: number): SideView {
  const f = Object.fromEntries(
    CHART_FIELDS.map((field) => {
      const x = side.f[field];
      return [field, { a: decodeColumn(x.a, n), b: decodeColumn(x.b, n), d: decodeColumn(x.d, n), s: x.s.padEnd(n, "-") }];
    }),
  ) as SideView["f"];
  return { pr: side.pr.padEnd(n, "-"), sym: side.sym.split("|"), f };
}

const views = new Map<string, ExpiryView>();
function viewOf(meta: CompareEncodedExpiry): ExpiryView {
  let view = views.get(meta.date);
  if (!view) {
    const strikes = decodeStrikes(meta.k);
    view = { meta, strikes, c: decodeSide(meta.c, strikes.length), p: decodeSide(meta.p, strikes.length) };
    views.set(meta.date, view);
  }
  return view;
}

const plots = new Map<string, uPlot>();

function showFigure(id: string, spec: ChartSpec | null, alt: string, empty: string): void {
  const figure = $(id);
  if (!figure) return;
  plots.get(id)?.destroy();
  plots.delete(id);
  const points = spec ? pointCount(spec) : 0;
  figure.dataset.expiry = state.expiry ?? "";
  figure.dataset.points = String(points);
  state.figures[id] = { points, expiry: state.expiry };
  const plot = renderFigure(figure, spec, alt, { text: empty, alt: alt });
  if (plot) plots.set(id, plot);
}

function sideWords(view: ExpiryView, side: "c" | "p", field: ChartField, digits: number): { words: string; datesDiffer: number } {
  const s = view[side].f[field];
  let compared = 0;
  let mismatches = 0;
  let within = 0;
  let datesDiffer = 0;
  let worst = -1;
  for (let i = 0; i < view.strikes.length; i++) {
    const code = s.s[i];
    if (code === "d") datesDiffer += 1;
    if (!DRAWN.has(code!)) continue;
    compared += 1;
    if (code === "m") mismatches += 1;
    if (code === "t") within += 1;
    const d = s.d[i];
    if (d !== null && d !== undefined && d !== 0 && (worst < 0 || Math.abs(d) > Math.abs(s.d[worst]!))) worst = i;
  }
  const name = side === "c" ? "Calls" : "Puts";
  if (!compared) return { words: `${name}: nothing compared.`, datesDiffer };
  const largest = worst < 0 ? "every value equal" : `the largest ${fmt(s.d[worst]!, digits)} at strike ${fmt(view.strikes[worst]!)} (A ${fmt(s.a[worst] ?? null, digits)}, B ${fmt(s.b[worst] ?? null, digits)})`;
  return { words: `${name}: ${compared} compared, ${mismatches} mismatch${mismatches === 1 ? "" : "es"}, ${within} within tolerance; ${largest}.`, datesDiffer };
}

function diffFigure(view: ExpiryView, field: ChartField, data: CompareData): void {
  const { id, noun, digits } = FIGURE[field];
  const meta = view.meta;
  const values = (side: "c" | "p") => view.strikes.map((_, i) => (DRAWN.has(view[side].f[field].s[i]!) ? (view[side].f[field].d[i] ?? null) : null));
  const markers: Marker[] = meta.underlyingPrice === null ? [] : [{ value: meta.underlyingPrice, label: `${meta.underlying ?? "underlying"} ${money(meta.underlyingPrice)}`, color: "--under" }];
  const spec: ChartSpec = {
    x: view.strikes,
    series: [
      { label: `Calls ${noun} B − A`, values: values("c"), color: "--call", kind: "bar-left" },
      { label: `Puts ${noun} B − A`, values: values("p"), color: "--put", kind: "bar-right" },
    ],
    markers,
    xLabel: "Strike",
    yLabel: `${noun[0]!.toUpperCase()}${noun.slice(1)}: B − A`,
    yFormat: (v) => fmt(v, digits),
  };
  const calls = sideWords(view, "c", field, digits);
  const puts = sideWords(view, "p", field, digits);
  const dates = calls.datesDiffer + puts.datesDiffer;
  const alt =
    `${noun[0]!.toUpperCase()}${noun.slice(1)} difference by strike for ${meta.date}, B (${data.b.source}) minus A (${data.a.source}); bars above zero: B is higher. ` +
    `${calls.words} ${puts.words}` +
    (dates ? ` ${dates} value${dates === 1 ? "" : "s"} for different trade dates, not drawn.` : "") +
    (meta.underlyingPrice !== null ? ` Underlying ${meta.underlying ?? ""} at ${money(meta.underlyingPrice)} (dashed line).` : "");
  showFigure(id, spec, alt, `No ${noun} compared for ${meta.date}: neither chain has it for both sides of a contract.`);
}

function statsHtml(meta: CompareEncodedExpiry, data: CompareData): string {
  const item = (label: string, value: string) => `<div><dt>${esc(label)}</dt><dd>${esc(value)}</dd></div>`;
  return [
    item("Expiry", `${meta.date} (${meta.dte >= 0 ? `${meta.dte} days` : "expired"})`),
    item("Underlying", meta.underlyingPrice === null ? `${meta.underlying ?? "unknown"} (no price)` : `${meta.underlying ?? ""} ${money(meta.underlyingPrice)}`),
    item("In both", fmt(meta.joined, 0)),
    item(`Only in A (${data.a.source})`, fmt(meta.onlyInA, 0)),
    item(`Only in B (${data.b.source})`, fmt(meta.onlyInB, 0)),
  ].join("");
}

const LIST_LIMIT = 200;

function oneSidedHtml(view: ExpiryView, data: CompareData): string {
  const rows: string[] = [];
  let total = 0;
  for (let i = 0; i < view.strikes.length; i++) {
    for (const side of ["c", "p"] as const) {
      const code = view[side].pr[i];
      if (code !== "A" && code !== "B") continue;
      total += 1;
      if (rows.length >= LIST_LIMIT) continue;
      const who = code === "A" ? `only in A (${data.a.source})` : `only in B (${data.b.source})`;
      rows.push(`<tr class="only-${code}"><th scope="row">${esc(view[side].sym[i] ?? "")}</th><td>${esc(fmt(view.strikes[i]!))}</td><td>${side === "c" ? "call" : "put"}</td><td>${esc(who)}</td></tr>`);
    }
  }
  if (!total) return `<p>None: every contract of ${esc(view.meta.date)} is in both chains.</p>`;
  return `<p class="note">${total} contract${total === 1 ? "" : "s"} of ${esc(view.meta.date)} in one chain only${total > LIST_LIMIT ? ` (the first ${LIST_LIMIT} listed; the CSV has all)` : ""}.</p><div class="table-wrap list-wrap" tabindex="0" role="region" aria-labelledby="onesided-heading"><table id="one-sided-table"><thead><tr><th scope="col">Symbol</th><th scope="col">Strike</th><th scope="col">Right</th><th scope="col">In</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

function mismatchesHtml(view: ExpiryView, data: CompareData): string {
  const found: { i: number; side: "c" | "p"; field: ChartField; d: number }[] = [];
  for (const field of CHART_FIELDS) {
    for (const side of ["c", "p"] as const) {
      const f = view[side].f[field];
      for (let i = 0; i < view.strikes.length; i++) if (f.s[i] === "m") found.push({ i, side, field, d: f.d[i] ?? 0 });
    }
  }
  if (!found.length) return `<p>No settlement, open interest or volume mismatch in ${esc(view.meta.date)}.</p>`;
  found.sort((x, y) => Math.abs(y.d) - Math.abs(x.d));
  const rows = found.slice(0, LIST_LIMIT).map(({ i, side, field, d }) => {
    const f = view[side].f[field];
    const digits = FIGURE[field].digits;
    return `<tr><th scope="row">${esc(view[side].sym[i] ?? "")}</th><td>${esc(fmt(view.strikes[i]!))}</td><td>${side === "c" ? "call" : "put"}</td><td>${esc(data.fieldLabels[field] ?? field)}</td><td>${esc(fmt(f.a[i] ?? null, digits))}</td><td>${esc(fmt(f.b[i] ?? null, digits))}</td><td>${esc(fmt(d, digits))}</td></tr>`;
  });
  return `<p class="note">${found.length} mismatch${found.length === 1 ? "" : "es"} beyond tolerance, largest first${found.length > LIST_LIMIT ? ` (the first ${LIST_LIMIT} listed)` : ""}.</p><div class="table-wrap list-wrap" tabindex="0" role="region" aria-labelledby="mismatch-heading"><table id="mismatch-table"><thead><tr><th scope="col">Symbol</th><th scope="col">Strike</th><th scope="col">Right</th><th scope="col">Field</th><th scope="col">A (${esc(data.a.source)})</th><th scope="col">B (${esc(data.b.source)})</th><th scope="col">B − A</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

function render(data: CompareData): void {
  const meta = data.expiries.find((e) => e.date === state.expiry);
  if (!meta) {
    const stats = $("expiry-stats");
    if (stats) stats.innerHTML = "<p>Neither chain has any contract.</p>";
    for (const field of CHART_FIELDS) showFigure(FIGURE[field].id, null, "", "No contracts.");
    return;
  }
  const view = viewOf(meta);
  const stats = $("expiry-stats");
  if (stats) stats.innerHTML = `<dl class="stats">${statsHtml(meta, data)}</dl>`;
  for (const field of CHART_FIELDS) diffFigure(view, field, data);
  const counts = $("expiry-counts");
  if (counts) counts.innerHTML = countsTableHtml(meta.fields, data.fieldLabels, data.a.source, data.b.source, `Per-field counts, ${meta.date}`);
  const oneSided = $("one-sided");
  if (oneSided) oneSided.innerHTML = oneSidedHtml(view, data);
  const mismatches = $("expiry-mismatches");
  if (mismatches) mismatches.innerHTML = mismatchesHtml(view, data);
}

function readHash(data: CompareData): void {
  const expiry = new URLSearchParams(location.hash.slice(1)).get("expiry");
  state.expiry = data.expiries.some((e) => e.date === expiry) ? expiry : (data.expiries[0]?.date ?? null);
}

async function main(): Promise<void> {
  const data = await loadEmbedded<CompareData>("nq-compare-data", "comparison data");
  readHash(data);
  const select = $<HTMLSelectElement>("expiry");
  if (select && state.expiry) select.value = state.expiry;
  let lastWidth = $("charts")?.clientWidth ?? 0;
  render(data);
  select?.addEventListener("change", () => {
    state.expiry = select.value;
    history.replaceState(null, "", `#${new URLSearchParams({ expiry: select.value }).toString()}`);
    render(data);
  });
  let pending = 0;
  new ResizeObserver(() => {
    const width = $("charts")?.clientWidth ?? 0;
    if (width === lastWidth) return;
    lastWidth = width;
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      for (const plot of plots.values()) {
        const w = Math.max(260, plot.root.parentElement?.clientWidth ?? 600);
        plot.setSize({ width: w, height: Math.round(Math.max(200, Math.min(320, w * 0.5))) });
      }
    });
  }).observe($("charts") ?? document.body);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => render(data));
  state.ready = true;
  document.documentElement.dataset.ready = "true";
}

main().catch((error: unknown) => {
  state.error = error instanceof Error ? error.message : String(error);
  const stats = $("expiry-stats");
  if (stats) stats.textContent = `The page could not be drawn: ${state.error}. The provenance, the counts and the notes above and below still hold.`;
  document.documentElement.dataset.ready = "error";
});
