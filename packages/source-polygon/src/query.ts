/**
 * Stage 1 of 3 — transform the query: a ChainRequest plus this source's config becomes one chain snapshot
 * request, `GET /v3/snapshot/options/{underlyingAsset}` with its filters, and the proxy label the chain
 * will carry. Polygon/Massive has no options on CME futures, so an NQ request is answered — only when the
 * config allows it — with the chain of another underlying, said out loud.
 */
import { canonicalRequest, type ChainRequest, InvalidRequestError } from "@nq/core";
import { type ExerciseStyle, type ResolvedConfig, type SettlementStyle, SOURCE_NAME, UNDERLYING_PROFILES, type UnderlyingProfile } from "./config.js";
import { addDays, newYorkDate } from "./new-york-time.js";

/** How far back a request's asOf may lie: a snapshot is the market now (or 15 minutes ago), never history. */
export const AS_OF_TOLERANCE_MS = 30 * 60_000;

/**
 * The label a proxy chain carries (`SourceResult.proxy`), for @nq/core to adopt into `ChainMetadata`:
 * what the chain is instead of the product asked for.
 */
export interface ProxyInfo {
  /** The product the request asked for ("NQ"). */
  for: string;
  /** The chain's underlying ("I:NDX", "QQQ"). */
  underlying: string;
  /** The product its contracts carry ("NDX", "QQQ"). */
  product: string;
  kind: "index-options" | "etf-options";
  /** The configured multiplier; each contract carries the feed's own `shares_per_contract`. */
  multiplier: number;
  settlement: SettlementStyle;
  exercise: ExerciseStyle;
  /** "PROXY: NDX index options, not NQ futures options". */
  label: string;
}

export interface SnapshotQuery {
  underlying: UnderlyingProfile;
  /** `/v3/snapshot/options/I:NDX` (the ticker as the spec's examples write it, colon unescaped). */
  path: string;
  /** The filters of the first page; `next_url` carries them on (in its cursor). */
  params: Record<string, string>;
  /** Null when the request asked for the underlying's own product (e.g. "NDX"). */
  proxy: ProxyInfo | null;
  /** Stop paginating once the nearest N live expirations are complete (pages come sorted by expiration). */
  maxExpirations: number | null;
  /** Which query this is, to resume its pagination on a later `load` of the same instance. */
  identity: string;
  /** Notes for the result's warnings (filters not sent, and why). */
  notes: string[];
}

export function toSnapshotQuery(request: ChainRequest, config: ResolvedConfig, now: Date): SnapshotQuery {
  const underlying = UNDERLYING_PROFILES[config.underlying];
  const product = request.product.trim().toUpperCase();
  let proxy: ProxyInfo | null = null;
  if (!underlying.ownProducts.includes(product)) {
    if (product !== "NQ") {
      throw new InvalidRequestError(SOURCE_NAME, `this source gives ${underlying.product} options (${underlying.ticker}) only, as a proxy for NQ; the request asked for "${request.product}"`);
    }
    if (!config.allow_proxy) {
      throw new InvalidRequestError(
        SOURCE_NAME,
        `Polygon/Massive has no options on CME futures: it can answer an NQ request only with ${underlying.product} options (${underlying.ticker}), a proxy with another multiplier, ` +
          `settlement and underlying. Not used, because the profile did not opt in; set "allow_proxy": true in data_sources.${SOURCE_NAME}.config to accept a proxy chain`,
      );
    }
    proxy = {
      for: product,
      underlying: underlying.ticker,
      product: underlying.product,
      kind: underlying.kind,
      multiplier: config.multiplier,
      settlement: underlying.settlement,
      exercise: underlying.exercise,
      label: underlying.proxyWarning,
    };
  }
  if (request.asOf !== undefined) {
    const asked = Date.parse(request.asOf);
    if (Number.isFinite(asked) && asked < now.getTime() - AS_OF_TOLERANCE_MS) {
      throw new InvalidRequestError(
        SOURCE_NAME,
        `the options chain snapshot is the market now (or 15 minutes ago on delayed plans), not history; the request asked for ${request.asOf}. Drop --as-of or use a source with history`,
      );
    }
  }

  const notes: string[] = [];
  const today = newYorkDate(now);
  const params: Record<string, string> = { limit: String(config.page_limit), sort: "expiration_date", order: "asc" };
  let from = today;
  let to: string | null = config.expiration_window_days === null ? null : addDays(today, config.expiration_window_days);
  if (request.expirations?.length) {
    const sorted = [...new Set(request.expirations)].sort();
    from = sorted[0]! > from ? sorted[0]! : from;
    const last = sorted[sorted.length - 1]!;
    to = to === null || last < to ? last : to;
  }
  if (to !== null && to < from) {
    throw new InvalidRequestError(SOURCE_NAME, `no expiration left to ask for: the requested expirations end on ${to}, before ${from} (today in New York, or the first one asked)`);
  }
  if (to !== null && to === from) params.expiration_date = from;
  else {
    params["expiration_date.gte"] = from;
    if (to !== null) params["expiration_date.lte"] = to;
  }
  if (request.strikeMin !== undefined || request.strikeMax !== undefined) {
    if (underlying.strikesInIndexPoints) {
      if (request.strikeMin !== undefined) params["strike_price.gte"] = String(request.strikeMin);
      if (request.strikeMax !== undefined) params["strike_price.lte"] = String(request.strikeMax);
    } else {
      // @nq/core's normalizer applies the window too, in the request's units: it would drop every contract.
      throw new InvalidRequestError(
        SOURCE_NAME,
        `the request's strike window is in NQ index points; ${underlying.product} strikes are dollars (about 1/40 of the index), so it cannot select them. Remove the strike window or use "underlying": "I:NDX"`,
      );
    }
  }
  const path = `/v3/snapshot/options/${underlying.ticker}`;
  return {
    underlying,
    path,
    params,
    proxy,
    maxExpirations: request.maxExpirations ?? null,
    identity: JSON.stringify([config.base_url, path, params, canonicalRequest(request)]),
    notes,
  };
}
