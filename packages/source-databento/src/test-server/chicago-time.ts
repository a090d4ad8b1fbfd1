/**
 * Chicago wall-clock time and CME Globex sessions for the generated market, without Intl: US daylight
 * saving (since 2007) starts the second Sunday of March at 02:00 local and ends the first Sunday of
 * November at 02:00 local; Central time is UTC−6 (CST) or UTC−5 (CDT).
 *
 * The Globex session of trade date D (a weekday) opens at 17:00 Chicago on the calendar day before D
 * (Sunday for a Monday) and closes at 16:00 Chicago on D. Exchange holidays are not modelled.
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** True when Chicago observes daylight time at this UTC instant. */
export function isChicagoDst(utcMs: number): boolean {
  const year = new Date(utcMs).getUTCFullYear();
  // 02:00 CST = 08:00 UTC on the second Sunday of March; 02:00 CDT = 07:00 UTC on the first Sunday of November.
  const start = nthSunday(year, 3, 2) + 8 * HOUR_MS;
  const end = nthSunday(year, 11, 1) + 7 * HOUR_MS;
  return utcMs >= start && utcMs < end;
}

/** Chicago's UTC offset in hours at this instant: −5 or −6. */
export function chicagoOffsetHours(utcMs: number): number {
  return isChicagoDst(utcMs) ? -5 : -6;
}

/** The UTC instant (ms) of a Chicago wall-clock time on a date. Not meant for the 01:00–03:00 DST changeover hours. */
export function chicagoToUtcMs(date: string, hour: number, minute = 0, second = 0): number {
  const wall = Date.parse(`${date}T00:00:00Z`) + hour * HOUR_MS + minute * 60_000 + second * 1000;
  const standard = wall + 6 * HOUR_MS;
  return isChicagoDst(standard) ? wall + 5 * HOUR_MS : standard;
}

/** The UTC instant (ns) of a Chicago wall-clock time; e.g. chicagoNs("2026-11-19", 15, 59, 30). */
export function chicagoNs(date: string, hour: number, minute = 0, second = 0): bigint {
  return BigInt(chicagoToUtcMs(date, hour, minute, second)) * 1_000_000n;
}

/** The Chicago calendar date (YYYY-MM-DD) of a UTC instant. */
export function chicagoDate(utcMs: number): string {
  return new Date(utcMs + chicagoOffsetHours(utcMs) * HOUR_MS).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

export function isWeekday(date: string): boolean {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day !== 0 && day !== 6;
}

export interface TradeSession {
  /** The trade date (YYYY-MM-DD, a weekday). */
  tradeDate: string;
  /** 17:00 Chicago on the calendar day before the trade date, in ns. */
  openNs: bigint;
  /** 16:00 Chicago on the trade date, in ns (exclusive: nothing happens at or after it). */
  closeNs: bigint;
}

/** The Globex session of a trade date (a weekday; a weekend date is rejected). */
export function tradeSession(tradeDate: string): TradeSession {
  if (!isWeekday(tradeDate)) throw new RangeError(`${tradeDate} is not a trade date (weekend)`);
  return { tradeDate, openNs: chicagoNs(addDays(tradeDate, -1), 17), closeNs: chicagoNs(tradeDate, 16) };
}

/**
 * The session that an instant belongs to: the one it falls in, or else (daily break, weekend) the last
 * one closed before it.
 */
export function sessionAtOrBefore(tNs: bigint): TradeSession {
  const ms = Number(tNs / 1_000_000n);
  // Chicago date of t; if past 17:00 local, t may belong to the next day's session.
  let date = addDays(chicagoDate(ms), 1);
  for (let i = 0; i < 7; i++, date = addDays(date, -1)) {
    if (!isWeekday(date)) continue;
    const session = tradeSession(date);
    if (session.openNs <= tNs) return session;
  }
  throw new Error("unreachable: no session within a week");
}

/** The sessions (by trade date) that overlap [startNs, endNs), in order. */
export function sessionsOverlapping(startNs: bigint, endNs: bigint): TradeSession[] {
  const out: TradeSession[] = [];
  const first = chicagoDate(Number(startNs / 1_000_000n));
  const last = addDays(chicagoDate(Number((endNs - 1n) / 1_000_000n)), 1);
  for (let date = first; date <= last; date = addDays(date, 1)) {
    if (!isWeekday(date)) continue;
    const session = tradeSession(date);
    if (session.openNs < endNs && session.closeNs > startNs) out.push(session);
  }
  return out;
}

function nthSunday(year: number, month: number, n: number): number {
  const first = new Date(Date.UTC(year, month - 1, 1));
  const firstSunday = 1 + ((7 - first.getUTCDay()) % 7);
  return Date.UTC(year, month - 1, firstSunday + 7 * (n - 1));
}
