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
import { defineSource, type ChainRequest, type LoadOptions, type Source, type SourceContext, type SourceResult } from "@nq/core";
import { BrowserSession } from "./browser-session.js";
import { resolve } from "node:path";
import { barchartConfigSchema, type BarchartConfig } from "./config.js";
import { crawlChain } from "./crawl.js";
import { throwIfAborted, untilAborted } from "./politeness.js";
import { planCrawl } from "./query.js";
import { captureToResult } from "./rows.js";
import { readCapture, saveCapture } from "./saved-captures.js";

export const barchartSource = defineSource<BarchartConfig>({
  name: "barchart",
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

/** One browser per source instance, started on the first load and reused for every expiry and load. */
class LiveBarchartSource implements Source {
  private session: Promise<BrowserSession> | null = null;
  private closed = false;
  /** Loads share one tab, so they take turns. */
  private turn: Promise<unknown> = Promise.resolve();

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
    const plan = planCrawl(request, this.config, this.context.now());
    const session = await untilAborted(this.openSession(), signal);
    const capture = await crawlChain(session, plan, signal, this.context.log, this.context.now);
    let savedTo: string | null = null;
    if (this.config.save_dir) {
      savedTo = await saveCapture(this.config.save_dir, capture);
      this.context.log.info(`saved ${capture.series.length} raw responses to ${savedTo}`);
    }
    return captureToResult(capture, { savedTo });
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = null;
    if (session) await session.then((s) => s.close()).catch(() => {});
  }

  private openSession(): Promise<BrowserSession> {
    if (this.closed) return Promise.reject(new Error("barchart: load() called after close()"));
    if (!this.session) {
      const opening = BrowserSession.open(this.config, this.context.log);
      // A failed start (no browser) is not cached: the next load tries again.
      opening.catch(() => {
        if (this.session === opening) this.session = null;
      });
      this.session = opening;
    }
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
    const { capture, folder } = await untilAborted(readCapture(this.config.saved_dir!), signal);
    this.context.log.info(`replaying the Barchart capture in ${folder} (fetched ${capture.fetchedAt})`);
    const plan = planCrawl(request, this.config, new Date(capture.fetchedAt));
    const result = captureToResult(capture, { savedTo: folder });
    result.warnings = [`replayed from ${folder}, captured ${capture.fetchedAt}`, ...(result.warnings ?? [])];
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
export { readCapture, saveCapture } from "./saved-captures.js";
export type { CapturedSeries, ChainCapture } from "./crawl.js";
