import { describe, expect, it } from "vitest";
import {
  cmeSessionFor,
  cmeTradeDate,
  DEFAULT_CME_CALENDAR,
  expirationInstant,
  globexSessionAt,
  latestCompleteMoment,
  mergeGlobexCalendars,
  nextGlobexOpen,
  previousCmeSession,
  timeToExpiryYears,
  type GlobexCalendar,
} from "./cme-calendar.js";
import { CME_EQUITY_CLOSURES, CME_EQUITY_EARLY_CLOSES, CME_EQUITY_HALTS, CME_HOLIDAY_DATA_YEARS } from "./cme-holidays.js";

// 2026: CST (UTC-6) until Sunday March 8, CDT (UTC-5) until Sunday November 1, CST after.
const at = (iso: string) => new Date(iso);
const justBefore = (iso: string) => new Date(Date.parse(iso) - 1);
/** No holidays at all: the bare weekly schedule. */
const NONE: GlobexCalendar = {};

describe("the weekly open and close", () => {
  it("is open until Friday 16:00 CT and closed for the weekend from then", () => {
    const before = globexSessionAt(justBefore("2026-11-20T22:00:00Z"));
    expect(before).toMatchObject({ open: true, tradeDate: "2026-11-20" });
    expect(before.open && before.closesAt.toISOString()).toBe("2026-11-20T22:00:00.000Z");
    const after = globexSessionAt(at("2026-11-20T22:00:00Z"));
    expect(after).toMatchObject({ open: false, reason: "weekend", nextTradeDate: "2026-11-23" });
    expect(!after.open && after.nextOpen.toISOString()).toBe("2026-11-22T23:00:00.000Z");
  });

  it("opens at Sunday 17:00 CT for Monday's trade date", () => {
    expect(globexSessionAt(at("2026-11-21T18:00:00Z"))).toMatchObject({ open: false, reason: "weekend" });
    expect(globexSessionAt(justBefore("2026-11-22T23:00:00Z"))).toMatchObject({ open: false, reason: "weekend", nextTradeDate: "2026-11-23" });
    const open = globexSessionAt(at("2026-11-22T23:00:00Z"));
    expect(open).toMatchObject({ open: true, tradeDate: "2026-11-23" });
    expect(open.open && open.opensAt.toISOString()).toBe("2026-11-22T23:00:00.000Z");
    // Before the open the trade date is still Friday's; from 17:00 CT Sunday it is Monday's.
    expect(cmeTradeDate(justBefore("2026-11-22T23:00:00Z"))).toBe("2026-11-20");
    expect(cmeTradeDate(at("2026-11-22T23:00:00Z"))).toBe("2026-11-23");
  });
});

describe("the daily break: 16:59 vs 17:00 CT", () => {
  it("closes from 16:00 to 17:00 CT and reopens for the next trade date", () => {
    // Tuesday 2026-11-17 (CST): 16:00 CT = 22:00Z, 17:00 CT = 23:00Z.
    expect(globexSessionAt(justBefore("2026-11-17T22:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-17" });
    const breakStart = globexSessionAt(at("2026-11-17T22:00:00Z"));
    expect(breakStart).toMatchObject({ open: false, reason: "daily-break", nextTradeDate: "2026-11-18" });
    expect(!breakStart.open && breakStart.nextOpen.toISOString()).toBe("2026-11-17T23:00:00.000Z");
    expect(globexSessionAt(at("2026-11-17T22:59:00Z"))).toMatchObject({ open: false, reason: "daily-break" }); // 16:59 CT
    expect(globexSessionAt(at("2026-11-17T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-18" }); // 17:00 CT
  });

  it("gives the trade date: 16:59 CT is the session just closed, 17:00 CT the next one, never the UTC date", () => {
    expect(cmeTradeDate(at("2026-11-23T22:59:00Z"))).toBe("2026-11-23");
    expect(cmeTradeDate(at("2026-11-23T23:00:00Z"))).toBe("2026-11-24");
    expect(cmeTradeDate(at("2026-11-24T02:30:00Z"))).toBe("2026-11-24"); // 20:30 CT Monday
    expect(globexSessionAt(at("2026-11-18T07:30:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-18" }); // overnight
  });
});

describe("a DST switch week", () => {
  it("spring: Friday closes 16:00 CST = 22:00Z, Sunday opens 17:00 CDT = 22:00Z, Monday closes 16:00 CDT = 21:00Z", () => {
    const friday = globexSessionAt(at("2026-03-06T22:00:00Z"));
    expect(friday).toMatchObject({ open: false, reason: "weekend" });
    expect(!friday.open && friday.nextOpen.toISOString()).toBe("2026-03-08T22:00:00.000Z");
    // 02:30 CT does not exist that Sunday; the market is closed anyway.
    expect(globexSessionAt(at("2026-03-08T08:30:00Z"))).toMatchObject({ open: false, reason: "weekend" });
    expect(globexSessionAt(justBefore("2026-03-08T22:00:00Z"))).toMatchObject({ open: false });
    expect(globexSessionAt(at("2026-03-08T22:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-03-09" });
    const monday = globexSessionAt(at("2026-03-09T15:00:00Z"));
    expect(monday.open && monday.closesAt.toISOString()).toBe("2026-03-09T21:00:00.000Z");
    // Monday 16:00 CDT closes, 17:00 CDT opens Tuesday's trade date.
    expect(globexSessionAt(at("2026-03-09T21:00:00Z"))).toMatchObject({ open: false, reason: "daily-break", nextTradeDate: "2026-03-10" });
    expect(globexSessionAt(at("2026-03-09T22:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-03-10" });
    expect(cmeSessionFor(at("2026-03-09T15:00:00Z"))).toEqual({
      tradeDate: "2026-03-09",
      opensAt: new Date("2026-03-08T22:00:00Z"),
      closesAt: new Date("2026-03-09T21:00:00Z"),
    });
  });

  it("autumn: Friday closes 16:00 CDT = 21:00Z, Sunday opens 17:00 CST = 23:00Z, Monday closes 16:00 CST = 22:00Z", () => {
    expect(globexSessionAt(justBefore("2026-10-30T21:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-10-30" });
    const friday = globexSessionAt(at("2026-10-30T21:00:00Z"));
    expect(friday).toMatchObject({ open: false, reason: "weekend" });
    expect(!friday.open && friday.nextOpen.toISOString()).toBe("2026-11-01T23:00:00.000Z");
    // 01:30 CT happens twice that Sunday (06:30Z and 07:30Z); closed both times.
    expect(globexSessionAt(at("2026-11-01T06:30:00Z"))).toMatchObject({ open: false, reason: "weekend" });
    expect(globexSessionAt(at("2026-11-01T07:30:00Z"))).toMatchObject({ open: false, reason: "weekend" });
    expect(globexSessionAt(justBefore("2026-11-01T23:00:00Z"))).toMatchObject({ open: false });
    expect(globexSessionAt(at("2026-11-01T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-02" });
    expect(cmeSessionFor(at("2026-11-02T15:00:00Z"))).toEqual({
      tradeDate: "2026-11-02",
      opensAt: new Date("2026-11-01T23:00:00Z"),
      closesAt: new Date("2026-11-02T22:00:00Z"),
    });
    expect(globexSessionAt(at("2026-11-02T22:59:00Z"))).toMatchObject({ open: false, reason: "daily-break" });
    expect(globexSessionAt(at("2026-11-02T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-03" });
  });
});

describe("full closures: Good Friday, Christmas, New Year's Day", () => {
  it("Good Friday 2025 (2025-04-18): closed from Thursday 16:00 CDT to Sunday 17:00 CDT", () => {
    const thursday = globexSessionAt(at("2025-04-17T21:00:00Z"));
    expect(thursday).toMatchObject({ open: false, reason: "holiday", nextTradeDate: "2025-04-21" });
    expect(!thursday.open && thursday.nextOpen.toISOString()).toBe("2025-04-20T22:00:00.000Z");
    expect(globexSessionAt(at("2025-04-18T15:00:00Z"))).toMatchObject({ open: false, reason: "holiday" });
    expect(cmeTradeDate(at("2025-04-18T15:00:00Z"))).toBe("2025-04-17");
    expect(previousCmeSession(at("2025-04-21T15:00:00Z")).tradeDate).toBe("2025-04-17");
  });

  it("Christmas 2026 (Friday): Christmas Eve closes 12:15 CT, nothing until Sunday 17:00 CT", () => {
    expect(globexSessionAt(at("2026-12-24T18:14:00Z"))).toMatchObject({ open: true, tradeDate: "2026-12-24" });
    const eve = globexSessionAt(at("2026-12-24T18:15:00Z"));
    expect(eve).toMatchObject({ open: false, reason: "early-close", nextTradeDate: "2026-12-28" });
    expect(!eve.open && eve.nextOpen.toISOString()).toBe("2026-12-27T23:00:00.000Z");
    expect(globexSessionAt(at("2026-12-25T18:00:00Z"))).toMatchObject({ open: false, reason: "holiday" });
    expect(cmeTradeDate(at("2026-12-25T18:00:00Z"))).toBe("2026-12-24");
    const christmas = latestCompleteMoment(at("2026-12-25T16:00:00Z"));
    expect(christmas.asOf).toEqual(new Date("2026-12-24T18:15:00Z"));
    expect(christmas.reason).toMatch(/holiday.*2026-12-24/);
  });

  it("Christmas 2025 (Thursday): reopens Thursday 17:00 CT for Friday's trade date", () => {
    const christmas = globexSessionAt(at("2025-12-25T18:00:00Z"));
    expect(christmas).toMatchObject({ open: false, reason: "holiday", nextTradeDate: "2025-12-26" });
    expect(!christmas.open && christmas.nextOpen.toISOString()).toBe("2025-12-25T23:00:00.000Z");
    expect(globexSessionAt(at("2025-12-25T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2025-12-26" });
  });

  it("New Year's Day 2026 (Thursday): closed from Wednesday 16:00 CT to Thursday 17:00 CT", () => {
    const eve = globexSessionAt(at("2025-12-31T22:00:00Z"));
    expect(eve).toMatchObject({ open: false, reason: "holiday", nextTradeDate: "2026-01-02" });
    expect(!eve.open && eve.nextOpen.toISOString()).toBe("2026-01-01T23:00:00.000Z");
    expect(cmeTradeDate(at("2026-01-01T18:00:00Z"))).toBe("2025-12-31");
    expect(globexSessionAt(at("2026-01-01T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-01-02" });
    expect(previousCmeSession(at("2026-01-02T15:00:00Z")).tradeDate).toBe("2025-12-31");
  });
});

describe("a holiday halt at 12:00 CT (MLK Day 2026, Monday 2026-01-19)", () => {
  it("trades from Sunday 17:00 CT to Monday 12:00 CT for Tuesday's trade date, then reopens Monday 17:00 CT", () => {
    const sunday = globexSessionAt(at("2026-01-18T23:00:00Z"));
    expect(sunday).toMatchObject({ open: true, tradeDate: "2026-01-20" });
    expect(sunday.open && sunday.closesAt.toISOString()).toBe("2026-01-19T18:00:00.000Z"); // the halt, 12:00 CST
    expect(globexSessionAt(at("2026-01-19T17:59:00Z"))).toMatchObject({ open: true, tradeDate: "2026-01-20" });
    const halted = globexSessionAt(at("2026-01-19T18:00:00Z"));
    expect(halted).toMatchObject({ open: false, reason: "holiday", nextTradeDate: "2026-01-20" });
    expect(!halted.open && halted.nextOpen.toISOString()).toBe("2026-01-19T23:00:00.000Z");
    expect(globexSessionAt(at("2026-01-19T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-01-20" });
  });

  it("has no trade date of its own: Tuesday's session spans both segments, Friday's settlement stays the latest final one", () => {
    expect(cmeTradeDate(at("2026-01-19T16:00:00Z"))).toBe("2026-01-20"); // Monday 10:00 CT
    expect(cmeTradeDate(at("2026-01-19T20:00:00Z"))).toBe("2026-01-20"); // in the halt
    expect(cmeSessionFor(at("2026-01-19T20:00:00Z"))).toEqual({
      tradeDate: "2026-01-20",
      opensAt: new Date("2026-01-18T23:00:00Z"),
      closesAt: new Date("2026-01-20T22:00:00Z"),
    });
    expect(previousCmeSession(at("2026-01-19T20:00:00Z")).tradeDate).toBe("2026-01-16");
    expect(previousCmeSession(at("2026-01-20T15:00:00Z")).tradeDate).toBe("2026-01-16");
    expect(previousCmeSession(at("2026-01-21T15:00:00Z")).tradeDate).toBe("2026-01-20");
  });

  it("latest during the halt is the halt itself; a cache entry fetched before it lives until it", () => {
    const latest = latestCompleteMoment(at("2026-01-19T20:00:00Z"));
    expect(latest.asOf).toEqual(new Date("2026-01-19T18:00:00Z"));
    expect(latest.reason).toMatch(/halted for a CME holiday.*2026-01-20/);
    expect(nextGlobexOpen(at("2026-01-19T17:00:00Z")).toISOString()).toBe("2026-01-19T23:00:00.000Z");
  });

  it("a Friday halt (Juneteenth 2026) belongs to Monday's trade date, as CME's trading-hours page shows", () => {
    expect(cmeTradeDate(at("2026-06-19T14:00:00Z"))).toBe("2026-06-22"); // Friday 09:00 CDT
    const halted = globexSessionAt(at("2026-06-19T17:00:00Z")); // 12:00 CDT
    expect(halted).toMatchObject({ open: false, reason: "holiday", nextTradeDate: "2026-06-22" });
    expect(!halted.open && halted.nextOpen.toISOString()).toBe("2026-06-21T22:00:00.000Z");
    expect(cmeSessionFor(at("2026-06-22T14:00:00Z"))).toEqual({
      tradeDate: "2026-06-22",
      opensAt: new Date("2026-06-18T22:00:00Z"), // Thursday 17:00 CDT
      closesAt: new Date("2026-06-22T21:00:00Z"),
    });
    expect(previousCmeSession(at("2026-06-22T14:00:00Z")).tradeDate).toBe("2026-06-18");
  });
});

describe("the day after Thanksgiving (2026-11-27): Thursday halt, Friday early close at 12:15 CT", () => {
  it("halts Thursday 12:00 CT, reopens Thursday 17:00 CT, closes Friday 12:15 CT until Sunday", () => {
    expect(globexSessionAt(at("2026-11-25T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-27" }); // Wed 17:00 CT
    expect(globexSessionAt(at("2026-11-26T18:00:00Z"))).toMatchObject({ open: false, reason: "holiday", nextTradeDate: "2026-11-27" });
    expect(globexSessionAt(at("2026-11-26T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-27" });
    expect(globexSessionAt(justBefore("2026-11-27T18:15:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-27" });
    const early = globexSessionAt(at("2026-11-27T18:15:00Z"));
    expect(early).toMatchObject({ open: false, reason: "early-close", nextTradeDate: "2026-11-30" });
    expect(!early.open && early.nextOpen.toISOString()).toBe("2026-11-29T23:00:00.000Z");
    expect(cmeSessionFor(at("2026-11-27T15:00:00Z"))).toEqual({
      tradeDate: "2026-11-27",
      opensAt: new Date("2026-11-25T23:00:00Z"),
      closesAt: new Date("2026-11-27T18:15:00Z"),
    });
  });

  it("latestCompleteMoment after 12:15 CT is that close", () => {
    const latest = latestCompleteMoment(at("2026-11-27T19:00:00Z"));
    expect(latest.asOf).toEqual(new Date("2026-11-27T18:15:00Z"));
    expect(latest.reason).toMatch(/closed early.*2026-11-27/);
    // With a 10-minute delay at 12:20 CT the feed shows 12:10 CT: still open.
    expect(latestCompleteMoment(at("2026-11-27T18:20:00Z"), 10 * 60_000).asOf).toEqual(new Date("2026-11-27T18:10:00Z"));
    // On Saturday it is still Friday's early close.
    expect(latestCompleteMoment(at("2026-11-28T18:00:00Z")).asOf).toEqual(new Date("2026-11-27T18:15:00Z"));
  });
});

describe("latestCompleteMoment", () => {
  it("is now less the feed's delay while the market is open", () => {
    const now = at("2026-11-20T18:00:00Z");
    expect(latestCompleteMoment(now).asOf).toEqual(now);
    const delayed = latestCompleteMoment(now, 10 * 60_000);
    expect(delayed.asOf).toEqual(new Date("2026-11-20T17:50:00Z"));
    expect(delayed.reason).toMatch(/market is open.*10-minute delay/);
  });

  it("is the last session's close in the daily break and on a weekend", () => {
    expect(latestCompleteMoment(at("2026-11-19T22:30:00Z"))).toMatchObject({ asOf: new Date("2026-11-19T22:00:00Z") });
    expect(latestCompleteMoment(at("2026-11-19T22:30:00Z")).reason).toMatch(/daily break/);
    expect(latestCompleteMoment(at("2026-11-20T22:30:00Z")).reason).toMatch(/weekend/);
    const weekend = latestCompleteMoment(at("2026-11-22T12:00:00Z"));
    expect(weekend).toMatchObject({ asOf: new Date("2026-11-20T22:00:00Z") });
    expect(weekend.reason).toMatch(/weekend.*2026-11-20/);
  });

  it("treats a delay reaching back before the open as the previous close", () => {
    // 17:05 CT with a 10-minute delay looks at 16:55 CT: the break.
    expect(latestCompleteMoment(at("2026-11-23T23:05:00Z"), 10 * 60_000).asOf).toEqual(new Date("2026-11-23T22:00:00Z"));
  });
});

describe("calendars of your own", () => {
  it("the bare schedule knows no holiday; a list of strings is full closures", () => {
    expect(globexSessionAt(at("2026-12-25T18:00:00Z"), NONE)).toMatchObject({ open: true, tradeDate: "2026-12-25" });
    expect(nextGlobexOpen(at("2026-12-24T22:00:00Z"), ["2026-12-25"]).toISOString()).toBe("2026-12-27T23:00:00.000Z");
  });

  it("mergeGlobexCalendars lays a profile's rows over the built-in ones, date by date", () => {
    // A closure CME announces at short notice, and Thanksgiving 2026 made a full closure.
    const merged = mergeGlobexCalendars({ holidays: ["2026-11-26", "2026-10-12"] });
    expect(globexSessionAt(at("2026-10-12T15:00:00Z"), merged)).toMatchObject({ open: false, reason: "holiday" });
    expect(globexSessionAt(at("2026-11-26T15:00:00Z"), merged)).toMatchObject({ open: false, reason: "holiday" });
    expect(merged.halts?.some((h) => h.date === "2026-11-26")).toBe(false);
    // The other built-in rows stay: Friday still closes at 12:15 CT.
    const friday = globexSessionAt(at("2026-11-27T15:00:00Z"), merged);
    expect(friday.open && friday.closesAt.toISOString()).toBe("2026-11-27T18:15:00.000Z");
    // An early close given for a date replaces the built-in one.
    const later = mergeGlobexCalendars({ earlyCloses: [{ date: "2026-11-27", close: "12:00" }] });
    const friday2 = globexSessionAt(at("2026-11-27T15:00:00Z"), later);
    expect(friday2.open && friday2.closesAt.toISOString()).toBe("2026-11-27T18:00:00.000Z");
  });

  it("rejects a malformed holiday, halt or early close with the value it got", () => {
    expect(() => globexSessionAt(at("2026-11-20T12:00:00Z"), ["2026-13-01"])).toThrow(/YYYY-MM-DD, got "2026-13-01"/);
    expect(() => globexSessionAt(at("2026-11-20T12:00:00Z"), { earlyCloses: [{ date: "2026-11-27", close: "16:30" }] })).toThrow(/before 16:00/);
    expect(() => globexSessionAt(at("2026-11-20T12:00:00Z"), { halts: [{ date: "2026-11-26", halt: "noon" }] })).toThrow(/HH:MM/);
    expect(() => globexSessionAt(new Date(Number.NaN))).toThrow(/valid Date/);
  });
});

describe("the built-in data", () => {
  it("covers 2024–2027 with every row on a weekday, no date twice, times before 16:00", () => {
    const dates = [...CME_EQUITY_CLOSURES.map((c) => c.date), ...CME_EQUITY_HALTS.map((h) => h.date), ...CME_EQUITY_EARLY_CLOSES.map((e) => e.date)];
    expect(new Set(dates).size).toBe(dates.length);
    for (const date of dates) {
      const year = Number(date.slice(0, 4));
      expect(year).toBeGreaterThanOrEqual(CME_HOLIDAY_DATA_YEARS.first);
      expect(year).toBeLessThanOrEqual(CME_HOLIDAY_DATA_YEARS.last);
      expect([1, 2, 3, 4, 5]).toContain(new Date(`${date}T12:00:00Z`).getUTCDay());
    }
    // Four years of New Year's, Christmas and Good Friday (2026's is an 08:15 CT halt), seven halts a year.
    expect(CME_EQUITY_CLOSURES).toHaveLength(11);
    expect(CME_EQUITY_HALTS.filter((h) => h.halt === "12:00")).toHaveLength(28);
    expect(DEFAULT_CME_CALENDAR.holidays).toHaveLength(11);
  });

  it("Good Friday 2026 trades until 08:15 CDT (the jobs report), modelled as a halt", () => {
    expect(globexSessionAt(at("2026-04-03T13:14:00Z"))).toMatchObject({ open: true, tradeDate: "2026-04-06" });
    const halted = globexSessionAt(at("2026-04-03T13:15:00Z"));
    expect(halted).toMatchObject({ open: false, reason: "holiday", nextTradeDate: "2026-04-06" });
    expect(!halted.open && halted.nextOpen.toISOString()).toBe("2026-04-05T22:00:00.000Z");
  });
});

describe("timeToExpiryYears", () => {
  it("is ACT/365 to 15:00 CT on the expiration date when only the date is known", () => {
    expect(expirationInstant("2026-11-20").toISOString()).toBe("2026-11-20T21:00:00.000Z"); // 15:00 CST
    expect(expirationInstant("2026-07-17").toISOString()).toBe("2026-07-17T20:00:00.000Z"); // 15:00 CDT
    // Exactly 365 days before: one year.
    expect(timeToExpiryYears(at("2025-11-20T21:00:00Z"), "2026-11-20")).toBe(1);
    expect(timeToExpiryYears(at("2026-11-19T21:00:00Z"), "2026-11-20")).toBeCloseTo(1 / 365, 15);
  });

  it("uses the expiry instant or the Chicago time when given", () => {
    expect(timeToExpiryYears(at("2026-11-20T14:30:00Z"), "2026-11-20", "2026-11-20T14:30:00Z")).toBe(0);
    expect(expirationInstant("2026-12-18", "08:30").toISOString()).toBe("2026-12-18T14:30:00.000Z"); // quarterly: 08:30 CT
    expect(expirationInstant("2026-12-18", new Date("2026-12-18T14:30:00Z")).toISOString()).toBe("2026-12-18T14:30:00.000Z");
    expect(() => expirationInstant("2026-12-18", "soon")).toThrow(/ISO 8601 instant or HH:MM/);
    expect(() => expirationInstant("2026-12-32")).toThrow(/YYYY-MM-DD/);
  });

  it("is capped at an early close, and zero or negative once expired", () => {
    expect(expirationInstant("2026-11-27").toISOString()).toBe("2026-11-27T18:15:00.000Z"); // 12:15 CT early close
    expect(expirationInstant("2026-11-27", undefined, NONE).toISOString()).toBe("2026-11-27T21:00:00.000Z");
    expect(timeToExpiryYears(at("2026-11-20T22:00:00Z"), "2026-11-20")).toBeLessThan(0);
  });
});
