/**
 * The chain page in the browser: reads the embedded data (plain JSON, or gzip+base64 for big chains),
 * then draws the selected expiry — stats, OI and volume by strike, the IV smile, the chain table — and
 * redraws on every change of expiry, strike range, sort, width or colour scheme. Fetches nothing.
 */
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import type uPlot from "uplot";
import { decodeSide, decodeStrikes, type DecodedSide, type EncodedExpiry, type IvCode, type ReportData } from "../data.js";
import { pointCount, renderFigure, type ChartSpec, type Marker, type SeriesSpec } from "./charts.js";
import { money, num } from "./format.js";
import { loadEmbedded } from "./load.js";
import { sortRows, tableBody, tableHead, type SortState } from "./table.js";

interface LiveConfig {
  events: string;
  /** true: reload when a new chain appears (the "newest" page); false: offer a link. */
  follow: boolean;
  newestHref: string;
}

interface ExpiryView {
  meta: EncodedExpiry;
  strikes: number[];
  c: DecodedSide;
  p: DecodedSide;
}

export interface ReportState {
  ready: boolean;
  /** ms from navigation start until the first expiry is drawn */
  renderMs: number | null;
  /** ms the script itself took (parse, decode, draw) */
  scriptMs: number | null;
  expiry: string | null;
  range: string;
  figures: Record<string, { points: number; expiry: string | null }>;
  error: string | null;
  liveEvents: number;
  /** ms per step of the last draw (for the benchmark) */
  phases: Record<string, number>;
}

declare global {
  interface Window {
    __nqReport?: ReportState;
  }
}

const started = performance.now();
const state: ReportState = { ready: false, renderMs: null, scriptMs: null, expiry: null, range: "0.05", figures: {}, error: null, liveEvents: 0, phases: {} };
window.__nqReport = state;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T | null;
const fmt = (v: number | null, digits = 2) => (v === null ? "unknown" : num(v, digits));
const price = (v: number | null) => (v === null ? "unknown" : money(v));

function loadData(): Promise<ReportData> {
  return loadEmbedded<ReportData>("nq-report-data", "chain data");
}

function readLive(): LiveConfig | null {
  const element = $("nq-report-live");
  return element ? (JSON.parse(element.textContent ?? "null") as LiveConfig | null) : null;
}

const views = new Map<string, ExpiryView>();
function viewOf(meta: EncodedExpiry): ExpiryView {
  let view = views.get(meta.date);
  if (!view) {
    const strikes = decodeStrikes(meta.k);
    view = { meta, strikes, c: decodeSide(meta.c, strikes.length), p: decodeSide(meta.p, strikes.length) };
    views.set(meta.date, view);
  }
  return view;
}

function rowsInRange(view: ExpiryView, range: string): number[] {
  const f = view.meta.underlyingPrice;
  const all = view.strikes.map((_, i) => i);
  if (range === "all" || f === null) return all;
  const share = Number(range);
  const inside = all.filter((i) => Math.abs(view.strikes[i]! - f) <= f * share);
  return inside.length ? inside : all;
}

const plots = new Map<string, { plot: uPlot; spec: ChartSpec }>();

function showFigure(id: string, spec: ChartSpec | null, alt: string, empty: string): void {
  const figure = $(id);
  if (!figure) return;
  plots.get(id)?.plot.destroy();
  plots.delete(id);
  const points = spec ? pointCount(spec) : 0;
  figure.dataset.expiry = state.expiry ?? "";
  figure.dataset.points = String(points);
  state.figures[id] = { points, expiry: state.expiry };
  const plot = renderFigure(figure, spec, alt, { text: empty, alt: "" });
  if (plot && spec) plots.set(id, { plot, spec });
}

function underlyingMarker(meta: EncodedExpiry): Marker[] {
  if (meta.underlyingPrice === null) return [];
  return [{ value: meta.underlyingPrice, label: `${meta.underlying ?? "underlying"} ${price(meta.underlyingPrice)}`, color: "--under" }];
}

function largest(strikes: number[], values: (number | null)[], rows: number[]): string {
  let best = -1;
  let bestValue = -Infinity;
  for (const i of rows) {
    const v = values[i];
    if (v !== null && v !== undefined && v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best < 0 || bestValue <= 0 ? "none" : `${fmt(bestValue, 0)} at strike ${fmt(strikes[best]!)}`;
}

function total(values: (number | null)[], rows: number[]): number | null {
  let sum: number | null = null;
  for (const i of rows) if (values[i] !== null && values[i] !== undefined) sum = (sum ?? 0) + values[i]!;
  return sum;
}

function rangeWords(view: ExpiryView, rows: number[]): string {
  if (!rows.length) return "";
  const lo = view.strikes[rows[0]!]!;
  const hi = view.strikes[rows[rows.length - 1]!]!;
  return `strikes ${fmt(lo)} to ${fmt(hi)} (${rows.length} of ${view.strikes.length})`;
}

function barFigure(id: string, view: ExpiryView, rows: number[], field: "oi" | "vol", noun: string): void {
  const meta = view.meta;
  const x = rows.map((i) => view.strikes[i]!);
  const markers = underlyingMarker(meta);
  if (field === "oi" && meta.stats.maxPain !== null) markers.push({ value: meta.stats.maxPain, label: `max pain ${fmt(meta.stats.maxPain)}`, color: "--pain", dash: [2, 3] });
  const spec: ChartSpec = {
    x,
    series: [
      { label: `Calls ${noun}`, values: rows.map((i) => view.c[field][i] ?? null), color: "--call", kind: "bar-left" },
      { label: `Puts ${noun}`, values: rows.map((i) => view.p[field][i] ?? null), color: "--put", kind: "bar-right" },
    ],
    markers,
    xLabel: "Strike",
    yLabel: field === "oi" ? "Open interest (contracts)" : "Volume (contracts)",
    yFormat: (v) => fmt(v, 0),
  };
  const ratio = field === "oi" ? meta.stats.pcrOi : meta.stats.pcrVol;
  const alt =
    `${noun[0]!.toUpperCase()}${noun.slice(1)} by strike for ${meta.date}, ${rangeWords(view, rows)}. ` +
    `Calls: ${fmt(total(view.c[field], rows), 0)} in total, the most ${largest(view.strikes, view.c[field], rows)}. ` +
    `Puts: ${fmt(total(view.p[field], rows), 0)} in total, the most ${largest(view.strikes, view.p[field], rows)}. ` +
    `Put/call ratio (whole expiry): ${ratio === null ? "unknown" : ratio.toFixed(2)}. ` +
    (meta.underlyingPrice !== null ? `Underlying ${meta.underlying ?? ""} at ${price(meta.underlyingPrice)} (marked by a dashed line).` : "No underlying price.") +
    (field === "oi" && meta.stats.maxPain !== null ? ` Max pain at ${fmt(meta.stats.maxPain)} (dotted line).` : "");
  showFigure(id, spec, alt, `No ${noun} for ${meta.date} in this chain.`);
}

const BASES: { code: IvCode; words: string; dash?: number[]; hollow?: boolean }[] = [
  { code: "m", words: "from mid" },
  { code: "s", words: "from settlement", dash: [6, 4], hollow: true },
  { code: "f", words: "feed's own", dash: [2, 3] },
];

function smileFigure(id: string, view: ExpiryView, rows: number[]): void {
  const meta = view.meta;
  const series: SeriesSpec[] = [];
  const parts: string[] = [];
  for (const [side, sideName, color] of [["c", "Calls", "--call"], ["p", "Puts", "--put"]] as const) {
    for (const basis of BASES) {
      const values = rows.map((i) => (view[side].ib[i] === basis.code && view[side].iv[i] !== null ? view[side].iv[i]! * 100 : null));
      const known = values.filter((v): v is number => v !== null);
      if (!known.length) continue;
      series.push({ label: `${sideName} IV (${basis.words})`, values, color, kind: "line", ...(basis.dash ? { dash: basis.dash } : {}), ...(basis.hollow ? { hollow: true } : {}) });
      const lo = Math.min(...known);
      const hi = Math.max(...known);
      parts.push(`${sideName} ${basis.words}: ${known.length} points, ${lo.toFixed(1)}% to ${hi.toFixed(1)}%`);
    }
  }
  if (!series.length) {
    showFigure(id, null, "", `No implied volatility for ${meta.date} in this chain (the feed gave none and none could be computed).`);
    return;
  }
  const atmIndex = meta.stats.atm === null ? -1 : view.strikes.indexOf(meta.stats.atm);
  const atmIv = atmIndex < 0 ? null : (view.c.iv[atmIndex] ?? view.p.iv[atmIndex] ?? null);
  const alt =
    `Implied volatility smile for ${meta.date}, ${rangeWords(view, rows)}. ${parts.join("; ")}.` +
    (atmIv !== null ? ` At the money (${fmt(meta.stats.atm)}): ${(atmIv * 100).toFixed(1)}%.` : "") +
    " Solid lines: solved from the quote's mid; dashed with hollow points: from the settlement price; dotted: the feed's own.";
  showFigure(id, { x: rows.map((i) => view.strikes[i]!), series, markers: underlyingMarker(meta), xLabel: "Strike", yLabel: "IV (%)", yFormat: (v) => `${v.toFixed(1)}%` }, alt, "");
}

function statsHtml(meta: EncodedExpiry): string {
  const s = meta.stats;
  const item = (label: string, value: string) => `<div><dt>${label}</dt><dd>${value}</dd></div>`;
  return [
    item("Expiry", `${meta.date} (${meta.dte >= 0 ? `${meta.dte} days` : "expired"})${meta.roots.length ? ` · ${meta.roots.join(", ")}` : ""}`),
    item("Underlying", meta.underlyingPrice === null ? `${meta.underlying ?? "unknown"} (no price)` : `${meta.underlying ?? ""} ${price(meta.underlyingPrice)}${meta.underlyingBasis ? ` (${meta.underlyingBasis})` : ""}`),
    item("ATM strike", fmt(s.atm)),
    item("Max pain", fmt(s.maxPain)),
    item("Put/call OI", s.pcrOi === null ? "unknown" : `${s.pcrOi.toFixed(2)} (${fmt(s.putOi, 0)} / ${fmt(s.callOi, 0)})`),
    item("Put/call volume", s.pcrVol === null ? "unknown" : `${s.pcrVol.toFixed(2)} (${fmt(s.putVol, 0)} / ${fmt(s.callVol, 0)})`),
    item("Contracts", fmt(s.contracts, 0)),
  ].join("");
}

let sort: SortState = { key: "k", dir: 1 };
/** Rows drawn before "show all": a long table costs layout time on every device, and the money is near ATM. */
const TABLE_ROWS = 200;
let showAllRows = false;

/** The rows to draw: all of them, or TABLE_ROWS — around the ATM strike in strike order, else the top of the sort. */
function visibleRows(view: ExpiryView, sorted: number[]): number[] {
  if (showAllRows || sorted.length <= TABLE_ROWS) return sorted;
  if (sort.key !== "k") return sorted.slice(0, TABLE_ROWS);
  const atm = view.meta.stats.atm;
  const at = Math.max(0, atm === null ? 0 : sorted.findIndex((i) => view.strikes[i] === atm));
  const start = Math.max(0, Math.min(sorted.length - TABLE_ROWS, at - TABLE_ROWS / 2));
  return sorted.slice(start, start + TABLE_ROWS);
}

function renderTable(view: ExpiryView, rows: number[]): void {
  const table = $("chain-table");
  if (!table) return;
  const sorted = sortRows(view, rows, sort);
  const shown = visibleRows(view, sorted);
  table.querySelector("thead")!.innerHTML = tableHead(sort);
  table.querySelector("tbody")!.innerHTML = tableBody({ strikes: view.strikes, c: view.c, p: view.p, rows: shown, atm: view.meta.stats.atm, underlyingPrice: view.meta.underlyingPrice });
  // Keep the ATM row in view inside the table's own scroll box (after layout, so the draw is not held up).
  requestAnimationFrame(() => {
    const wrap = table.parentElement;
    const atmRow = table.querySelector<HTMLElement>("tr.atm");
    if (wrap && atmRow && sort.key === "k") wrap.scrollTop = Math.max(0, atmRow.offsetTop - wrap.clientHeight / 2);
  });
  const more = $<HTMLButtonElement>("table-more");
  if (more) {
    more.hidden = shown.length === sorted.length;
    more.textContent = `Show all ${sorted.length} rows (${shown.length} shown${sort.key === "k" ? ", around the ATM strike" : ""})`;
  }
  const note = $("table-note");
  if (note) {
    note.textContent =
      `${view.meta.date}: ${rangeWords(view, rows)}. ATM row marked "ATM" (nearest ${view.meta.underlying ?? "underlying"} ${price(view.meta.underlyingPrice)}); in-the-money cells shaded. ` +
      "IV: solved from the mid unless marked ˢ (from settlement) or ᶠ (the feed's own). – means unknown; an empty half means no such contract.";
  }
}

function readHash(data: ReportData): void {
  const params = new URLSearchParams(location.hash.slice(1));
  const expiry = params.get("expiry");
  state.expiry = data.expiries.some((e) => e.date === expiry) ? expiry : (data.expiries[0]?.date ?? null);
  const range = params.get("range");
  if (range && ["0.02", "0.05", "0.1", "0.2", "all"].includes(range)) state.range = range;
}

function writeHash(): void {
  const params = new URLSearchParams();
  if (state.expiry) params.set("expiry", state.expiry);
  params.set("range", state.range);
  history.replaceState(null, "", `#${params.toString()}`);
}

function render(data: ReportData): void {
  const meta = data.expiries.find((e) => e.date === state.expiry);
  const statsEl = $("expiry-stats");
  if (!meta) {
    if (statsEl) statsEl.innerHTML = "<p>This chain has no contracts.</p>";
    for (const id of ["fig-oi", "fig-vol", "fig-iv"]) showFigure(id, null, "", "No contracts.");
    return;
  }
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    state.phases[name] = now - t;
    t = now;
  };
  const view = viewOf(meta);
  const rows = rowsInRange(view, state.range);
  lap("decode");
  if (statsEl) statsEl.innerHTML = `<dl class="stats">${statsHtml(meta)}</dl>`;
  barFigure("fig-oi", view, rows, "oi", "open interest");
  lap("oi");
  barFigure("fig-vol", view, rows, "vol", "volume");
  lap("volume");
  smileFigure("fig-iv", view, rows);
  lap("smile");
  renderTable(view, rows);
  lap("table");
}

function startLive(live: LiveConfig): void {
  const status = $("live");
  if (!status) return;
  status.hidden = false;
  const say = (text: string) => (status.textContent = text);
  say("Connecting to the local server…");
  const events = new EventSource(live.events);
  events.addEventListener("open", () =>
    say(live.follow ? "Live: this page shows the newest chain in the folder and reloads when a new one is written." : "Live: you will be told when a newer chain is written."),
  );
  events.addEventListener("chain", (event) => {
    state.liveEvents += 1;
    const info = JSON.parse((event as MessageEvent<string>).data) as { name: string };
    if (live.follow) {
      say(`A new chain was written (${info.name}); loading it…`);
      events.close();
      location.reload();
    } else {
      status.innerHTML = "";
      status.append(`A newer chain was written (${info.name}). `);
      const link = document.createElement("a");
      link.href = live.newestHref;
      link.textContent = "Open the newest";
      status.append(link);
    }
  });
  events.addEventListener("error", () => say("The connection to the local server was lost; retrying…"));
}

async function main(): Promise<void> {
  const live = readLive();
  if (live) startLive(live);
  const t0 = performance.now();
  const data = await loadData();
  state.phases.load = performance.now() - t0;
  readHash(data);
  const expirySelect = $<HTMLSelectElement>("expiry");
  const rangeSelect = $<HTMLSelectElement>("range");
  if (expirySelect && state.expiry) expirySelect.value = state.expiry;
  if (rangeSelect) rangeSelect.value = state.range;
  // Measured before the table exists: reading a width after it would lay the whole table out first.
  let lastWidth = $("charts")?.clientWidth ?? 0;
  render(data);
  expirySelect?.addEventListener("change", () => {
    state.expiry = expirySelect.value;
    showAllRows = false;
    writeHash();
    render(data);
  });
  rangeSelect?.addEventListener("change", () => {
    state.range = rangeSelect.value;
    showAllRows = false;
    writeHash();
    render(data);
  });
  $("table-more")?.addEventListener("click", () => {
    showAllRows = true;
    const meta = data.expiries.find((e) => e.date === state.expiry);
    if (meta) renderTable(viewOf(meta), rowsInRange(viewOf(meta), state.range));
    $("chain-table")?.querySelector<HTMLButtonElement>("button[data-sort]")?.focus();
  });
  $("chain-table")?.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-sort]");
    if (!button) return;
    const key = button.dataset.sort!;
    sort = { key, dir: sort.key === key ? (sort.dir === 1 ? -1 : 1) : key === "k" ? 1 : -1 };
    const meta = data.expiries.find((e) => e.date === state.expiry);
    if (meta) {
      const view = viewOf(meta);
      renderTable(view, rowsInRange(view, state.range));
      $("chain-table")?.querySelector<HTMLButtonElement>(`button[data-sort="${key}"]`)?.focus();
    }
  });
  // Follow the width and the colour scheme.
  let pending = 0;
  new ResizeObserver(() => {
    const width = $("charts")?.clientWidth ?? 0;
    if (width === lastWidth) return;
    lastWidth = width;
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      for (const { plot } of plots.values()) {
        const box = plot.root.parentElement;
        const w = Math.max(260, box?.clientWidth ?? 600);
        plot.setSize({ width: w, height: Math.round(Math.max(200, Math.min(320, w * 0.5))) });
      }
    });
  }).observe($("charts") ?? document.body);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => render(data));
  // From the start of navigation: what a reader waits for.
  state.renderMs = performance.now();
  state.scriptMs = performance.now() - started;
  state.ready = true;
  document.documentElement.dataset.ready = "true";
}

main().catch((error: unknown) => {
  state.error = error instanceof Error ? error.message : String(error);
  const app = $("expiry-stats");
  if (app) app.textContent = `The page could not be drawn: ${state.error}. The provenance above still holds.`;
  document.documentElement.dataset.ready = "error";
});
