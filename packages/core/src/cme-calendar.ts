/**
 * The CME Globex calendar for equity-index futures and options (NQ): one home for "which session is this
 * instant in", "which trade date does it belong to", "what is the latest complete moment" and "how long
 * until expiry", used by the normalizer, the sources and the cache's TTL.
 *
 * The model is the exchange's own. Globex trades in *segments*: for each weekday X that is not a full
 * closure, one segment runs from 17:00 CT on the calendar day before X (Sunday evening for Monday) to
 * 16:00 CT on X — or to X's early close, or to X's holiday halt. Each segment belongs to a *trade date*:
 *
 * - an ordinary weekday X is its own trade date (its settlement is published after the close);
 * - a full closure (New Year's Day, Good Friday, Christmas) has no segment and no trade date: Globex is shut
 *   from 16:00 CT the day before until 17:00 CT on the holiday;
 * - a US holiday with a halt (MLK, Presidents, Memorial, Juneteenth, Independence, Labor, Thanksgiving Day:
 *   12:00 CT) keeps its morning segment, but is not a trade date — CME settles nothing that day, and the
 *   segment belongs to the NEXT trade date, which therefore spans two segments (MLK Day 2026: Sunday 17:00 →
 *   Monday 12:00 and Monday 17:00 → Tuesday 16:00 are both trade date Tuesday). The next segment opens at
 *   17:00 CT on the holiday itself (Sunday 17:00 when the holiday is a Friday).
 *
 * From 17:00 CT on, an instant belongs to the *next* segment: at 20:30 CT on Monday the trade date is
 * Tuesday. Holidays, halts and early closes for 2024–2027 ship as data (`cme-holidays.ts`, with its sources
 * and what is unconfirmed); every function takes a calendar of your own instead.
 *
 * Times are computed in America/Chicago with Intl, so both DST changes are handled by the platform's
 * time-zone data; no time-zone library is needed for a few fixed wall-clock times a day.
 */
import { CME_EQUITY_CLOSURES, CME_EQUITY_EARLY_CLOSES, CME_EQUITY_HALTS } from "./cme-holidays.js";
import { ZoneClock, type ZoneWallClock } from "./zone-clock.js";

const CHICAGO = "America/Chicago";
const SESSION_OPEN_MINUTE = 17 * 60;
const SESSION_CLOSE_MINUTE = 16 * 60;
/** Holidays are at most a few days in a row; a year of closed days means the calendar is wrong. */
const MAX_DAYS_SEARCHED = 370;
/** ACT/365: a year is 365 days of 86 400 000 ms. */
export const MS_PER_YEAR_ACT_365 = 365 * 86_400_000;

export interface EarlyClose {
  /** The trade date whose session closes early (YYYY-MM-DD, Chicago). */
  date: string;
  /** The early close, HH:MM in Chicago time (e.g. "12:15"); must be before 16:00. */
  close: string;
  /** What the day is, for people reading the data. */
  name?: string;
}

export interface HolidayHalt {
  /** The holiday (YYYY-MM-DD, Chicago, a weekday): not a trade date, but Globex trades until `halt`. */
  date: string;
  /** When trading stops, HH:MM in Chicago time (e.g. "12:00"); must be before 16:00. */
  halt: string;
  name?: string;
}

export interface GlobexCalendar {
  /** Full closures (YYYY-MM-DD): no trading and no trade date. */
  holidays?: readonly string[];
  /** Holidays on which Globex trades until a halt; that trading belongs to the next trade date. */
  halts?: readonly HolidayHalt[];
  /** Trade dates whose session ends before 16:00 CT. */
  earlyCloses?: readonly EarlyClose[];
}

/** Full-day closures of CME Globex equity-index products, 2024–2027 (see `cme-holidays.ts`). */
export const CME_EQUITY_FULL_CLOSURES: readonly string[] = CME_EQUITY_CLOSURES.map(({ date }) => date);

/**
 * CME Globex equity-index holidays, halts and early closes for 2024–2027, from CME's published holiday
 * calendar (sources and unconfirmed rows in `cme-holidays.ts`). The default of every function here.
 */
export const DEFAULT_CME_CALENDAR: GlobexCalendar = {
  holidays: CME_EQUITY_FULL_CLOSURES,
  halts: CME_EQUITY_HALTS,
  earlyCloses: CME_EQUITY_EARLY_CLOSES,
};

/**
 * A calendar with `overrides` laid over `base` (by default the built-in one), date by date: whatever the
 * overrides say of a date — closure, halt or early close — replaces what the base says of it; the base's other
 * dates stay. Use it to add a closure CME announces at short notice, or to correct a row, without restating
 * the rest. (To drop the built-in data altogether, pass your own calendar to the functions instead.)
 */
export function mergeGlobexCalendars(overrides: GlobexCalendar | readonly string[], base: GlobexCalendar = DEFAULT_CME_CALENDAR): GlobexCalendar {
  const extra: GlobexCalendar = isStringList(overrides) ? { holidays: overrides } : overrides;
  const overridden = new Set([...(extra.holidays ?? []), ...(extra.halts ?? []).map((h) => h.date), ...(extra.earlyCloses ?? []).map((e) => e.date)]);
  return {
    holidays: [...(base.holidays ?? []).filter((date) => !overridden.has(date)), ...(extra.holidays ?? [])],
    halts: [...(base.halts ?? []).filter((h) => !overridden.has(h.date)), ...(extra.halts ?? [])],
    earlyCloses: [...(base.earlyCloses ?? []).filter((e) => !overridden.has(e.date)), ...(extra.earlyCloses ?? [])],
  };
}

export type GlobexClosedReason = "daily-break" | "early-close" | "weekend" | "holiday";

/**
 * While open: the trade date and the segment of continuous trading now running (on a halt holiday's
 * morning the segment closes at the halt; the trade date's whole session is `cmeSessionFor`'s).
 */
export type GlobexSession =
  | { open: true; tradeDate: string; opensAt: Date; closesAt: Date }
  | { open: false; reason: GlobexClosedReason; nextTradeDate: string; nextOpen: Date };

type CalendarInput = GlobexCalendar | readonly string[];

/** Whether Globex equity-index options trade at `now`, and until when (or from when). */
export function globexSessionAt(now: Date, calendar: CalendarInput = DEFAULT_CME_CALENDAR): GlobexSession {
  assertValidDate(now);
  const days = new TradingDays(calendar);
  const day = segmentDayOf(now);
  if (days.hasSegment(day)) {
    const segment = days.segment(day);
    if (now.getTime() < segment.closesAt.getTime()) return { open: true, tradeDate: segment.tradeDate, opensAt: segment.opensAt, closesAt: segment.closesAt };
    const next = days.segment(days.nextSegmentDayAfter(day));
    const reason: GlobexClosedReason = days.isHalt(day)
      ? "holiday"
      : days.hasEarlyClose(day)
        ? "early-close"
        : next.day === addDays(day, 1)
          ? "daily-break"
          : days.isHoliday(addDays(day, 1))
            ? "holiday"
            : "weekend";
    return { open: false, reason, nextTradeDate: next.tradeDate, nextOpen: next.opensAt };
  }
  const next = days.segment(days.nextSegmentDayAfter(day));
  return { open: false, reason: days.isHoliday(day) ? "holiday" : "weekend", nextTradeDate: next.tradeDate, nextOpen: next.opensAt };
}

/**
 * The next time a Globex segment opens after `now`. While the market is open, that is the open of the
 * segment after the current one.
 */
export function nextGlobexOpen(now: Date, calendar: CalendarInput = DEFAULT_CME_CALENDAR): Date {
  assertValidDate(now);
  const days = new TradingDays(calendar);
  return days.segment(days.nextSegmentDayAfter(segmentDayOf(now))).opensAt;
}

/**
 * The CME trade date an instant belongs to: that of the segment running, or — in the daily break, a weekend
 * or a holiday — of the last segment that opened before it. So in the daily break it is the session just
 * closed, and on a holiday halt's afternoon it is the next trade date, whose trading began the evening
 * before. Expiry and "expired" decisions use this, never a UTC date.
 */
export function cmeTradeDate(at: Date, calendar: CalendarInput = DEFAULT_CME_CALENDAR): string {
  assertValidDate(at);
  const days = new TradingDays(calendar);
  return days.segment(days.lastSegmentDayAtOrBefore(segmentDayOf(at))).tradeDate;
}

/**
 * The trade date an instant belongs to (see `cmeTradeDate`) with its whole session: from the open of its
 * first segment (the evening before a halt holiday, when it has one) to its final close (where the settlement
 * is taken; an early close when it has one).
 */
export function cmeSessionFor(at: Date, calendar: CalendarInput = DEFAULT_CME_CALENDAR): { tradeDate: string; opensAt: Date; closesAt: Date } {
  const days = new TradingDays(calendar);
  return days.session(cmeTradeDate(at, calendar));
}

/** The session before the one `at` belongs to: its settlement and open interest are the latest final ones. */
export function previousCmeSession(at: Date, calendar: CalendarInput = DEFAULT_CME_CALENDAR): { tradeDate: string; opensAt: Date; closesAt: Date } {
  const days = new TradingDays(calendar);
  return days.session(days.previousTradingDayBefore(cmeTradeDate(at, calendar)));
}

export interface LatestMoment {
  /** The market time a "latest" chain should describe. */
  asOf: Date;
  /** Why that moment, in words for the summary. */
  reason: string;
}

/**
 * "Latest" means the last complete picture: during a session, now less the feed's delay; in the daily
 * break, after an early close, on a weekend or a holiday, the moment trading last stopped (a session's close,
 * or a holiday's halt).
 */
export function latestCompleteMoment(now: Date, delayMs = 0, calendar: CalendarInput = DEFAULT_CME_CALENDAR): LatestMoment {
  assertValidDate(now);
  const target = new Date(now.getTime() - Math.max(0, delayMs));
  const session = globexSessionAt(target, calendar);
  if (session.open) {
    const delay = delayMs > 0 ? ` less the feed's ${Math.round(delayMs / 60_000)}-minute delay` : "";
    return { asOf: target, reason: `the market is open (trade date ${session.tradeDate}): now${delay}` };
  }
  const days = new TradingDays(calendar);
  const last = days.segment(days.lastSegmentDayAtOrBefore(segmentDayOf(target)));
  const why =
    session.reason === "daily-break"
      ? "the market is in its daily break: the close of the last session"
      : session.reason === "early-close"
        ? "the market closed early: the close of the last session"
        : session.reason === "holiday"
          ? days.isHalt(last.day)
            ? `the market is halted for a CME holiday: the last trading before the halt`
            : "the market is closed for a CME holiday: the close of the last session"
          : "the market is closed for the weekend: the close of the last session";
  return { asOf: last.closesAt, reason: `${why} (trade date ${last.tradeDate}, ${last.closesAt.toISOString()})` };
}

/** The calendar date in Chicago (YYYY-MM-DD) of an instant. */
export function chicagoDate(at: Date): string {
  return chicagoWallClock(at).date;
}

/**
 * When only an option's expiration date is known, the time of day it expires (CT): 15:00, when trading
 * terminates for E-mini Nasdaq-100 weekly (Monday–Friday) and end-of-month options — "Trading terminates at
 * 3:00 p.m. CT" / "4:00 p.m. ET", the 3:00 p.m. CT fixing deciding which are in the money (CME contract
 * specs, https://www.cmegroup.com/trading/equity-index/us-index/e-mini-nasdaq-100_contractSpecs_options.html).
 * Quarterly NQ options (third Friday of March, June, September, December) terminate at 08:30 CT instead,
 * exercising into the futures' Special Opening Quotation: pass "08:30" for those.
 */
export const CME_NQ_OPTION_EXPIRY_TIME_CT = "15:00";

/**
 * Time to expiry in years, ACT/365 (actual milliseconds between the two instants over 365 days), from
 * `asOf` to the expiry instant (`expirationInstant`): `expirationTime` when given — an instant (ISO 8601 with
 * offset, or a Date) or a Chicago wall-clock time on the expiration date ("HH:MM") — else 15:00 CT on
 * `expiration` (`CME_NQ_OPTION_EXPIRY_TIME_CT`), or that day's early close in `calendar` when it is earlier.
 * Zero or negative once the option has expired at `asOf`: the caller decides what that means.
 */
export function timeToExpiryYears(asOf: Date, expiration: string, expirationTime?: string | Date | null, calendar: CalendarInput = DEFAULT_CME_CALENDAR): number {
  assertValidDate(asOf);
  return (expirationInstant(expiration, expirationTime, calendar).getTime() - asOf.getTime()) / MS_PER_YEAR_ACT_365;
}

/**
 * The instant an option expires: `expirationTime` when given (an instant, or "HH:MM" Chicago time on the
 * expiration date); else 15:00 CT on the expiration date, or the session's close that day when the calendar
 * closes it earlier (an early close, or a holiday halt) — an option cannot trade past the market's close.
 */
export function expirationInstant(expiration: string, expirationTime?: string | Date | null, calendar: CalendarInput = DEFAULT_CME_CALENDAR): Date {
  assertIsoDate(expiration, "expiration");
  if (expirationTime instanceof Date) {
    assertValidDate(expirationTime);
    return expirationTime;
  }
  if (typeof expirationTime === "string" && /^\d{2}:\d{2}$/.test(expirationTime)) return chicagoInstant(expiration, parseClockTime(expirationTime));
  if (typeof expirationTime === "string") {
    const ms = Date.parse(expirationTime);
    if (Number.isNaN(ms)) throw new RangeError(`expirationTime: expected an ISO 8601 instant or HH:MM (Chicago), got ${JSON.stringify(expirationTime)}`);
    return new Date(ms);
  }
  const standard = chicagoInstant(expiration, parseClockTime(CME_NQ_OPTION_EXPIRY_TIME_CT));
  const days = new TradingDays(calendar);
  if (!days.hasSegment(expiration)) return standard;
  const close = days.segment(expiration).closesAt;
  return close.getTime() < standard.getTime() ? close : standard;
}

interface Segment {
  /** The weekday whose 16:00 CT (or earlier) close ends this segment. */
  day: string;
  opensAt: Date;
  closesAt: Date;
  tradeDate: string;
}

/** The calendar day whose segment an instant falls in (or would): from 17:00 CT on, the next day's. */
function segmentDayOf(instant: Date): string {
  const local = chicagoWallClock(instant);
  return local.minuteOfDay >= SESSION_OPEN_MINUTE ? addDays(local.date, 1) : local.date;
}

class TradingDays {
  private readonly holidays: Set<string>;
  private readonly halts: Map<string, number>;
  private readonly earlyCloses: Map<string, number>;

  constructor(calendar: CalendarInput) {
    const { holidays = [], halts = [], earlyCloses = [] } = isStringList(calendar) ? { holidays: calendar } : calendar;
    for (const day of holidays) assertIsoDate(day, "holiday");
    this.holidays = new Set(holidays);
    const minutes = (date: string, time: string, what: string): number => {
      assertIsoDate(date, `${what} date`);
      const minute = parseClockTime(time);
      if (minute >= SESSION_CLOSE_MINUTE) throw new RangeError(`${what} ${date} ${time}: expected a time before 16:00 (Chicago)`);
      return minute;
    };
    this.halts = new Map(halts.map(({ date, halt }) => [date, minutes(date, halt, "holiday halt")] as const));
    this.earlyCloses = new Map(earlyCloses.map(({ date, close }) => [date, minutes(date, close, "early close")] as const));
  }

  /** A full closure. */
  isHoliday(date: string): boolean {
    return this.holidays.has(date);
  }

  /** A holiday with a morning segment and no trade date (a full closure on the same date wins). */
  isHalt(date: string): boolean {
    return this.halts.has(date) && !this.holidays.has(date);
  }

  hasSegment(date: string): boolean {
    const weekday = weekdayOf(date);
    return weekday >= 1 && weekday <= 5 && !this.holidays.has(date);
  }

  isTradingDay(date: string): boolean {
    return this.hasSegment(date) && !this.halts.has(date);
  }

  hasEarlyClose(date: string): boolean {
    return this.earlyCloses.has(date);
  }

  segment(day: string): Segment {
    const closeMinute = this.halts.get(day) ?? this.earlyCloses.get(day) ?? SESSION_CLOSE_MINUTE;
    return {
      day,
      opensAt: chicagoInstant(addDays(day, -1), SESSION_OPEN_MINUTE),
      closesAt: chicagoInstant(day, closeMinute),
      tradeDate: this.isTradingDay(day) ? day : this.nextTradingDayAfter(day),
    };
  }

  /** A trade date's whole session: from its first segment's open (before any halt holidays) to its close. */
  session(tradeDate: string): { tradeDate: string; opensAt: Date; closesAt: Date } {
    let first = tradeDate;
    for (let day = this.previousSegmentDayBefore(tradeDate); this.isHalt(day); day = this.previousSegmentDayBefore(day)) first = day;
    return { tradeDate, opensAt: this.segment(first).opensAt, closesAt: this.segment(tradeDate).closesAt };
  }

  nextSegmentDayAfter(date: string): string {
    return this.search(date, 1, (day) => this.hasSegment(day), "Globex session");
  }

  previousSegmentDayBefore(date: string): string {
    return this.search(date, -1, (day) => this.hasSegment(day), "Globex session");
  }

  lastSegmentDayAtOrBefore(date: string): string {
    return this.hasSegment(date) ? date : this.previousSegmentDayBefore(date);
  }

  nextTradingDayAfter(date: string): string {
    return this.search(date, 1, (day) => this.isTradingDay(day), "Globex trading day");
  }

  previousTradingDayBefore(date: string): string {
    return this.search(date, -1, (day) => this.isTradingDay(day), "Globex trading day");
  }

  private search(date: string, step: 1 | -1, found: (day: string) => boolean, what: string): string {
    let day = date;
    for (let i = 0; i < MAX_DAYS_SEARCHED; i += 1) {
      day = addDays(day, step);
      if (found(day)) return day;
    }
    throw new RangeError(`no ${what} within ${MAX_DAYS_SEARCHED} days ${step > 0 ? "after" : "before"} ${date}: check the holiday list`);
  }
}

// ---- Chicago wall-clock time ----

const CHICAGO_CLOCK = new ZoneClock(CHICAGO);
const chicagoWallClock = (instant: Date): ZoneWallClock => CHICAGO_CLOCK.at(instant);
const chicagoInstant = (date: string, minuteOfDay: number): Date => CHICAGO_CLOCK.instantAt(date, minuteOfDay);

// ---- Calendar dates as YYYY-MM-DD strings ----

function addDays(date: string, days: number): string {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. */
function weekdayOf(date: string): number {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

function parseClockTime(text: string): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!match) throw new RangeError(`expected a time as HH:MM (24-hour, Chicago), got ${JSON.stringify(text)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

function assertIsoDate(value: string, what: string): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || addDays(value, 0) !== value) {
    throw new RangeError(`${what}: expected a calendar date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
}

function assertValidDate(value: Date): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new RangeError(`expected a valid Date, got ${String(value)}`);
}

function isStringList(value: GlobexCalendar | readonly string[]): value is readonly string[] {
  return Array.isArray(value);
}
