/**
 * Turns what Barchart answered into either "go on" or a typed error the runner understands. Pure, so
 * each rule is tested without a browser. The rules (reference §6): 403 or a challenge page is a block,
 * 429 a rate limit, 5xx the service, HTML where JSON was expected a block, and an unreadable body a
 * cut-short response.
 */
import {
  BlockedError,
  IncompleteDataError,
  InvalidRequestError,
  NetworkError,
  NoDataError,
  RateLimitError,
  ServiceUnavailableError,
  type SourceError,
} from "@nq/core";
import { readTitle, visibleText } from "./page-parser.js";

const SOURCE = "barchart";

export interface HttpAnswer {
  url: string;
  status: number;
  contentType: string | null;
  retryAfter: string | null;
  body: string;
}

const CHALLENGE_MARKERS = [
  /just a moment/i,
  /attention required/i,
  /checking your browser/i,
  /verify (?:that )?you are (?:a )?human/i,
  /cf-challenge|challenge-platform|cf_chl_/i,
  /captcha/i,
  /access denied/i,
  /request unsuccessful/i,
  /pardon our interruption/i,
];

/** True when an HTML body is a bot wall rather than the page asked for. */
export function looksLikeChallenge(html: string): boolean {
  const head = `${readTitle(html) ?? ""} ${html.slice(0, 20_000)}`;
  return CHALLENGE_MARKERS.some((marker) => marker.test(head));
}

/** Classifies the answer to a page load; returns null when it is a page to read. */
export function classifyPageAnswer(answer: HttpAnswer): SourceError | null {
  const common = classifyStatus(answer, "page");
  if (common) return common;
  if (looksLikeChallenge(answer.body) && !/to\s+expiration\s+on/i.test(visibleText(answer.body))) {
    return new BlockedError(SOURCE, `${answer.url} answered with a bot challenge page ("${readTitle(answer.body) ?? "untitled"}"); ${BLOCKED_ADVICE}`, {
      details: { status: answer.status, url: answer.url },
    });
  }
  return null;
}

/** Classifies the answer to the quotes endpoint; returns the parsed JSON when it is one. */
export function classifyQuotesAnswer(answer: HttpAnswer): { json: unknown } | { error: SourceError } {
  const common = classifyStatus(answer, "quotes");
  if (common) return { error: common };
  const body = answer.body.trimStart();
  if (body.startsWith("<")) {
    const what = looksLikeChallenge(body) ? "a bot challenge page" : "an HTML page";
    return {
      error: new BlockedError(SOURCE, `the quotes endpoint answered with ${what} instead of JSON (${answer.url}); ${BLOCKED_ADVICE}`, {
        details: { status: answer.status, url: answer.url, contentType: answer.contentType },
      }),
    };
  }
  try {
    return { json: JSON.parse(answer.body) };
  } catch (error) {
    return {
      error: new IncompleteDataError(
        SOURCE,
        `the quotes endpoint answered with malformed JSON (${(error as Error).message}; ${answer.body.length} bytes). The response was cut short or the endpoint changed; try again later`,
        { cause: error, details: { status: answer.status, url: answer.url, bytes: answer.body.length } },
      ),
    };
  }
}

const BLOCKED_ADVICE =
  "Barchart is refusing this client as a bot. Do not retry at once: wait (hours), lower the request rate (min_interval_ms), run headful (headless: false) or from another network, or use another source";

function classifyStatus(answer: HttpAnswer, what: "page" | "quotes"): SourceError | null {
  const { status, url } = answer;
  const details = { status, url };
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(answer.retryAfter);
    return new RateLimitError(
      SOURCE,
      `Barchart rate-limited the ${what} request (HTTP 429${retryAfterMs !== null ? `, retry after ${Math.round(retryAfterMs / 1000)} s` : ""}); raise min_interval_ms and fetch fewer expiries`,
      { retryAfterMs, details },
    );
  }
  if (status === 403) {
    const challenge = looksLikeChallenge(answer.body) ? " with a bot challenge page" : "";
    return new BlockedError(SOURCE, `Barchart refused the ${what} request (HTTP 403${challenge}) at ${url}; ${BLOCKED_ADVICE}`, { details });
  }
  if (status === 401 || status === 419) {
    return new BlockedError(
      SOURCE,
      `Barchart refused the session (HTTP ${status}: the XSRF token or session cookies were not accepted) at ${url}; the page may not have set its cookies because the client was challenged. ${BLOCKED_ADVICE}`,
      { details },
    );
  }
  if (status === 503 || status === 502 || status === 504) {
    return new ServiceUnavailableError(SOURCE, `Barchart is unavailable (HTTP ${status}) for the ${what} request at ${url}; try again later`, { details });
  }
  if (status >= 500) return new NetworkError(SOURCE, `Barchart failed (HTTP ${status}) on the ${what} request at ${url}; try again later`, { details });
  if (status === 404) {
    return new NoDataError(SOURCE, `Barchart has no ${what === "page" ? "options page" : "quotes"} at ${url} (HTTP 404); check the product, the future and the series codes in expiries`, { details });
  }
  if (status >= 400) {
    return new InvalidRequestError(SOURCE, `Barchart answered HTTP ${status} to the ${what} request at ${url}; the endpoint or its parameters may have changed`, { details });
  }
  return null;
}

/** Retry-After as seconds or an HTTP date → milliseconds; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: () => number = Date.now): number | null {
  if (!value) return null;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now());
}
