/**
 * The CME Globex calendar for equity-index futures and options (NQ): one home for "which session is this
 * instant in", "which trade date does it belong to" and "what is the latest complete moment", used by the
 * normalizer, the sources and the cache's TTL.
 *
 * The model is the exchange's own: a session belongs to a *trade date* D (a weekday that is not a
 * holiday) and runs from 17:00 CT on the calendar day before D (Sunday evening for Monday) to 16:00 CT on
 * D, or to D's early-close time. So a holiday D removes the session that would have ended on D: the market
 * is closed from 16:00 CT the day before through 17:00 CT on D, when the next trade date's session opens
 * (this is how CME handles Christmas and New Year's Day). From 17:00 CT on, an instant belongs to the
 * *next* trade date: at 20:30 CT on Monday the trade date is Tuesday.
 *
 * Times are computed in America/Chicago with Intl, so both DST changes are handled by the platform's
 * time-zone data; no time-zone library is needed for two fixed wall-clock times a day.
 */

const CHICAGO = "America/Chicago";
const SESSION_OPEN_MINUTE = 17 * 60;
const SESSION_CLOSE_MINUTE = 16 * 60;
/** Holidays are at most a few days in a row; a year of closed days means the calendar is wrong. */
const MAX_DAYS_SEARCHED = 370;

export interface EarlyClose {
  /** The trade date whose session closes early (YYYY-MM-DD, Chicago). */
  date: string;
  /** The early close, HH:MM in Chicago time (e.g. "12:15"); must be before 16:00. */
  close: string;
}

/**
 * Full-day closures of CME Globex equity-index products built in: New Year's Day, Good Friday and
 * Christmas Day (the observed weekday when it falls on a weekend), 2024–2027. Shortened sessions on US
 * holidays (12:00 CT halts) vary year by year and are not built in: give them as `earlyCloses`, and any
 * other closure as `holidays`, in a calendar of your own; verify against CME's published holiday calendar.
 */
export const CME_EQUITY_FULL_CLOSURES: readonly string[] = [
  "2024-01-01", "2024-03-29", "2024-12-25",
  "2025-01-01", "2025-04-18", "2025-12-25",
  "2026-01-01", "2026-04-03", "2026-12-25",
  "2027-01-01", "2027-03-26", "2027-12-24",
];

export const DEFAULT_CME_CALENDAR: GlobexCalendar = { holidays: CME_EQUITY_FULL_CLOSURES };

export interface GlobexCalendar {
  /** Trade dates with no session (YYYY-MM-DD). */
  holidays?: readonly string[];
  earlyCloses?: readonly EarlyClose[];
}

export type GlobexClosedReason = "daily-break" | "early-close" | "weekend" | "holiday";

export type GlobexSession =
  | { open: true; tradeDate: string; opensAt: Date; closesAt: Date }
  | { open: false; reason: GlobexClosedReason; nextTradeDate: string; nextOpen: Date };

/** Whether Globex equity-index options trade at `now`, and until when (or from when). */
export function globexSessionAt(now: Date, calendar: GlobexCalendar | readonly string[] = DEFAULT_CME_CALENDAR): GlobexSession {
  assertValidDate(now);
  const days = new TradingDays(calendar);
  const local = chicagoWallClock(now);
  // From 17:00 CT on, the session running (if any) belongs to tomorrow's trade date.
  const tradeDate = local.minuteOfDay >= SESSION_OPEN_MINUTE ? addDays(local.date, 1) : local.date;

  if (days.isTradingDay(tradeDate)) {
    const closesAt = days.closeOf(tradeDate);
    if (now.getTime() < closesAt.getTime()) return { open: true, tradeDate, opensAt: days.openOf(tradeDate), closesAt };
    const nextTradeDate = days.nextTradingDayAfter(tradeDate);
    const reason: GlobexClosedReason = days.hasEarlyClose(tradeDate)
      ? "early-close"
      : nextTradeDate === addDays(tradeDate, 1)
        ? "daily-break"
        : days.isHoliday(addDays(tradeDate, 1))
          ? "holiday"
          : "weekend";
    return { open: false, reason, nextTradeDate, nextOpen: days.openOf(nextTradeDate) };
  }
  const nextTradeDate = days.nextTradingDayAfter(tradeDate);
  return { open: false, reason: days.isHoliday(tradeDate) ? "holiday" : "weekend", nextTradeDate, nextOpen: days.openOf(nextTradeDate) };
}

/**
 * The next time a Globex session opens after `now`. While the market is open, that is the open of the
 * session after the current one.
 */
export function nextGlobexOpen(now: Date, calendar: GlobexCalendar | readonly string[] = DEFAULT_CME_CALENDAR): Date {
  const session = globexSessionAt(now, calendar);
  if (!session.open) return session.nextOpen;
  const days = new TradingDays(calendar);
  return days.openOf(days.nextTradingDayAfter(session.tradeDate));
}


/**
 * The CME trade date an instant belongs to: the running session's, or — in the daily break, a weekend or
 * a holiday — the last session's. Expiry and "expired" decisions use this, never a UTC date.
 */
export function cmeTradeDate(at: Date, calendar: GlobexCalendar | readonly string[] = DEFAULT_CME_CALENDAR): string {
  const session = globexSessionAt(at, calendar);
  if (session.open) return session.tradeDate;
  return new TradingDays(calendar).previousTradingDayBefore(session.nextTradeDate);
}

/** The session an instant belongs to, or — outside trading hours — the last one that closed before it. */
export function cmeSessionFor(at: Date, calendar: GlobexCalendar | readonly string[] = DEFAULT_CME_CALENDAR): { tradeDate: string; opensAt: Date; closesAt: Date } {
  const days = new TradingDays(calendar);
  const tradeDate = cmeTradeDate(at, calendar);
  return { tradeDate, opensAt: days.openOf(tradeDate), closesAt: days.closeOf(tradeDate) };
}

/** The session before the one `at` belongs to: its settlement and open interest are the latest final ones. */
export function previousCmeSession(at: Date, calendar: GlobexCalendar | readonly string[] = DEFAULT_CME_CALENDAR): { tradeDate: string; opensAt: Date; closesAt: Date } {
  const days = new TradingDays(calendar);
  const tradeDate = days.previousTradingDayBefore(cmeTradeDate(at, calendar));
  return { tradeDate, opensAt: days.openOf(tradeDate), closesAt: days.closeOf(tradeDate) };
}

export interface LatestMoment {
  /** The market time a "latest" chain should describe. */
  asOf: Date;
  /** Why that moment, in words for the summary. */
  reason: string;
}

/**
 * "Latest" means the last complete picture: during a session, now less the feed's delay; in the daily
 * break, on a weekend or a holiday, the close of the last session.
 */
export function latestCompleteMoment(now: Date, delayMs = 0, calendar: GlobexCalendar | readonly string[] = DEFAULT_CME_CALENDAR): LatestMoment {
  const target = new Date(now.getTime() - Math.max(0, delayMs));
  const session = globexSessionAt(target, calendar);
  if (session.open) {
    const delay = delayMs > 0 ? ` less the feed's ${Math.round(delayMs / 60_000)}-minute delay` : "";
    return { asOf: target, reason: `the market is open (trade date ${session.tradeDate}): now${delay}` };
  }
  const last = cmeSessionFor(target, calendar);
  const why =
    session.reason === "daily-break" || session.reason === "early-close"
      ? "the market is in its daily break"
      : session.reason === "holiday"
        ? "the market is closed for a CME holiday"
        : "the market is closed for the weekend";
  return { asOf: last.closesAt, reason: `${why}: the close of the last session (trade date ${last.tradeDate}, ${last.closesAt.toISOString()})` };
}

/** The calendar date in Chicago (YYYY-MM-DD) of an instant. */
export function chicagoDate(at: Date): string {
  return chicagoWallClock(at).date;
}

class TradingDays {
  private readonly holidays: Set<string>;
  private readonly earlyCloses: Map<string, number>;

  constructor(calendar: GlobexCalendar | readonly string[]) {
    const { holidays = [], earlyCloses = [] } = isStringList(calendar) ? { holidays: calendar } : calendar;
    for (const day of holidays) assertIsoDate(day, "holiday");
    this.holidays = new Set(holidays);
    this.earlyCloses = new Map(
      earlyCloses.map(({ date, close }) => {
        assertIsoDate(date, "early close date");
        const minute = parseClockTime(close);
        if (minute >= SESSION_CLOSE_MINUTE) throw new RangeError(`early close ${date} ${close}: expected a time before 16:00 (Chicago)`);
        return [date, minute] as const;
      }),
    );
  }

  isHoliday(date: string): boolean {
    return this.holidays.has(date);
  }

  isTradingDay(date: string): boolean {
    const weekday = weekdayOf(date);
    return weekday >= 1 && weekday <= 5 && !this.holidays.has(date);
  }

  hasEarlyClose(date: string): boolean {
    return this.earlyCloses.has(date);
  }

  nextTradingDayAfter(date: string): string {
    let day = date;
    for (let i = 0; i < MAX_DAYS_SEARCHED; i += 1) {
      day = addDays(day, 1);
      if (this.isTradingDay(day)) return day;
    }
    throw new RangeError(`no Globex trading day within ${MAX_DAYS_SEARCHED} days after ${date}: check the holiday list`);
  }

  previousTradingDayBefore(date: string): string {
    let day = date;
    for (let i = 0; i < MAX_DAYS_SEARCHED; i += 1) {
      day = addDays(day, -1);
      if (this.isTradingDay(day)) return day;
    }
    throw new RangeError(`no Globex trading day within ${MAX_DAYS_SEARCHED} days before ${date}: check the holiday list`);
  }

  /** A session opens at 17:00 CT on the calendar day before its trade date. */
  openOf(tradeDate: string): Date {
    return chicagoInstant(addDays(tradeDate, -1), SESSION_OPEN_MINUTE);
  }

  closeOf(tradeDate: string): Date {
    return chicagoInstant(tradeDate, this.earlyCloses.get(tradeDate) ?? SESSION_CLOSE_MINUTE);
  }
}

// ---- Chicago wall-clock time through Intl ----

const chicagoFormat = new Intl.DateTimeFormat("en-US", {
  timeZone: CHICAGO,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

interface WallClock {
  /** YYYY-MM-DD in Chicago. */
  date: string;
  minuteOfDay: number;
  /** The wall-clock reading written as if it were UTC: its distance from the instant is the zone offset. */
  wallMs: number;
}

function chicagoWallClock(instant: Date): WallClock {
  const parts: Record<string, number> = {};
  for (const part of chicagoFormat.formatToParts(instant)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return {
    date: `${String(year).padStart(4, "0")}-${pad2(month)}-${pad2(day)}`,
    minuteOfDay: hour * 60 + minute,
    wallMs: Date.UTC(year, month - 1, day, hour, minute, second) + instant.getUTCMilliseconds(),
  };
}

function offsetMsAt(instantMs: number): number {
  return chicagoWallClock(new Date(instantMs)).wallMs - instantMs;
}

/**
 * The instant at which Chicago clocks read `minuteOfDay` on `date`. The zone offset is looked up at a
 * first guess and then at the answer, which settles it on both sides of a DST change (the changes happen
 * at 02:00, far from the 16:00 and 17:00 this is asked about).
 */
function chicagoInstant(date: string, minuteOfDay: number): Date {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const wallMs = Date.UTC(year, month - 1, day, Math.floor(minuteOfDay / 60), minuteOfDay % 60);
  let instantMs = wallMs - offsetMsAt(wallMs);
  instantMs = wallMs - offsetMsAt(instantMs);
  return new Date(instantMs);
}

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

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}
