/**
 * HTTP answers → @nq/core's typed errors. Polygon/Massive answers a failure with a JSON body carrying
 * `status` and `error` or `message` (reference §6); the class is decided from the HTTP status and that
 * body, and the message says what to do next. No message carries the key: the provider's text is cut
 * short and stripped of any `apiKey=` it echoes (and core redacts the registered key on top).
 */
import {
  AuthError,
  EntitlementError,
  InvalidRequestError,
  NoDataError,
  RateLimitError,
  ServiceUnavailableError,
  type SourceError,
} from "@nq/core";
import { SOURCE_NAME } from "./config.js";

export interface ProviderErrorBody {
  status: string | null;
  requestId: string | null;
  /** `error ?? message`, stripped of credentials and cut to 300 characters. */
  message: string | null;
}

/** Removes `apiKey=…` (any case, any encoding of the separator) from text that may echo a URL. */
export function stripApiKey(text: string): string {
  return text.replace(/(api_?key(?:=|%3D))[^&\s"'<>]*/gi, "$1***");
}

export function parseErrorBody(text: string): ProviderErrorBody {
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (a proxy's HTML page, an empty 429): the text itself, shortened, is the message
  }
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    const said = typeof b.error === "string" ? b.error : typeof b.message === "string" ? b.message : null;
    return {
      status: typeof b.status === "string" ? b.status : null,
      requestId: typeof b.request_id === "string" ? b.request_id : null,
      message: said === null ? null : shorten(stripApiKey(said)),
    };
  }
  const plain = text.trim();
  return { status: null, requestId: null, message: plain === "" ? null : shorten(stripApiKey(plain.replace(/<[^>]*>/g, " ").replace(/\s+/g, " "))) };
}

function shorten(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Retry-After in seconds or as an HTTP date → milliseconds; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const NOT_ENTITLED = /not entitled|not_authorized|upgrade your plan|entitlement/i;
const KEY_PROBLEM = /api ?key|unknown key|invalid key|not authenticated|authenticat/i;

/**
 * The error for a non-2xx answer. `where` names the request in words ("page 2 of the I:NDX chain
 * snapshot"); it never contains a URL.
 */
export function errorForResponse(status: number, text: string, retryAfter: string | null, where: string): SourceError {
  const body = parseErrorBody(text);
  const said = body.message ? `: "${body.message}"` : "";
  const details = { status, providerStatus: body.status, requestId: body.requestId };
  const keyProblem = body.message !== null && KEY_PROBLEM.test(body.message);
  const notEntitled = body.status === "NOT_AUTHORIZED" || (body.message !== null && NOT_ENTITLED.test(body.message));
  // The entitlement answer's HTTP status is unverified (reference §6: expect 403): its body decides.
  if (status < 500 && status !== 429 && !keyProblem && (notEntitled || status === 403)) {
    return new EntitlementError(
      SOURCE_NAME,
      `${where} was refused (HTTP ${status}${body.status ? `, ${body.status}` : ""})${said}. The key's plan does not include the options chain snapshot: it needs Options Starter or higher ` +
        "(the free Basic plan has no options snapshots); upgrade the plan or use another source",
      { details },
    );
  }
  if (status === 401 || status === 403) {
    return new AuthError(SOURCE_NAME, `${where} was refused (HTTP ${status})${said}: the API key was not accepted. Check "api_key" (or POLYGON_API_KEY) against the Polygon/Massive dashboard`, {
      details,
    });
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    const wait = retryAfterMs === null ? "" : ` (Retry-After ${Math.ceil(retryAfterMs / 1000)} s)`;
    return new RateLimitError(
      SOURCE_NAME,
      `${where}: rate limit exceeded${wait}${said}. Free keys allow 5 requests a minute; lower "rate_limit" in the config, wait, or upgrade the plan`,
      { retryAfterMs, details },
    );
  }
  if (status >= 500) {
    return new ServiceUnavailableError(SOURCE_NAME, `${where} failed on the server (HTTP ${status})${said}; Polygon/Massive may be down or overloaded, try again later`, { details });
  }
  if (status === 404) {
    return new NoDataError(SOURCE_NAME, `${where}: not found (HTTP 404)${said}; check the underlying ticker (index underlyings take the "I:" prefix, e.g. "I:NDX")`, { details });
  }
  return new InvalidRequestError(SOURCE_NAME, `${where} was rejected (HTTP ${status})${said}`, { details });
}
