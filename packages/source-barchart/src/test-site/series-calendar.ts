/**
 * The local site's list of NQ option series around a given day, shaped like Barchart's: quarterly
 * futures, monthly options (code = the future), end-of-month, and one weekly type per weekday, each with
 * a few weeks. Codes follow the roots Barchart shows (reference §2: MC/MM/MQ + digit); the scraper never
 * computes codes — it reads them from the pages this site renders.
 */

export type SeriesKind = "monthly" | "eom" | "monday" | "tuesday" | "wednesday" | "thursday" | "friday";

export interface SiteSeries {
  code: string;
  kind: SeriesKind;
  /** The type dropdown label ("Monday Weekly Options"). */
  typeLabel: string;
  /** The expiry dropdown label ("Week 2: Jun 2025", "Jun '25"). */
  label: string;
  /** The underlying future the series page hangs off ("NQM25"). */
  future: string;
  /** YYYY-MM-DD. */
  expiration: string;
}

const MONTH_CODES = "FGHJKMNQUVXZ";
const QUARTER_MONTHS = [2, 5, 8, 11]; // Mar, Jun, Sep, Dec (0-based)
const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const TYPE_LABELS: Record<SeriesKind, string> = {
  monthly: "Monthly Options",
  eom: "EOM Options",
  friday: "Friday Weekly Options",
  monday: "Monday Weekly Options",
  tuesday: "Tuesday Weekly Options",
  wednesday: "Wednesday Weekly Options",
  thursday: "Thursday Weekly Options",
};
/** Type order as Barchart's dropdown lists it. */
export const KIND_ORDER: SeriesKind[] = ["monthly", "eom", "friday", "monday", "tuesday", "wednesday", "thursday"];
const WEEKDAY: Record<string, number> = { monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5 };

/** Weekly roots by weekday: the digit encodes the week of the month (reference §2 table). */
function weeklyCode(kind: SeriesKind, day: number): string | null {
  const week = Math.ceil(day / 7);
  switch (kind) {
    case "monday":
      return week <= 4 ? `MC${5 + week}` : null;
    case "tuesday":
      return `MM${week}`;
    case "wednesday":
      return `MC${week}`;
    case "thursday":
      return week <= 4 ? `MM${5 + week}` : null;
    case "friday":
      return week <= 5 ? `MQ${week}` : null;
    default:
      return null;
  }
}

export interface CalendarOptions {
  /** The site's "today" (YYYY-MM-DD). */
  today: string;
  /** Expiries listed per weekly type. */
  weeksPerType: number;
}

export function buildSeriesCalendar({ today, weeksPerType }: CalendarOptions): SiteSeries[] {
  const start = parseDay(today);
  const futures = quarterlyFutures(start, 3);
  // Weeklies move to the next future once the front one rolls, a week before its options expire
  // (on the captured 2025-06-08 page, MQ2M25 on 06/13 hangs off NQM25 but MC8M25 on 06/16 off NQU25).
  const futureFor = (expiration: string) => futures.find((f) => formatDay(addDays(parseDay(f.expiration), -7)) >= expiration) ?? futures.at(-1)!;
  const series: SiteSeries[] = [];

  for (const f of futures.slice(0, 2)) {
    series.push({ code: f.code, kind: "monthly", typeLabel: TYPE_LABELS.monthly, label: `${MONTH_NAMES[f.month]} '${f.yy}`, future: f.code, expiration: f.expiration });
  }
  for (let offset = 0, found = 0; found < 2 && offset < 4; offset += 1) {
    const last = lastBusinessDay(start.getUTCFullYear(), start.getUTCMonth() + offset);
    const expiration = formatDay(last);
    if (expiration < today) continue;
    found += 1;
    // End-of-month series hang off the next quarterly future after their month (EOM MQ6M25 → NQU25).
    const future = futures.find((f) => f.expiration > expiration) ?? futures.at(-1)!;
    const code = `MQ6${MONTH_CODES[last.getUTCMonth()]}${String(last.getUTCFullYear() % 100).padStart(2, "0")}`;
    series.push({ code, kind: "eom", typeLabel: TYPE_LABELS.eom, label: `${MONTH_NAMES[last.getUTCMonth()]} ${last.getUTCFullYear()}`, future: future.code, expiration });
  }
  for (const kind of ["friday", "monday", "tuesday", "wednesday", "thursday"] as SeriesKind[]) {
    let day = new Date(start);
    while (day.getUTCDay() !== WEEKDAY[kind]) day = addDays(day, 1);
    for (let added = 0, guard = 0; added < weeksPerType && guard < 20; guard += 1, day = addDays(day, 7)) {
      const root = weeklyCode(kind, day.getUTCDate());
      const expiration = formatDay(day);
      if (!root || series.some((s) => s.expiration === expiration && s.kind === "monthly")) continue;
      const code = `${root}${MONTH_CODES[day.getUTCMonth()]}${String(day.getUTCFullYear() % 100).padStart(2, "0")}`;
      const week = Math.ceil(day.getUTCDate() / 7);
      series.push({
        code,
        kind,
        typeLabel: TYPE_LABELS[kind],
        label: `Week ${week}: ${MONTH_NAMES[day.getUTCMonth()]} ${day.getUTCFullYear()}`,
        future: futureFor(expiration).code,
        expiration,
      });
      added += 1;
    }
  }
  return series;
}

interface QuarterlyFuture {
  code: string;
  month: number;
  yy: string;
  expiration: string;
}

/** The next `count` quarterly futures whose options (3rd Friday of the month) expire on or after `from`. */
function quarterlyFutures(from: Date, count: number): QuarterlyFuture[] {
  const out: QuarterlyFuture[] = [];
  let year = from.getUTCFullYear();
  let month = from.getUTCMonth();
  while (out.length < count) {
    if (QUARTER_MONTHS.includes(month)) {
      const expiration = formatDay(thirdFriday(year, month));
      if (expiration >= formatDay(from)) {
        const yy = String(year % 100).padStart(2, "0");
        out.push({ code: `NQ${MONTH_CODES[month]}${yy}`, month, yy, expiration });
      }
    }
    month += 1;
    if (month === 12) [month, year] = [0, year + 1];
  }
  return out;
}

function thirdFriday(year: number, month: number): Date {
  let day = new Date(Date.UTC(year, month, 1));
  while (day.getUTCDay() !== 5) day = addDays(day, 1);
  return addDays(day, 14);
}

function lastBusinessDay(year: number, month: number): Date {
  let day = new Date(Date.UTC(year, month + 1, 0));
  while (day.getUTCDay() === 0 || day.getUTCDay() === 6) day = addDays(day, -1);
  return day;
}

export function parseDay(day: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) throw new TypeError(`expected a day as YYYY-MM-DD, got ${JSON.stringify(day)}`);
  return new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
}

export function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}
