/**
 * New York wall time, for the US options calendar: which date "today" is, and the instant an option
 * expires (16:00 New York for PM-settled, the morning's settlement for AM-settled). Node's Intl carries
 * the time-zone rules, so DST is right without a table.
 */
const DATE_FORMAT = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });
const PARTS_FORMAT = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York",
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** The New York calendar date (YYYY-MM-DD) of an instant. */
export function newYorkDate(at: Date): string {
  return DATE_FORMAT.format(at);
}

/** New York's offset from UTC at an instant, in minutes (−300 in winter, −240 in summer). */
function offsetMinutes(at: Date): number {
  const parts = Object.fromEntries(PARTS_FORMAT.formatToParts(at).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** The instant of a New York wall time ("2026-11-20", "16:00") as an ISO string. */
export function newYorkInstant(date: string, time: string): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const [hh, mm] = time.split(":").map(Number) as [number, number];
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  // Two passes: the offset at the guessed instant, then at the corrected one (right across DST changes).
  let instant = wall - offsetMinutes(new Date(wall)) * 60_000;
  instant = wall - offsetMinutes(new Date(instant)) * 60_000;
  return new Date(instant).toISOString();
}

/** A YYYY-MM-DD date plus whole days. */
export function addDays(date: string, days: number): string {
  const ms = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(ms).toISOString().slice(0, 10);
}
