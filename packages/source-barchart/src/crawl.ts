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
import { IncompleteDataError, isExpiredAt, type Logger, type ProgressUpdate } from "@nq/core";
import type { SeriesFetcher } from "./browser-session.js";
import { linkFor, parseSeriesPage, type SeriesLink, type SeriesPage } from "./page-parser.js";
import { throwIfAborted } from "./politeness.js";
import { quotesUrl, seriesPageUrl, wantsSeries, wantsType, type CrawlPlan } from "./query.js";

const SOURCE = "barchart";

export interface CapturedSeries {
  seriesCode: string;
  pageUrl: string;
  pageHtml: string;
  /** When the page was read (ISO): the time of the underlying price it shows, which the page does not date. */
  pageFetchedAt?: string;
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
  /** Why the capture may miss series the request wanted (a series dropdown the crawl could not read…). */
  incompleteReasons?: string[];
}

export interface VisitedPage {
  url: string;
  html: string;
  page: SeriesPage;
  fetchedAt: string;
}

/**
 * What the tries of one load have fetched so far. A retry after a transient failure (the registry calls
 * `load` again) passes the same memo: pages and quotes already fetched are reused, and only what failed
 * is asked for again.
 */
export interface CrawlMemo {
  fetchedAt: string | null;
  /** Pages by path (a page is filed under every path that names it). */
  pages: Map<string, VisitedPage>;
  /** Captured series by code. */
  quotes: Map<string, CapturedSeries>;
}

export function newCrawlMemo(): CrawlMemo {
  return { fetchedAt: null, pages: new Map(), quotes: new Map() };
}

export interface CrawlOptions {
  signal: AbortSignal;
  log: Logger;
  now: () => Date;
  /** Called before and after each series, and once at the start. */
  progress?: (update: ProgressUpdate) => void;
  memo?: CrawlMemo;
}

interface Lane {
  type: SeriesLink | null;
  /** Paths of this type's expiries in listed order; only the type's own path until one of its pages is read. */
  queue: string[];
  discovered: boolean;
}

export async function crawlChain(fetcher: SeriesFetcher, plan: CrawlPlan, options: CrawlOptions): Promise<ChainCapture> {
  const { signal, log, now } = options;
  throwIfAborted(signal);
  const memo = options.memo ?? newCrawlMemo();
  const resumed = memo.pages.size > 0 || memo.quotes.size > 0;
  const fetchedAt = (memo.fetchedAt ??= now().toISOString());
  const visited = memo.pages;
  const notes: string[] = [];
  const incompleteReasons: string[] = [];
  const unreadToolbars: VisitedPage[] = [];
  let loadedThisTry = false;
  let bytes = 0;
  const report = (stage: string, done: number, total: number) => {
    try {
      options.progress?.({ stage, done, total: Math.max(total, done), bytes });
    } catch (error) {
      log.debug(`progress callback failed: ${(error as Error).message}`);
    }
  };

  const load = async (url: string): Promise<VisitedPage> => {
    const loaded = await fetcher.loadPage(url, signal);
    loadedThisTry = true;
    bytes += loaded.html.length;
    const page = parseSeriesPage(loaded.html);
    const entry = { url: loaded.url, html: loaded.html, page, fetchedAt: now().toISOString() };
    for (const link of [...page.seriesExpiries, ...page.seriesTypes]) {
      if (link.selected && link.seriesCode === page.seriesCode) visited.set(link.path, entry);
    }
    if (page.canonicalPath) visited.set(page.canonicalPath.replace(/[?#].*$/, ""), entry);
    const own = linkFor(new URL(url).pathname, "", false);
    if (own) visited.set(own.path, entry);
    return entry;
  };

  if (resumed) log.info(`resuming: ${memo.quotes.size} series and ${new Set(memo.pages.values()).size} pages from the previous try are reused`);
  report("start page", 0, plan.maxExpirations ?? 1);
  const startPath = linkFor(new URL(plan.startUrl).pathname, "", false)?.path ?? new URL(plan.startUrl).pathname;
  const start = visited.get(startPath) ?? (await load(plan.startUrl));
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
  noteToolbar(start);

  const taken = new Set<string>();
  const series: CapturedSeries[] = [];
  const estimate = () => {
    const known = series.length + lanes.reduce((sum, lane) => sum + lane.queue.length, 0);
    return plan.maxExpirations === null ? known : Math.min(plan.maxExpirations, known);
  };
  for (;;) {
    if (plan.maxExpirations !== null && series.length >= plan.maxExpirations) break;
    const heads: { lane: Lane; entry: VisitedPage; index: number }[] = [];
    for (const [index, lane] of lanes.entries()) {
      const entry = await nextHead(lane);
      if (entry) heads.push({ lane, entry, index });
    }
    if (heads.length === 0) break;
    heads.sort((a, b) => (a.entry.page.expiration! < b.entry.page.expiration! ? -1 : a.entry.page.expiration! > b.entry.page.expiration! ? 1 : a.index - b.index));
    const { lane } = heads[0]!;
    let { entry } = heads[0]!;
    lane.queue.shift();
    const code = entry.page.seriesCode!;
    taken.add(code);
    report(`series ${code}`, series.length, estimate() + 1);
    let captured = memo.quotes.get(code);
    if (captured) {
      log.info(`reusing ${code} from the previous try`);
    } else {
      // A new try starts on a page of its own (fresh cookies, the tab off any error page), then asks.
      if (!loadedThisTry) entry = await load(entry.url);
      const url = quotesUrl(plan.baseUrl, entry.page.apiConfig, code);
      const quotes = await fetcher.fetchQuotes(url, signal);
      bytes += quotes.body.length;
      log.info(`fetched ${code} (expires ${entry.page.expiration}, ${quotes.body.length} bytes)`);
      captured = { seriesCode: code, pageUrl: entry.url, pageHtml: entry.html, pageFetchedAt: entry.fetchedAt, quotesUrl: url, quotesBody: quotes.body };
      memo.quotes.set(code, captured);
    }
    series.push(captured);
    report(`series ${code}`, series.length, estimate());
  }
  // A page whose series dropdowns could not be read hides series: the capture is then not complete,
  // unless only named codes were asked for and every one was found.
  const allCodesFound = plan.seriesCodes !== null && plan.seriesTypes?.length === 0 && [...plan.seriesCodes].every((c) => taken.has(c));
  for (const entry of allCodesFound ? [] : unreadToolbars) {
    for (const problem of entry.page.toolbarProblems) {
      const reason = `${entry.page.seriesCode ?? entry.url}: ${problem}, so the series it would list were not fetched; Barchart may have changed its page`;
      if (!incompleteReasons.includes(reason)) incompleteReasons.push(reason);
    }
  }
  for (const reason of incompleteReasons) log.warn(reason);
  return { fetchedAt, baseUrl: plan.baseUrl, product: plan.product, series, notes, incompleteReasons };

  function noteToolbar(entry: VisitedPage): void {
    if (entry.page.toolbarProblems.length > 0 && !unreadToolbars.includes(entry)) unreadToolbars.push(entry);
  }

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
        noteToolbar(entry);
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
    // "Expired" on the CME trade date (Chicago; from 17:00 CT the next day's), as the normalizer decides it.
    if (isExpiredAt({ expiration: page.expiration }, plan.asOf)) return `${page.seriesCode}: expired on ${page.expiration} (CME trade date ${plan.today}); skipped`;
    if (plan.expirations && !plan.expirations.has(page.expiration)) return "";
    return null;
  }
}

function startPathOf(start: VisitedPage): string {
  return linkFor(new URL(start.url).pathname, "", false)?.path ?? new URL(start.url).pathname;
}
