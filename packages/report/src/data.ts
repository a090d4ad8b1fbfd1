/**
 * The data a report page embeds: everything the page draws, in a compact columnar form. Shared by the
 * Node side (which encodes it) and the browser side (which decodes it); no Node or DOM imports here.
 *
 * Columns are strings of comma-separated values, one per strike, where an empty value means unknown (never
 * zero): `"12.5,,0,3"`. Strikes are delta-encoded (`"24000,25,25,50"`); implied volatility and delta are
 * integers in units of 1e-4 (`2681` = 0.2681). A chain of 20,000 contracts stays well under 1 MB.
 */

export const REPORT_DATA_VERSION = 1;

/** Per-contract IV basis code, one character per strike: how its implied volatility was made. */
export type IvCode =
  /** no contract at this strike on this side */
  | "-"
  /** a contract, without implied volatility */
  | "n"
  /** computed from the quote's mid */
  | "m"
  /** computed from the settlement price */
  | "s"
  /** the feed's own */
  | "f";

export interface EncodedSide {
  bid: string;
  ask: string;
  last: string;
  vol: string;
  oi: string;
  set: string;
  /** implied volatility ×1e4, rounded */
  iv: string;
  /** delta ×1e4, rounded */
  dl: string;
  /** one IvCode per strike */
  ib: string;
}

export interface ExpiryStats {
  /** The strike nearest this expiry's own underlying price. */
  atm: number | null;
  maxPain: number | null;
  callOi: number | null;
  putOi: number | null;
  callVol: number | null;
  putVol: number | null;
  /** put OI / call OI */
  pcrOi: number | null;
  /** put volume / call volume */
  pcrVol: number | null;
  contracts: number;
}

export interface EncodedExpiry {
  /** YYYY-MM-DD */
  date: string;
  /** Whole calendar days from the as-of date to expiry (negative once expired). */
  dte: number;
  roots: string[];
  /** This expiry's own future and its price (the options of one date hang off one future). */
  underlying: string | null;
  underlyingPrice: number | null;
  underlyingBasis: string | null;
  stats: ExpiryStats;
  /** delta-encoded strikes */
  k: string;
  c: EncodedSide;
  p: EncodedSide;
}

export type FlagTone = "danger" | "warning" | "info" | "ok";

/** One thing the banner says. The words carry the meaning; the tone only adds colour. */
export interface BannerFlag {
  /** SAMPLE, DELAYED, INCOMPLETE, SUBSTITUTED, PROXY, FROM CACHE, LIVE… */
  label: string;
  text: string;
  tone: FlagTone;
  /** Further lines (incomplete reasons). */
  details?: string[];
}

export interface BannerFact {
  label: string;
  value: string;
}

export interface ReportData {
  v: number;
  title: string;
  product: string;
  source: string;
  asOf: string;
  sample: boolean;
  delayed: boolean;
  complete: boolean;
  flags: BannerFlag[];
  facts: BannerFact[];
  /** Quality metrics as label/value rows, ready to show. */
  quality: BannerFact[];
  expiries: EncodedExpiry[];
  totalContracts: number;
}

export interface DecodedSide {
  bid: (number | null)[];
  ask: (number | null)[];
  last: (number | null)[];
  vol: (number | null)[];
  oi: (number | null)[];
  set: (number | null)[];
  iv: (number | null)[];
  dl: (number | null)[];
  ib: IvCode[];
}

export function encodeColumn(values: readonly (number | null)[], scale = 1): string {
  let out = "";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ",";
    const value = values[i];
    if (value === null || value === undefined || !Number.isFinite(value)) continue;
    out += scale === 1 ? String(value) : String(Math.round(value * scale));
  }
  return out;
}

export function decodeColumn(text: string, length: number, scale = 1): (number | null)[] {
  const out: (number | null)[] = new Array(length).fill(null);
  if (length === 0) return out;
  const parts = text.split(",");
  for (let i = 0; i < length; i++) {
    const part = parts[i];
    if (part === undefined || part === "") continue;
    const n = Number(part);
    out[i] = Number.isFinite(n) ? (scale === 1 ? n : n / scale) : null;
  }
  return out;
}

export function encodeStrikes(strikes: readonly number[]): string {
  let previous = 0;
  return strikes
    .map((strike, i) => {
      const text = i === 0 ? String(strike) : String(roundDecimal(strike - previous));
      previous = strike;
      return text;
    })
    .join(",");
}

export function decodeStrikes(text: string): number[] {
  if (text === "") return [];
  let running = 0;
  return text.split(",").map((part) => (running = roundDecimal(running + Number(part))));
}

export function decodeSide(side: EncodedSide, length: number): DecodedSide {
  return {
    bid: decodeColumn(side.bid, length),
    ask: decodeColumn(side.ask, length),
    last: decodeColumn(side.last, length),
    vol: decodeColumn(side.vol, length),
    oi: decodeColumn(side.oi, length),
    set: decodeColumn(side.set, length),
    iv: decodeColumn(side.iv, length, 1e4),
    dl: decodeColumn(side.dl, length, 1e4),
    ib: Array.from(side.ib.padEnd(length, "-").slice(0, length)) as IvCode[],
  };
}

/** Strikes like 24000.5 or 0.05 survive repeated addition without binary fractions creeping in. */
function roundDecimal(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
