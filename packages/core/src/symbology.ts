/**
 * One symbology for NQ options, whatever the feed: every contract is named by its CME Globex symbol —
 * `<series><month letter><year digit> <C|P><strike>` ("NQZ6 C21000", "QN4Z6 C21000", "Q2AM5 P19500"), its
 * underlying by the future's Globex symbol ("NQZ6") — and the feed's own spelling is kept beside it as
 * `rawSymbol` ("MC7M5|15000C" from Barchart, "NQZ6 C21000" from Databento).
 *
 * A one-digit year names a decade only with a date beside it: it is resolved against the as-of time, as
 * the contract month at most a year before the as-of month or within the nine years after it (as of 2029,
 * "Z9" is December 2029; as of 2030, "Z0" is December 2030 and "Z9" the just-expired December 2029).
 * Barchart's two-digit years ("NQZ26", "MC7M25") are 20yy.
 *
 * Sources: CME Group contract specs for E-mini Nasdaq-100 options (Globex codes NQ, QN1–QN4, QNE,
 * Q1A–Q5A, Q1B–Q5B, Q1C–Q5C, Q1D–Q5D; cmegroup.com e-mini-nasdaq-100_contractSpecs_options.html and the
 * weekly-options page); Barchart's codes from reference/barchart.md §2 (decoding checked there against
 * series pages: MQ4M25 = Fri 2025-06-27, MQ2N25 = Fri 2025-07-11, MM6N25 = Thu 2025-07-03, MC6M25 = Mon
 * 2025-06-02, MC7U26 = Mon 2026-09-14) — the Barchart column is not confirmed by Barchart itself.
 */

/** The futures month letters, January (F) to December (Z). */
export const FUTURES_MONTH_CODES = "FGHJKMNQUVXZ";

const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

/** When a series expires within its contract month. */
export type ExpiryRule =
  /** The third Friday of the contract month (the quarterly NQ options, like the futures). */
  | { kind: "third-friday" }
  /** The `week`-th `weekday` (1 Monday … 5 Friday) of the contract month. */
  | { kind: "weekday"; weekday: 1 | 2 | 3 | 4 | 5; week: 1 | 2 | 3 | 4 | 5 }
  /** The last business day of the contract month. */
  | { kind: "end-of-month" };

export interface NqOptionSeries {
  /** The CME Globex product code: the canonical root. */
  root: string;
  rule: ExpiryRule;
  /** "Friday weekly, week 4" … */
  description: string;
  /** Barchart's root for the same series (series code = root + month letter + 2-digit year), when it has one. */
  barchart: string | null;
  /** False for a code CME does not list (kept so a feed that names it still maps one to one). */
  listedByCme: boolean;
}

function weekly(root: string, weekday: 1 | 2 | 3 | 4 | 5, week: 1 | 2 | 3 | 4 | 5, barchart: string | null, listedByCme = true): NqOptionSeries {
  return { root, rule: { kind: "weekday", weekday, week }, description: `${WEEKDAY_NAMES[weekday]} weekly, week ${week}`, barchart, listedByCme };
}

/**
 * THE table: every NQ option series code, its expiry rule and Barchart's name for it.
 *
 *  - NQ: quarterly (Mar/Jun/Sep/Dec), third Friday; Barchart's "Monthly Options" use the future's code
 *    ("NQU26"), so Barchart's NQ root maps to NQ in every month (older CME listings had serial NQ months;
 *    today's CME specs list the serial months' third Fridays as QN3 — which code Barchart uses for those
 *    is not verified).
 *  - QN1–QN4: Friday weeklies by week of month (QN3 also the serial months' third Friday); Barchart MQ1–MQ4.
 *    QN5/MQ5 (a fifth Friday) is not listed by CME — a fifth Friday is always the month's last business
 *    day, which is QNE — and is kept only so a feed that names it maps one to one.
 *  - QNE: end of month (last business day); Barchart MQ6.
 *  - Q1A–Q5A Monday, Q1B–Q5B Tuesday, Q1C–Q5C Wednesday, Q1D–Q5D Thursday weeklies by week of month;
 *    Barchart MC6–MC9 (Monday weeks 1–4), MM1–MM5 (Tuesday), MC1–MC5 (Wednesday), MM6–MM9 (Thursday
 *    weeks 1–4). Barchart's scheme has no code for a fifth Monday or Thursday.
 */
export const NQ_OPTION_SERIES: readonly NqOptionSeries[] = Object.freeze([
  { root: "NQ", rule: { kind: "third-friday" }, description: "quarterly (third Friday)", barchart: "NQ", listedByCme: true },
  weekly("QN1", 5, 1, "MQ1"),
  weekly("QN2", 5, 2, "MQ2"),
  weekly("QN3", 5, 3, "MQ3"),
  weekly("QN4", 5, 4, "MQ4"),
  weekly("QN5", 5, 5, "MQ5", false),
  { root: "QNE", rule: { kind: "end-of-month" }, description: "end of month (last business day)", barchart: "MQ6", listedByCme: true },
  ...([1, 2, 3, 4, 5] as const).flatMap((week) => [
    weekly(`Q${week}A`, 1, week, week <= 4 ? `MC${5 + week}` : null),
    weekly(`Q${week}B`, 2, week, `MM${week}`),
    weekly(`Q${week}C`, 3, week, `MC${week}`),
    weekly(`Q${week}D`, 4, week, week <= 4 ? `MM${5 + week}` : null),
  ]),
]);

const BY_ROOT = new Map(NQ_OPTION_SERIES.map((s) => [s.root, s]));
const BY_BARCHART = new Map(NQ_OPTION_SERIES.filter((s) => s.barchart !== null).map((s) => [s.barchart!, s]));

/** A symbol that cannot be read; the message says what was expected. */
export class SymbolError extends Error {
  override name = "SymbolError";
}

export interface FutureSymbol {
  /** The canonical Globex symbol ("NQZ6"). */
  symbol: string;
  root: string;
  /** 1–12. */
  month: number;
  monthCode: string;
  /** Full year, the decade resolved. */
  year: number;
  /** The text as given. */
  raw: string;
}

export interface OptionSymbol {
  /** The canonical Globex symbol ("QN4Z6 C21000"). */
  symbol: string;
  /** The CME series code ("QN4"), mapped from the feed's ("MQ4"). */
  root: string;
  /** The feed's series code as written ("MQ4", "QN4"). */
  rawRoot: string;
  /** The series with its month and year digit ("QN4Z6"). */
  series: string;
  month: number;
  monthCode: string;
  year: number;
  right: "C" | "P";
  strike: number;
  /** "cme": `<series> <C|P><strike>`; "barchart": `<series>|<strike><C|P>`. */
  spelling: "cme" | "barchart";
  raw: string;
  /** The series' row of NQ_OPTION_SERIES, with its expiry rule (null for a product other than NQ). */
  seriesRow: NqOptionSeries | null;
}

type AsOf = Date | string | number;

const FUTURE_PATTERN = /^([A-Z][A-Z0-9]{0,3}?)([FGHJKMNQUVXZ])(\d{1,2})$/;
const CME_OPTION_PATTERN = /^([A-Z][A-Z0-9]{0,3}?)([FGHJKMNQUVXZ])(\d{1,2}) ([CP])(\d+(?:\.\d+)?)$/;
const BARCHART_OPTION_PATTERN = /^([A-Z][A-Z0-9]{0,3}?)([FGHJKMNQUVXZ])(\d{1,2})\|(\d+(?:\.\d+)?)([CP])$/;

/**
 * The full year of a contract month written with a one- or two-digit year. One digit: the year whose
 * contract month lies from 12 months before the as-of month to 107 months after it. Two digits: 20yy.
 */
export function resolveContractYear(digits: string, month: number, asOf: AsOf): number {
  if (!/^\d{1,2}$/.test(digits)) throw new SymbolError(`year: expected one or two digits, got ${JSON.stringify(digits)}`);
  if (digits.length === 2) return 2000 + Number(digits);
  const at = toDate(asOf);
  const asOfIndex = at.getUTCFullYear() * 12 + at.getUTCMonth();
  const digit = Number(digits);
  const earliest = asOfIndex - 12;
  // The first year ending in `digit` whose contract month is not before `earliest`.
  let year = Math.floor(earliest / 12) - 10;
  year += (((digit - year) % 10) + 10) % 10;
  while (year * 12 + (month - 1) < earliest) year += 10;
  return year;
}

/** "NQZ6", "NQZ26" (Barchart), " nqz6 " → the future's parts and canonical Globex symbol ("NQZ6"). */
export function parseFutureSymbol(text: unknown, asOf: AsOf): FutureSymbol {
  const raw = typeof text === "string" ? text : "";
  const match = FUTURE_PATTERN.exec(raw.trim().toUpperCase());
  if (!match) {
    throw new SymbolError(
      `expected a futures symbol: root, month letter (${FUTURES_MONTH_CODES.split("").join(" ")}) and a 1- or 2-digit year, like "NQZ6" or "NQZ26"; got ${describe(text)}`,
    );
  }
  const [, root, monthCode, digits] = match as unknown as [string, string, string, string];
  const month = FUTURES_MONTH_CODES.indexOf(monthCode) + 1;
  const year = resolveContractYear(digits, month, asOf);
  return { symbol: `${root}${monthCode}${year % 10}`, root, month, monthCode, year, raw };
}

/** The canonical Globex symbol of a future ("NQZ26" → "NQZ6"). */
export function canonicalFutureSymbol(text: unknown, asOf: AsOf): string {
  return parseFutureSymbol(text, asOf).symbol;
}

/**
 * The CME series code for a feed's series code: a CME code stays ("QN4"), a Barchart code is mapped
 * ("MQ4" → "QN4", "MC7" → "Q2A"). For a product other than NQ the code is kept as given.
 */
export function cmeOptionRoot(code: unknown, product = "NQ"): string {
  const text = typeof code === "string" ? code.trim().toUpperCase() : "";
  if (product.toUpperCase() !== "NQ") {
    if (/^[A-Z][A-Z0-9]{0,5}$/.test(text)) return text;
    throw new SymbolError(`root: expected an option series code, got ${describe(code)}`);
  }
  const series = BY_ROOT.get(text) ?? BY_BARCHART.get(text);
  if (series) return series.root;
  throw new SymbolError(
    `root: expected an NQ option series code — CME's NQ, QN1–QN4, QNE, Q1A–Q5A, Q1B–Q5B, Q1C–Q5C, Q1D–Q5D or Barchart's MQ1–MQ6, MC1–MC9, MM1–MM9 — got ${describe(code)}`,
  );
}

/** The table row of a CME (or Barchart) NQ series code, or undefined. */
export function nqOptionSeries(code: string): NqOptionSeries | undefined {
  const text = code.trim().toUpperCase();
  return BY_ROOT.get(text) ?? BY_BARCHART.get(text);
}

/**
 * An option symbol in CME's spelling ("NQZ6 C21000", "QN4Z6 P20500") or Barchart's ("MC7M5|15000C",
 * "NQU6|21000P") → its parts and canonical Globex symbol.
 */
export function parseOptionSymbol(text: unknown, asOf: AsOf, product = "NQ"): OptionSymbol {
  const raw = typeof text === "string" ? text : "";
  const upper = raw.trim().toUpperCase().replace(/\s+/g, " ");
  let parts: { rawRoot: string; monthCode: string; digits: string; right: "C" | "P"; strike: string; spelling: "cme" | "barchart" } | null = null;
  const cme = CME_OPTION_PATTERN.exec(upper);
  if (cme) parts = { rawRoot: cme[1]!, monthCode: cme[2]!, digits: cme[3]!, right: cme[4] as "C" | "P", strike: cme[5]!, spelling: "cme" };
  const barchart = cme ? null : BARCHART_OPTION_PATTERN.exec(upper);
  if (barchart) parts = { rawRoot: barchart[1]!, monthCode: barchart[2]!, digits: barchart[3]!, right: barchart[5] as "C" | "P", strike: barchart[4]!, spelling: "barchart" };
  if (!parts) {
    throw new SymbolError(
      `expected an option symbol like "QN4Z6 C21000" (CME: series, month letter, year digit, space, C/P, strike) or "MQ4Z6|21000C" (Barchart); got ${describe(text)}`,
    );
  }
  const strike = Number(parts.strike);
  if (!(strike > 0)) throw new SymbolError(`expected a positive strike in the option symbol, got ${describe(text)}`);
  const root = cmeOptionRoot(parts.rawRoot, product);
  const month = FUTURES_MONTH_CODES.indexOf(parts.monthCode) + 1;
  const year = resolveContractYear(parts.digits, month, asOf);
  const series = `${root}${parts.monthCode}${year % 10}`;
  return {
    symbol: formatOptionSymbol({ root, month, year, right: parts.right, strike }),
    root,
    rawRoot: parts.rawRoot,
    series,
    month,
    monthCode: parts.monthCode,
    year,
    right: parts.right,
    strike,
    spelling: parts.spelling,
    raw,
    seriesRow: product.toUpperCase() === "NQ" ? (BY_ROOT.get(root) ?? null) : null,
  };
}

/** `<root><month letter><year digit> <C|P><strike>`: "QN4Z6 C21000". */
export function formatOptionSymbol(parts: { root: string; month: number; year: number; right: "C" | "P"; strike: number }): string {
  if (!Number.isInteger(parts.month) || parts.month < 1 || parts.month > 12) throw new SymbolError(`month: expected 1–12, got ${parts.month}`);
  if (!Number.isInteger(parts.year)) throw new SymbolError(`year: expected a full year, got ${parts.year}`);
  if (!(parts.strike > 0) || !Number.isFinite(parts.strike)) throw new SymbolError(`strike: expected a positive number, got ${parts.strike}`);
  return `${parts.root}${FUTURES_MONTH_CODES[parts.month - 1]}${parts.year % 10} ${parts.right}${String(parts.strike)}`;
}

/**
 * The date a series' rule names in a contract month (YYYY-MM-DD), before any holiday adjustment: the
 * feeds' own expiration dates stay authoritative; this is for checks and for naming a series when a
 * feed gives only a date. Null when the month has no such day (a fifth Monday that does not exist).
 */
export function ruleExpiration(root: string, year: number, month: number): string | null {
  const series = nqOptionSeries(root);
  if (!series) throw new SymbolError(`root: ${describe(root)} is not an NQ option series code`);
  const rule = series.rule;
  if (rule.kind === "end-of-month") {
    const day = new Date(Date.UTC(year, month, 0));
    while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day.setUTCDate(day.getUTCDate() - 1);
    return iso(day);
  }
  const weekday = rule.kind === "third-friday" ? 5 : rule.weekday;
  const week = rule.kind === "third-friday" ? 3 : rule.week;
  const first = new Date(Date.UTC(year, month - 1, 1));
  const offset = (weekday - first.getUTCDay() + 7) % 7;
  const day = new Date(Date.UTC(year, month - 1, 1 + offset + 7 * (week - 1)));
  return day.getUTCMonth() === month - 1 ? iso(day) : null;
}

/**
 * The NQ series an expiration date belongs to, when a feed gives only the date: the third Friday of a
 * quarterly month is NQ, the month's last business day QNE (CME lists no weekly on that day), any other
 * day its weekday-and-week code (QN1–QN4, Q1A…Q5D). Holiday-shifted expiries are not recognized: a feed
 * that knows the series should say so.
 */
export function inferNqOptionRoot(expiration: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(expiration);
  if (!match) throw new SymbolError(`expiration: expected YYYY-MM-DD, got ${describe(expiration)}`);
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = new Date(Date.UTC(year, month - 1, Number(match[3])));
  const weekday = day.getUTCDay();
  if (weekday === 0 || weekday === 6) throw new SymbolError(`expiration: ${expiration} is a weekend day; no NQ option series expires then`);
  if (month % 3 === 0 && ruleExpiration("NQ", year, month) === expiration) return "NQ";
  if (ruleExpiration("QNE", year, month) === expiration) return "QNE";
  const week = Math.floor((day.getUTCDate() - 1) / 7) + 1;
  return weekday === 5 ? `QN${week}` : `Q${week}${"ABCD"[weekday - 1]}`;
}

export interface ContractNamesInput {
  /** The feed's own spelling, when it gives one apart from `symbol`. */
  rawSymbol?: unknown;
  symbol?: unknown;
  root?: unknown;
  underlying?: unknown;
  product: string;
  /** YYYY-MM-DD, already validated. */
  expiration: string;
  right: "C" | "P";
  strike: number;
  asOf: AsOf;
}

export interface ContractNames {
  symbol: string;
  rawSymbol: string | null;
  root: string;
  /** Canonical when it reads as a futures symbol; else as given (null when none was given). */
  underlying: string | null;
}

/**
 * A row's names made canonical. The feed's spelling (`rawSymbol`, else `symbol`) is read when it is a
 * CME or Barchart option symbol, and must agree with the row's strike, right, root and expiration month;
 * a spelling this module does not read is kept as `rawSymbol` and the symbol is built from the row's
 * root (mapped through the table; for NQ without one, from the expiration date) and its expiration.
 */
export function canonicalContractNames(input: ContractNamesInput): ContractNames {
  const rawSymbol = nonEmpty(input.rawSymbol, "rawSymbol") ?? nonEmpty(input.symbol, "symbol");
  const product = input.product.toUpperCase();
  const isNq = product === "NQ";
  const rowRoot = nonEmpty(input.root, "root");
  const [expYear, expMonth] = input.expiration.split("-").map(Number) as [number, number];

  let parsed: OptionSymbol | null = null;
  if (rawSymbol !== null) {
    try {
      parsed = parseOptionSymbol(rawSymbol, input.asOf, product);
    } catch (error) {
      if (!(error instanceof SymbolError)) throw error;
      // A series code we do not know, in a spelling we read, is an error; another spelling is the feed's own.
      if (error.message.startsWith("root:")) throw new SymbolError(`symbol ${JSON.stringify(rawSymbol)}: ${error.message}`);
      parsed = null;
    }
  }

  let root: string;
  let year = expYear;
  let month = expMonth;
  if (parsed) {
    if (parsed.right !== input.right) throw new SymbolError(`symbol ${JSON.stringify(rawSymbol)} names a ${parsed.right === "C" ? "call" : "put"}, but the row's right is ${input.right}`);
    if (parsed.strike !== input.strike) throw new SymbolError(`symbol ${JSON.stringify(rawSymbol)} names strike ${parsed.strike}, but the row's strike is ${input.strike}`);
    if (rowRoot !== null && cmeOptionRoot(rowRoot, product) !== parsed.root) {
      throw new SymbolError(`root ${JSON.stringify(rowRoot)} is not the series of symbol ${JSON.stringify(rawSymbol)} (${parsed.root})`);
    }
    if (!inContractMonth(input.expiration, parsed.year, parsed.month)) {
      throw new SymbolError(
        `symbol ${JSON.stringify(rawSymbol)} names ${parsed.monthCode}${parsed.year % 10} (${parsed.year}-${String(parsed.month).padStart(2, "0")}), but the expiration is ${input.expiration}`,
      );
    }
    root = parsed.root;
    year = parsed.year;
    month = parsed.month;
  } else if (rowRoot !== null) {
    root = cmeOptionRoot(rowRoot, product);
  } else {
    root = isNq ? inferNqOptionRoot(input.expiration) : product;
  }

  let underlying = nonEmpty(input.underlying, "underlying");
  if (underlying !== null) {
    try {
      underlying = canonicalFutureSymbol(underlying, input.asOf);
    } catch (error) {
      if (!(error instanceof SymbolError)) throw error;
    }
  }
  return { symbol: formatOptionSymbol({ root, month, year, right: input.right, strike: input.strike }), rawSymbol, root, underlying };
}

/** In the contract month, or up to 7 days before it (an expiry moved back over a holiday). */
function inContractMonth(expiration: string, year: number, month: number): boolean {
  const at = Date.parse(`${expiration}T00:00:00Z`);
  const start = Date.UTC(year, month - 1, 1);
  const end = Date.UTC(year, month, 1);
  return at >= start - 7 * 86_400_000 && at < end;
}

function nonEmpty(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw new SymbolError(`${field}: expected a string, got ${describe(value)}`);
  return value.trim() === "" ? null : value.trim();
}

function toDate(value: AsOf): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new SymbolError(`asOf: expected a time to resolve the year's decade, got ${describe(value)}`);
  return date;
}

function iso(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function describe(value: unknown): string {
  if (typeof value === "string") return value.trim() === "" ? "an empty string" : JSON.stringify(value);
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (value instanceof Date) return value.toISOString();
  return typeof value === "number" ? String(value) : `a ${typeof value}`;
}
