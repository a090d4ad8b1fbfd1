/**
 * The normalized model: what every source's data becomes. One OptionContract per (expiration, strike,
 * right). A value the feed does not give is `null` — never `0`, because a zero bid, zero open interest
 * or zero volume is a real market fact a trader may act on, and "unknown" must not look like it.
 */

export type OptionRight = "C" | "P";

/** How an underlying price was made: the future's mid (both sides quoted), its last trade, or its settlement. */
export type UnderlyingPriceBasis = "mid" | "last" | "settlement";

/** The price a computed implied volatility was solved from: the quote's mid, or the settlement price. */
export type IvBasis = "mid" | "settlement";

/** Who made a contract's implied volatility and greeks: the feed itself, or @nq/core's Black-76 analytics. */
export type GreeksSource = "feed" | "computed";

/** Where a number came from and how fresh it is; carried on every contract and every chain. */
export interface Provenance {
  /** The source's name as registered ("databento", "barchart", "saved"…). */
  source: string;
  /** The market time the data describes (ISO 8601, UTC). */
  asOf: string;
  /** When this process (or the one that saved it) fetched it (ISO 8601, UTC). */
  fetchedAt: string;
  /** True when the feed is delayed (e.g. Barchart's ~10 minute delay): it must be said out loud. */
  delayed: boolean;
  /** True when the numbers are generated sample data, not market data. */
  sample: boolean;
}

export interface OptionContract {
  /**
   * The option's canonical CME Globex symbol, the same whichever feed it came from: series code, month
   * letter, one-digit year, space, C/P, strike ("NQZ6 C21000", "QN4Z6 C21000", "Q2AM5 P19500"). See
   * `NQ_OPTION_SERIES` for the series codes.
   */
  symbol: string;
  /**
   * The feed's own spelling of the symbol ("MC7M5|15000C" from Barchart, "NQZ6 C21000" from Databento);
   * null when the feed gave none.
   */
  rawSymbol: string | null;
  /** The underlying future's canonical Globex symbol ("NQZ6"; Barchart's "NQZ26" becomes "NQZ6"). */
  underlying: string;
  /** That future's price at the as-of time: NQ options on one date hang off several futures. */
  underlyingPrice: number | null;
  underlyingPriceBasis: UnderlyingPriceBasis | null;
  /** When the underlying price was observed (ISO 8601): the quote's, the trade's or the settlement's time. */
  underlyingPriceTime: string | null;
  /** The product ("NQ"). */
  product: string;
  /**
   * The CME series code: "NQ" quarterly, "QN1"…"QN4" Friday weeklies, "QNE" end of month, "Q1A"…"Q5D"
   * Monday–Thursday weeklies (Barchart's "MQ4", "MC7"… are mapped to these).
   */
  root: string;
  /** Expiration date, YYYY-MM-DD (exchange calendar date). */
  expiration: string;
  /** Expiration instant (ISO 8601, UTC) when the feed gives one, else null. */
  expirationTime: string | null;
  /** Strike in index points. */
  strike: number;
  right: OptionRight;
  bid: number | null;
  ask: number | null;
  bidSize: number | null;
  askSize: number | null;
  last: number | null;
  /** Session volume: contracts traded in the as-of time's session up to as-of (from trades). */
  volume: number | null;
  /**
   * Cleared volume as the exchange reports it for a whole trade date (Databento statistics stat_type 6),
   * published after that session: usually the previous session's, unlike `volume`.
   */
  clearedVolume: number | null;
  clearedVolumeDate: string | null;
  openInterest: number | null;
  /** The trading date the open interest is for (YYYY-MM-DD): usually the session before the as-of time. */
  openInterestDate: string | null;
  settlement: number | null;
  /** The trading date the settlement price is for (YYYY-MM-DD). */
  settlementDate: string | null;
  /**
   * Implied volatility, annualized, as a fraction (0.2 = 20%). The feed's own when `greeksSource` is
   * "feed"; when "computed", Black-76 solved from the price named by `ivBasis`, the contract's own
   * `underlyingPrice`, ACT/365 time to expiry and the profile's `analytics.rate`.
   */
  impliedVolatility: number | null;
  /** The price a computed `impliedVolatility` was solved from; null when the feed gave it or there is none. */
  ivBasis: IvBasis | null;
  /** Change in the option's price per 1 point of the underlying future (calls 0…1, puts −1…0). */
  delta: number | null;
  /** Change in delta per 1 point of the underlying future. */
  gamma: number | null;
  /** Change in the option's price, in index points, per calendar day that passes (usually negative). */
  theta: number | null;
  /** Change in the option's price, in index points, per volatility point (volatility +0.01, 20% → 21%). */
  vega: number | null;
  /**
   * "feed": every one of impliedVolatility, delta, gamma, theta, vega that is not null is the feed's own
   * (nothing computed is mixed in); "computed": all five are @nq/core's Black-76; null: there are none
   * (see `qualityMetrics.analyticsUnavailable` for why).
   */
  greeksSource: GreeksSource | null;
  /** Dollars per index point (NQ options: 20). */
  multiplier: number;
  /** When the quote was made (ISO 8601), when the feed says. */
  quoteTime: string | null;
  /** The feed's own exact value where it gives one (e.g. Databento's fixed-point strike, as a decimal string). */
  rawStrike: string | null;
  provenance: Provenance;
}

/** The numbers that tell a reader whether to trust a chain. Shares are fractions of valid contracts (0..1). */
export interface QualityMetrics {
  /** Rows the source returned (before validation). */
  rowsReceived: number;
  /** Rows that became contracts. */
  validContracts: number;
  /** Rows rejected, with the count per reason ("strike: expected a positive number, got -5"). */
  invalidRows: number;
  invalidReasons: Record<string, number>;
  /** Rows for an (expiration, strike, right) already seen; the row with the newer quote time is kept whole. */
  duplicateRows: number;
  /** Of those, rows whose market values differed from the row they met (a feed problem worth a look). */
  conflictingDuplicates: number;
  /** Rows outside the requested expirations or strike window. */
  filteredRows: number;
  missingBidAskShare: number;
  crossedQuotes: number;
  zeroOpenInterestShare: number;
  missingOpenInterestShare: number;
  /** Contracts whose quote is older than `staleQuoteThresholdMs` before the as-of time (still the book). */
  staleQuotes: number;
  /** Contracts whose quote time is after the as-of time (a clock or feed error). */
  futureQuoteTimes: number;
  staleQuoteThresholdMs: number;
  /**
   * Contracts for which implied volatility and greeks could not be computed (and the feed gave none), by
   * reason: "no-price" (no two-sided mid and no settlement), "no-underlying-price", "expired" (no time
   * left to expiry), "price-below-intrinsic", "price-at-intrinsic" (no time value),
   * "price-above-upper-bound", "no-convergence". Empty when analytics are off.
   */
  analyticsUnavailable: Record<string, number>;
}

/** One underlying future of the chain and what it is priced at. */
export interface UnderlyingSummary {
  symbol: string;
  price: number | null;
  basis: UnderlyingPriceBasis | null;
  time: string | null;
  /** The expirations whose options hang off this future. */
  expirations: string[];
  contracts: number;
}

export interface OptionsSummary {
  total: number;
  calls: number;
  puts: number;
  /** The most common underlying (the front future, usually); see `underlyings` for all of them. */
  underlying: string;
  underlyingPrice: number | null;
  underlyings: UnderlyingSummary[];
  expirations: string[];
}

export interface StrikeRange {
  min: number;
  max: number;
  distinct: number;
}

export type CacheStatus = "hit" | "miss" | "off";

export interface ChainMetadata {
  source: string;
  product: string;
  asOf: string;
  fetchedAt: string;
  delayed: boolean;
  sample: boolean;
  /** False when the source said the data is partial; such a chain is never reported as complete. */
  complete: boolean;
  /** Why the chain is not complete (empty when it is): the source's reasons and the normalizer's checks. */
  incompleteReasons: string[];
  /** Why this as-of moment was chosen when the request gave none ("the market is closed…"), else null. */
  asOfReason: string | null;
  /** Set when the chain stands in for the requested product (e.g. NDX index options for NQ): say so. */
  proxy: import("./source.js").ProxyInfo | null;
  warnings: string[];
  cache: CacheStatus;
  /** USD spent by this load (0 for free sources and cache hits). */
  spendUsd: number;
  /** The rate the computed implied volatilities and greeks used (`analytics.rate`); null when analytics are off. */
  analyticsRate: number | null;
}

/** The standard result of loading one chain. */
export interface OptionsChain {
  metadata: ChainMetadata;
  optionsSummary: OptionsSummary;
  qualityMetrics: QualityMetrics;
  strikeRange: StrikeRange | null;
  rawDataAvailable: boolean;
  contracts: OptionContract[];
}
