/** Small hand-made chains for tests (not exported from the package). */
import type { OptionContract, OptionsChain } from "@nq/core";

export function contract(over: Partial<OptionContract> & Pick<OptionContract, "expiration" | "strike" | "right">, source = "a"): OptionContract {
  const month = "FGHJKMNQUVXZ"[Number(over.expiration.slice(5, 7)) - 1];
  const symbol = over.symbol ?? `NQ${month}6 ${over.right}${over.strike}`;
  return {
    symbol,
    rawSymbol: symbol,
    underlying: "NQZ6",
    underlyingPrice: 21000,
    underlyingPriceBasis: "mid",
    underlyingPriceTime: null,
    product: "NQ",
    root: "NQ",
    expirationTime: null,
    bid: 100,
    ask: 101,
    bidSize: 1,
    askSize: 1,
    last: 100.5,
    volume: 10,
    clearedVolume: 12,
    clearedVolumeDate: "2026-11-18",
    openInterest: 500,
    openInterestDate: "2026-11-18",
    settlement: 100.25,
    settlementDate: "2026-11-18",
    impliedVolatility: null,
    ivBasis: null,
    delta: null,
    gamma: null,
    theta: null,
    vega: null,
    greeksSource: null,
    multiplier: 20,
    quoteTime: null,
    rawStrike: null,
    provenance: { source, asOf: "2026-11-19T15:00:00.000Z", fetchedAt: "2026-11-19T15:00:01.000Z", delayed: false, sample: false },
    ...over,
  };
}

export function chain(source: string, contracts: OptionContract[], meta: Partial<OptionsChain["metadata"]> = {}): OptionsChain {
  const expirations = [...new Set(contracts.map((c) => c.expiration))].sort();
  return {
    metadata: {
      source,
      product: "NQ",
      asOf: "2026-11-19T15:00:00.000Z",
      fetchedAt: "2026-11-19T15:00:01.000Z",
      delayed: false,
      sample: false,
      complete: true,
      incompleteReasons: [],
      asOfReason: null,
      warnings: [],
      cache: "miss",
      spendUsd: 0,
      analyticsRate: null,
      ...meta,
    },
    optionsSummary: { total: contracts.length, calls: 0, puts: 0, underlying: "NQZ6", underlyingPrice: 21000, underlyings: [], expirations },
    qualityMetrics: {} as OptionsChain["qualityMetrics"],
    strikeRange: { min: 0, max: 0, distinct: 0 },
    rawDataAvailable: false,
    contracts,
  } as OptionsChain;
}
