/**
 * Stage 3 of 3 — transform the data: snapshot results (`OptionSnapshotResult`, reference §5) → SourceRows
 * for @nq/core to normalize, plus what the chain as a whole says: its as-of time, whether it is delayed,
 * and the underlying's level. A field the feed leaves out stays null — never 0.
 *
 * Units: `implied_volatility` is a fraction (0.357 = 35.7%) as core wants it. The spec words delta and
 * gamma "per $0.01" of the underlying, but its own examples (delta 0.6437) are plain per-$1 deltas, which
 * is @nq's unit (per index point for NDX): they are passed through as given. Theta is per day and vega per
 * 1% of volatility (one vol point), @nq's units too. Timestamps are nanoseconds since the epoch.
 */
import type { SourceRow } from "@nq/core";
import type { ResolvedConfig, UnderlyingProfile } from "./config.js";
import { newYorkInstant } from "./new-york-time.js";

type Json = Record<string, unknown>;

export interface ChainFacts {
  rows: SourceRow[];
  /** The newest quote / trade / underlying time across the chain, never after `fetchedAt`. */
  asOf: Date;
  asOfReason: string;
  /** Any part marked `DELAYED`; null when no part says. */
  delayed: boolean | null;
  underlyingPrice: number | null;
  /** Results that were not options of this underlying (contract_type "other", no strike…), skipped with a reason. */
  skipped: Record<string, number>;
  /** Contracts whose expiry instant was inferred from the root (AM vs PM settlement). */
  roots: Record<string, number>;
}

const OCC = /^O:([A-Z.]+?)\d?(\d{6})([CP])(\d{8})$/;

/** The option root of an OCC ticker: "O:NDXP261120C21000000" → "NDXP". */
export function rootOf(ticker: unknown): string | null {
  if (typeof ticker !== "string") return null;
  const match = OCC.exec(ticker);
  return match ? match[1]! : null;
}

/** A nanosecond (or µs, ms, s) epoch timestamp → ms; null when it is not one. */
export function epochMs(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0) return null;
  if (n > 1e17) return Math.round(n / 1e6);
  if (n > 1e14) return Math.round(n / 1e3);
  if (n > 1e11) return Math.round(n);
  return Math.round(n * 1000);
}

function obj(value: unknown): Json | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** When an option of this root expires: AM-settled at the morning's settlement, PM-settled at the close (New York). */
export function expirationTimeOf(expiration: string, root: string | null, config: Pick<ResolvedConfig, "am_settled_roots" | "am_settlement_time" | "pm_expiry_time">): string {
  const am = root !== null && config.am_settled_roots.includes(root);
  return newYorkInstant(expiration, am ? config.am_settlement_time : config.pm_expiry_time);
}

export function toChainFacts(results: unknown[], underlying: UnderlyingProfile, config: ResolvedConfig, fetchedAt: Date): ChainFacts {
  const rows: SourceRow[] = [];
  const skipped: Record<string, number> = {};
  const roots: Record<string, number> = {};
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  let newest = 0;
  let delayed: boolean | null = null;
  let underlyingPrice: number | null = null;
  let underlyingTime = -1;
  const seen = (ms: number | null) => {
    if (ms !== null && ms <= fetchedAt.getTime() && ms > newest) newest = ms;
  };
  const timeframe = (value: unknown) => {
    if (value === "DELAYED") delayed = true;
    else if (value === "REAL-TIME" && delayed === null) delayed = false;
  };

  for (const raw of results) {
    const result = obj(raw);
    const details = obj(result?.details);
    if (!result || !details) {
      skip("no details");
      continue;
    }
    const type = details.contract_type;
    if (type !== "call" && type !== "put") {
      skip(`contract_type ${JSON.stringify(type ?? null)}`);
      continue;
    }
    const quote = obj(result.last_quote);
    const trade = obj(result.last_trade);
    const day = obj(result.day);
    const greeks = obj(result.greeks);
    const asset = obj(result.underlying_asset);

    const quoteTime = epochMs(quote?.last_updated);
    const tradeTime = epochMs(trade?.sip_timestamp);
    const assetTime = epochMs(asset?.last_updated);
    seen(quoteTime);
    seen(tradeTime);
    seen(assetTime);
    timeframe(quote?.timeframe);
    timeframe(trade?.timeframe);
    timeframe(asset?.timeframe);

    // Indices carry `value`, stocks and ETFs `price` (reference §5).
    const level = num(asset?.value) ?? num(asset?.price);
    if (level !== null && (assetTime ?? 0) >= underlyingTime) {
      underlyingPrice = level;
      underlyingTime = assetTime ?? 0;
    }
    const root = rootOf(details.ticker);
    if (config.roots !== null && (root === null || !config.roots.includes(root))) {
      skip(`a root not in "roots" (${root ?? "unknown"})`);
      continue;
    }
    if (root) roots[root] = (roots[root] ?? 0) + 1;
    const expiration = typeof details.expiration_date === "string" ? details.expiration_date : null;
    const dayVolume = num(day?.volume);
    // `day` is the latest daily bar; an empty one (no trade yet today) gives no volume and no close.
    const hasDay = day !== null && Object.keys(day).length > 0 && dayVolume !== null;

    rows.push({
      symbol: typeof details.ticker === "string" ? details.ticker : undefined,
      underlying: typeof asset?.ticker === "string" ? asset.ticker : underlying.ticker,
      underlyingPrice: level,
      underlyingPriceBasis: level === null ? null : "last",
      underlyingPriceTime: level === null ? null : assetTime,
      product: underlying.product,
      root: root ?? underlying.product,
      expiration,
      expirationTime: expiration && /^\d{4}-\d{2}-\d{2}$/.test(expiration) ? expirationTimeOf(expiration, root, config) : null,
      strike: details.strike_price,
      right: type === "call" ? "C" : "P",
      bid: num(quote?.bid),
      ask: num(quote?.ask),
      bidSize: num(quote?.bid_size),
      askSize: num(quote?.ask_size),
      last: num(trade?.price) ?? (hasDay && dayVolume! > 0 ? num(day?.close) : null),
      volume: hasDay ? dayVolume : null,
      openInterest: num(result.open_interest),
      impliedVolatility: num(result.implied_volatility),
      delta: num(greeks?.delta),
      gamma: num(greeks?.gamma),
      theta: num(greeks?.theta),
      vega: num(greeks?.vega),
      multiplier: num(details.shares_per_contract) ?? config.multiplier,
      quoteTime,
    });
  }

  const asOf = newest > 0 ? new Date(newest) : fetchedAt;
  const asOfReason =
    newest > 0
      ? `the newest quote, trade or underlying time in the snapshot${delayed ? " (a delayed feed: about 15 minutes behind)" : ""}`
      : "the snapshot gave no timestamps: the time it was fetched";
  return { rows, asOf, asOfReason, delayed, underlyingPrice, skipped, roots };
}

/**
 * @nq/core keys a contract by (expiration, strike, right), without its root. On the third Friday NDX has
 * two contracts there: the AM-settled monthly (NDX) and the PM-settled daily (NDXP). Keep one — the
 * PM-settled, whose expiry matches the rest of the dailies — and count what was left out.
 */
export function oneRootPerContract(rows: SourceRow[], amRoots: string[]): { rows: SourceRow[]; dropped: Record<string, number> } {
  const byKey = new Map<string, SourceRow[]>();
  for (const row of rows) {
    const key = `${String(row.expiration)}|${String(row.strike)}|${String(row.right)}`;
    const list = byKey.get(key);
    if (list) list.push(row);
    else byKey.set(key, [row]);
  }
  const dropped: Record<string, number> = {};
  const kept: SourceRow[] = [];
  for (const list of byKey.values()) {
    const roots = new Set(list.map((row) => row.root));
    if (list.length === 1 || roots.size === 1) {
      kept.push(...list);
      continue;
    }
    const pm = list.filter((row) => !amRoots.includes(String(row.root)));
    const keep = pm.length > 0 ? pm : list;
    kept.push(...keep);
    for (const row of list) if (!keep.includes(row)) dropped[String(row.root)] = (dropped[String(row.root)] ?? 0) + 1;
  }
  return { rows: kept, dropped };
}
