/**
 * Chains for the store suites: every field of the model set to a value that only survives an exact round
 * trip (binary fractions that are not short decimals, nanosecond time stamps, per-contract provenance that
 * differs from the chain's), with a share of contracts whose nullable fields are all null. Generated, not
 * market data: the suites prove storage, not prices.
 */
import type { OptionContract, OptionsChain, QualityMetrics } from "../contract.js";

export interface HistoryTestChainOptions {
  source?: string;
  product?: string;
  /** The chain's as-of (kept verbatim, so formats other than `toISOString()`'s are exercised too). */
  asOf: string;
  fetchedAt?: string;
  expirations?: string[];
  strikes?: number[];
  /** Changes every market value, so snapshots differ from one another. */
  seed?: number;
  complete?: boolean;
  spendUsd?: number;
  /** Appended as a last contract, after the regular ones (a bad row for the failure tests). */
  extraContract?: Partial<OptionContract>;
}

const MONTH_CODES = "FGHJKMNQUVXZ";

/** The canonical Globex option symbol of the quarterly NQ series for an expiration date. */
export function quarterlySymbol(expiration: string, right: "C" | "P", strike: number): string {
  const [year, month] = expiration.split("-");
  return `NQ${MONTH_CODES[Number(month) - 1]}${year!.slice(-1)} ${right}${strike}`;
}

export function historyTestChain(options: HistoryTestChainOptions): OptionsChain {
  const source = options.source ?? "databento";
  const product = options.product ?? "NQ";
  const fetchedAt = options.fetchedAt ?? new Date(Date.parse(options.asOf) + 5_123).toISOString();
  const expirations = options.expirations ?? ["2026-12-18", "2027-03-19"];
  const strikes = options.strikes ?? [20950, 21000, 21025.5];
  const seed = options.seed ?? 1;
  const contracts: OptionContract[] = [];
  let n = 0;
  for (const expiration of expirations) {
    for (const strike of strikes) {
      for (const right of ["C", "P"] as const) {
        n += 1;
        const bare = n % 4 === 0; // every fourth contract: nothing but what the model requires
        const f = seed * 1000 + n;
        const underlying = `NQ${MONTH_CODES[Number(expiration.slice(5, 7)) - 1]}${expiration.slice(3, 4)}`;
        contracts.push({
          symbol: quarterlySymbol(expiration, right, strike),
          rawSymbol: bare ? null : `${quarterlySymbol(expiration, right, strike)}|raw`,
          underlying,
          underlyingPrice: bare ? null : 21012.25 + seed / 3,
          underlyingPriceBasis: bare ? null : n % 3 === 0 ? "last" : "mid",
          underlyingPriceTime: bare ? null : "2026-11-20T20:59:59.987654321Z",
          product,
          root: "NQ",
          expiration,
          expirationTime: bare ? null : `${expiration}T14:30:00.000Z`,
          strike,
          right,
          bid: bare ? null : n % 5 === 0 ? 0 : 100 + f / 7,
          ask: bare ? null : 100.25 + f / 7,
          bidSize: bare ? null : (f % 17) + 1,
          askSize: bare ? null : 0,
          last: bare ? null : 0.1 + 0.2 + f,
          volume: bare ? null : n % 2 === 0 ? 0 : f * 3,
          clearedVolume: bare ? null : f * 11,
          clearedVolumeDate: bare ? null : "2026-11-19",
          openInterest: bare ? null : n % 6 === 1 ? 0 : f * 13,
          openInterestDate: bare ? null : "2026-11-19",
          settlement: bare ? null : 99.75 + f / 3,
          settlementDate: bare ? null : "2026-11-19",
          impliedVolatility: bare ? null : 0.1 + f / 1e6,
          ivBasis: bare ? null : n % 2 === 0 ? "settlement" : "mid",
          delta: bare ? null : right === "C" ? 1 / (3 + n) : -1 / (3 + n),
          gamma: bare ? null : 1e-7 * f,
          theta: bare ? null : -Math.PI * f,
          vega: bare ? null : Math.E * f,
          greeksSource: bare ? null : n % 2 === 0 ? "feed" : "computed",
          multiplier: 20,
          quoteTime: bare ? null : "2026-11-20T20:59:58.123456789Z",
          rawStrike: bare ? null : `${strike}.000000000`,
          provenance: {
            source,
            asOf: options.asOf,
            // Some contracts carry a fetch time of their own (a merged chain): it must come back as stored.
            fetchedAt: n % 3 === 0 ? "2026-11-20T20:58:00.5Z" : fetchedAt,
            delayed: n % 7 === 0,
            sample: false,
          },
        });
      }
    }
  }
  if (options.extraContract) contracts.push({ ...contracts[0]!, ...options.extraContract });
  const quality: QualityMetrics = {
    rowsReceived: contracts.length + 3,
    validContracts: contracts.length,
    invalidRows: 2,
    invalidReasons: { "strike: expected a positive number, got -5": 1, "right: expected C or P, got \"X\"": 1 },
    duplicateRows: 1,
    conflictingDuplicates: 1,
    filteredRows: 0,
    missingBidAskShare: 1 / 3,
    crossedQuotes: 0,
    zeroOpenInterestShare: 0.1 + 0.2,
    missingOpenInterestShare: 0.25,
    staleQuotes: 4,
    futureQuoteTimes: 0,
    staleQuoteThresholdMs: 900_000,
    analyticsUnavailable: { "no-price": 3, "price-below-intrinsic": 1 },
  };
  const calls = contracts.filter((c) => c.right === "C").length;
  const complete = options.complete ?? true;
  return {
    metadata: {
      source,
      product,
      asOf: options.asOf,
      fetchedAt,
      delayed: false,
      sample: false,
      complete,
      incompleteReasons: complete ? [] : ["the source answered 206: expirations after 2027-03 are missing"],
      asOfReason: null,
      proxy: null,
      warnings: ["3 quotes older than 15 minutes", "ünïcode ‘quotes’ survive"],
      cache: "miss",
      spendUsd: options.spendUsd ?? 0.1 + 0.2,
      analyticsRate: 0.0425,
    },
    optionsSummary: {
      total: contracts.length,
      calls,
      puts: contracts.length - calls,
      underlying: contracts[0]?.underlying ?? "",
      underlyingPrice: contracts[0]?.underlyingPrice ?? null,
      underlyings: [],
      expirations,
    },
    qualityMetrics: quality,
    strikeRange: strikes.length ? { min: Math.min(...strikes), max: Math.max(...strikes), distinct: strikes.length } : null,
    rawDataAvailable: false,
    contracts,
  };
}
