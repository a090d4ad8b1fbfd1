/**
 * The page: provenance banner, controls, figures and table shell are written here as static HTML (the
 * banner reads right even without JavaScript); the data is embedded as JSON — gzip+base64 when large —
 * and the bundled client script and styles are inlined. The result opens from disk with no network.
 */
import { gzipSync } from "node:zlib";
import { css as CLIENT_CSS, js as CLIENT_JS } from "virtual:nq-report-client";
import type { BannerFact, BannerFlag, ReportData } from "./data.js";
import { buildReportData, formatTime, type ChainForReport, type RunContext } from "./model.js";

export interface LiveOptions {
  /** The Server-Sent Events endpoint ("/events"); events named "chain" carry `{ name }`. */
  events: string;
  /** Reload when a new chain is written (the page of the newest chain), or only say so. */
  follow: boolean;
  /** Where the newest chain's page is ("/"). */
  newestHref?: string;
  /** Extra links shown under the banner (other chains, the history index), already safe hrefs. */
  links?: { label: string; href: string; current?: boolean }[];
  /** What is being served ("apps/runner/outputs"). */
  folder?: string;
}

export interface RenderOptions {
  run?: RunContext;
  title?: string;
  /** "auto" (default): gzip+base64 when the data is over `compressAbove` characters. */
  compress?: "auto" | "always" | "never";
  compressAbove?: number;
  /** For `serve`: the page follows the folder over SSE. */
  live?: LiveOptions;
  /** Shown in the footer; default now. */
  generatedAt?: Date;
}

const DEFAULT_COMPRESS_ABOVE = 200_000;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON safe inside a <script> element: no "</script>", no "<!--". */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

const ICON: Record<BannerFlag["tone"], string> = { danger: "⚠", warning: "⚠", info: "ℹ", ok: "✓" };

export function renderFlags(flags: BannerFlag[]): string {
  return `<ul class="flags">${flags
    .map(
      (flag) =>
        `<li class="flag tone-${flag.tone}" data-flag="${escapeHtml(flag.label)}"><span aria-hidden="true">${ICON[flag.tone]} </span><strong>${escapeHtml(flag.label)}</strong>${escapeHtml(flag.text)}${
          flag.details?.length ? `<ul>${flag.details.map((d) => `<li>${escapeHtml(d)}</li>`).join("")}</ul>` : ""
        }</li>`,
    )
    .join("")}</ul>`;
}

export function renderFacts(facts: BannerFact[], className = "facts"): string {
  return `<dl class="${className}">${facts.map((f) => `<div><dt>${escapeHtml(f.label)}</dt><dd>${escapeHtml(f.value)}</dd></div>`).join("")}</dl>`;
}

/** The page for one chain, as one self-contained HTML string. */
export function renderChainHtml(chain: ChainForReport, options: RenderOptions = {}): string {
  const data = buildReportData(chain, { ...(options.run ? { run: options.run } : {}), ...(options.title ? { title: options.title } : {}) });
  return renderReportHtml(data, options);
}

export function renderReportHtml(data: ReportData, options: RenderOptions = {}): string {
  const json = scriptJson(data);
  const compress = options.compress ?? "auto";
  const packed = compress === "always" || (compress === "auto" && json.length > (options.compressAbove ?? DEFAULT_COMPRESS_ABOVE));
  const dataTag = packed
    ? `<script id="nq-report-data" type="application/gzip-base64">${gzipSync(JSON.stringify(data), { level: 9 }).toString("base64")}</script>`
    : `<script id="nq-report-data" type="application/json">${json}</script>`;
  const live = options.live;
  const liveTag = live ? `<script id="nq-report-live" type="application/json">${scriptJson({ events: live.events, follow: live.follow, newestHref: live.newestHref ?? "/" })}</script>` : "";
  const expiryOptions = data.expiries
    .map((e, i) => `<option value="${e.date}">${e.date} · ${e.dte >= 0 ? `${e.dte}d` : "expired"}${e.underlying ? ` · ${escapeHtml(e.underlying)}` : ""}${i === 0 ? " (nearest)" : ""}</option>`)
    .join("");
  const links = live?.links?.length
    ? `<nav aria-label="Chains in this folder" class="note"><strong>Chains${live.folder ? ` in ${escapeHtml(live.folder)}` : ""}:</strong> ${live.links
        .map((l) => (l.current ? `<span aria-current="page">${escapeHtml(l.label)}</span>` : `<a href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a>`))
        .join(" · ")}</nav>`
    : "";
  const figure = (id: string, caption: string) =>
    `<figure id="${id}" data-points="0"><figcaption>${caption}</figcaption><div class="chart"></div><p class="alt"></p></figure>`;
  const generated = formatTime((options.generatedAt ?? new Date()).toISOString());
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'">
<title>${escapeHtml(data.title)}</title>
<style>${CLIENT_CSS}</style>
</head>
<body>
<a class="skip" href="#chain-table">Skip to the chain table</a>
<div class="wrap">
<header class="banner" id="banner" role="region" aria-label="Data provenance" data-sample="${data.sample}" data-delayed="${data.delayed}" data-complete="${data.complete}">
<h1>${escapeHtml(data.title)}</h1>
${renderFlags(data.flags)}
${renderFacts(data.facts)}
</header>
${live ? `<p id="live" class="live" role="status" aria-live="polite" hidden></p>${links}` : ""}
<main id="app">
<div class="controls" role="group" aria-label="What to show">
<div><label for="expiry">Expiry</label><select id="expiry">${expiryOptions}</select></div>
<div><label for="range">Strikes</label><select id="range"><option value="0.02">within ±2% of the underlying</option><option value="0.05" selected>within ±5%</option><option value="0.1">within ±10%</option><option value="0.2">within ±20%</option><option value="all">all strikes</option></select></div>
</div>
<section id="expiry-stats" aria-live="polite" aria-label="This expiry"><noscript><p>Charts and the chain table need JavaScript; the provenance above and the quality below are complete without it.</p></noscript></section>
<section id="charts" class="charts" aria-label="Charts">
${figure("fig-oi", "Open interest by strike")}
${figure("fig-vol", "Volume by strike")}
${figure("fig-iv", "Implied volatility smile")}
</section>
<section aria-labelledby="chain-heading">
<h2 id="chain-heading">Chain</h2>
<p id="table-note" class="note"></p>
<div class="table-wrap" tabindex="0" role="region" aria-labelledby="chain-heading"><table id="chain-table"><caption class="visually-hidden">Calls on the left, strike in the middle, puts on the right; the buttons in the headers sort.</caption><thead></thead><tbody></tbody></table></div>
<p><button type="button" id="table-more" hidden></button></p>
</section>
<section aria-labelledby="quality-heading">
<h2 id="quality-heading">Quality</h2>
${data.quality.length ? renderFacts(data.quality) : "<p>No quality metrics in this chain.</p>"}
</section>
</main>
<footer>${escapeHtml(data.totalContracts.toLocaleString("en-US"))} contracts · page made by @nq/report at ${escapeHtml(generated)} · self-contained: it loads nothing from the network.</footer>
</div>
${dataTag}
${liveTag}
<script>${inlineScript(CLIENT_JS)}</script>
</body>
</html>
`;
}
