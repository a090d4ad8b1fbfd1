/**
 * The local site's own chain data, in the shape and with the quirks of Barchart's real responses
 * (reference §5.1): formatted strings plus a `raw` object; "N/A" with raw 0 for a missing bid/ask/open;
 * raw null volume/OI; a trailing `s` on settlement prices; "unch"; thousands separators; `tradeTime` as
 * "MM/DD/YY" (raw epoch at midnight UTC) or "HH:MM CT" (exact raw epoch). Prices come from Black-76 with a
 * simple skew, deterministic per series, so tests can rely on them without any real market data.
 */
import type { SiteSeries } from "./series-calendar.js";

export interface GeneratedRow {
  [field: string]: unknown;
  raw: Record<string, unknown>;
}

export interface QuotesResponse {
  count: number;
  total: number;
  data: { Call: GeneratedRow[]; Put: GeneratedRow[] } | GeneratedRow[];
  meta?: unknown;
}

export interface GenerateOptions {
  series: SiteSeries;
  underlyingPrice: number;
  /** The site's clock: drives days to expiry, trade times and the settlement date. */
  now: Date;
  /** Include each row's `raw` object (the request's raw=1). */
  raw: boolean;
  meta?: unknown;
}

const NQ_POINT_VALUE = 20;

export function generateQuotesResponse(options: GenerateOptions): QuotesResponse {
  const { series, underlyingPrice, now } = options;
  const expiry = Date.parse(`${series.expiration}T21:00:00Z`);
  const years = Math.max((expiry - now.getTime()) / (365 * 86_400_000), 1 / (365 * 24));
  const random = seededRandom(hash(series.code));
  const seriesRoot = rowRoot(series.code);
  const settlementDay = previousBusinessDay(now);
  const calls: GeneratedRow[] = [];
  const puts: GeneratedRow[] = [];
  for (const strike of strikeGrid(underlyingPrice)) {
    for (const right of ["C", "P"] as const) {
      const moneyness = Math.log(strike / underlyingPrice);
      const vol = 0.18 - 0.25 * moneyness + 0.6 * moneyness * moneyness;
      const fair = black76(underlyingPrice, strike, years, vol, right === "C");
      const row = makeRow({ strike, right, fair, random, seriesRoot, now, settlementDay });
      (right === "C" ? calls : puts).push(row);
    }
  }
  if (!options.raw) for (const row of [...calls, ...puts]) delete (row as Partial<GeneratedRow>).raw;
  return { count: 2, total: calls.length + puts.length, data: { Call: calls, Put: puts }, ...(options.meta ? { meta: options.meta } : {}) };
}

/** An empty answer, as Barchart gives for a symbol with no options. */
export function emptyQuotesResponse(meta?: unknown): QuotesResponse {
  return { count: 0, total: 0, data: { Call: [], Put: [] }, ...(meta ? { meta } : {}) };
}

/** Uneven steps like the real grid: fine near the money, coarse far out. */
export function strikeGrid(underlying: number): number[] {
  const strikes = new Set<number>();
  const bands: [number, number][] = [
    [0.01, 25],
    [0.04, 50],
    [0.12, 250],
    [0.3, 1000],
  ];
  for (const [span, step] of bands) {
    const low = Math.ceil((underlying * (1 - span)) / step) * step;
    const high = Math.floor((underlying * (1 + span)) / step) * step;
    for (let k = low; k <= high; k += step) strikes.add(k);
  }
  return [...strikes].sort((a, b) => a - b);
}

interface RowInputs {
  strike: number;
  right: "C" | "P";
  fair: number;
  random: () => number;
  seriesRoot: string;
  now: Date;
  settlementDay: Date;
}

function makeRow({ strike, right, fair, random, seriesRoot, now, settlementDay }: RowInputs): GeneratedRow {
  const price = tick(Math.max(fair, 0.05));
  const spread = tick(Math.max(0.25, price * 0.02));
  const traded = price > 1 && random() < 0.45;
  const hasBid = price > 0.5 && random() < 0.92;
  const hasAsk = random() < 0.97;
  const bid = hasBid ? tick(Math.max(price - spread, 0.05)) : 0;
  const ask = hasAsk ? tick(price + spread) : 0;
  const open = traded && random() < 0.7 ? tick(price * (0.95 + random() * 0.1)) : 0;
  const volume = traded ? 1 + Math.floor(random() * 2500) : null;
  const openInterest = random() < 0.6 ? 1 + Math.floor(random() * 4000) : null;
  const change = random() < 0.12 ? 0 : tick((random() - 0.5) * price * 0.2);
  const tradeEpoch = traded
    ? Math.floor(now.getTime() / 1000) - 60 * Math.floor(random() * 300)
    : Math.floor(settlementDay.getTime() / 1000); // midnight UTC, as Barchart stores date-only rows
  const symbol = `${seriesRoot}|${strike}${right}`;
  const raw = {
    strike,
    openPrice: open,
    highPrice: traded ? tick(price * 1.03) : price,
    lowPrice: traded ? tick(price * 0.97) : price,
    lastPrice: price,
    priceChange: change,
    bidPrice: bid,
    askPrice: ask,
    volume,
    openInterest,
    premium: round2(price * NQ_POINT_VALUE),
    tradeTime: tradeEpoch,
    longSymbol: symbol,
    optionType: right === "C" ? "Call" : "Put",
    symbol,
    symbolCode: "FUTOPT",
    symbolType: 12,
  };
  return {
    strike: `${money(strike)}${right}`,
    openPrice: open === 0 ? "N/A" : money(open),
    highPrice: money(raw.highPrice),
    lowPrice: money(raw.lowPrice),
    lastPrice: traded ? money(price) : `${money(price)}s`,
    priceChange: change === 0 ? "unch" : `${change > 0 ? "+" : ""}${money(change)}`,
    bidPrice: bid === 0 ? "N/A" : money(bid),
    askPrice: ask === 0 ? "N/A" : money(ask),
    volume: volume === null ? "N/A" : volume.toLocaleString("en-US"),
    openInterest: openInterest === null ? "N/A" : openInterest.toLocaleString("en-US"),
    premium: money(raw.premium),
    tradeTime: traded ? chicagoClock(new Date(tradeEpoch * 1000)) : shortDate(settlementDay),
    longSymbol: symbol,
    optionType: raw.optionType,
    symbol,
    symbolCode: "FUTOPT",
    symbolType: 12,
    raw,
  };
}

/** Row symbols use a 1-digit year: MC7M25 → MC7M5. */
function rowRoot(code: string): string {
  return code.replace(/(\d)(\d)$/, "$2");
}

function black76(f: number, k: number, t: number, vol: number, call: boolean): number {
  const sd = vol * Math.sqrt(t);
  const d1 = (Math.log(f / k) + (sd * sd) / 2) / sd;
  const d2 = d1 - sd;
  return call ? f * cnd(d1) - k * cnd(d2) : k * cnd(-d2) - f * cnd(-d1);
}

/** Standard normal CDF (Abramowitz–Stegun 26.2.17). */
function cnd(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const d = 0.3989423 * Math.exp((-x * x) / 2);
  const p = d * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))));
  return x > 0 ? 1 - p : p;
}

/** NQ option ticks: 0.05 up to 5.00, 0.25 above. */
function tick(value: number): number {
  const step = Math.abs(value) <= 5 ? 0.05 : 0.25;
  return round2(Math.round(value / step) * step);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function money(value: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

const CHICAGO_CLOCK = new Intl.DateTimeFormat("en-US", { timeZone: "America/Chicago", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

function chicagoClock(date: Date): string {
  return `${CHICAGO_CLOCK.format(date)} CT`;
}

function shortDate(date: Date): string {
  const mm = String(date.getUTCMonth() + 1).padStart(2, "0");
  const dd = String(date.getUTCDate()).padStart(2, "0");
  return `${mm}/${dd}/${String(date.getUTCFullYear() % 100).padStart(2, "0")}`;
}

function previousBusinessDay(now: Date): Date {
  let day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1));
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day = new Date(day.getTime() - 86_400_000);
  return day;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** mulberry32: small, fast, deterministic. */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
