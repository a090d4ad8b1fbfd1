/**
 * @nq/source-polygon — Polygon.io/Massive's options chain snapshot, as a labelled PROXY for NQ options.
 *
 * Polygon/Massive has no options on CME futures. What it has is the chain of Nasdaq-100 index options
 * (`I:NDX`: cash-settled, European, $100 a point) or of QQQ (physical, American, 100 shares), with the
 * feed's own greeks, implied volatility, open interest, day volume, last quote and trade, and the
 * underlying's level. A chain from here is never NQ's: it carries its own product, underlying, multiplier
 * and settlement terms, and says "PROXY: … not NQ futures options" in its warnings and in `result.proxy`.
 *
 * A load runs three stages, one file each:
 *   1. query.ts    ChainRequest + config → one snapshot request (filters, sort) and the proxy label
 *   2. extract.ts  `GET /v3/snapshot/options/{underlying}` along `next_url`, throttled, typed errors,
 *                  resumable by a later load of the same instance
 *   3. rows.ts     snapshot results → SourceRows, as-of time, delay, underlying level
 *
 * The local Polygon-compatible server for tests and demos is at "@nq/source-polygon/test-server".
 */
import { AbortedError, defineSource, type Source, type SourceContext, type SourceResult } from "@nq/core";
import { cacheIdentity, configSchema, type ResolvedConfig, resolveApiKey, SOURCE_NAME } from "./config.js";
import { extractSnapshot, type ExtractedSnapshot, newPagination, type Pagination } from "./extract.js";
import { type ProxyInfo, type SnapshotQuery, toSnapshotQuery } from "./query.js";
import { newYorkDate } from "./new-york-time.js";
import { oneRootPerContract, toChainFacts } from "./rows.js";
import { Throttle } from "./throttle.js";

/** What `load` returns: a SourceResult plus the proxy label, for @nq/core to carry into the chain's metadata. */
export interface PolygonSourceResult extends SourceResult {
  /** Non-null when the chain answers a request for another product (NQ) than its own. */
  proxy: ProxyInfo | null;
}

export const polygon = defineSource({
  name: SOURCE_NAME,
  // Its chains stand in for NQ: the registry uses it only where the profile says "allow_proxy": true.
  proxy: true,
  description:
    "Polygon.io/Massive options chain snapshot: Nasdaq-100 index options (I:NDX) or QQQ options with the feed's greeks, IV, open interest and quotes — a PROXY for NQ futures options (Polygon has none), labelled as such.",
  capabilities: {
    chain: true,
    quotes: true,
    openInterest: true,
    settlement: false,
    volume: true,
    greeks: true,
    impliedVolatility: true,
    streaming: false,
    needsCredentials: true,
    costsMoney: false,
    delayed: true,
  },
  configSchema,
  cacheIdentity,
  create(config: ResolvedConfig, context: SourceContext): Source {
    // Checked (and registered as a secret) before any request can be made.
    const apiKey = resolveApiKey(config);
    const throttle = new Throttle(new URL(config.base_url).origin, apiKey, config.rate_limit);
    // Lives as long as the source: a load called again after a failure resumes the walk where it stopped.
    let pagination: Pagination | null = null;
    let closed = false;
    return {
      async load(request, { signal }): Promise<PolygonSourceResult> {
        if (signal.aborted || closed) throw new AbortedError(SOURCE_NAME, closed ? "the source was closed" : "the load was aborted", { cause: signal.reason });
        const now = context.now();
        const query = toSnapshotQuery(request, config, now);
        if (pagination?.identity !== query.identity) pagination = newPagination(query.identity);
        const extracted = await extractSnapshot(query, pagination, {
          config,
          apiKey,
          throttle,
          log: context.log,
          progress: context.progress,
          signal,
          enoughAfter: query.maxExpirations === null ? undefined : (results) => nearestExpirationsComplete(results, query.maxExpirations!, now),
        });
        // Done: a later load fetches a fresh snapshot.
        pagination = null;
        return toResult(extracted, query, config, context, now);
      },
      async close() {
        closed = true;
        pagination = null;
      },
    };
  },
});

export default polygon;

/**
 * Pages come sorted by expiration date: once a page reaches past the N-th expiration, the nearest N are
 * complete and the remaining pages (every later expiry) are not needed. Today's expiration counts extra:
 * whether it is still alive depends on the chain's as-of time, which the normalizer decides.
 */
export function nearestExpirationsComplete(results: unknown[], n: number, now: Date): string | null {
  const expirations = new Set<string>();
  for (const result of results) {
    const expiration = (result as { details?: { expiration_date?: unknown } } | null)?.details?.expiration_date;
    if (typeof expiration === "string") expirations.add(expiration);
  }
  const needed = n + (expirations.has(newYorkDate(now)) ? 1 : 0);
  if (expirations.size <= needed) return null;
  return `the nearest ${n} expiration(s) are complete (pages come sorted by expiration date); later ones were not fetched`;
}

function toResult(extracted: ExtractedSnapshot, query: SnapshotQuery, config: ResolvedConfig, context: SourceContext, fetchedAt: Date): PolygonSourceResult {
  const facts = toChainFacts(extracted.results, query.underlying, config, fetchedAt);
  const { rows, dropped } = oneRootPerContract(facts.rows, config.am_settled_roots);
  const warnings: string[] = [];
  if (query.proxy) warnings.push(query.proxy.label);
  const multipliers = [...new Set(rows.map((row) => row.multiplier as number))];
  warnings.push(query.underlying.termsWarning(multipliers.length === 1 ? multipliers[0]! : config.multiplier));
  if (multipliers.length > 1) warnings.push(`contracts carry different multipliers (${multipliers.join(", ")}): adjusted contracts are in the chain`);
  warnings.push(...query.notes);
  const skipped = Object.entries(facts.skipped);
  if (skipped.length) warnings.push(`skipped ${skipped.map(([reason, count]) => `${count} result(s) with ${reason}`).join(", ")}`);
  const droppedRoots = Object.entries(dropped);
  if (droppedRoots.length) {
    warnings.push(
      `left out ${droppedRoots.map(([root, count]) => `${count} ${root}`).join(", ")} contract(s) that share expiration, strike and right with a PM-settled root (kept that one); set "roots" to choose`,
    );
  }
  if (extracted.resumed) warnings.push(`the snapshot's ${extracted.pages.length} pages were fetched across more than one try (a failure in between): pages may be minutes apart`);
  if (facts.delayed === null) warnings.push("the feed did not say whether the data is delayed (no timeframe); treated as delayed");
  if (facts.underlyingPrice === null) {
    warnings.push(`no level for ${query.underlying.ticker} in the snapshot (index values may need an Indices plan, unverified): computed analytics are unavailable where the feed gave none`);
  }
  if (extracted.stoppedEarly) context.log.info(extracted.stoppedEarly);
  const requestIds = extracted.pages.map((p) => p.requestId).filter((id): id is string => id !== null);
  context.log.info(`${query.underlying.ticker} chain snapshot: ${rows.length} contracts in ${extracted.pages.length} page(s)${requestIds.length ? ` (request ids ${requestIds.join(", ")})` : ""}`);
  return {
    rows,
    asOf: facts.asOf,
    asOfReason: facts.asOfReason,
    delayed: facts.delayed ?? true,
    sample: config.sample,
    underlying: query.underlying.ticker,
    underlyingPrice: facts.underlyingPrice,
    complete: extracted.incompleteReasons.length === 0,
    incompleteReasons: extracted.incompleteReasons,
    warnings,
    rawDataAvailable: false,
    proxy: query.proxy,
  };
}

export { cacheIdentity, configSchema, DEFAULT_BASE_URL, type PolygonConfig, resolveApiKey, UNDERLYING_PROFILES, type Underlying, type UnderlyingProfile } from "./config.js";
export { followable } from "./extract.js";
export { AS_OF_TOLERANCE_MS, type ProxyInfo, toSnapshotQuery } from "./query.js";
export { epochMs, oneRootPerContract, rootOf, toChainFacts } from "./rows.js";
export { resetThrottles } from "./throttle.js";
