/**
 * Which moment a chain describes and which time windows it needs, checked and clamped against what the
 * dataset has before any paid request: Databento answers an out-of-range request with a 422, and that is
 * an avoidable failure. Sessions, trade dates and "latest" come from @nq/core's CME calendar.
 */
import { cmeSessionFor, InvalidRequestError, latestCompleteMoment, previousCmeSession } from "@nq/core";
import type { ChainSchema } from "./config.js";
import type { DatasetRange } from "./historical/client.js";

export interface TimeWindow {
  /** Inclusive. */
  start: Date;
  /** Exclusive. */
  end: Date;
}

/** One millisecond past as-of: `end` is exclusive, and a record stamped exactly at as-of belongs to the book at as-of. */
const INCLUSIVE_MS = 1;

export interface ResolvedAsOf {
  asOf: Date;
  /** Why this moment, when the request gave none. */
  reason: string | null;
  /** What was clamped, said plainly. */
  notes: string[];
}

/**
 * The as-of time. Asked for: that time (an unreadable one, one in the future or before the dataset
 * starts is an InvalidRequestError; one after the available end is clamped to it, with a note). Not
 * asked for: the last complete picture the dataset holds — during a session the newest data; in the
 * daily break, a weekend or a holiday the close of the last session (never the next session's first
 * instant, where nothing has traded yet).
 */
export function resolveAsOf(requested: string | undefined, range: DatasetRange, now: Date, source: string, dataset: string): ResolvedAsOf {
  if (requested === undefined) {
    // The range's end is exclusive: the newest instant with data is just before it.
    const newest = new Date(Math.min(now.getTime(), range.end.getTime()) - 1);
    const latest = latestCompleteMoment(newest);
    return { asOf: latest.asOf, reason: `latest: ${latest.reason}; ${dataset} has data up to ${range.end.toISOString()}`, notes: [] };
  }
  const ms = Date.parse(requested);
  if (Number.isNaN(ms)) {
    throw new InvalidRequestError(source, `the request's asOf "${requested}" is not a valid time; expected an ISO 8601 time such as 2026-11-20T21:00:00Z`);
  }
  const asOf = new Date(ms);
  if (asOf.getTime() > now.getTime() + 60_000) {
    throw new InvalidRequestError(source, `the request's asOf ${asOf.toISOString()} is in the future (now is ${now.toISOString()}); ask for a past time or omit asOf for the latest data`);
  }
  if (asOf.getTime() <= range.start.getTime()) {
    throw new InvalidRequestError(source, `the request's asOf ${asOf.toISOString()} is before ${dataset}'s data starts (${range.start.toISOString()}); ask for a time after that`);
  }
  if (asOf.getTime() >= range.end.getTime()) {
    const clamped = new Date(range.end.getTime() - 1);
    return {
      asOf: clamped,
      reason: null,
      notes: [`${dataset} has data up to ${range.end.toISOString()} only; the chain is as of ${clamped.toISOString()} instead of ${asOf.toISOString()}`],
    };
  }
  return { asOf, reason: null, notes: [] };
}

export interface ChainWindows {
  asOf: Date;
  /** The Globex session as-of belongs to (or the last one, outside trading hours). */
  session: { tradeDate: string; opensAt: Date; closesAt: Date };
  definition: TimeWindow | null;
  /** From the previous session's open: its final settlement, open interest and cleared volume. */
  statistics: TimeWindow | null;
  /** The whole session up to as-of: session volume and last trade. */
  trades: TimeWindow | null;
  /** True when `trades` was not clamped: only then is "no trade" a volume of 0. */
  tradesCoverSession: boolean;
  /** Step 1 of the book: the last `quoteMinutes` of trading up to as-of, for every instrument. */
  recentQuotes: TimeWindow | null;
  /** Step 2: the rest of the session back to its open, for the instruments step 1 found no record for. */
  earlierQuotes: TimeWindow | null;
  notes: string[];
}

export function chainWindows(asOf: Date, quoteMinutes: number, range: DatasetRange, quoteSchema: ChainSchema | null): ChainWindows {
  const notes: string[] = [];
  const session = cmeSessionFor(asOf);
  const previous = previousCmeSession(asOf);
  const end = new Date(asOf.getTime() + INCLUSIVE_MS);
  // Outside trading hours the book is the one at the close; nothing after it changes it.
  const bookEnd = new Date(Math.min(end.getTime(), session.closesAt.getTime() + INCLUSIVE_MS));
  const recentStart = new Date(Math.max(session.opensAt.getTime(), bookEnd.getTime() - INCLUSIVE_MS - quoteMinutes * 60_000));
  const clamp = (schema: ChainSchema, window: TimeWindow): TimeWindow | null => {
    const bounds = range.schemas[schema] ?? { start: range.start, end: range.end };
    const start = new Date(Math.max(window.start.getTime(), bounds.start.getTime()));
    const clampedEnd = new Date(Math.min(window.end.getTime(), bounds.end.getTime()));
    if (start.getTime() >= clampedEnd.getTime()) {
      notes.push(`${schema}: nothing available between ${window.start.toISOString()} and ${window.end.toISOString()} (available ${bounds.start.toISOString()} to ${bounds.end.toISOString()}); not requested`);
      return null;
    }
    if (start.getTime() !== window.start.getTime() || clampedEnd.getTime() !== window.end.getTime()) {
      notes.push(`${schema}: window clamped to the available ${start.toISOString()} – ${clampedEnd.toISOString()}`);
    }
    return { start, end: clampedEnd };
  };
  const tradesPlanned = { start: session.opensAt, end };
  const trades = clamp("trades", tradesPlanned);
  const quoteWindows =
    quoteSchema === null
      ? { recent: null, earlier: null }
      : {
          recent: clamp(quoteSchema, { start: recentStart, end: bookEnd }),
          earlier: recentStart.getTime() > session.opensAt.getTime() ? clamp(quoteSchema, { start: session.opensAt, end: recentStart }) : null,
        };
  return {
    asOf,
    session,
    definition: clamp("definition", { start: utcDayStart(new Date(asOf.getTime() - 1)), end }),
    statistics: clamp("statistics", { start: previous.opensAt, end }),
    trades,
    tradesCoverSession: trades !== null && trades.start.getTime() === tradesPlanned.start.getTime() && trades.end.getTime() === tradesPlanned.end.getTime(),
    recentQuotes: quoteWindows.recent,
    earlierQuotes: quoteWindows.earlier,
    notes,
  };
}

export function utcDayStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}
