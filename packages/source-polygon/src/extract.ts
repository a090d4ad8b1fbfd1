/**
 * Stage 2 of 3 — extract: the chain snapshot over HTTP, page by page along `next_url`.
 *
 * - Each `next_url` is followed by its path and query only, sent to the configured base URL (the Python
 *   client's way: a `next_url` naming another host, or a doubled port, changes nothing), with the key
 *   appended again (query auth) or in the header.
 * - Guards from the reference (§4): a cursor seen before stops the walk, so does a page cap and an empty
 *   page; either makes the chain incomplete, with the reason.
 * - The client-side throttle is taken before every request; a 429 shuts it for the server's Retry-After.
 * - No retries here: the registry is the one retry layer. The pages already received live in a
 *   `Pagination` kept by the source instance, so a `load` called again after a failure resumes at the page
 *   that failed instead of starting over (and spending the rate limit again).
 */
import { AbortedError, IncompleteDataError, type Logger, NetworkError, NoDataError, type ProgressUpdate, TimeoutError, toSourceError, withTimeout } from "@nq/core";
import { type ResolvedConfig, SOURCE_NAME } from "./config.js";
import { errorForResponse, stripApiKey } from "./errors.js";
import type { SnapshotQuery } from "./query.js";
import type { Throttle } from "./throttle.js";

export interface SnapshotPage {
  /** 1-based. */
  page: number;
  requestId: string | null;
  results: unknown[];
  receivedAt: Date;
}

/** Where a walk through the pages stands; kept by the source instance between loads. */
export interface Pagination {
  identity: string;
  pages: SnapshotPage[];
  /** Path and query (no key) of the next page; null before the first. */
  next: string | null;
  seenCursors: Set<string>;
  /** Requests sent for this walk, including failed ones. */
  requests: number;
}

export function newPagination(identity: string): Pagination {
  return { identity, pages: [], next: null, seenCursors: new Set(), requests: 0 };
}

export interface ExtractedSnapshot {
  results: unknown[];
  pages: SnapshotPage[];
  /** Why the walk ended before the last page, when it did so without the data being complete. */
  incompleteReasons: string[];
  /** Why it ended early with the data complete for the request (the nearest N expirations are in). */
  stoppedEarly: string | null;
  /** The pages came from more than one load (a failure in between). */
  resumed: boolean;
}

export interface ExtractContext {
  config: ResolvedConfig;
  apiKey: string;
  throttle: Throttle;
  log: Logger;
  progress?: ((update: ProgressUpdate) => void) | undefined;
  signal: AbortSignal;
  /**
   * Called after each page with every result so far; returns why the walk may stop now (the request's
   * nearest expirations are complete), or null to go on.
   */
  enoughAfter?: (results: unknown[]) => string | null;
}

export async function extractSnapshot(query: SnapshotQuery, state: Pagination, ctx: ExtractContext): Promise<ExtractedSnapshot> {
  const { config, log, signal } = ctx;
  const ticker = query.underlying.ticker;
  const resumed = state.pages.length > 0;
  if (resumed) log.info(`resuming the ${ticker} chain snapshot at page ${state.pages.length + 1} (${state.pages.length} page(s) already received)`);
  const incompleteReasons: string[] = [];
  let stoppedEarly: string | null = null;

  for (;;) {
    if (signal.aborted) throw new AbortedError(SOURCE_NAME, "the load was aborted", { cause: signal.reason });
    const pageNumber = state.pages.length + 1;
    if (pageNumber > config.max_pages) {
      incompleteReasons.push(`stopped after ${config.max_pages} pages ("max_pages"); Polygon offered more`);
      break;
    }
    const target = state.next ?? `${query.path}?${new URLSearchParams(query.params).toString()}`;
    const where = `page ${pageNumber} of the ${ticker} chain snapshot`;
    await ctx.throttle.take(signal, (ms) => {
      log.info(`waiting ${Math.ceil(ms / 1000)} s for the rate limit before ${where} ("rate_limit": ${config.rate_limit ? `${config.rate_limit.requests} per ${config.rate_limit.per_seconds} s` : "off"})`);
      ctx.progress?.({ stage: `${ticker} snapshot: waiting for the rate limit before page ${pageNumber}`, done: state.pages.length });
    });
    state.requests += 1;
    const body = await getJson(target, where, ctx);
    const results = Array.isArray(body.results) ? (body.results as unknown[]) : [];
    const page: SnapshotPage = { page: pageNumber, requestId: typeof body.request_id === "string" ? body.request_id : null, results, receivedAt: new Date() };
    const nextUrl = typeof body.next_url === "string" && body.next_url !== "" ? body.next_url : null;

    if (results.length === 0) {
      if (pageNumber === 1) {
        throw new NoDataError(
          SOURCE_NAME,
          `the ${ticker} chain snapshot is empty for ${describeFilters(query.params)}; check the ticker (indices take the "I:" prefix) and the expiration window`,
          { details: { requestId: page.requestId } },
        );
      }
      // An empty page ends the walk (reference §4); a next_url on it would only lead on to more nothing.
      if (nextUrl) log.warn(`${where} was empty but offered a next page; stopping there`);
      state.pages.push(page);
      break;
    }
    state.pages.push(page);
    const all = state.pages.flatMap((p) => p.results);
    ctx.progress?.({ stage: `${ticker} snapshot page ${pageNumber}${nextUrl ? "" : " (last)"}`, done: pageNumber, ...(nextUrl ? {} : { total: pageNumber }) });
    log.debug(`${where}: ${results.length} contracts (${all.length} so far)`);

    if (!nextUrl) break;
    const enough = ctx.enoughAfter?.(all) ?? null;
    if (enough) {
      stoppedEarly = enough;
      break;
    }
    const next = followable(nextUrl);
    if (next === null) {
      incompleteReasons.push(`${where} gave a next_url that is not a URL; the pages after it were not fetched`);
      break;
    }
    const cursor = new URLSearchParams(next.split("?")[1] ?? "").get("cursor") ?? next;
    if (state.seenCursors.has(cursor)) {
      incompleteReasons.push(`${where} pointed back to a page already fetched (a looping next_url, a known Polygon fault); stopped after ${pageNumber} pages`);
      break;
    }
    state.seenCursors.add(cursor);
    state.next = next;
  }
  return { results: state.pages.flatMap((p) => p.results), pages: [...state.pages], incompleteReasons, stoppedEarly, resumed };
}

/**
 * The path and query of a `next_url`, without any key in it; null when it is not a URL. Like the
 * official client, only the path and query are followed, against our own base URL, which also survives
 * the malformed `https://api.polygon.io:443:443/…` seen in the wild.
 */
export function followable(nextUrl: string): string | null {
  let pathAndQuery: string | null = null;
  try {
    const url = new URL(nextUrl);
    pathAndQuery = `${url.pathname}${url.search}`;
  } catch {
    const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^#]*)$/i.exec(nextUrl.trim());
    if (match) pathAndQuery = match[1]!;
    else if (nextUrl.startsWith("/")) pathAndQuery = nextUrl;
  }
  if (pathAndQuery === null || !pathAndQuery.startsWith("/")) return null;
  const [path, query = ""] = pathAndQuery.split("?", 2) as [string, string?];
  const params = new URLSearchParams(query);
  for (const name of [...params.keys()]) if (/^api_?key$/i.test(name)) params.delete(name);
  const rest = params.toString();
  return rest === "" ? path : `${path}?${rest}`;
}

function describeFilters(params: Record<string, string>): string {
  const shown = Object.entries(params).filter(([name]) => name.startsWith("expiration_date") || name.startsWith("strike_price"));
  return shown.length === 0 ? "all expirations" : shown.map(([name, value]) => `${name}=${value}`).join(", ");
}

async function getJson(target: string, where: string, ctx: ExtractContext): Promise<Record<string, unknown>> {
  const { config, apiKey, signal } = ctx;
  const url = new URL(`${config.base_url.replace(/\/+$/, "")}${target}`);
  const headers: Record<string, string> = { accept: "application/json", "user-agent": "@nq/source-polygon" };
  if (config.auth === "query") url.searchParams.set("apiKey", apiKey);
  else headers.authorization = `Bearer ${apiKey}`;
  const requestSignal = withTimeout(signal, config.timeout_ms);
  const failed = (error: unknown): never => {
    if (signal.aborted) throw new AbortedError(SOURCE_NAME, `the load was aborted during ${where}`, { cause: signal.reason });
    if (requestSignal.aborted) {
      throw new TimeoutError(SOURCE_NAME, `no answer to ${where} within ${config.timeout_ms} ms ("timeout_ms"); check the connection or Polygon/Massive's status, then try again`, {
        timeoutMs: config.timeout_ms,
        cause: error,
      });
    }
    const typed = toSourceError(SOURCE_NAME, error);
    if (typed.kind === "network") throw new NetworkError(SOURCE_NAME, `${where}: ${typed.message.replace(`${SOURCE_NAME}: `, "")}`, { cause: error });
    throw new NetworkError(SOURCE_NAME, `${where} failed before an answer arrived (${stripApiKey(error instanceof Error ? error.message : String(error))}); check the connection and try again`, {
      cause: error,
    });
  };
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { headers, signal: requestSignal });
  } catch (error) {
    return failed(error);
  }
  try {
    text = await response.text();
  } catch (error) {
    if (signal.aborted || requestSignal.aborted) return failed(error);
    throw new IncompleteDataError(SOURCE_NAME, `the answer to ${where} was cut off (HTTP ${response.status}); try again`, { cause: error });
  }
  if (!response.ok) {
    const error = errorForResponse(response.status, text, response.headers.get("retry-after"), where);
    if (response.status === 429) ctx.throttle.rateLimited((error as { retryAfterMs?: number | null }).retryAfterMs ?? null);
    throw error;
  }
  ctx.throttle.answered();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new IncompleteDataError(SOURCE_NAME, `the answer to ${where} is not complete JSON (${text.length} bytes); try again`, { cause: error });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new IncompleteDataError(SOURCE_NAME, `the answer to ${where} is not a JSON object; try again`);
  }
  const status = (body as { status?: unknown }).status;
  if (status === "NOT_AUTHORIZED" || status === "ERROR") throw errorForResponse(status === "ERROR" ? 400 : 403, text, null, where);
  return body as Record<string, unknown>;
}
