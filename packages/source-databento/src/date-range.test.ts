/** Date ranges: validated and clamped against get_dataset_range before any paid request. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidRequestError } from "@nq/core";
import { chainWindows, resolveAsOf } from "./date-range.js";
import { chicagoDate, previousSessionStart, sessionStart } from "./market-calendar.js";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, failureOf, signal, sourceFor } from "./test-support/source-harness.js";

const range = { start: new Date("2019-07-07T00:00:00Z"), end: new Date("2026-11-20T21:00:00Z"), schemas: {} };
const now = new Date("2026-11-21T12:00:00Z");

describe("Globex sessions", () => {
  it("open at 17:00 Chicago the evening before, in CST and CDT", () => {
    expect(sessionStart(new Date("2026-11-20T21:00:00Z")).toISOString()).toBe("2026-11-19T23:00:00.000Z"); // CST, UTC-6
    expect(sessionStart(new Date("2026-07-15T15:00:00Z")).toISOString()).toBe("2026-07-14T22:00:00.000Z"); // CDT, UTC-5
    expect(sessionStart(new Date("2026-11-19T23:30:00Z")).toISOString()).toBe("2026-11-19T23:00:00.000Z");
  });
  it("never open on Friday or Saturday evening: the weekend belongs to Friday's session", () => {
    expect(sessionStart(new Date("2026-11-21T12:00:00Z")).toISOString()).toBe("2026-11-19T23:00:00.000Z");
    expect(sessionStart(new Date("2026-11-23T00:30:00Z")).toISOString()).toBe("2026-11-22T23:00:00.000Z"); // Sunday evening opens Monday
    expect(previousSessionStart(new Date("2026-11-23T15:00:00Z")).toISOString()).toBe("2026-11-19T23:00:00.000Z");
  });
  it("dates expirations in Chicago", () => {
    expect(chicagoDate(new Date("2026-11-21T03:00:00Z"))).toBe("2026-11-20");
  });
});

describe("resolveAsOf and chainWindows", () => {
  it("defaults to the dataset's available end", () => {
    expect(resolveAsOf(undefined, range, now, "databento", "GLBX.MDP3").asOf).toEqual(range.end);
  });
  it("rejects an unreadable, future or too-early as-of with InvalidRequestError", () => {
    expect(() => resolveAsOf("yesterday", range, now, "databento", "GLBX.MDP3")).toThrow(InvalidRequestError);
    expect(() => resolveAsOf("2027-01-01T00:00:00Z", range, now, "databento", "GLBX.MDP3")).toThrow(/in the future/);
    expect(() => resolveAsOf("2019-01-01T00:00:00Z", range, now, "databento", "GLBX.MDP3")).toThrow(/before GLBX.MDP3's data starts \(2019-07-07/);
  });
  it("clamps an as-of after the available end, and says so", () => {
    const { asOf, notes } = resolveAsOf("2026-11-21T10:00:00Z", range, now, "databento", "GLBX.MDP3");
    expect(asOf).toEqual(range.end);
    expect(notes[0]).toContain("instead of 2026-11-21T10:00:00.000Z");
  });
  it("plans each schema's window and clamps it to the dataset's range", () => {
    const { windows } = chainWindows(range.end, 15, range);
    expect(windows.definition).toEqual({ start: new Date("2026-11-20T00:00:00Z"), end: range.end });
    expect(windows.trades!.start.toISOString()).toBe("2026-11-19T23:00:00.000Z");
    expect(windows.statistics!.start.toISOString()).toBe("2026-11-18T23:00:00.000Z");
    expect(windows["bbo-1m"]!.start.toISOString()).toBe("2026-11-20T20:45:00.000Z");
    // Saturday: the quotes are the last ones before Friday's 16:00 Chicago close.
    const weekend = chainWindows(new Date("2026-11-21T12:00:00Z"), 15, { ...range, end: new Date("2026-11-22T00:00:00Z") });
    expect(weekend.windows["bbo-1m"]).toEqual({ start: new Date("2026-11-20T21:45:00Z"), end: new Date("2026-11-20T22:00:00Z") });
    const early = chainWindows(new Date("2019-07-07T01:00:00Z"), 15, range);
    expect(early.windows.statistics!.start).toEqual(range.start);
    expect(early.notes.some((n) => n.startsWith("statistics: window clamped"))).toBe(true);
    const mbpStartsLater = chainWindows(range.end, 15, { ...range, schemas: { "mbp-1": { start: new Date("2026-11-21T00:00:00Z"), end: new Date("2026-11-22T00:00:00Z") } } });
    expect(mbpStartsLater.windows["mbp-1"]).toBeNull();
  });
});

describe("no avoidable 422: bad ranges never reach a paid request", () => {
  let server: LocalDatabentoServer;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 20, apiKeys: [CANARY_KEY] });
  });
  afterAll(async () => server.close());

  it("an as-of before the dataset is an InvalidRequestError after only get_dataset_range", async () => {
    server.requests.length = 0;
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    const error = await failureOf(source.load({ product: "NQ", asOf: "2018-01-01T00:00:00Z" }, { signal: signal() }));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(server.requests.map((r) => r.path)).toEqual(["/v0/metadata.get_dataset_range"]);
  });

  it("an as-of past the available end is clamped: no 422, a warning instead", async () => {
    server.requests.length = 0;
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url }, { now });
    const result = await source.load({ product: "NQ", asOf: "2026-11-21T10:00:00Z" }, { signal: signal() });
    expect(new Date(result.asOf).toISOString()).toBe("2026-11-20T21:00:00.000Z");
    expect(result.warnings!.some((w) => w.includes("has data up to 2026-11-20T21:00:00.000Z only"))).toBe(true);
    expect(server.requests.every((r) => r.form.end === undefined || BigInt(r.form.end) <= 1_795_208_400_000_000_000n)).toBe(true);
  });

  it("a non-NQ product is refused before any request", async () => {
    server.requests.length = 0;
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    expect(await failureOf(source.load({ product: "ES" }, { signal: signal() }))).toBeInstanceOf(InvalidRequestError);
    expect(server.requests).toHaveLength(0);
  });
});
