/**
 * The CME trade date of a record's timestamp (Chicago time, 17:00 CT rollover, holidays and early
 * closes from @nq/core's calendar), fast enough to ask once per record: core's `cmeTradeDate` is
 * computed once per Globex interval and the answer is reused for every instant in
 * [the session's open, the next Globex open), where it cannot change.
 */
import { cmeSessionFor, cmeTradeDate, nextGlobexOpen } from "@nq/core";

const DAY_MS = 86_400_000;

export class TradeDateClock {
  private lo = 1;
  private hi = 0;
  private days = 0;
  private date = "";
  /** How many times core's calendar was consulted (tests check the cache does its job). */
  lookups = 0;

  /** Days since 1970-01-01 of the trade date at `ms` (epoch milliseconds). */
  daysAt(ms: number): number {
    if (ms >= this.lo && ms < this.hi) return this.days;
    this.refresh(ms);
    return this.days;
  }

  /** The trade date at `ms` as YYYY-MM-DD. */
  dateAt(ms: number): string {
    if (!(ms >= this.lo && ms < this.hi)) this.refresh(ms);
    return this.date;
  }

  private refresh(ms: number): void {
    this.lookups++;
    const at = new Date(ms);
    const date = cmeTradeDate(at);
    const session = cmeSessionFor(at);
    this.date = date;
    this.days = Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
    // The interval is trusted only when core agrees the session holds `at`; else just this instant.
    const opens = session.tradeDate === date ? session.opensAt.getTime() : ms;
    this.lo = Math.min(opens, ms);
    this.hi = Math.max(nextGlobexOpen(at).getTime(), ms + 1);
  }
}

/** YYYY-MM-DD of a day count since the epoch. */
export function dateOfDays(days: number): string {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}
