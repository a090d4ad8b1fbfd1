/**
 * CME Globex session arithmetic for NQ. A trading day's session opens at 17:00 America/Chicago the
 * evening before; Friday's 17:00 opens nothing (the week ends at 16:00 CT Friday and reopens Sunday
 * 17:00 CT). Chicago's offset is read from Intl so daylight saving needs no table.
 */
const chicago = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Chicago",
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  weekday: "short",
});

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: string;
}

function chicagoWallTime(date: Date): WallTime {
  const parts: Record<string, string> = {};
  for (const part of chicago.formatToParts(date)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: parts.weekday ?? "",
  };
}

/** Chicago's offset from UTC at `date`, in ms (negative: -5 h or -6 h). */
function chicagoOffsetMs(date: Date): number {
  const w = chicagoWallTime(date);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(date.getTime() / 1000) * 1000;
}

/** The instant of a Chicago wall-clock time. */
function chicagoInstant(year: number, month: number, day: number, hour: number): Date {
  const guess = Date.UTC(year, month - 1, day, hour);
  let instant = guess - chicagoOffsetMs(new Date(guess));
  instant = guess - chicagoOffsetMs(new Date(instant));
  return new Date(instant);
}

/** The calendar date in Chicago (YYYY-MM-DD): CME's expiration and trade dates are Chicago dates. */
export function chicagoDate(date: Date): string {
  const w = chicagoWallTime(date);
  return `${w.year}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/** The start of the Globex session that `at` belongs to (or, outside sessions, the last one). */
export function sessionStart(at: Date): Date {
  const w = chicagoWallTime(at);
  let day = new Date(Date.UTC(w.year, w.month - 1, w.day));
  if (w.hour < 17) day = new Date(day.getTime() - 86_400_000);
  // A session never opens on Friday or Saturday evening: step back to Thursday's open.
  for (let i = 0; i < 3; i++) {
    const weekday = day.getUTCDay();
    if (weekday !== 5 && weekday !== 6) break;
    day = new Date(day.getTime() - 86_400_000);
  }
  return chicagoInstant(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), 17);
}

/** When the session `at` belongs to closes: 16:00 Chicago, 23 hours after its 17:00 open. */
export function sessionClose(at: Date): Date {
  return new Date(sessionStart(at).getTime() + 23 * 3_600_000);
}

/** The session before the one `at` belongs to: its trading date's settlement and OI are the latest final ones. */
export function previousSessionStart(at: Date): Date {
  return sessionStart(new Date(sessionStart(at).getTime() - 1));
}

export function utcDayStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}
