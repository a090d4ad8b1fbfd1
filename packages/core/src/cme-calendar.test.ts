import { describe, expect, it } from "vitest";
import { cmeSessionFor, cmeTradeDate, latestCompleteMoment, previousCmeSession } from "./cme-calendar.js";

describe("the CME trade date and session of an instant", () => {
  it("moves to the next trade date at 17:00 CT, not at midnight UTC", () => {
    expect(cmeTradeDate(new Date("2026-11-23T22:59:00Z"))).toBe("2026-11-23"); // 16:59 CT Monday: daily break
    expect(cmeTradeDate(new Date("2026-11-23T23:00:00Z"))).toBe("2026-11-24"); // 17:00 CT Monday: Tuesday's session
    expect(cmeTradeDate(new Date("2026-11-24T02:30:00Z"))).toBe("2026-11-24"); // 20:30 CT Monday
  });

  it("gives the last session's trade date on a weekend and on a holiday", () => {
    expect(cmeTradeDate(new Date("2026-11-28T18:00:00Z"))).toBe("2026-11-27"); // Saturday
    expect(cmeTradeDate(new Date("2026-11-29T22:00:00Z"))).toBe("2026-11-27"); // Sunday 16:00 CT, before the open
    expect(cmeTradeDate(new Date("2026-12-25T18:00:00Z"))).toBe("2026-12-24"); // Christmas Day
  });

  it("finds the session's open and close in Chicago time across daylight saving", () => {
    expect(cmeSessionFor(new Date("2026-11-20T21:00:00Z"))).toEqual({
      tradeDate: "2026-11-20",
      opensAt: new Date("2026-11-19T23:00:00Z"),
      closesAt: new Date("2026-11-20T22:00:00Z"),
    });
    expect(cmeSessionFor(new Date("2026-07-15T15:00:00Z")).closesAt).toEqual(new Date("2026-07-15T21:00:00Z"));
    expect(previousCmeSession(new Date("2026-11-23T15:00:00Z")).tradeDate).toBe("2026-11-20");
  });
});

describe("latestCompleteMoment", () => {
  it("is now less the feed's delay while the market is open", () => {
    const now = new Date("2026-11-20T18:00:00Z");
    expect(latestCompleteMoment(now).asOf).toEqual(now);
    const delayed = latestCompleteMoment(now, 10 * 60_000);
    expect(delayed.asOf).toEqual(new Date("2026-11-20T17:50:00Z"));
    expect(delayed.reason).toMatch(/market is open.*10-minute delay/);
  });

  it("is the last session's close in the daily break, on a weekend and on a holiday", () => {
    expect(latestCompleteMoment(new Date("2026-11-19T22:30:00Z"))).toMatchObject({ asOf: new Date("2026-11-19T22:00:00Z") });
    expect(latestCompleteMoment(new Date("2026-11-19T22:30:00Z")).reason).toMatch(/daily break/);
    // Friday after the close is the weekend already.
    expect(latestCompleteMoment(new Date("2026-11-20T22:30:00Z")).reason).toMatch(/weekend/);
    const weekend = latestCompleteMoment(new Date("2026-11-22T12:00:00Z"));
    expect(weekend).toMatchObject({ asOf: new Date("2026-11-20T22:00:00Z") });
    expect(weekend.reason).toMatch(/weekend.*2026-11-20/);
    const christmas = latestCompleteMoment(new Date("2026-12-25T16:00:00Z"));
    expect(christmas.asOf).toEqual(new Date("2026-12-24T22:00:00Z"));
    expect(christmas.reason).toMatch(/holiday/);
  });

  it("treats a delay reaching back before the open as the previous close", () => {
    // 17:05 CT with a 10-minute delay looks at 16:55 CT: the break.
    expect(latestCompleteMoment(new Date("2026-11-23T23:05:00Z"), 10 * 60_000).asOf).toEqual(new Date("2026-11-23T22:00:00Z"));
  });
});
