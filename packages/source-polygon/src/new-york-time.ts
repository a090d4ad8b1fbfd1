/**
 * New York wall time, for the US options calendar: which date "today" is, and the instant an option
 * expires (16:00 New York for PM-settled, the morning's settlement for AM-settled), through core's
 * `ZoneClock` (Intl's zone rules, so DST is right without a table).
 */
import { ZoneClock } from "@nq/core";

const NEW_YORK = new ZoneClock("America/New_York");

/** The New York calendar date (YYYY-MM-DD) of an instant. */
export function newYorkDate(at: Date): string {
  return NEW_YORK.dateOf(at);
}

/** The instant of a New York wall time ("2026-11-20", "16:00") as an ISO string. */
export function newYorkInstant(date: string, time: string): string {
  const [hh, mm] = time.split(":").map(Number) as [number, number];
  return NEW_YORK.instantAt(date, hh * 60 + mm).toISOString();
}

/** A YYYY-MM-DD date plus whole days. */
export function addDays(date: string, days: number): string {
  const ms = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(ms).toISOString().slice(0, 10);
}
