import { describe, expect, it } from "vitest";
import { globexSessionAt, nextGlobexOpen } from "./globex-calendar.js";

// 2026: DST starts Sunday March 8 (CST UTC-6 → CDT UTC-5) and ends Sunday November 1.
const at = (iso: string) => new Date(iso);
const justBefore = (iso: string) => new Date(Date.parse(iso) - 1);

describe("globexSessionAt: the weekly open and close", () => {
  it("is open until Friday 16:00 CT and closed for the weekend from then", () => {
    // Friday 2026-11-20, CST: 16:00 CT = 22:00Z.
    const before = globexSessionAt(justBefore("2026-11-20T22:00:00Z"));
    expect(before).toMatchObject({ open: true, tradeDate: "2026-11-20" });
    expect(before.open && before.closesAt.toISOString()).toBe("2026-11-20T22:00:00.000Z");
    const after = globexSessionAt(at("2026-11-20T22:00:00Z"));
    expect(after).toMatchObject({ open: false, reason: "weekend", nextTradeDate: "2026-11-23" });
    expect(!after.open && after.nextOpen.toISOString()).toBe("2026-11-22T23:00:00.000Z");
  });

  it("is closed all Saturday and opens at Sunday 17:00 CT for Monday's trade date", () => {
    expect(globexSessionAt(at("2026-11-21T18:00:00Z"))).toMatchObject({ open: false, reason: "weekend" });
    expect(globexSessionAt(justBefore("2026-11-22T23:00:00Z"))).toMatchObject({ open: false, reason: "weekend", nextTradeDate: "2026-11-23" });
    const open = globexSessionAt(at("2026-11-22T23:00:00Z"));
    expect(open).toMatchObject({ open: true, tradeDate: "2026-11-23" });
    expect(open.open && open.opensAt.toISOString()).toBe("2026-11-22T23:00:00.000Z");
  });
});

describe("globexSessionAt: the daily break", () => {
  it("closes from 16:00 to 17:00 CT on a weekday and reopens for the next trade date", () => {
    // Tuesday 2026-11-17: 15:59:59.999 open, 16:00 break, 16:59:59.999 break, 17:00 open for Wednesday.
    expect(globexSessionAt(justBefore("2026-11-17T22:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-17" });
    const breakStart = globexSessionAt(at("2026-11-17T22:00:00Z"));
    expect(breakStart).toMatchObject({ open: false, reason: "daily-break", nextTradeDate: "2026-11-18" });
    expect(!breakStart.open && breakStart.nextOpen.toISOString()).toBe("2026-11-17T23:00:00.000Z");
    expect(globexSessionAt(justBefore("2026-11-17T23:00:00Z"))).toMatchObject({ open: false, reason: "daily-break" });
    expect(globexSessionAt(at("2026-11-17T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-18" });
  });

  it("is open overnight, past midnight Chicago time", () => {
    expect(globexSessionAt(at("2026-11-18T07:30:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-18" });
  });
});

describe("globexSessionAt: holidays and early closes", () => {
  const thanksgiving = { holidays: ["2026-11-26"], earlyCloses: [{ date: "2026-11-27", close: "12:15" }] };

  it("has no session ending on a holiday: closed from 16:00 CT the day before to 17:00 CT on the holiday", () => {
    const wednesdayClose = globexSessionAt(at("2026-11-25T22:00:00Z"), thanksgiving);
    expect(wednesdayClose).toMatchObject({ open: false, reason: "holiday", nextTradeDate: "2026-11-27" });
    expect(!wednesdayClose.open && wednesdayClose.nextOpen.toISOString()).toBe("2026-11-26T23:00:00.000Z");
    expect(globexSessionAt(at("2026-11-26T16:00:00Z"), thanksgiving)).toMatchObject({ open: false, reason: "holiday" });
    expect(globexSessionAt(at("2026-11-26T23:00:00Z"), thanksgiving)).toMatchObject({ open: true, tradeDate: "2026-11-27" });
  });

  it("closes at the early-close time and stays closed until the next session", () => {
    // Friday 2026-11-27 closes at 12:15 CT = 18:15Z.
    expect(globexSessionAt(justBefore("2026-11-27T18:15:00Z"), thanksgiving)).toMatchObject({ open: true, tradeDate: "2026-11-27" });
    const early = globexSessionAt(at("2026-11-27T18:15:00Z"), thanksgiving);
    expect(early).toMatchObject({ open: false, reason: "early-close", nextTradeDate: "2026-11-30" });
    expect(!early.open && early.nextOpen.toISOString()).toBe("2026-11-29T23:00:00.000Z");
  });

  it("skips a Friday holiday and a weekend together (Good Friday 2026-04-03)", () => {
    const thursday = globexSessionAt(at("2026-04-02T21:00:00Z"), ["2026-04-03"]); // 16:00 CDT
    expect(thursday).toMatchObject({ open: false, reason: "holiday", nextTradeDate: "2026-04-06" });
    expect(!thursday.open && thursday.nextOpen.toISOString()).toBe("2026-04-05T22:00:00.000Z"); // Sunday 17:00 CDT
    expect(globexSessionAt(at("2026-04-03T15:00:00Z"), ["2026-04-03"])).toMatchObject({ open: false, reason: "holiday" });
  });

  it("rejects a malformed holiday or early close with the value it got", () => {
    expect(() => globexSessionAt(at("2026-11-20T12:00:00Z"), ["2026-13-01"])).toThrow(/YYYY-MM-DD, got "2026-13-01"/);
    expect(() => globexSessionAt(at("2026-11-20T12:00:00Z"), { earlyCloses: [{ date: "2026-11-27", close: "16:30" }] })).toThrow(/before 16:00/);
    expect(() => globexSessionAt(new Date(Number.NaN))).toThrow(/valid Date/);
  });
});

describe("globexSessionAt and nextGlobexOpen across DST changes", () => {
  it("opens at 17:00 CDT (22:00Z) on the Sunday DST starts, after a Friday close at 16:00 CST (22:00Z)", () => {
    const friday = globexSessionAt(at("2026-03-06T22:00:00Z"));
    expect(friday).toMatchObject({ open: false, reason: "weekend" });
    expect(!friday.open && friday.nextOpen.toISOString()).toBe("2026-03-08T22:00:00.000Z");
    // 02:30 CT does not exist that Sunday; the market is closed anyway.
    expect(globexSessionAt(at("2026-03-08T08:30:00Z"))).toMatchObject({ open: false, reason: "weekend" });
    expect(globexSessionAt(justBefore("2026-03-08T22:00:00Z"))).toMatchObject({ open: false });
    expect(globexSessionAt(at("2026-03-08T22:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-03-09" });
    // Monday closes at 16:00 CDT = 21:00Z.
    const monday = globexSessionAt(at("2026-03-09T15:00:00Z"));
    expect(monday.open && monday.closesAt.toISOString()).toBe("2026-03-09T21:00:00.000Z");
  });

  it("opens at 17:00 CST (23:00Z) on the Sunday DST ends, after a Friday close at 16:00 CDT (21:00Z)", () => {
    expect(globexSessionAt(justBefore("2026-10-30T21:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-10-30" });
    const friday = globexSessionAt(at("2026-10-30T21:00:00Z"));
    expect(friday).toMatchObject({ open: false, reason: "weekend" });
    expect(!friday.open && friday.nextOpen.toISOString()).toBe("2026-11-01T23:00:00.000Z");
    // 01:30 CT happens twice that Sunday (06:30Z and 07:30Z); closed both times.
    expect(globexSessionAt(at("2026-11-01T06:30:00Z"))).toMatchObject({ open: false, reason: "weekend" });
    expect(globexSessionAt(at("2026-11-01T07:30:00Z"))).toMatchObject({ open: false, reason: "weekend" });
    expect(globexSessionAt(justBefore("2026-11-01T23:00:00Z"))).toMatchObject({ open: false });
    expect(globexSessionAt(at("2026-11-01T23:00:00Z"))).toMatchObject({ open: true, tradeDate: "2026-11-02" });
  });
});

describe("nextGlobexOpen", () => {
  it("is the next session's open while the market trades, and the coming open while it is closed", () => {
    expect(nextGlobexOpen(at("2026-11-17T16:00:00Z")).toISOString()).toBe("2026-11-17T23:00:00.000Z"); // Tuesday 10:00 CT
    expect(nextGlobexOpen(at("2026-11-17T22:30:00Z")).toISOString()).toBe("2026-11-17T23:00:00.000Z"); // in the break
    expect(nextGlobexOpen(at("2026-11-20T16:00:00Z")).toISOString()).toBe("2026-11-22T23:00:00.000Z"); // Friday 10:00 CT
    expect(nextGlobexOpen(at("2026-12-24T22:00:00Z"), ["2026-12-25"]).toISOString()).toBe("2026-12-27T23:00:00.000Z"); // Christmas
  });
});
