// A deterministic synthetic NQ chain of any size, for the report's tests and benchmark: Black-76 prices on
// a skewed smile, quarter-point ticks, open interest and volume piled up around the money, some missing
// quotes and trades. Marked sample, like every generated chain.
const N = (x) => 0.5 * (1 + erf(x / Math.SQRT2));
function erf(x) {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const tick = (p) => Math.max(0.25, Math.round(p * 4) / 4);

/**
 * @param {{ expiries?: number, strikesPerExpiry?: number, step?: number, asOf?: string, sample?: boolean,
 *   delayed?: boolean, complete?: boolean, incompleteReasons?: string[], withIv?: boolean, seed?: number,
 *   source?: string, cache?: "hit" | "miss" | "off", spendUsd?: number }} [options]
 */
export function syntheticChain(options = {}) {
  const expiries = options.expiries ?? 6;
  const perExpiry = options.strikesPerExpiry ?? 120;
  const step = options.step ?? 25;
  const asOf = options.asOf ?? "2026-11-20T21:00:00.000Z";
  const source = options.source ?? "synthetic";
  const withIv = options.withIv ?? true;
  const random = rng(options.seed ?? 7);
  const sample = options.sample ?? true;
  const delayed = options.delayed ?? false;
  const provenance = { source, asOf, fetchedAt: asOf, delayed, sample };
  const contracts = [];
  const dates = [];
  const underlyings = [];
  for (let e = 0; e < expiries; e++) {
    const date = new Date(Date.parse(asOf) + (3 + e * 7) * 86_400_000).toISOString().slice(0, 10);
    dates.push(date);
    const future = e < 4 ? "NQZ6" : "NQH7";
    const F = e < 4 ? 25412.5 : 25641.75;
    if (!underlyings.some((u) => u.symbol === future)) underlyings.push({ symbol: future, price: F, basis: "settlement", time: asOf, expirations: [], contracts: 0 });
    const u = underlyings.find((x) => x.symbol === future);
    u.expirations.push(date);
    const T = (3 + e * 7) / 365;
    const first = Math.round((F - (perExpiry / 2) * step) / step) * step;
    for (let s = 0; s < perExpiry; s++) {
      const K = first + s * step;
      const m = Math.log(K / F);
      const vol = Math.max(0.08, 0.19 - 0.35 * m + 1.8 * m * m);
      const sd = vol * Math.sqrt(T);
      const d1 = (Math.log(F / K) + 0.5 * sd * sd) / sd;
      const d2 = d1 - sd;
      for (const right of ["C", "P"]) {
        const price = right === "C" ? F * N(d1) - K * N(d2) : K * N(-d2) - F * N(-d1);
        const delta = right === "C" ? N(d1) : N(d1) - 1;
        const settle = tick(price);
        const quoted = random() > 0.04;
        const half = Math.max(0.25, tick(settle * 0.006));
        const bid = quoted ? Math.max(0, tick(settle - half)) : null;
        const ask = quoted ? tick(settle + half) : null;
        const near = Math.exp(-((K - F) ** 2) / (2 * (F * 0.03) ** 2));
        const oi = Math.round((right === "P" ? 1.3 : 1) * 4000 * near * (0.4 + random()) * (1 + (K % 500 === 0 ? 1.5 : 0)));
        const volume = random() > 0.3 ? Math.round(oi * 0.15 * random()) : 0;
        const mid = bid !== null && ask !== null;
        u.contracts += 1;
        contracts.push({
          symbol: `${future} ${right}${K}`, underlying: future, underlyingPrice: F, underlyingPriceBasis: "settlement", underlyingPriceTime: asOf,
          product: "NQ", root: e % 5 === 4 ? "NQ" : `Q${(e % 4) + 1}A`, expiration: date, expirationTime: `${date}T21:00:00.000Z`, strike: K, right,
          bid, ask, bidSize: quoted ? 1 + Math.floor(random() * 20) : null, askSize: quoted ? 1 + Math.floor(random() * 20) : null,
          last: random() > 0.5 ? settle : null, volume, clearedVolume: null, clearedVolumeDate: null, openInterest: oi, openInterestDate: "2026-11-19",
          settlement: settle, settlementDate: "2026-11-20",
          impliedVolatility: withIv ? Math.round(vol * 1e4) / 1e4 : null, ivBasis: withIv ? (mid ? "mid" : "settlement") : null,
          delta: withIv ? Math.round(delta * 1e4) / 1e4 : null, gamma: null, theta: null, vega: null, greeksSource: withIv ? "computed" : null,
          multiplier: 20, quoteTime: asOf, rawStrike: null, provenance,
        });
      }
    }
  }
  const calls = contracts.filter((c) => c.right === "C").length;
  const strikes = contracts.map((c) => c.strike);
  return {
    metadata: {
      source, product: "NQ", asOf, fetchedAt: asOf, delayed, sample,
      complete: options.complete ?? true, incompleteReasons: options.incompleteReasons ?? [], asOfReason: null,
      warnings: sample ? ["SAMPLE DATA: synthetic chain for tests, not market data"] : [],
      cache: options.cache ?? "off", spendUsd: options.spendUsd ?? 0, analyticsRate: withIv ? 0.04 : null,
    },
    optionsSummary: { total: contracts.length, calls, puts: contracts.length - calls, underlying: "NQZ6", underlyingPrice: 25412.5, underlyings, expirations: dates },
    qualityMetrics: {
      rowsReceived: contracts.length, validContracts: contracts.length, invalidRows: 0, invalidReasons: {}, duplicateRows: 0, conflictingDuplicates: 0,
      filteredRows: 0, missingBidAskShare: contracts.filter((c) => c.bid === null).length / contracts.length, crossedQuotes: 0,
      zeroOpenInterestShare: contracts.filter((c) => c.openInterest === 0).length / contracts.length, missingOpenInterestShare: 0,
      staleQuotes: 0, futureQuoteTimes: 0, staleQuoteThresholdMs: 900000, analyticsUnavailable: {},
    },
    strikeRange: { min: Math.min(...strikes), max: Math.max(...strikes), distinct: new Set(strikes).size },
    rawDataAvailable: false,
    contracts,
  };
}
