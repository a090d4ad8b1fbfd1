/**
 * Wall-clock time in one IANA time zone, through Intl: Node's ICU carries the zone rules, so DST is
 * right without a table of our own. The CME calendar reads Chicago time with it; a source for US
 * equity options reads New York time.
 */
export interface ZoneWallClock {
  /** The zone's calendar date, YYYY-MM-DD. */
  date: string;
  /** Minutes since the zone's midnight (0–1439). */
  minuteOfDay: number;
  /** The wall-clock reading written as if it were UTC: its distance from the instant is the zone's offset. */
  wallMs: number;
}

export class ZoneClock {
  private readonly format: Intl.DateTimeFormat;

  /** Throws a RangeError for a zone name Intl does not know. */
  constructor(readonly zone: string) {
    this.format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  }

  /** What the zone's clocks read at `instant`. */
  at(instant: Date): ZoneWallClock {
    const parts: Record<string, number> = {};
    for (const part of this.format.formatToParts(instant)) {
      if (part.type !== "literal") parts[part.type] = Number(part.value);
    }
    const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
    return {
      date: `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
      minuteOfDay: hour * 60 + minute,
      wallMs: Date.UTC(year, month - 1, day, hour, minute, second) + instant.getUTCMilliseconds(),
    };
  }

  /** The zone's calendar date (YYYY-MM-DD) at `instant`. */
  dateOf(instant: Date): string {
    return this.at(instant).date;
  }

  /**
   * The instant at which the zone's clocks read `minuteOfDay` on `date` (YYYY-MM-DD). The offset is
   * looked up at a first guess and then at the answer, which settles it on both days of a DST change.
   * Meant for times away from the change itself (US zones change at 02:00): a wall time inside the
   * skipped or repeated hour has no single answer, and the one given may be an hour off either way.
   */
  instantAt(date: string, minuteOfDay: number): Date {
    const [year, month, day] = date.split("-").map(Number) as [number, number, number];
    const wallMs = Date.UTC(year, month - 1, day, Math.floor(minuteOfDay / 60), minuteOfDay % 60);
    let instantMs = wallMs - this.offsetMsAt(wallMs);
    instantMs = wallMs - this.offsetMsAt(instantMs);
    return new Date(instantMs);
  }

  private offsetMsAt(instantMs: number): number {
    return this.at(new Date(instantMs)).wallMs - instantMs;
  }
}
