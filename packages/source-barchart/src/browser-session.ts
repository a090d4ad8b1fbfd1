/**
 * One headless browser tab on Barchart, reused for every page and request of a source instance. Pages
 * are loaded like a person would (that is what sets the XSRF and session cookies); the quotes request is
 * sent from inside the page with `fetch`, the page's cookies and the `X-XSRF-TOKEN` header, exactly as the
 * page's own script does. Every request waits its turn on the spacer; every answer is classified.
 */
import { NetworkError, TimeoutError, type Logger } from "@nq/core";
import { BrowserClosedError, isTargetClosed } from "./errors.js";
import type { HTTPRequest, HTTPResponse, Page } from "puppeteer-core";
import { launchBrowser, locateBrowser, type LaunchedBrowser } from "./browser.js";
import { reapOrphanedBrowsers } from "./browser-lifecycle.js";
import type { BarchartConfig } from "./config.js";
import { RequestSpacer, untilAborted, withRetries } from "./politeness.js";
import { classifyPageAnswer, classifyQuotesAnswer, looksLikeChallenge, type HttpAnswer } from "./response-classifier.js";

const SOURCE = "barchart";
/** Marks our own in-page request so the page's duplicate can be held back; stripped before sending. */
const OWN_REQUEST_HEADER = "x-nq-own-request";

export interface LoadedPage {
  url: string;
  html: string;
}

export interface QuotesBody {
  url: string;
  body: string;
}

/** What the crawler needs from a browser; the live session is the one implementation. */
export interface SeriesFetcher {
  loadPage(url: string, signal: AbortSignal): Promise<LoadedPage>;
  fetchQuotes(url: string, signal: AbortSignal): Promise<QuotesBody>;
}

interface InPageAnswer {
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: string;
  failure: string | null;
  timedOut: boolean;
}

export class BrowserSession implements SeriesFetcher {
  private readonly spacer: RequestSpacer;

  private constructor(
    private readonly launched: LaunchedBrowser,
    private readonly page: Page,
    private readonly config: BarchartConfig,
    private readonly log: Logger,
  ) {
    this.spacer = new RequestSpacer(config.min_interval_ms, config.jitter_ms);
  }

  /** Why the browser is gone, or null while it runs. */
  closedReason(): string | null {
    return this.launched.closedReason();
  }

  /** Resolves with the reason once the browser is gone. */
  get whenClosed(): Promise<string> {
    return this.launched.whenClosed;
  }

  get browserPid(): number | null {
    return this.launched.pid;
  }

  get profileDir(): string {
    return this.launched.profileDir;
  }

  static async open(config: BarchartConfig, log: Logger): Promise<BrowserSession> {
    // Browsers left by an earlier run that was killed (SIGKILL cannot be caught) are reaped first.
    const reaped = await reapOrphanedBrowsers().catch(() => ({ removed: [] as string[], killed: [] as number[] }));
    if (reaped.removed.length > 0) {
      log.warn(`removed ${reaped.removed.length} browser profile(s) left by an earlier run that was killed, and ${reaped.killed.length} leftover browser process(es)`);
    }
    const located = await locateBrowser({ executablePath: config.executable_path ?? null });
    log.info(`starting ${config.headless ? "headless " : ""}browser ${located.path} (found via ${located.how})`);
    // Starting a browser on a busy machine can take longer than one request may: it gets at least 30 s.
    const launched = await launchBrowser({ executablePath: located.path, headless: config.headless, timeoutMs: Math.max(config.timeout_ms, 30_000) });
    try {
      const page = await launched.browser.newPage();
      // Headless Chromium announces itself as "HeadlessChrome"; present the plain desktop browser it is.
      const userAgent = (await launched.browser.userAgent()).replace(/HeadlessChrome/g, "Chrome");
      await page.setUserAgent({ userAgent });
      await page.setExtraHTTPHeaders({ "Accept-Language": "en-US,en;q=0.9" });
      page.setDefaultTimeout(config.timeout_ms);
      await page.setRequestInterception(true);
      const session = new BrowserSession(launched, page, config, log);
      page.on("request", (request) => session.screen(request));
      page.once("close", () => void launched.close());
      return session;
    } catch (error) {
      await launched.close();
      throw error;
    }
  }

  /**
   * Images, fonts and media are not needed to read the page; nor is the page's own chain request. Ours
   * carries a marker header, which is removed here before the request leaves the browser.
   */
  private screen(request: HTTPRequest): void {
    if (request.isInterceptResolutionHandled()) return;
    const type = request.resourceType();
    const headers = request.headers();
    const ours = OWN_REQUEST_HEADER in headers;
    if (type === "image" || type === "media" || type === "font" || (request.url().includes("/proxies/core-api/") && !ours)) {
      void request.abort("blockedbyclient").catch(() => {});
    } else if (ours) {
      delete headers[OWN_REQUEST_HEADER];
      void request.continue({ headers }).catch(() => {});
    } else {
      void request.continue().catch(() => {});
    }
  }

  async loadPage(url: string, signal: AbortSignal): Promise<LoadedPage> {
    return withRetries(() => this.whileOpen(() => this.loadPageOnce(url, signal)), this.retryPolicy(), signal);
  }

  async fetchQuotes(url: string, signal: AbortSignal): Promise<QuotesBody> {
    return withRetries(() => this.whileOpen(() => this.fetchQuotesOnce(url, signal)), this.retryPolicy(), signal);
  }

  /**
   * Runs one step, ending it at once with BrowserClosedError when the browser goes away under it (a
   * closed browser is not a network error: nothing is retried against a dead page).
   */
  private async whileOpen<T>(step: () => Promise<T>): Promise<T> {
    const closed = () => new BrowserClosedError(SOURCE, this.launched.closedReason() ?? "the page was closed");
    if (this.launched.closedReason() !== null || this.page.isClosed()) throw closed();
    const work = step();
    work.catch(() => {});
    const gone = this.launched.whenClosed.then(() => {
      throw closed();
    });
    gone.catch(() => {});
    try {
      return await Promise.race([work, gone]);
    } catch (error) {
      if (this.launched.closedReason() !== null || this.page.isClosed() || isTargetClosed(error) || isTargetClosed((error as { cause?: unknown })?.cause)) {
        if (this.launched.closedReason() === null) void this.launched.close();
        throw error instanceof BrowserClosedError ? error : new BrowserClosedError(SOURCE, this.launched.closedReason() ?? "the page was closed", { cause: error });
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.launched.close();
  }

  private retryPolicy() {
    return {
      maxRetries: this.config.max_retries,
      backoffMs: Math.max(this.config.retry_backoff_ms, this.config.min_interval_ms),
      onRetry: (error: Error, attempt: number, delayMs: number) =>
        this.log.warn(`${error.message} — retry ${attempt} of ${this.config.max_retries} in ${delayMs} ms`),
    };
  }

  private async loadPageOnce(url: string, signal: AbortSignal): Promise<LoadedPage> {
    await this.spacer.next(signal);
    this.log.debug(`loading ${url}`);
    const work = (async () => {
      let response: HTTPResponse | null;
      try {
        // "networkidle" never comes on Barchart (analytics keep polling); the DOM is what we read.
        response = await this.page.goto(url, { waitUntil: "domcontentloaded", timeout: this.config.timeout_ms });
      } catch (error) {
        throw navigationError(url, error, this.config.timeout_ms);
      }
      let html = await this.page.content();
      if (looksLikeChallenge(html) && this.config.challenge_wait_ms > 0) {
        ({ response, html } = await this.waitOutChallenge(response, html));
      }
      const answer: HttpAnswer = {
        url,
        status: response?.status() ?? 200,
        contentType: response?.headers()["content-type"] ?? null,
        retryAfter: response?.headers()["retry-after"] ?? null,
        body: html,
      };
      const problem = classifyPageAnswer(answer);
      if (problem) throw problem;
      return { url: this.page.url(), html };
    })();
    return untilAborted(work, signal);
  }

  /**
   * A JavaScript challenge in a real browser often clears itself: it runs, sets a clearance cookie and
   * reloads the page. Give it `challenge_wait_ms`; if it is still there after that, the caller reports a block.
   */
  private async waitOutChallenge(response: HTTPResponse | null, html: string): Promise<{ response: HTTPResponse | null; html: string }> {
    const deadline = performance.now() + this.config.challenge_wait_ms;
    this.log.info(`Barchart answered with a bot challenge; waiting up to ${this.config.challenge_wait_ms} ms for it to clear`);
    while (looksLikeChallenge(html)) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      const next = await this.page.waitForNavigation({ waitUntil: "domcontentloaded", timeout: left }).catch(() => undefined);
      if (next === undefined) break; // no navigation before the deadline: the challenge is not clearing
      response = next ?? response;
      html = await this.page.content();
    }
    if (!looksLikeChallenge(html)) this.log.info("the challenge cleared");
    return { response, html };
  }

  private async fetchQuotesOnce(url: string, signal: AbortSignal): Promise<QuotesBody> {
    await this.spacer.next(signal);
    this.log.debug(`requesting ${url}`);
    const work = (async () => {
      let answer: InPageAnswer;
      try {
        answer = await this.page.evaluate(fetchFromPage, url, this.config.timeout_ms, OWN_REQUEST_HEADER);
      } catch (error) {
        throw new NetworkError(SOURCE, `the in-page quotes request to ${url} failed: ${(error as Error).message.split("\n")[0]}`, { cause: error });
      }
      if (answer.timedOut) {
        throw new TimeoutError(SOURCE, `the quotes request got no answer within ${this.config.timeout_ms} ms (${url}); raise timeout_ms or try later`, {
          timeoutMs: this.config.timeout_ms,
        });
      }
      if (answer.failure !== null) {
        throw new NetworkError(SOURCE, `the quotes request to ${url} failed in the page: ${answer.failure}`);
      }
      const classified = classifyQuotesAnswer({ url, status: answer.status, contentType: answer.contentType, retryAfter: answer.retryAfter, body: answer.body });
      if ("error" in classified) throw classified.error;
      return { url, body: answer.body };
    })();
    return untilAborted(work, signal);
  }
}

/**
 * Runs inside the page: the same request the page's script makes. The XSRF cookie is stored
 * percent-encoded (sometimes twice), so it is decoded until it stops changing.
 */
async function fetchFromPage(url: string, timeoutMs: number, marker: string): Promise<InPageAnswer> {
  const cookie = document.cookie
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith("XSRF-TOKEN="));
  let token = cookie ? cookie.slice("XSRF-TOKEN=".length) : null;
  for (let i = 0; token !== null && i < 3; i += 1) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(token);
    } catch {
      break;
    }
    if (decoded === token) break;
    token = decoded;
  }
  const headers: Record<string, string> = { Accept: "application/json", [marker]: "1" };
  if (token) headers["X-XSRF-TOKEN"] = token;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    // Path and query only: the request goes to the page's own origin, whatever host the page ended up on.
    const target = new URL(url, location.href);
    const response = await fetch(target.pathname + target.search, { credentials: "same-origin", headers, signal: controller.signal });
    const body = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get("content-type"),
      retryAfter: response.headers.get("retry-after"),
      body,
      failure: null,
      timedOut: false,
    };
  } catch (error) {
    return { status: 0, contentType: null, retryAfter: null, body: "", failure: String(error), timedOut: controller.signal.aborted };
  } finally {
    clearTimeout(timer);
  }
}

function navigationError(url: string, error: unknown, timeoutMs: number): Error {
  const message = (error as Error)?.message ?? String(error);
  if ((error as Error)?.name === "TimeoutError" || /timeout/i.test(message)) {
    return new TimeoutError(SOURCE, `the page ${url} did not load within ${timeoutMs} ms; raise timeout_ms or try later`, { cause: error, timeoutMs });
  }
  return new NetworkError(SOURCE, `could not load ${url}: ${message.split("\n")[0]}; check the connection and base_url`, { cause: error });
}
