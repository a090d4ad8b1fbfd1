/**
 * A deterministic generator for a realistic NQ options chain, used for the sample the repo ships (so the
 * first run works offline with no keys) and for tests. It is sample data, not market data, and says so:
 * every chain it makes is flagged `sample`.
 *
 * What makes it realistic: CME's NQ series (weekly, end-of-month, serial and quarterly expiries, each on
 * its underlying quarterly future), strikes every 25 points near the money widening to 50 and 100 further
 * out, Black-76 prices (@nq/core's) on a volatility smile, 0.25-point ticks, spreads that widen with
 * price, and open interest and volume that fall away from the money and cluster on round strikes.
 *
 * Like most feeds (Databento's among them) the generated rows carry no implied volatility or greeks: the
 * normalizer computes them from each contract's mid or settlement, marked `greeksSource: "computed"`.
 */
import { black76Price, normalizeChain, NQ_OPTION_MULTIPLIER, timeToExpiryYears, type OptionsChain, type SourceRow } from "@nq/core";

export interface SampleSeries {
  /** CME product code of the series ("NQ", "QNE", "Q4A"…). */
  root: string;
  expiration: string;
  /** The future it exercises into. */
  underlying: string;
}

export interface SampleChainOptions {
  /** The market time the sample describes. */
  asOf: string;
  /** Futures prices by symbol. */
  futures: Record<string, number>;
  series: SampleSeries[];
  /** Seed for the deterministic pseudo-random parts (OI, volume, quote times). */
  seed: number;
  rate: number;
  /** The trading date the open interest is for. */
  openInterestDate: string;
}

export const DEFAULT_SAMPLE_OPTIONS: SampleChainOptions = {
  asOf: "2026-11-20T21:00:00.000Z",
  futures: { NQZ6: 25412.5, NQH7: 25641.75 },
  series: [
    { root: "Q4A", expiration: "2026-11-23", underlying: "NQZ6" },
    { root: "Q4C", expiration: "2026-11-25", underlying: "NQZ6" },
    { root: "QN4", expiration: "2026-11-27", underlying: "NQZ6" },
    { root: "QNE", expiration: "2026-11-30", underlying: "NQZ6" },
    { root: "NQ", expiration: "2026-12-18", underlying: "NQZ6" },
    { root: "NQ", expiration: "2027-01-15", underlying: "NQH7" },
    { root: "NQ", expiration: "2027-03-19", underlying: "NQH7" },
  ],
  seed: 20261120,
  rate: 0.043,
  openInterestDate: "2026-11-19",
};

const TICK = 0.25;
const MONTH_CODES = "FGHJKMNQUVXZ";
/** CME equity-index options stop trading at 15:00 Central; 21:00 UTC in winter, 20:00 in summer. */
const EXPIRY_HOUR_UTC_WINTER = 21;

export function generateSampleRows(options: SampleChainOptions = DEFAULT_SAMPLE_OPTIONS): SourceRow[] {
  const random = mulberry32(options.seed);
  const asOf = Date.parse(options.asOf);
  const rows: SourceRow[] = [];
  for (const series of options.series) {
    const future = options.futures[series.underlying];
    if (future === undefined) throw new Error(`sample series ${series.root} ${series.expiration}: no price for ${series.underlying}`);
    const expiryTime = Date.parse(`${series.expiration}T${String(EXPIRY_HOUR_UTC_WINTER).padStart(2, "0")}:00:00Z`);
    const years = Math.max(timeToExpiryYears(new Date(asOf), series.expiration, new Date(expiryTime).toISOString()), 1 / (365 * 24));
    const atmVol = 0.16 + 0.035 * Math.sqrt(years);
    const weight = seriesWeight(series.root);
    for (const strike of strikeLadder(future, atmVol, years)) {
      const moneyness = Math.log(strike / future);
      const volatility = smile(atmVol, moneyness, years);
      const standardized = moneyness / (atmVol * Math.sqrt(years));
      const roundBonus = strike % 500 === 0 ? 2.2 : strike % 100 === 0 ? 1.4 : 1;
      for (const right of ["C", "P"] as const) {
        const theoretical = black76Price({ future, strike, years, volatility, rate: options.rate, right });
        const otmSide = (right === "C" && strike >= future) || (right === "P" && strike <= future);
        const interest = Math.exp(-0.5 * standardized * standardized) * (otmSide ? 1 : 0.45) * weight * roundBonus;
        const openInterest = Math.round(interest * (800 + 1600 * random()));
        const volume = Math.round(openInterest * (0.03 + 0.25 * random()) * (series.root === "NQ" ? 0.6 : 1.4));
        const quote = quoteAround(theoretical, random);
        rows.push({
          symbol: `${series.root}${monthCode(series.expiration)} ${right}${strike}`,
          underlying: series.underlying,
          // The future's price the sample prices its options off, as that session's settlement.
          underlyingPrice: future,
          underlyingPriceBasis: "settlement",
          underlyingPriceTime: new Date(asOf).toISOString(),
          product: "NQ",
          root: series.root,
          expiration: series.expiration,
          expirationTime: new Date(expiryTime).toISOString(),
          strike,
          right,
          bid: quote.bid,
          ask: quote.ask,
          bidSize: quote.bid === null ? null : 1 + Math.floor(random() * 25),
          askSize: 1 + Math.floor(random() * 25),
          last: volume > 0 ? roundToTick(Math.max(TICK, theoretical * (0.985 + 0.03 * random()))) : null,
          volume,
          openInterest,
          // CME publishes open interest the morning after; the settlement is the as-of session's own.
          openInterestDate: options.openInterestDate,
          settlement: roundToTick(Math.max(theoretical, 0.05)),
          settlementDate: options.asOf.slice(0, 10),
          multiplier: NQ_OPTION_MULTIPLIER,
          quoteTime: new Date(asOf - Math.floor(random() * 120_000)).toISOString(),
        });
      }
    }
  }
  return rows;
}

/** The sample as the standard chain, exactly as the repo ships it in samples/nq-sample.chain.json. */
export function generateSampleChain(options: SampleChainOptions = DEFAULT_SAMPLE_OPTIONS): OptionsChain {
  const chain = normalizeChain(
    {
      rows: generateSampleRows(options),
      asOf: options.asOf,
      delayed: false,
      sample: true,
      underlying: options.series[0]?.underlying ?? null,
      underlyingPrice: options.futures[options.series[0]?.underlying ?? ""] ?? null,
      warnings: ["SAMPLE DATA: generated by @nq/source-saved's sample generator, not market data"],
    },
    {
      source: "sample-generator",
      capabilities: { delayed: false },
      request: { product: "NQ" },
      fetchedAt: new Date(options.asOf),
      analytics: { rate: options.rate },
    },
  );
  return chain;
}

/** Strikes every 25 points within ±3% of the future, 50 to ±8%, 100 beyond, out to ~4 standard deviations. */
export function strikeLadder(future: number, atmVol: number, years: number): number[] {
  const reach = Math.max(0.05, 4 * atmVol * Math.sqrt(years));
  const low = future * Math.exp(-reach);
  const high = future * Math.exp(reach * 0.7);
  const strikes: number[] = [];
  for (let strike = Math.ceil(low / 100) * 100; strike <= high; strike += 25) {
    const distance = Math.abs(strike / future - 1);
    const step = distance <= 0.03 ? 25 : distance <= 0.08 ? 50 : 100;
    if (strike % step === 0) strikes.push(strike);
  }
  return strikes;
}

/** Equity-index skew: puts richer than calls, with some curvature. */
function smile(atmVol: number, moneyness: number, years: number): number {
  const scaled = moneyness / Math.sqrt(Math.max(years, 1 / 52));
  return Math.min(1.2, Math.max(0.07, atmVol * (1 - 0.9 * scaled + 1.6 * scaled * scaled)));
}

function quoteAround(theoretical: number, random: () => number): { bid: number | null; ask: number } {
  const halfSpread = Math.max(TICK, roundToTick(theoretical * (0.004 + 0.004 * random())));
  const mid = roundToTick(theoretical);
  const bid = mid - halfSpread;
  // Far out of the money nobody bids: the quote has an offer and no bid.
  return { bid: bid >= TICK ? bid : null, ask: Math.max(TICK * 2, mid + halfSpread) };
}

/** Quarterly standard options carry the most open interest; short weeklies the least. */
function seriesWeight(root: string): number {
  if (root === "NQ") return 1;
  if (root === "QNE") return 0.5;
  return 0.35;
}

function monthCode(isoDate: string): string {
  const month = Number(isoDate.slice(5, 7));
  return `${MONTH_CODES[month - 1]}${isoDate.slice(3, 4)}`;
}

function roundToTick(price: number): number {
  return Math.round(price / TICK) * TICK;
}

/** A small seeded PRNG, so the sample is byte-for-byte the same on every machine. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
