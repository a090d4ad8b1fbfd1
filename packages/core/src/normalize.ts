/**
 * Source rows → a validated, de-duplicated, sorted chain with quality metrics. Every row is accounted for:
 * it becomes a contract, is merged into a duplicate, is filtered out by the request, or is counted as
 * invalid with its reason. A bad row never crashes the run and is never dropped without a trace.
 */
import { applyAnalytics, DEFAULT_ANALYTICS_RATE, type AnalyticsOptions } from "./analytics/chain.js";
import { cmeTradeDate } from "./cme-calendar.js";
import type {
  CacheStatus,
  OptionContract,
  OptionRight,
  OptionsChain,
  Provenance,
  QualityMetrics,
  StrikeRange,
  UnderlyingPriceBasis,
  UnderlyingSummary,
} from "./contract.js";
import type { ChainRequest } from "./request.js";
import { canonicalContractNames, canonicalFutureSymbol, SymbolError } from "./symbology.js";
import type { SourceCapabilities, SourceResult, SourceRow } from "./source.js";

export interface NormalizeContext {
  source: string;
  /** `delayed`: the default when the result does not say; `quotes`: whether a chain without quotes is hollow. */
  capabilities: Pick<SourceCapabilities, "delayed"> & Partial<Pick<SourceCapabilities, "quotes">>;
  request: ChainRequest;
  fetchedAt: Date;
  /** Multiplier used when a row does not give one (NQ options: $20 per index point). */
  defaultMultiplier?: number;
  /** A quote older than this, measured back from the chain's as-of time, counts as stale. */
  staleQuoteThresholdMs?: number;
  /**
   * Above this share of contracts missing a bid or an ask (0..1), a source that gives quotes returned a
   * chain a trader cannot act on: it is not complete. Default 0.5.
   */
  maxMissingBidAskShare?: number;
  cache?: CacheStatus;
  spendUsd?: number;
  /**
   * Black-76 implied volatility and greeks for contracts whose feed gives none (profile: `analytics`).
   * Absent: computed with `DEFAULT_ANALYTICS_RATE` (0); `false`: not computed (the feed's values stay).
   */
  analytics?: AnalyticsOptions | false;
}

export const NQ_OPTION_MULTIPLIER = 20;
const DEFAULT_STALE_MS = 15 * 60 * 1000;
export const DEFAULT_MAX_MISSING_BID_ASK_SHARE = 0.5;
/** A quote time this far past the as-of time is a clock or feed error, not a quote. */
const FUTURE_QUOTE_TOLERANCE_MS = 60_000;

/**
 * Whether an option has expired at `asOf`: at its expiration instant when the feed gives one, else when
 * its expiration date is before the CME trade date of `asOf` (never the UTC date: at 20:30 CT Monday the
 * trade date is already Tuesday). Sources use this too, so their selection and the normalizer agree.
 */
export function isExpiredAt(option: { expiration: string; expirationTime?: string | null }, asOf: Date): boolean {
  if (option.expirationTime) {
    const at = Date.parse(option.expirationTime);
    if (!Number.isNaN(at)) return at <= asOf.getTime();
  }
  return option.expiration < cmeTradeDate(asOf);
}

class RowProblem extends Error {}

export function normalizeChain(result: SourceResult, context: NormalizeContext): OptionsChain {
  const asOfDate = toDate(result.asOf);
  if (!asOfDate) throw new TypeError(`${context.source}: the load result's asOf (${String(result.asOf)}) is not a valid time`);
  const provenance: Provenance = {
    source: context.source,
    asOf: asOfDate.toISOString(),
    fetchedAt: context.fetchedAt.toISOString(),
    delayed: result.delayed ?? context.capabilities.delayed,
    sample: result.sample ?? false,
  };
  const staleMs = context.staleQuoteThresholdMs ?? DEFAULT_STALE_MS;
  const product = context.request.product.toUpperCase();

  const invalidReasons: Record<string, number> = {};
  let invalidRows = 0;
  let duplicateRows = 0;
  let conflictingDuplicates = 0;
  let filteredRows = 0;
  const byKey = new Map<string, OptionContract>();

  for (const row of result.rows) {
    let contract: OptionContract;
    try {
      contract = toContract(row, product, provenance, context.defaultMultiplier ?? NQ_OPTION_MULTIPLIER);
    } catch (error) {
      if (!(error instanceof RowProblem)) throw error;
      invalidRows += 1;
      invalidReasons[error.message] = (invalidReasons[error.message] ?? 0) + 1;
      continue;
    }
    if (!withinStrikeWindow(contract.strike, context.request)) {
      filteredRows += 1;
      continue;
    }
    if (context.request.expirations?.length && !context.request.expirations.includes(contract.expiration)) {
      filteredRows += 1;
      continue;
    }
    const key = `${contract.expiration}|${contract.strike}|${contract.right}`;
    const existing = byKey.get(key);
    if (existing) {
      duplicateRows += 1;
      if (conflicts(existing, contract)) conflictingDuplicates += 1;
      byKey.set(key, newerRow(existing, contract));
    } else {
      byKey.set(key, contract);
    }
  }

  let contracts = [...byKey.values()];
  if (context.request.maxExpirations !== undefined) {
    const live = contracts.filter((c) => !isExpiredAt(c, asOfDate));
    const keep = new Set([...new Set(live.map((c) => c.expiration))].sort().slice(0, context.request.maxExpirations));
    const before = contracts.length;
    contracts = live.filter((c) => keep.has(c.expiration));
    filteredRows += before - contracts.length;
  }
  contracts.sort(compareContracts);

  const analytics = context.analytics === false ? null : (context.analytics ?? { rate: DEFAULT_ANALYTICS_RATE });
  const analyticsUnavailable = analytics === null ? {} : applyAnalytics(contracts, asOfDate, analytics);

  const qualityMetrics = measureQuality(contracts, {
    rowsReceived: result.rows.length,
    invalidRows,
    invalidReasons,
    duplicateRows,
    conflictingDuplicates,
    filteredRows,
    asOf: asOfDate,
    staleMs,
    analyticsUnavailable,
  });
  const calls = contracts.filter((c) => c.right === "C").length;
  const underlying = canonicalUnderlying(result.underlying, asOfDate) ?? mostCommon(contracts.map((c) => c.underlying)) ?? product;
  const underlyings = summarizeUnderlyings(contracts);
  const incompleteReasons = incompleteReasonsOf(result, contracts, qualityMetrics, context);

  return {
    metadata: {
      source: context.source,
      product,
      asOf: provenance.asOf,
      fetchedAt: provenance.fetchedAt,
      delayed: provenance.delayed,
      sample: provenance.sample,
      complete: result.complete !== false && incompleteReasons.length === 0,
      incompleteReasons,
      asOfReason: result.asOfReason ?? null,
      proxy: result.proxy ?? null,
      warnings: [...(result.warnings ?? [])],
      cache: context.cache ?? "off",
      spendUsd: context.spendUsd ?? 0,
      analyticsRate: analytics === null ? null : analytics.rate,
    },
    optionsSummary: {
      total: contracts.length,
      calls,
      puts: contracts.length - calls,
      underlying,
      underlyingPrice: finiteOrNull(result.underlyingPrice) ?? underlyings.find((u) => u.symbol === underlying)?.price ?? null,
      underlyings,
      expirations: [...new Set(contracts.map((c) => c.expiration))].sort(),
    },
    qualityMetrics,
    strikeRange: strikeRangeOf(contracts),
    rawDataAvailable: result.rawDataAvailable ?? false,
    contracts,
  };
}

function toContract(row: SourceRow, product: string, provenance: Provenance, defaultMultiplier: number): OptionContract {
  if (typeof row !== "object" || row === null) throw new RowProblem("row: expected an object");
  const strike = requiredNumber(row.strike, "strike");
  if (strike <= 0) throw new RowProblem("strike: expected a positive number");
  const right = parseRight(row.right);
  const expiration = parseExpiration(row.expiration);
  const rowProduct = optionalString(row.product, "product") ?? product;
  const names = contractNames(row, rowProduct, expiration, right, strike, provenance.asOf);
  const underlying = names.underlying ?? rowProduct;
  const { root, symbol, rawSymbol } = names;
  const multiplier = optionalNumber(row.multiplier, "multiplier") ?? defaultMultiplier;
  if (multiplier <= 0) throw new RowProblem("multiplier: expected a positive number");
  const underlyingPrice = positiveOrNull(row.underlyingPrice, "underlyingPrice");
  const impliedVolatility = nonNegative(row.impliedVolatility, "impliedVolatility");
  const delta = deltaValue(row.delta);
  const gamma = nonNegative(row.gamma, "gamma");
  const theta = optionalNumber(row.theta, "theta");
  const vega = nonNegative(row.vega, "vega");
  return {
    symbol,
    rawSymbol,
    underlying,
    underlyingPrice,
    underlyingPriceBasis: underlyingPrice === null ? null : parseBasis(row.underlyingPriceBasis),
    underlyingPriceTime: underlyingPrice === null ? null : optionalTime(row.underlyingPriceTime, "underlyingPriceTime"),
    product: rowProduct,
    root,
    expiration,
    expirationTime: optionalTime(row.expirationTime, "expirationTime"),
    strike,
    right,
    bid: nonNegative(row.bid, "bid"),
    ask: nonNegative(row.ask, "ask"),
    bidSize: nonNegative(row.bidSize, "bidSize"),
    askSize: nonNegative(row.askSize, "askSize"),
    last: nonNegative(row.last, "last"),
    volume: nonNegative(row.volume, "volume"),
    clearedVolume: nonNegative(row.clearedVolume, "clearedVolume"),
    clearedVolumeDate: optionalDate(row.clearedVolumeDate, "clearedVolumeDate"),
    openInterest: nonNegative(row.openInterest, "openInterest"),
    openInterestDate: optionalDate(row.openInterestDate, "openInterestDate"),
    settlement: nonNegative(row.settlement, "settlement"),
    settlementDate: optionalDate(row.settlementDate, "settlementDate"),
    impliedVolatility,
    ivBasis: null,
    delta,
    gamma,
    theta,
    vega,
    greeksSource: impliedVolatility !== null || delta !== null || gamma !== null || theta !== null || vega !== null ? "feed" : null,
    multiplier,
    quoteTime: optionalTime(row.quoteTime, "quoteTime"),
    rawStrike: row.rawStrike === undefined || row.rawStrike === null ? null : String(row.rawStrike),
    provenance,
  };
}

/**
 * Two rows for one contract: the row with the newer quote time wins as a whole (on a tie, or with no
 * quote times, the later row). Rows are never merged field by field, which could pair one row's bid with
 * another's ask; a conflict is counted in `conflictingDuplicates`.
 */
function newerRow(existing: OptionContract, incoming: OptionContract): OptionContract {
  const a = existing.quoteTime === null ? -Infinity : Date.parse(existing.quoteTime);
  const b = incoming.quoteTime === null ? -Infinity : Date.parse(incoming.quoteTime);
  return a > b ? existing : incoming;
}

const MARKET_FIELDS = ["bid", "ask", "bidSize", "askSize", "last", "volume", "openInterest", "settlement", "quoteTime", "underlyingPrice"] as const;

function conflicts(a: OptionContract, b: OptionContract): boolean {
  return MARKET_FIELDS.some((field) => a[field] !== b[field]);
}

function summarizeUnderlyings(contracts: OptionContract[]): UnderlyingSummary[] {
  const bySymbol = new Map<string, UnderlyingSummary>();
  for (const c of contracts) {
    let entry = bySymbol.get(c.underlying);
    if (!entry) {
      entry = { symbol: c.underlying, price: null, basis: null, time: null, expirations: [], contracts: 0 };
      bySymbol.set(c.underlying, entry);
    }
    entry.contracts += 1;
    if (!entry.expirations.includes(c.expiration)) entry.expirations.push(c.expiration);
    // The freshest price wins when rows disagree.
    if (c.underlyingPrice !== null && (entry.price === null || (c.underlyingPriceTime ?? "") > (entry.time ?? ""))) {
      entry.price = c.underlyingPrice;
      entry.basis = c.underlyingPriceBasis;
      entry.time = c.underlyingPriceTime;
    }
  }
  return [...bySymbol.values()].map((u) => ({ ...u, expirations: u.expirations.sort() })).sort((a, b) => (a.expirations[0] ?? "").localeCompare(b.expirations[0] ?? ""));
}

/**
 * A chain is complete only when nothing says otherwise: the source's own reasons, and — for a source
 * that gives quotes — not hollow (no quote at all) and not mostly unquoted.
 */
function incompleteReasonsOf(result: SourceResult, contracts: OptionContract[], quality: QualityMetrics, context: NormalizeContext): string[] {
  const reasons = [...(result.incompleteReasons ?? [])];
  if (result.complete === false && reasons.length === 0) reasons.push(`${context.source} said the data is partial`);
  if (contracts.length === 0 || context.capabilities.quotes === false) return reasons;
  const quoted = contracts.filter((c) => c.bid !== null || c.ask !== null).length;
  const traded = contracts.filter((c) => c.volume !== null && c.volume > 0).length;
  const limit = context.maxMissingBidAskShare ?? DEFAULT_MAX_MISSING_BID_ASK_SHARE;
  if (quoted === 0) {
    reasons.push(`hollow chain: none of the ${contracts.length} contracts has a bid or an ask${traded === 0 ? ", and none traded" : ""}`);
  } else if (quality.missingBidAskShare > limit) {
    reasons.push(
      `${Math.round(quality.missingBidAskShare * 100)}% of contracts lack a bid or an ask (the limit is ${Math.round(limit * 100)}%, "quality.max_missing_bid_ask_share")`,
    );
  }
  return reasons;
}

function compareContracts(a: OptionContract, b: OptionContract): number {
  if (a.expiration !== b.expiration) return a.expiration < b.expiration ? -1 : 1;
  if (a.strike !== b.strike) return a.strike - b.strike;
  return a.right === b.right ? 0 : a.right === "C" ? -1 : 1;
}

function withinStrikeWindow(strike: number, request: ChainRequest): boolean {
  if (request.strikeMin !== undefined && strike < request.strikeMin) return false;
  if (request.strikeMax !== undefined && strike > request.strikeMax) return false;
  return true;
}

interface QualityInputs {
  rowsReceived: number;
  invalidRows: number;
  invalidReasons: Record<string, number>;
  duplicateRows: number;
  conflictingDuplicates?: number;
  filteredRows: number;
  asOf: Date;
  staleMs: number;
  /** Contracts without implied volatility and greeks, by reason (from the analytics); default none. */
  analyticsUnavailable?: Record<string, number>;
}

export function measureQuality(contracts: OptionContract[], inputs: QualityInputs): QualityMetrics {
  const n = contracts.length;
  const share = (count: number) => (n === 0 ? 0 : count / n);
  const missingBidAsk = contracts.filter((c) => c.bid === null || c.ask === null).length;
  const crossed = contracts.filter((c) => c.bid !== null && c.ask !== null && c.bid > c.ask).length;
  const zeroOi = contracts.filter((c) => c.openInterest === 0).length;
  const missingOi = contracts.filter((c) => c.openInterest === null).length;
  const cutoff = inputs.asOf.getTime() - inputs.staleMs;
  const stale = contracts.filter((c) => c.quoteTime !== null && Date.parse(c.quoteTime) < cutoff).length;
  const future = contracts.filter((c) => c.quoteTime !== null && Date.parse(c.quoteTime) > inputs.asOf.getTime() + FUTURE_QUOTE_TOLERANCE_MS).length;
  return {
    rowsReceived: inputs.rowsReceived,
    validContracts: n,
    invalidRows: inputs.invalidRows,
    invalidReasons: inputs.invalidReasons,
    duplicateRows: inputs.duplicateRows,
    conflictingDuplicates: inputs.conflictingDuplicates ?? 0,
    filteredRows: inputs.filteredRows,
    missingBidAskShare: share(missingBidAsk),
    crossedQuotes: crossed,
    zeroOpenInterestShare: share(zeroOi),
    missingOpenInterestShare: share(missingOi),
    staleQuotes: stale,
    futureQuoteTimes: future,
    staleQuoteThresholdMs: inputs.staleMs,
    analyticsUnavailable: inputs.analyticsUnavailable ?? {},
  };
}

function strikeRangeOf(contracts: OptionContract[]): StrikeRange | null {
  if (contracts.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  const distinct = new Set<number>();
  for (const c of contracts) {
    min = Math.min(min, c.strike);
    max = Math.max(max, c.strike);
    distinct.add(c.strike);
  }
  return { min, max, distinct: distinct.size };
}

// ---- field parsers: each names the field and what was expected ----

/** The row's symbol, root and underlying in the one CME symbology; a symbol that contradicts the row is a row problem. */
function contractNames(row: SourceRow, product: string, expiration: string, right: OptionRight, strike: number, asOf: string) {
  try {
    return canonicalContractNames({ rawSymbol: row.rawSymbol, symbol: row.symbol, root: row.root, underlying: row.underlying, product, expiration, right, strike, asOf });
  } catch (error) {
    if (error instanceof SymbolError) throw new RowProblem(error.message);
    throw error;
  }
}

/** The chain-level underlying a source named ("NQZ26" → "NQZ6"); kept as given when it is no futures symbol. */
function canonicalUnderlying(value: string | null | undefined, asOf: Date): string | null {
  if (value === null || value === undefined || value === "") return null;
  try {
    return canonicalFutureSymbol(value, asOf);
  } catch (error) {
    if (error instanceof SymbolError) return value;
    throw error;
  }
}

function requiredNumber(value: unknown, field: string): number {
  const n = toNumber(value);
  if (n === null) throw new RowProblem(`${field}: expected a number, got ${kindOf(value)}`);
  return n;
}

function optionalNumber(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  const n = toNumber(value);
  if (n === null) throw new RowProblem(`${field}: expected a number or null, got ${kindOf(value)}`);
  return n;
}

function nonNegative(value: unknown, field: string): number | null {
  const n = optionalNumber(value, field);
  if (n !== null && n < 0) throw new RowProblem(`${field}: expected a non-negative number or null, got a negative number`);
  return n;
}

function positiveOrNull(value: unknown, field: string): number | null {
  const n = optionalNumber(value, field);
  if (n !== null && n <= 0) throw new RowProblem(`${field}: expected a positive number or null`);
  return n;
}

function parseBasis(value: unknown): UnderlyingPriceBasis | null {
  if (value === null || value === undefined) return null;
  if (value === "mid" || value === "last" || value === "settlement") return value;
  throw new RowProblem(`underlyingPriceBasis: expected "mid", "last" or "settlement", got ${kindOf(value)}`);
}

/** Delta is signed (puts are negative) but bounded. */
function deltaValue(value: unknown): number | null {
  const n = optionalNumber(value, "delta");
  if (n !== null && (n < -1 || n > 1)) throw new RowProblem("delta: expected a number between -1 and 1 or null");
  return n;
}

function toNumber(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function optionalString(value: unknown, field: string): string | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value !== "string") throw new RowProblem(`${field}: expected a string, got ${kindOf(value)}`);
  return value;
}

function parseRight(value: unknown): OptionRight {
  if (typeof value === "string") {
    const v = value.trim().toUpperCase();
    if (v === "C" || v === "CALL") return "C";
    if (v === "P" || v === "PUT") return "P";
  }
  throw new RowProblem(`right: expected "C"/"P" (or "call"/"put"), got ${kindOf(value)}`);
}

/** A real calendar date: "2026-02-31" parses in JavaScript (as 3 March) but is no date. */
function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === value;
}

function parseExpiration(value: unknown): string {
  if (typeof value === "string" && isCalendarDate(value)) return value;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
  throw new RowProblem(`expiration: expected a YYYY-MM-DD date, got ${kindOf(value)}`);
}

function optionalDate(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" && isCalendarDate(value)) return value;
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) throw new RowProblem(`${field}: expected a real calendar date, got an impossible one`);
  const date = toDate(value);
  if (!date) throw new RowProblem(`${field}: expected a YYYY-MM-DD date or null, got ${kindOf(value)}`);
  return date.toISOString().slice(0, 10);
}

function optionalTime(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  const date = toDate(value);
  if (!date) throw new RowProblem(`${field}: expected an ISO time, a Date or epoch milliseconds, got ${kindOf(value)}`);
  return date.toISOString();
}

function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === "number" && Number.isFinite(value)) return new Date(value);
  if (typeof value === "string" && value !== "") {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : new Date(ms);
  }
  return null;
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function mostCommon(values: string[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  let bestCount = 0;
  for (const [v, count] of counts) if (count > bestCount) [best, bestCount] = [v, count];
  return best;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (typeof value === "string") return value === "" ? "an empty string" : `a string`;
  if (typeof value === "number") return Number.isFinite(value) ? `a number` : `${value}`;
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
