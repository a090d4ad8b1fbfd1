import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseDuration } from "./duration.js";
import { createTtlPolicy, ttlConfigShape } from "./ttl-policy.js";

describe("parseDuration", () => {
  it("reads unit durations, compound durations and seconds", () => {
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("2d")).toBe(172_800_000);
    expect(parseDuration(90)).toBe(90_000);
  });

  it("rejects what it cannot read, saying what it expected", () => {
    expect(() => parseDuration("24 hours")).toThrow(/like "24h".*got "24 hours"/);
    expect(() => parseDuration("0s")).toThrow(/positive/);
    expect(() => parseDuration(-5)).toThrow(/positive number of seconds/);
  });
});

describe("the TTL config fields", () => {
  const schema = z.object(ttlConfigShape).strict();
  const messages = (input: unknown) => {
    const result = schema.safeParse(input);
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  };

  it("fill their defaults from an empty object", () => {
    expect(schema.parse({})).toEqual({ ttl: "24h", ttl_by_source: {}, market_hours: { open_ttl: "5m", holidays: [], early_closes: [] } });
  });

  it("name the field and the expectation when a value is wrong", () => {
    expect(messages({ ttl: "1 day" }).join("\n")).toMatch(/^ttl: .*"24h"/m);
    expect(messages({ ttl_by_source: { saved: 0 } }).join("\n")).toMatch(/^ttl_by_source\.saved: .*positive/m);
    expect(messages({ market_hours: { holidays: ["2026-02-30"] } }).join("\n")).toMatch(/market_hours\.holidays\.0: expected a real calendar date/);
    expect(messages({ market_hours: { early_closes: [{ date: "2026-11-27", close: "12.15" }] } }).join("\n")).toMatch(/close: expected a time as HH:MM/);
    expect(messages({ market_hours: { early_closes: [{ date: "2026-11-27", close: "16:30" }] } }).join("\n")).toMatch(/before the regular 16:00 close/);
  });
});

describe("createTtlPolicy", () => {
  const fetched = new Date("2026-11-17T16:00:00Z"); // Tuesday 10:00 CT, Globex open

  it("adds a fixed duration, per source when overridden", () => {
    const policy = createTtlPolicy({ ttl: "24h", ttl_by_source: { barchart: "10m", saved: 60 } });
    expect(policy.expiresAt("databento", fetched).toISOString()).toBe("2026-11-18T16:00:00.000Z");
    expect(policy.expiresAt("barchart", fetched).toISOString()).toBe("2026-11-17T16:10:00.000Z");
    expect(policy.expiresAt("saved", fetched).toISOString()).toBe("2026-11-17T16:01:00.000Z");
  });

  it("market-hours: a short TTL while Globex trades", () => {
    const policy = createTtlPolicy({ ttl: "market-hours", market_hours: { open_ttl: "5m" } });
    expect(policy.expiresAt("databento", fetched).toISOString()).toBe("2026-11-17T16:05:00.000Z");
  });

  it("market-hours: never past the session's close, so closing numbers are fetched again", () => {
    const policy = createTtlPolicy({ ttl: "market-hours", market_hours: { open_ttl: "5m" } });
    // Tuesday 15:58 CT → the entry ends at the 16:00 CT close, not at 16:03.
    expect(policy.expiresAt("databento", new Date("2026-11-17T21:58:00Z")).toISOString()).toBe("2026-11-17T22:00:00.000Z");
  });

  it("market-hours: while closed, valid until the next open (break, weekend, holiday)", () => {
    // Thanksgiving 2026 given as a full closure replaces the built-in 12:00 CT halt for that date.
    const policy = createTtlPolicy({ ttl: "market-hours", market_hours: { holidays: ["2026-11-26"] } });
    expect(policy.expiresAt("databento", new Date("2026-11-17T22:30:00Z")).toISOString()).toBe("2026-11-17T23:00:00.000Z");
    expect(policy.expiresAt("databento", new Date("2026-11-20T22:00:00Z")).toISOString()).toBe("2026-11-22T23:00:00.000Z");
    expect(policy.expiresAt("databento", new Date("2026-11-25T22:10:00Z")).toISOString()).toBe("2026-11-26T23:00:00.000Z");
  });

  it("market-hours: the built-in CME calendar without any config (holiday halt, early close, closure)", () => {
    const policy = createTtlPolicy({ ttl: "market-hours", market_hours: { open_ttl: "5m" } });
    // MLK Day 2026: fetched Monday 11:58 CT → ends at the 12:00 CT halt; fetched in the halt → 17:00 CT reopen.
    expect(policy.expiresAt("databento", new Date("2026-01-19T17:58:00Z")).toISOString()).toBe("2026-01-19T18:00:00.000Z");
    expect(policy.expiresAt("databento", new Date("2026-01-19T19:00:00Z")).toISOString()).toBe("2026-01-19T23:00:00.000Z");
    // The day after Thanksgiving: ends at the 12:15 CT early close; after it, lives until Sunday 17:00 CT.
    expect(policy.expiresAt("databento", new Date("2026-11-27T18:12:00Z")).toISOString()).toBe("2026-11-27T18:15:00.000Z");
    expect(policy.expiresAt("databento", new Date("2026-11-27T19:00:00Z")).toISOString()).toBe("2026-11-29T23:00:00.000Z");
    // Christmas 2025 (Thursday): closed from Wednesday's 12:15 CT early close to Thursday 17:00 CT.
    expect(policy.expiresAt("databento", new Date("2025-12-24T20:00:00Z")).toISOString()).toBe("2025-12-25T23:00:00.000Z");
  });

  it("market-hours: the config's holidays and early closes are laid over the built-in calendar", () => {
    const policy = createTtlPolicy({
      ttl: "market-hours",
      market_hours: { holidays: ["2026-10-12"], early_closes: [{ date: "2026-10-09", close: "12:00" }] },
    });
    // Friday 2026-10-09 closes at 12:00 CDT (17:00Z), and Monday 2026-10-12 is closed: next open Monday 17:00 CDT.
    expect(policy.expiresAt("databento", new Date("2026-10-09T16:58:00Z")).toISOString()).toBe("2026-10-09T17:00:00.000Z");
    expect(policy.expiresAt("databento", new Date("2026-10-09T18:00:00Z")).toISOString()).toBe("2026-10-12T22:00:00.000Z");
    // The built-in rows stay: Thanksgiving Thursday 2026 still halts at 12:00 CT.
    expect(policy.expiresAt("databento", new Date("2026-11-26T17:58:00Z")).toISOString()).toBe("2026-11-26T18:00:00.000Z");
  });

  it("market-hours for one source only", () => {
    const policy = createTtlPolicy({ ttl: "24h", ttl_by_source: { databento: "market-hours" } });
    expect(policy.ruleFor("databento").kind).toBe("market-hours");
    expect(policy.ruleFor("saved")).toEqual({ kind: "fixed", ms: 86_400_000 });
  });
});
