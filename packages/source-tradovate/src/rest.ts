/**
 * Tradovate's REST calls (reference §2–5): JSON in and out, bearer auth, and the statuses mapped to
 * @nq/core's typed errors. Business errors come back as 200 with `errorText` (or `violations`); a rate
 * limit is a bare 429 that a third-party app cannot resolve (reference §4), so it says to wait an hour.
 */
import {
  AuthError,
  EntitlementError,
  InvalidRequestError,
  isAbortError,
  NetworkError,
  RateLimitError,
  ServiceUnavailableError,
  TimeoutError,
  withTimeout,
} from "@nq/core";
import { abortedError } from "./abort.js";
import { SOURCE_NAME } from "./config.js";

/** How long a bare 429 asks to stay away (reference §4: "wait about 1 hour"). */
export const RATE_LIMIT_WAIT_MS = 60 * 60_000;

export interface RestOptions {
  baseUrl: string;
  timeoutMs: number;
}

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}`);
  }
}

export class RestClient {
  constructor(private readonly options: RestOptions) {}

  /** GET {base}{path}?{query} with a bearer token; null for 404 or an empty body (not found). */
  async get<T>(path: string, query: Record<string, string | number>, token: string, signal: AbortSignal): Promise<T | null> {
    const url = new URL(`${this.options.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
    return this.send<T>("GET", url, token, undefined, signal);
  }

  async post<T>(path: string, body: unknown, token: string | null, signal: AbortSignal): Promise<T | null> {
    return this.send<T>("POST", new URL(`${this.options.baseUrl}${path}`), token, body, signal);
  }

  private async send<T>(method: string, url: URL, token: string | null, body: unknown, signal: AbortSignal): Promise<T | null> {
    const what = `${method} ${url.pathname}`;
    let response: Response;
    let text: string;
    const requestSignal = withTimeout(signal, this.options.timeoutMs);
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: requestSignal,
      });
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw abortedError(signal.reason);
      if (requestSignal.aborted || (error as { name?: unknown })?.name === "TimeoutError") {
        throw new TimeoutError(SOURCE_NAME, `${what}: no answer within ${this.options.timeoutMs} ms; check the connection or Tradovate's status, then try again`, {
          timeoutMs: this.options.timeoutMs,
          cause: error,
        });
      }
      if (isAbortError(error)) throw abortedError(error);
      throw new NetworkError(SOURCE_NAME, `${what}: the request failed (${(error as Error)?.message ?? String(error)}); check the connection, then try again`, { cause: error });
    }
    const status = response.status;
    if (status === 404) return null;
    if (status === 429) {
      throw new RateLimitError(SOURCE_NAME, `${what}: Tradovate's rate limit (HTTP 429); a third-party app cannot lift it, wait about an hour before trying again`, {
        retryAfterMs: RATE_LIMIT_WAIT_MS,
        details: { status },
      });
    }
    if (status === 401) throw new HttpStatusError(401, text);
    if (status === 403) {
      throw new EntitlementError(SOURCE_NAME, `${what}: refused (HTTP 403); the account may lack API access or this data's entitlement`, { details: { status } });
    }
    if (status >= 500) {
      const Kind = status === 503 ? ServiceUnavailableError : NetworkError;
      throw new Kind(SOURCE_NAME, `${what}: Tradovate answered HTTP ${status}; try again later`, { details: { status } });
    }
    if (status >= 400) throw new InvalidRequestError(SOURCE_NAME, `${what}: HTTP ${status}: ${text.slice(0, 200)}`, { details: { status } });
    if (text.trim() === "" || text.trim() === "null") return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new NetworkError(SOURCE_NAME, `${what}: the answer is not JSON (${text.length} bytes); try again`, { cause });
    }
    const errorText = (parsed as { errorText?: unknown } | null)?.errorText;
    // An auth answer carries errorText for the caller to judge; elsewhere a non-empty errorText is a business error.
    if (typeof errorText === "string" && errorText !== "" && !url.pathname.includes("/auth/")) {
      throw new InvalidRequestError(SOURCE_NAME, `${what}: ${errorText}`);
    }
    return parsed as T;
  }
}

export function unauthorized(what: string): AuthError {
  return new AuthError(SOURCE_NAME, `${what}: the access token was refused (HTTP 401) even after logging in again; check the account's API access`);
}
