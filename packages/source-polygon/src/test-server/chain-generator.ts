/**
 * A generated options chain for the local server, shaped as the spec's `OptionSnapshotResult`: Nasdaq-100
 * index options (PM-settled NDXP dailies, AM-settled NDX monthlies on the third Friday, both cash-settled
 * and European) or QQQ options (American, physical). Prices are Black-Scholes (no rates, no dividends) on a
 * skewed smile, so the feed's IV and greeks agree with its quotes; quotes are on the tick grid with a
 * spread; some contracts have no trade today, no greeks (deep in the money, as the spec says happens), or
 * an empty day bar. Everything is deterministic for a given `now`. Not market data.
 */
import { addDays, newYorkDate, newYorkInstant } from "../new-york-time.js";

export interface GeneratorOptions {
  /** The snapshot's moment. */
  now: Date;
  /** "DELAYED" (Options Starter) or "REAL-TIME" (Advanced). */
  timeframe: "DELAYED" | "REAL-TIME";
  /** Level of the underlying (default: NDX 20 850, QQQ 507.5). */
  level?: number;
  /** Daily (PM-settled) expirations from today on, weekdays (default 6). */
  dailyExpirations?: number;
  /** Monthly (third-Friday) expirations (default 2). */
  monthlyExpirations?: number;
  /** Strikes on each side of the money per expiration (default 20). */
  strikesEachSide?: number;
}

export type SnapshotResult = Record<string, unknown> & {
  details: { contract_type: "call" | "put"; exercise_style: string; expiration_date: string; shares_per_contract: number; strike_price: number; ticker: string };
};

interface UnderlyingShape {
  ticker: string;
  level: number;
  /** Option roots: daily (PM) and monthly (AM, or the same root for QQQ). */
  dailyRoot: string;
  monthlyRoot: string;
  monthlyAm: boolean;
  exercise: "european" | "american";
  step: number;
  /** `underlying_asset.value` for an index, `price` for an ETF. */
  levelField: "value" | "price";
}

const SHAPES: Record<string, Omit<UnderlyingShape, "level"> & { level: number }> = {
  "I:NDX": { ticker: "I:NDX", level: 20_850, dailyRoot: "NDXP", monthlyRoot: "NDX", monthlyAm: true, exercise: "european", step: 50, levelField: "value" },
  QQQ: { ticker: "QQQ", level: 507.5, dailyRoot: "QQQ", monthlyRoot: "QQQ", monthlyAm: false, exercise: "american", step: 2.5, levelField: "price" },
};

export const SERVED_UNDERLYINGS = Object.keys(SHAPES);

/** A deterministic number in [0, 1) from a string. */
function unit(seed: string): number {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  h = Math.imul(h ^ (h >>> 15), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function normCdf(x: number): number {
  // Abramowitz-Stegun 26.2.17 (|error| < 7.5e-8): plenty for generated quotes.
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const tail = normPdf(x) * poly;
  return x >= 0 ? 1 - tail : tail;
}

function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

function isWeekday(date: string): boolean {
  const day = new Date(`${date}T12:00:00Z`).getUTCDay();
  return day !== 0 && day !== 6;
}

function thirdFriday(year: number, month: number): string {
  const first = new Date(Date.UTC(year, month, 1)).getUTCDay();
  const day = 1 + ((5 - first + 7) % 7) + 14;
  return new Date(Date.UTC(year, month, day)).toISOString().slice(0, 10);
}

function tick(price: number): number {
  return price < 3 ? 0.05 : 0.1;
}

function roundTo(value: number, step: number): number {
  return Math.round(Math.round(value / step) * step * 100) / 100;
}

/** OCC option ticker: "O:NDXP261120C21000000". */
export function occTicker(root: string, expiration: string, right: "C" | "P", strike: number): string {
  return `O:${root}${expiration.slice(2).replaceAll("-", "")}${right}${String(Math.round(strike * 1000)).padStart(8, "0")}`;
}

export function generateChain(underlying: string, options: GeneratorOptions): SnapshotResult[] {
  const base = SHAPES[underlying];
  if (!base) return [];
  const shape: UnderlyingShape = { ...base, level: options.level ?? base.level };
  const nowMs = options.now.getTime();
  const today = newYorkDate(options.now);
  const delayMs = options.timeframe === "DELAYED" ? 15 * 60_000 : 0;
  const stampNs = (ms: number) => Math.round(ms) * 1e6;

  const series: { expiration: string; root: string; am: boolean }[] = [];
  for (let date = today, n = 0; n < (options.dailyExpirations ?? 6); date = addDays(date, 1)) {
    if (!isWeekday(date)) continue;
    series.push({ expiration: date, root: shape.dailyRoot, am: false });
    n++;
  }
  const [y, m] = today.split("-").map(Number) as [number, number];
  for (let k = 0, found = 0; found < (options.monthlyExpirations ?? 2) && k < 24; k++) {
    const date = thirdFriday(y + Math.floor((m - 1 + k) / 12), (m - 1 + k) % 12);
    if (date <= today) continue;
    found++;
    if (shape.monthlyAm || !series.some((s) => s.expiration === date)) series.push({ expiration: date, root: shape.monthlyRoot, am: shape.monthlyAm });
  }

  const each = options.strikesEachSide ?? 20;
  const atm = roundTo(shape.level, shape.step);
  const results: SnapshotResult[] = [];
  const assetTime = nowMs - delayMs - 1_000;
  for (const { expiration, root, am } of series) {
    const expiry = Date.parse(newYorkInstant(expiration, am ? "09:30" : "16:00"));
    const years = Math.max(expiry - nowMs, 3_600_000) / (365 * 86_400_000);
    const step = am ? shape.step * 2 : shape.step;
    for (let i = -each; i <= each; i++) {
      const strike = roundTo(atm + i * step, shape.step);
      const moneyness = Math.log(strike / shape.level);
      const vol = Math.max(0.08, 0.19 - 0.6 * moneyness + 2.5 * moneyness * moneyness);
      const sd = vol * Math.sqrt(years);
      const d1 = (Math.log(shape.level / strike) + 0.5 * sd * sd) / sd;
      const d2 = d1 - sd;
      for (const right of ["C", "P"] as const) {
        const ticker = occTicker(root, expiration, right, strike);
        const r = (salt: string) => unit(`${ticker}|${salt}`);
        const theo = right === "C" ? shape.level * normCdf(d1) - strike * normCdf(d2) : strike * normCdf(-d2) - shape.level * normCdf(-d1);
        const delta = right === "C" ? normCdf(d1) : normCdf(d1) - 1;
        const gamma = normPdf(d1) / (shape.level * sd);
        const theta = -(shape.level * normPdf(d1) * vol) / (2 * Math.sqrt(years)) / 365;
        const vega = (shape.level * normPdf(d1) * Math.sqrt(years)) / 100;
        const t = tick(theo);
        const spread = Math.max(t, roundTo(theo * 0.02, t));
        const bid = Math.max(0, roundTo(theo - spread / 2, t));
        const ask = roundTo(bid + spread, t);
        const quoteMs = nowMs - delayMs - Math.floor(r("quote") * 120_000);
        const traded = r("traded") < 0.7;
        const volume = traded ? 1 + Math.floor(r("volume") * 900) : 0;
        const noBar = !traded && r("bar") < 0.5;
        const lastPrice = Math.max(0.05, roundTo(theo + (r("last") - 0.5) * spread, t));
        const result: SnapshotResult = {
          break_even_price: right === "C" ? strike + (bid + ask) / 2 : strike - (bid + ask) / 2,
          day: noBar
            ? {}
            : {
                change: 0,
                change_percent: 0,
                close: traded ? lastPrice : 0,
                high: traded ? roundTo(lastPrice * 1.05, t) : 0,
                low: traded ? roundTo(lastPrice * 0.95, t) : 0,
                open: traded ? lastPrice : 0,
                previous_close: roundTo(theo * (0.9 + r("prev") * 0.2), t),
                volume,
                vwap: traded ? lastPrice : 0,
                last_updated: stampNs(quoteMs),
              },
          details: {
            contract_type: right === "C" ? "call" : "put",
            exercise_style: shape.exercise,
            expiration_date: expiration,
            shares_per_contract: 100,
            strike_price: strike,
            ticker,
          },
          implied_volatility: Math.round(vol * 1e4) / 1e4,
          last_quote: {
            ask,
            ask_size: 1 + Math.floor(r("as") * 50),
            bid,
            bid_size: 1 + Math.floor(r("bs") * 50),
            midpoint: (bid + ask) / 2,
            last_updated: stampNs(quoteMs),
            timeframe: options.timeframe,
          },
          open_interest: r("oi-zero") < 0.08 ? 0 : 1 + Math.floor(r("oi") * 5000),
          underlying_asset: {
            change_to_break_even: 0,
            last_updated: stampNs(assetTime),
            [shape.levelField]: shape.level,
            ticker: shape.ticker,
            timeframe: options.timeframe,
          },
        };
        // "greeks will not be returned [for] contracts that are deep in the money" (the spec).
        if (Math.abs(delta) < 0.985) {
          result.greeks = { delta: round(delta, 4), gamma: round(gamma, 7), theta: round(theta, 4), vega: round(vega, 4) };
        }
        if (traded) {
          result.last_trade = {
            conditions: [209],
            exchange: 316,
            price: lastPrice,
            sip_timestamp: stampNs(quoteMs - Math.floor(r("trade") * 600_000)),
            size: 1 + Math.floor(r("size") * 10),
            timeframe: options.timeframe,
          };
        }
        results.push(result);
      }
    }
  }
  return results;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
