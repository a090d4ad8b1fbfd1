/**
 * Which time windows a chain needs, checked and clamped against what the dataset has, before any paid
 * request: Databento answers an out-of-range request with a 422, and that is an avoidable failure.
 */
import { InvalidRequestError } from "@nq/core";
import type { ChainSchema } from "./config.js";
import type { DatasetRange } from "./historical/client.js";
import { previousSessionStart, sessionClose, sessionStart, utcDayStart } from "./market-calendar.js";

export interface TimeWindow {
  /** Inclusive. */
  start: Date;
  /** Exclusive. */
  end: Date;
}

export interface ChainWindows {
  /** The market time the chain describes. */
  asOf: Date;
  windows: Record<ChainSchema, TimeWindow | null>;
  /** What was clamped or skipped, said plainly. */
  notes: string[];
}

/**
 * The as-of time: the one asked for, else the dataset's available end. An as-of before the dataset
 * starts, or in the future, is an InvalidRequestError; one after the available end is clamped to it.
 */
export function resolveAsOf(requested: string | undefined, range: DatasetRange, now: Date, source: string, dataset: string): { asOf: Date; notes: string[] } {
  const notes: string[] = [];
  if (requested === undefined) return { asOf: range.end, notes: [`as of the latest data ${dataset} has (${range.end.toISOString()})`] };
  const ms = Date.parse(requested);
  if (Number.isNaN(ms)) {
    throw new InvalidRequestError(source, `the request's asOf "${requested}" is not a valid time; expected an ISO 8601 time such as 2026-11-20T21:00:00Z`);
  }
  const asOf = new Date(ms);
  if (asOf.getTime() > now.getTime() + 60_000) {
    throw new InvalidRequestError(source, `the request's asOf ${asOf.toISOString()} is in the future (now is ${now.toISOString()}); ask for a past time or omit asOf for the latest data`);
  }
  if (asOf.getTime() <= range.start.getTime()) {
    throw new InvalidRequestError(
      source,
      `the request's asOf ${asOf.toISOString()} is before ${dataset}'s data starts (${range.start.toISOString()}); ask for a time after that`,
    );
  }
  if (asOf.getTime() > range.end.getTime()) {
    notes.push(`${dataset} has data up to ${range.end.toISOString()} only; the chain is as of that time instead of ${asOf.toISOString()}`);
    return { asOf: range.end, notes };
  }
  return { asOf, notes };
}

/**
 * definition: the UTC day's snapshot up to as-of; statistics: from the previous session's open (its
 * final settlement and open interest); trades: the current session; quotes: the last `quoteMinutes`
 * of trading up to as-of.
 */
export function chainWindows(asOf: Date, quoteMinutes: number, range: DatasetRange): ChainWindows {
  const notes: string[] = [];
  // Outside trading hours (the daily break, a weekend) the last quotes are those before the close.
  const quotesEnd = new Date(Math.min(asOf.getTime(), sessionClose(asOf).getTime()));
  const quotes = { start: new Date(quotesEnd.getTime() - quoteMinutes * 60_000), end: quotesEnd };
  const planned: Record<ChainSchema, TimeWindow> = {
    definition: { start: utcDayStart(new Date(asOf.getTime() - 1)), end: asOf },
    statistics: { start: previousSessionStart(asOf), end: asOf },
    trades: { start: sessionStart(asOf), end: asOf },
    "mbp-1": quotes,
    "bbo-1m": quotes,
  };
  const windows = {} as Record<ChainSchema, TimeWindow | null>;
  for (const [schema, window] of Object.entries(planned) as [ChainSchema, TimeWindow][]) {
    const bounds = range.schemas[schema] ?? { start: range.start, end: range.end };
    const start = new Date(Math.max(window.start.getTime(), bounds.start.getTime()));
    const end = new Date(Math.min(window.end.getTime(), bounds.end.getTime()));
    if (start.getTime() >= end.getTime()) {
      notes.push(`${schema}: nothing available between ${window.start.toISOString()} and ${window.end.toISOString()} (available ${bounds.start.toISOString()} to ${bounds.end.toISOString()}); not requested`);
      windows[schema] = null;
      continue;
    }
    if (start.getTime() !== window.start.getTime() || end.getTime() !== window.end.getTime()) {
      notes.push(`${schema}: window clamped to the available ${start.toISOString()} – ${end.toISOString()}`);
    }
    windows[schema] = { start, end };
  }
  return { asOf, windows, notes };
}
