/**
 * When CME Globex trades equity-index futures options (NQ): Sunday–Friday, 17:00 to 16:00 America/Chicago,
 * with a daily break from 16:00 to 17:00, no trading on exchange holidays, and some sessions cut short.
 *
 * The model is the exchange's own: a session belongs to a *trade date* D (a weekday that is not a
 * holiday) and runs from 17:00 CT on the calendar day before D (Sunday evening for Monday) to 16:00 CT on
 * D, or to D's early-close time. So a holiday D removes the session that would have ended on D: the market
 * is closed from 16:00 CT the day before through 17:00 CT on D, when the next trade date's session opens
 * (this is how CME handles Christmas and New Year's Day).
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
export function globexSessionAt(now: Date, calendar: GlobexCalendar | readonly string[] = {}): GlobexSession {
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
export function nextGlobexOpen(now: Date, calendar: GlobexCalendar | readonly string[] = {}): Date {
  const session = globexSessionAt(now, calendar);
  if (!session.open) return session.nextOpen;
  const days = new TradingDays(calendar);
  return days.openOf(days.nextTradingDayAfter(session.tradeDate));
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
