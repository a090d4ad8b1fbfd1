/**
 * @nq/source-barchart — Barchart's free, delayed NQ futures options chain.
 *
 * Barchart has no public API: its pages load the chain from an internal endpoint that needs the
 * session cookies and XSRF token a real page visit sets, and it blocks clients that look like bots. So
 * this source drives a real headless Chromium: it loads the options page, reads the series the page
 * lists, and for each wanted expiry loads the series page and sends, from inside it, the request the
 * page itself sends. Three stages, one file each:
 *
 *   query.ts  — transform the query  (ChainRequest + config → crawl plan, quotes URL)
 *   crawl.ts  — extract              (browser: pages + raw quotes responses, politely)
 *   rows.ts   — transform to rows    (raw responses → SourceRows, via the pure parsers)
 *
 * With `save_dir` every raw response is kept; `mode: "saved"` replays them offline through the same
 * parsers, with no browser. A block (403, challenge) or a rate limit (429) becomes BlockedError or
 * RateLimitError at once, so the runner falls back instead of hammering the site.
 */
import { resolve } from "node:path";
import {
  canonicalRequest,
  defineSource,
  isSourceError,
  type ChainRequest,
  type LoadOptions,
  type ProgressUpdate,
  type Source,
  type SourceContext,
  type SourceResult,
} from "@nq/core";
import { BrowserSession } from "./browser-session.js";
import { checkBarchart } from "./check.js";
import { barchartConfigSchema, type BarchartConfig } from "./config.js";
import { crawlChain, newCrawlMemo, type ChainCapture, type CrawlMemo } from "./crawl.js";
import { BrowserClosedError } from "./errors.js";
import { throwIfAborted, untilAborted } from "./politeness.js";
import { planCrawl } from "./query.js";
import { captureToResult } from "./rows.js";
import { readCapture, saveCapture, type CaptureStatus } from "./saved-captures.js";

const SOURCE = "barchart";

export const barchartSource = defineSource<BarchartConfig>({
  name: "barchart",
  check: (config, context, { signal, product, quick }) =>
    checkBarchart(config, { signal, product, now: context.now(), ...(context.baseDir ? { baseDir: context.baseDir } : {}), ...(quick ? { probe: "http" as const } : {}) }),
  description:
    "Barchart's free, delayed (~10–20 min) NQ futures options chain, scraped politely with a headless Chromium; " +
    "or a replay of a saved capture (mode: saved). Personal use only: see Barchart's terms.",
  capabilities: {
    chain: true,
    quotes: true,
    openInterest: true,
    settlement: true,
    volume: true,
    greeks: false,
    impliedVolatility: false,
    streaming: false,
    needsCredentials: false,
    costsMoney: false,
    delayed: true,
  },
  configSchema: barchartConfigSchema,
  create: (config, context) => {
    // Folders named in a profile are relative to the profile, not to wherever the runner was started.
    const resolved = { ...config, ...relativeTo(context.baseDir, { save_dir: config.save_dir, saved_dir: config.saved_dir }) };
    return resolved.mode === "saved" ? new SavedCaptureSource(resolved, context) : new LiveBarchartSource(resolved, context);
  },
});

export default barchartSource;

function relativeTo(baseDir: string | undefined, paths: { save_dir: string | undefined; saved_dir: string | undefined }) {
  const at = (path: string | undefined) => (path === undefined || baseDir === undefined ? path : resolve(baseDir, path));
  return { save_dir: at(paths.save_dir), saved_dir: at(paths.saved_dir) };
}

/** A retry reuses what an earlier try of the same load fetched, if that try is at most this old. */
const RESUME_WINDOW_MS = 10 * 60_000;

/** One browser per source instance, started on the first load and reused for every expiry and load. */
class LiveBarchartSource implements Source {
  private session: Promise<BrowserSession> | null = null;
  private closed = false;
  /** Loads share one tab, so they take turns. */
  private turn: Promise<unknown> = Promise.resolve();
  /** What the last, failed try of a load fetched: the registry's retry of the same request resumes from it. */
  private resume: { key: string; memo: CrawlMemo } | null = null;

  constructor(
    private readonly config: BarchartConfig,
    private readonly context: SourceContext,
  ) {}

  load(request: ChainRequest, options: LoadOptions): Promise<SourceResult> {
    const run = this.turn.then(() => this.loadNow(request, options));
    this.turn = run.catch(() => {});
    return run;
  }

  private async loadNow(request: ChainRequest, { signal }: LoadOptions): Promise<SourceResult> {
    throwIfAborted(signal);
    const now = this.context.now();
    const plan = planCrawl(request, this.config, now);
    const key = JSON.stringify(canonicalRequest(request));
    const earlier = this.resume;
    this.resume = null;
    const fresh = earlier?.key === key && earlier.memo.fetchedAt !== null && now.getTime() - Date.parse(earlier.memo.fetchedAt) <= RESUME_WINDOW_MS;
    const memo = fresh ? earlier.memo : newCrawlMemo();
    const session = await untilAborted(this.openSession(), signal);
    let capture: ChainCapture;
    try {
      capture = await crawlChain(session, plan, {
        signal,
        log: this.context.log,
        now: this.context.now,
        ...(this.context.progress ? { progress: (update: ProgressUpdate) => this.context.progress?.(update) } : {}),
        memo,
      });
    } catch (error) {
      // A retryable failure keeps what was fetched: the registry's next try asks only for the rest.
      if (isSourceError(error) && error.retryable && !this.closed && memo.quotes.size + memo.pages.size > 0) {
        this.resume = { key, memo };
        this.context.log.info(`keeping ${memo.quotes.size} fetched series for a retry of this load`);
      }
      throw error;
    }

    let result: ReturnType<typeof captureToResult> | null = null;
    let failure: unknown = null;
    try {
      result = captureToResult(capture);
    } catch (error) {
      failure = error;
    }
    let savedTo: string | null = null;
    if (this.config.save_dir) {
      // Only a complete chain is saved as a plain capture; replay prefers those.
      const status: CaptureStatus = result === null ? "failed" : result.complete === false ? "partial" : "complete";
      const reasons = result === null ? [(failure as Error)?.message ?? String(failure)] : (result.incompleteReasons ?? []);
      savedTo = await saveCapture(this.config.save_dir, capture, { status, reasons });
      const what = status === "complete" ? "" : ` as a ${status} capture (replay prefers complete ones)`;
      const message = `saved ${capture.series.length} raw responses to ${savedTo}${what}`;
      if (status === "complete") this.context.log.info(message);
      else this.context.log.warn(message);
    }
    if (result === null) throw failure;
    result.rawDataAvailable = savedTo !== null;
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.resume = null;
    const session = this.session;
    this.session = null;
    if (session) await session.then((s) => s.close()).catch(() => {});
  }

  private async openSession(): Promise<BrowserSession> {
    if (this.closed) throw new BrowserClosedError(SOURCE, "load() was called after close()");
    if (this.session) {
      const current = await this.session.catch(() => null);
      if (current && current.closedReason() === null) return current;
      // A failed start (no browser) is not kept, nor a browser that died: this load starts a new one.
      if (current) await current.close();
      this.session = null;
    }
    this.session = BrowserSession.open(this.config, this.context.log);
    return this.session;
  }
}

/** Replays a capture written by `save_dir`: no browser, no network, the same parsers. */
class SavedCaptureSource implements Source {
  constructor(
    private readonly config: BarchartConfig,
    private readonly context: SourceContext,
  ) {}

  async load(request: ChainRequest, { signal }: LoadOptions): Promise<SourceResult> {
    throwIfAborted(signal);
    const read = await untilAborted(readCapture(this.config.saved_dir!), signal);
    const { capture, folder, status } = read;
    const what = `the ${status} Barchart capture in ${folder}, fetched ${capture.fetchedAt} (${capture.series.length} series)`;
    this.context.log.info(`replaying ${what}`);
    for (const newer of read.passedOver) {
      this.context.log.warn(`not replaying the newer ${newer.status} capture ${newer.folder} (fetched ${newer.fetchedAt})`);
    }
    const plan = planCrawl(request, this.config, new Date(capture.fetchedAt));
    const result = captureToResult(capture, { savedTo: folder });
    result.warnings = [
      `replayed ${what}`,
      ...read.passedOver.map((newer) => `a newer ${newer.status} capture was not replayed: ${newer.folder} (fetched ${newer.fetchedAt})`),
      ...(result.warnings ?? []),
    ];
    if (status !== "complete") {
      result.complete = false;
      result.incompleteReasons = [`replayed a ${status} capture${read.reasons.length ? `: ${read.reasons.join("; ")}` : ""}`, ...(result.incompleteReasons ?? [])];
    }
    result.asOfReason = `a replay of a capture fetched ${capture.fetchedAt}: ${result.asOfReason ?? ""}`.replace(/: $/, "");
    if (plan.product !== capture.product) {
      result.warnings.push(`the request is for ${plan.product} but the capture holds ${capture.product}`);
    }
    return result;
  }

  async close(): Promise<void> {}
}

export { barchartConfigSchema, type BarchartConfig, type BarchartConfigInput } from "./config.js";
export { parseQuotesResponse, parseQuoteRow, readTradeTime, type BarchartQuote, type ParsedQuotes } from "./quotes-parser.js";
export { parseSeriesPage, type QuotesApiConfig, type SeriesLink, type SeriesPage } from "./page-parser.js";
export { locateBrowser, INSTALL_HINT, KNOWN_BROWSER_PATHS, type LocatedBrowser, type LocateOptions } from "./browser.js";
export { classifyPageAnswer, classifyQuotesAnswer, looksLikeChallenge, parseRetryAfter } from "./response-classifier.js";
export { captureToResult, seriesRoot } from "./rows.js";
export { readCapture, saveCapture, type CaptureStatus, type ReadCapture } from "./saved-captures.js";
export { BrowserClosedError } from "./errors.js";
export { reapOrphanedBrowsers, PROFILE_PREFIX, type ReapReport } from "./browser-lifecycle.js";
export { BARCHART_DELAY_MS, dataMoment } from "./query.js";
export type { CapturedSeries, ChainCapture } from "./crawl.js";
export { checkBarchart, type BarchartCheckOptions } from "./check.js";
