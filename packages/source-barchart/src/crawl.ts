/**
 * Stage 2 — extract: walk the series the page lists and capture, per wanted expiry, its page and its raw
 * quotes response. Nothing is parsed into rows here; the capture is what gets saved and replayed.
 *
 * Barchart lists series in two dropdowns: the series types (Monthly, EOM, each weekday's weeklies) and,
 * for the type shown, its expiries. A type's expiries are only visible on one of its pages, and a page's
 * expiry date only in its text. So each type is a lane whose pages are loaded in listed order, and the
 * lanes are merged by date: the nearest expiry across all lanes is taken next. A full crawl costs one
 * page load plus one quotes request per expiry; a crawl bounded by maxExpirations may also load at most
 * one unused page per other lane (its date is needed to know it is not nearer).
 */
import { IncompleteDataError, type Logger } from "@nq/core";
import type { SeriesFetcher } from "./browser-session.js";
import { linkFor, parseSeriesPage, type SeriesLink, type SeriesPage } from "./page-parser.js";
import { throwIfAborted } from "./politeness.js";
import { quotesUrl, seriesPageUrl, wantsSeries, wantsType, type CrawlPlan } from "./query.js";

const SOURCE = "barchart";

export interface CapturedSeries {
  seriesCode: string;
  pageUrl: string;
  pageHtml: string;
  quotesUrl: string;
  quotesBody: string;
}

export interface ChainCapture {
  fetchedAt: string;
  baseUrl: string;
  product: string;
  series: CapturedSeries[];
  /** Why listed series were not fetched (expired, not wanted, no date on the page…). */
  notes: string[];
}

interface VisitedPage {
  url: string;
  html: string;
  page: SeriesPage;
}

interface Lane {
  type: SeriesLink | null;
  /** Paths of this type's expiries in listed order; only the type's own path until one of its pages is read. */
  queue: string[];
  discovered: boolean;
}

export async function crawlChain(fetcher: SeriesFetcher, plan: CrawlPlan, signal: AbortSignal, log: Logger, now: () => Date): Promise<ChainCapture> {
  throwIfAborted(signal);
  const fetchedAt = now().toISOString();
  const visited = new Map<string, VisitedPage>();
  const notes: string[] = [];

  const load = async (url: string): Promise<VisitedPage> => {
    const loaded = await fetcher.loadPage(url, signal);
    const page = parseSeriesPage(loaded.html);
    const entry = { url: loaded.url, html: loaded.html, page };
    for (const link of [...page.seriesExpiries, ...page.seriesTypes]) {
      if (link.selected && link.seriesCode === page.seriesCode) visited.set(link.path, entry);
    }
    if (page.canonicalPath) visited.set(page.canonicalPath.replace(/[?#].*$/, ""), entry);
    const own = linkFor(new URL(url).pathname, "", false);
    if (own) visited.set(own.path, entry);
    return entry;
  };

  const start = await load(plan.startUrl);
  if (!start.page.apiConfig && start.page.seriesTypes.length === 0 && start.page.seriesExpiries.length === 0) {
    throw new IncompleteDataError(
      SOURCE,
      `${plan.startUrl} has no options toolbar and no quotes table ("${start.page.title ?? "untitled"}"); Barchart may have changed its page, or the future does not exist`,
    );
  }

  const lanes: Lane[] = [];
  const startType = start.page.seriesTypes.find((t) => t.selected) ?? null;
  const startQueue = start.page.seriesExpiries.length > 0 ? start.page.seriesExpiries.map((l) => l.path) : [startPathOf(start)];
  if (start.page.seriesTypes.length === 0) lanes.push({ type: null, queue: startQueue, discovered: true });
  for (const type of start.page.seriesTypes) {
    if (!wantsType(plan, type)) continue;
    lanes.push(type === startType ? { type, queue: startQueue, discovered: true } : { type, queue: [type.path], discovered: false });
  }

  const taken = new Set<string>();
  const series: CapturedSeries[] = [];
  for (;;) {
    if (plan.maxExpirations !== null && series.length >= plan.maxExpirations) break;
    const heads: { lane: Lane; entry: VisitedPage; index: number }[] = [];
    for (const [index, lane] of lanes.entries()) {
      const entry = await nextHead(lane);
      if (entry) heads.push({ lane, entry, index });
    }
    if (heads.length === 0) break;
    heads.sort((a, b) => (a.entry.page.expiration! < b.entry.page.expiration! ? -1 : a.entry.page.expiration! > b.entry.page.expiration! ? 1 : a.index - b.index));
    const { lane, entry } = heads[0]!;
    lane.queue.shift();
    const code = entry.page.seriesCode!;
    taken.add(code);
    const url = quotesUrl(plan.baseUrl, entry.page.apiConfig, code);
    const quotes = await fetcher.fetchQuotes(url, signal);
    log.info(`fetched ${code} (expires ${entry.page.expiration}, ${quotes.body.length} bytes)`);
    series.push({ seriesCode: code, pageUrl: entry.url, pageHtml: entry.html, quotesUrl: url, quotesBody: quotes.body });
  }
  return { fetchedAt, baseUrl: plan.baseUrl, product: plan.product, series, notes };

  /** The lane's nearest wanted, unexpired, not-yet-taken series page, loading pages as needed. */
  async function nextHead(lane: Lane): Promise<VisitedPage | null> {
    while (lane.queue.length > 0) {
      throwIfAborted(signal);
      const path = lane.queue[0]!;
      const code = linkFor(path, "", false)?.seriesCode ?? path;
      // A code-only filter can skip unwanted series unread, once the lane's list is known.
      if (lane.discovered && plan.seriesCodes && !wantsSeries(plan, lane.type, code) && !visited.has(path)) {
        lane.queue.shift();
        continue;
      }
      const entry = visited.get(path) ?? (await load(seriesPageUrl(plan.baseUrl, path)));
      visited.set(path, entry);
      if (!lane.discovered) {
        lane.discovered = true;
        const listed = entry.page.seriesExpiries.map((l) => l.path);
        lane.queue = listed.includes(path) ? listed : [path, ...listed];
        continue;
      }
      const skip = reasonToSkip(entry, lane);
      if (skip === null) return entry;
      if (skip) notes.push(skip);
      lane.queue.shift();
    }
    return null;
  }

  /** Null when the page is a series to fetch; "" to skip silently; otherwise the reason, for the warnings. */
  function reasonToSkip(entry: VisitedPage, lane: Lane): string | null {
    const { page } = entry;
    if (!page.seriesCode) return `${entry.url}: no series code on the page (no data-api-config); skipped`;
    if (taken.has(page.seriesCode)) return "";
    if (!wantsSeries(plan, lane.type, page.seriesCode)) return "";
    if (!page.expiration) return `${page.seriesCode}: the page shows no "Days to expiration on MM/DD/YY" text; skipped (its expiry is unknown)`;
    if (page.expiration < plan.today) return `${page.seriesCode}: expired on ${page.expiration}; skipped`;
    if (plan.expirations && !plan.expirations.has(page.expiration)) return "";
    return null;
  }
}

function startPathOf(start: VisitedPage): string {
  return linkFor(new URL(start.url).pathname, "", false)?.path ?? new URL(start.url).pathname;
}
