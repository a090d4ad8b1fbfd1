/**
 * Barchart's `quotes/get?list=futures.options&raw=1` response → typed quote rows. Pure: no I/O, no
 * browser, so it is tested on the real captured responses and replays saved files unchanged.
 *
 * The rules come from the real responses (reference §5.1): numbers are read from each row's `raw`
 * object, never from the formatted strings — except for the facts only the formatted strings carry: a
 * trailing `s` on `lastPrice` marks a settlement, and a `MM/DD/YY` `tradeTime` means "a trade on that
 * date" whose raw epoch is not trustworthy.
 */
import { IncompleteDataError } from "@nq/core";

export type QuoteRight = "C" | "P";

export interface BarchartQuote {
  /** The row's own symbol, e.g. "MC7M5|15000C" (1-digit year, unlike the series code). */
  symbol: string;
  strike: number;
  right: QuoteRight;
  /** Null where Barchart shows "N/A" (raw 0): a missing side, not a zero price. */
  bid: number | null;
  ask: number | null;
  open: number | null;
  high: number | null;
  low: number | null;
  /** The last trade; null when the shown price is a settlement or missing. */
  last: number | null;
  /** The settlement, when the shown price carries Barchart's trailing `s`. */
  settlement: number | null;
  isSettlement: boolean;
  priceChange: number | null;
  /** Null where Barchart has no figure (raw null, shown "N/A"). */
  volume: number | null;
  openInterest: number | null;
  premium: number | null;
  /** The Chicago calendar date of the last trade (YYYY-MM-DD), when known. */
  tradeDate: string | null;
  /** The exact time of the last trade (ISO, UTC) when Barchart shows a time; null when it shows only a date. */
  tradeTime: string | null;
}

export interface ParsedQuotes {
  quotes: BarchartQuote[];
  /** The response's own row count (`total`), when it gives one. */
  total: number | null;
  /** Rows that could not be read, each with its reason; they are reported, not silently dropped. */
  problems: string[];
}

const SOURCE = "barchart";

/** Parses the body text of a quotes response (or an already-parsed JSON value). */
export function parseQuotesResponse(body: string | unknown): ParsedQuotes {
  const json = typeof body === "string" ? parseJson(body) : body;
  if (typeof json !== "object" || json === null || !("data" in json)) {
    throw new IncompleteDataError(
      SOURCE,
      `the quotes response has no "data" field (expected {"count", "total", "data": {"Call": [...], "Put": [...]}}); got ${describeValue(json)}`,
    );
  }
  const response = json as { data: unknown; total?: unknown };
  const rawRows = flattenRows(response.data);
  const quotes: BarchartQuote[] = [];
  const problems: string[] = [];
  for (const [index, { row, group }] of rawRows.entries()) {
    try {
      quotes.push(parseQuoteRow(row, group));
    } catch (error) {
      problems.push(`row ${index}: ${(error as Error).message}`);
    }
  }
  const total = typeof response.total === "number" && Number.isFinite(response.total) ? response.total : null;
  return { quotes, total, problems };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const start = text.trimStart().slice(0, 60).replace(/\s+/g, " ");
    throw new IncompleteDataError(
      SOURCE,
      `the quotes response is not valid JSON (${(error as Error).message}); it starts with ${JSON.stringify(start)}. ` +
        "The response was cut short or Barchart changed its endpoint; try again later",
      { cause: error },
    );
  }
}

/**
 * `data` is an array without `groupBy`, an object of arrays keyed by option type with
 * `groupBy=optionType`, or keyed by formatted strike with `groupBy=strikePrice` (reference §5).
 */
function flattenRows(data: unknown): { row: unknown; group: string | null }[] {
  if (Array.isArray(data)) return data.map((row) => ({ row, group: null }));
  if (typeof data === "object" && data !== null) {
    const out: { row: unknown; group: string | null }[] = [];
    for (const [group, rows] of Object.entries(data)) {
      if (!Array.isArray(rows)) {
        throw new IncompleteDataError(SOURCE, `the quotes response's data.${group} is ${describeValue(rows)}, expected an array of rows`);
      }
      for (const row of rows) out.push({ row, group });
    }
    return out;
  }
  throw new IncompleteDataError(SOURCE, `the quotes response's "data" is ${describeValue(data)}, expected an array or an object of arrays`);
}

type Formatted = Record<string, unknown>;

export function parseQuoteRow(row: unknown, group: string | null = null): BarchartQuote {
  if (typeof row !== "object" || row === null) throw new Error(`expected a row object, got ${describeValue(row)}`);
  const formatted = row as Formatted;
  const raw = (typeof formatted.raw === "object" && formatted.raw !== null ? formatted.raw : formatted) as Formatted;

  const strike = readNumber(raw, formatted, "strike");
  if (strike === null || strike <= 0) throw new Error(`strike: expected a positive number, got ${describeValue(raw.strike ?? formatted.strike)}`);
  const right = readRight(raw.optionType ?? formatted.optionType ?? group, raw.symbol ?? formatted.symbol);
  const symbol = stringOrNull(raw.symbol) ?? stringOrNull(formatted.symbol) ?? stringOrNull(raw.longSymbol) ?? `${strike}${right}`;

  const shownLast = stringOrNull(formatted.lastPrice);
  const lastValue = readNumber(raw, formatted, "lastPrice");
  const isSettlement = shownLast !== null && /s$/i.test(shownLast.trim());
  // A raw 0 under a shown "N/A" is Barchart's way of saying "no price".
  const price = shownLast !== null && isNotAvailable(shownLast) ? null : lastValue;

  const { tradeDate, tradeTime } = readTradeTime(formatted.tradeTime, raw.tradeTime);
  return {
    symbol,
    strike,
    right,
    bid: zeroIsMissing(readNumber(raw, formatted, "bidPrice")),
    ask: zeroIsMissing(readNumber(raw, formatted, "askPrice")),
    open: zeroIsMissing(readNumber(raw, formatted, "openPrice")),
    high: shownMissing(formatted.highPrice) ? null : readNumber(raw, formatted, "highPrice"),
    low: shownMissing(formatted.lowPrice) ? null : readNumber(raw, formatted, "lowPrice"),
    last: isSettlement ? null : price,
    settlement: isSettlement ? price : null,
    isSettlement,
    priceChange: readNumber(raw, formatted, "priceChange"),
    volume: readNumber(raw, formatted, "volume"),
    openInterest: readNumber(raw, formatted, "openInterest"),
    premium: readNumber(raw, formatted, "premium"),
    tradeDate,
    tradeTime,
  };
}

/**
 * Reads `raw[field]` when the row has it (a number, or null for "unknown"); falls back to the formatted
 * string only when the raw object lacks the field, e.g. a response requested without `raw=1`.
 */
function readNumber(raw: Formatted, formatted: Formatted, field: string): number | null {
  if (raw !== formatted && field in raw) {
    const value = raw[field];
    if (value === null || value === undefined) return null;
    if (typeof value === "number") return Number.isFinite(value) ? value : null;
    return parseFormattedNumber(value, field);
  }
  const shown = formatted[field];
  if (shown === null || shown === undefined) return null;
  if (typeof shown === "number") return Number.isFinite(shown) ? shown : null;
  return parseFormattedNumber(shown, field);
}

/** "6,787.00", "0.05s", "+207.75", "unch", "N/A", "15,000.00C" → number or null. */
export function parseFormattedNumber(value: unknown, field = "value"): number | null {
  if (typeof value !== "string") throw new Error(`${field}: expected a number or a formatted string, got ${describeValue(value)}`);
  const text = value.trim();
  if (isNotAvailable(text)) return null;
  if (/^unch$/i.test(text)) return 0;
  const cleaned = text.replace(/,/g, "").replace(/^\+/, "").replace(/[sCP%]$/i, "");
  const n = Number(cleaned);
  if (cleaned === "" || !Number.isFinite(n)) throw new Error(`${field}: cannot read ${JSON.stringify(value)} as a number`);
  return n;
}

function isNotAvailable(text: string): boolean {
  return /^(n\/a|na|-|—|)$/i.test(text.trim());
}

function shownMissing(shown: unknown): boolean {
  return typeof shown === "string" && isNotAvailable(shown);
}

function zeroIsMissing(value: number | null): number | null {
  return value === 0 ? null : value;
}

function readRight(optionType: unknown, symbol: unknown): QuoteRight {
  if (typeof optionType === "string") {
    const t = optionType.trim().toLowerCase();
    if (t === "call" || t === "c") return "C";
    if (t === "put" || t === "p") return "P";
  }
  if (typeof symbol === "string") {
    const m = /\|[\d.]+([CP])$/.exec(symbol);
    if (m) return m[1] as QuoteRight;
  }
  throw new Error(`optionType: expected "Call" or "Put", got ${describeValue(optionType)}`);
}

const CHICAGO_DATE = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Chicago", year: "numeric", month: "2-digit", day: "2-digit" });

/** The Chicago calendar date (YYYY-MM-DD) of an instant. */
export function chicagoDate(instant: Date): string {
  return CHICAGO_DATE.format(instant);
}

/**
 * `tradeTime` comes as "MM/DD/YY" (a date; its raw epoch may be midnight UTC, midnight CT or a real
 * time, so the date is taken from the string), as "HH:MM CT" (a time today; the raw epoch is exact), or
 * as bare epoch seconds.
 */
export function readTradeTime(shown: unknown, raw: unknown): { tradeDate: string | null; tradeTime: string | null } {
  const epoch = typeof raw === "number" && Number.isFinite(raw) && raw > 0 ? new Date(raw > 1e12 ? raw : raw * 1000) : null;
  if (typeof shown === "string") {
    const text = shown.trim();
    const date = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/.exec(text);
    if (date) {
      const year = date[3]!.length === 2 ? 2000 + Number(date[3]) : Number(date[3]);
      return { tradeDate: `${year}-${pad(date[1]!)}-${pad(date[2]!)}`, tradeTime: null };
    }
    if (/^\d{1,2}:\d{2}(:\d{2})?\s*CT$/i.test(text)) {
      // The string has no date and a session crosses midnight: only the epoch can place it.
      return epoch ? { tradeDate: chicagoDate(epoch), tradeTime: epoch.toISOString() } : { tradeDate: null, tradeTime: null };
    }
    if (!isNotAvailable(text) && !epoch) throw new Error(`tradeTime: expected "MM/DD/YY", "HH:MM CT" or epoch seconds, got ${JSON.stringify(shown)}`);
  }
  return epoch ? { tradeDate: chicagoDate(epoch), tradeTime: epoch.toISOString() } : { tradeDate: null, tradeTime: null };
}

function pad(value: string): string {
  return value.padStart(2, "0");
}

function stringOrNull(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "object") return `an object with keys ${Object.keys(value).slice(0, 6).join(", ") || "(none)"}`;
  return `${typeof value} ${String(value)}`;
}
