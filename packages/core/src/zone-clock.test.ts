import { describe, expect, it } from "vitest";
import { ZoneClock } from "./zone-clock.js";

// Every expected value worked out by hand from the US DST rules (second Sunday of March, first
// Sunday of November, at 02:00 local): New York is UTC−5 in winter and −4 in summer, Chicago −6/−5.
describe("ZoneClock", () => {
  const newYork = new ZoneClock("America/New_York");
  const chicago = new ZoneClock("America/Chicago");

  it("names the instant of a wall time on both sides of each DST change", () => {
    const cases: [ZoneClock, string, string, string][] = [
      [newYork, "2026-03-07", "16:00", "2026-03-07T21:00:00.000Z"], // Saturday, EST
      [newYork, "2026-03-08", "16:00", "2026-03-08T20:00:00.000Z"], // DST began at 02:00: EDT
      [newYork, "2026-10-31", "16:00", "2026-10-31T20:00:00.000Z"], // EDT
      [newYork, "2026-11-01", "16:00", "2026-11-01T21:00:00.000Z"], // DST ended at 02:00: EST
      [newYork, "2026-11-20", "09:30", "2026-11-20T14:30:00.000Z"],
      [chicago, "2026-11-01", "17:00", "2026-11-01T23:00:00.000Z"], // CST
      [chicago, "2026-03-08", "17:00", "2026-03-08T22:00:00.000Z"], // CDT
      [chicago, "2026-12-31", "00:00", "2026-12-31T06:00:00.000Z"],
    ];
    for (const [clock, date, time, iso] of cases) {
      const [hh, mm] = time.split(":").map(Number) as [number, number];
      const instant = clock.instantAt(date, hh * 60 + mm);
      expect(instant.toISOString(), `${clock.zone} ${date} ${time}`).toBe(iso);
      expect(clock.at(instant), `${clock.zone} ${date} ${time}`).toMatchObject({ date, minuteOfDay: hh * 60 + mm });
    }
  });

  it("gives the zone's date and minute of an instant around its midnight", () => {
    expect(newYork.at(new Date("2026-03-09T03:59:00Z"))).toMatchObject({ date: "2026-03-08", minuteOfDay: 23 * 60 + 59 }); // 23:59 EDT
    expect(newYork.dateOf(new Date("2026-03-09T04:00:00Z"))).toBe("2026-03-09");
    expect(newYork.dateOf(new Date("2026-01-01T04:59:59.999Z"))).toBe("2025-12-31"); // 23:59:59.999 EST
    expect(chicago.dateOf(new Date("2026-01-01T06:00:00Z"))).toBe("2026-01-01");
    // wallMs − instant is the offset, milliseconds kept.
    const at = new Date("2026-07-04T12:00:00.250Z");
    expect(newYork.at(at).wallMs - at.getTime()).toBe(-4 * 3_600_000);
  });

  it("refuses a zone Intl does not know", () => {
    expect(() => new ZoneClock("America/Nowhere")).toThrow(RangeError);
  });
});
