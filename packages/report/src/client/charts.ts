/**
 * Strike-axis charts on uPlot (canvas): grouped bars for calls and puts, lines for a smile, and labelled
 * vertical markers (the underlying price, max pain). Reusable by any page that plots values by strike.
 */
import uPlot from "uplot";
import { num } from "./format.js";

export type SeriesKind = "bar-left" | "bar-right" | "line";

export interface SeriesSpec {
  label: string;
  values: (number | null)[];
  /** A CSS custom property name ("--call") or a colour. */
  color: string;
  kind: SeriesKind;
  /** Line dash in CSS pixels (lines only). */
  dash?: number[];
  /** Hollow points (lines only): how a second basis is told apart without colour. */
  hollow?: boolean;
}

export interface Marker {
  value: number;
  label: string;
  color: string;
  dash?: number[];
}

export interface ChartSpec {
  x: number[];
  series: SeriesSpec[];
  markers: Marker[];
  yLabel: string;
  xLabel: string;
  /** Formats a y value for the axis and the legend. */
  yFormat?: (value: number) => string;
}

export function cssColor(value: string, style: CSSStyleDeclaration = getComputedStyle(document.documentElement)): string {
  if (!value.startsWith("--")) return value;
  return style.getPropertyValue(value).trim() || "#888";
}

function chartHeight(width: number): number {
  return Math.round(Math.max(200, Math.min(320, width * 0.5)));
}

const BAR_SIZE: [number, number] = [0.42, 28];

/** Draws `spec` into `container`, replacing what was there; returns the plot (destroy() it to free it). */
export function drawChart(container: HTMLElement, spec: ChartSpec): uPlot {
  container.replaceChildren();
  const width = Math.max(260, container.clientWidth || 600);
  const style = getComputedStyle(document.documentElement);
  const fg = cssColor("--fg", style);
  const muted = cssColor("--muted", style);
  const grid = cssColor("--border", style);
  const bg = cssColor("--bg", style);
  const format = spec.yFormat ?? ((v: number) => num(v));
  const axisFont = "12px system-ui, sans-serif";
  const series: uPlot.Series[] = [
    { label: spec.xLabel, value: (_u, v) => (v === null || v === undefined ? "–" : num(v)) },
    ...spec.series.map((s): uPlot.Series => {
      const color = cssColor(s.color, style);
      const value = (_u: uPlot, v: number | null) => (v === null || v === undefined ? "–" : format(v));
      if (s.kind === "line") {
        return {
          label: s.label,
          stroke: color,
          width: 2,
          ...(s.dash ? { dash: s.dash } : {}),
          spanGaps: false,
          points: { show: true, size: 6, stroke: color, fill: s.hollow ? bg : color, width: 1.5 },
          value,
        };
      }
      return {
        label: s.label,
        stroke: color,
        fill: color,
        width: 0,
        paths: uPlot.paths.bars!({ size: BAR_SIZE, align: s.kind === "bar-left" ? -1 : 1 }),
        points: { show: false },
        value,
      };
    }),
  ];
  const markers = spec.markers.map((m) => ({ ...m, color: cssColor(m.color, style) }));
  const options: uPlot.Options = {
    width,
    height: chartHeight(width),
    series,
    scales: { x: { time: false }, y: { range: (_u, min, max) => (spec.series.some((s) => s.kind !== "line") ? barRange(min, max) : padRange(min, max)) } },
    axes: [
      { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font: axisFont, label: spec.xLabel, labelFont: axisFont, values: (_u, ticks) => ticks.map((t) => num(t)) },
      { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font: axisFont, label: spec.yLabel, labelFont: axisFont, size: 60, values: (_u, ticks) => ticks.map((t) => compact(t, format)) },
    ],
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          const ratio = devicePixelRatio || 1;
          const { left, top, width: w, height: h } = u.bbox;
          markers.forEach((m, i) => {
            const x = Math.round(u.valToPos(m.value, "x", true));
            if (!Number.isFinite(x) || x < left || x > left + w) return;
            ctx.save();
            ctx.strokeStyle = m.color;
            ctx.lineWidth = 2 * ratio;
            ctx.setLineDash((m.dash ?? [6, 4]).map((d) => d * ratio));
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + h);
            ctx.stroke();
            ctx.setLineDash([]);
            // uPlot leaves its axis text settings on the context
            ctx.textAlign = "left";
            ctx.textBaseline = "alphabetic";
            ctx.font = `600 ${12 * ratio}px system-ui, sans-serif`;
            const textWidth = ctx.measureText(m.label).width;
            const right = x + 4 * ratio + textWidth > left + w;
            const tx = right ? x - 4 * ratio - textWidth : x + 4 * ratio;
            const ty = top + (14 + 16 * i) * ratio;
            ctx.fillStyle = bg;
            ctx.globalAlpha = 0.8;
            ctx.fillRect(tx - 2 * ratio, ty - 12 * ratio, textWidth + 4 * ratio, 16 * ratio);
            ctx.globalAlpha = 1;
            ctx.fillStyle = m.color;
            ctx.fillText(m.label, tx, ty);
            ctx.restore();
          });
        },
      ],
    },
  };
  const data: uPlot.AlignedData = [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData;
  const plot = new uPlot(options, data, container);
  plot.root.style.color = fg;
  return plot;
}

/** Bars grow from zero: up for positive values, down for negative ones (differences). */
function barRange(min: number | null, max: number | null): [number, number] {
  const lo = min !== null && Number.isFinite(min) && min < 0 ? min * 1.08 : 0;
  const hi = max !== null && Number.isFinite(max) && max > 0 ? max * 1.08 : lo < 0 ? -lo * 0.05 : 1;
  return [lo, hi];
}

function padRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  const pad = Math.max((max - min) * 0.08, Math.abs(max) * 0.02, 0.5);
  return [Math.max(0, min - pad), max + pad];
}

function compact(value: number, format: (v: number) => string): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${num(value / 1e6, 1)}M`;
  if (abs >= 1e4) return `${num(value / 1e3, 1)}k`;
  return format(value);
}

/** Counts the points of `spec` that are drawn (non-null values). */
export function pointCount(spec: ChartSpec): number {
  let n = 0;
  for (const s of spec.series) for (const v of s.values) if (v !== null && Number.isFinite(v)) n += 1;
  return n;
}

/**
 * Draws `spec` into a figure's `.chart` box and sets its text alternative; when there is nothing to draw,
 * the box says `empty.text` instead and the alternative is `empty.alt`. Returns the plot, or null.
 */
export function renderFigure(figure: HTMLElement, spec: ChartSpec | null, alt: string, empty: { text: string; alt: string }): uPlot | null {
  const box = figure.querySelector<HTMLElement>(".chart")!;
  const altText = figure.querySelector<HTMLElement>(".alt")!;
  if (!spec || pointCount(spec) === 0) {
    box.replaceChildren();
    box.removeAttribute("role");
    box.removeAttribute("aria-label");
    const p = document.createElement("p");
    p.className = "none";
    p.textContent = empty.text;
    box.append(p);
    altText.textContent = empty.alt;
    return null;
  }
  box.setAttribute("role", "img");
  box.setAttribute("aria-label", alt);
  altText.textContent = alt;
  return drawChart(box, spec);
}
