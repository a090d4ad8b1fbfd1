/** Date ranges: validated and clamped against get_dataset_range before any paid request. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidRequestError } from "@nq/core";
import { chainWindows, resolveAsOf } from "./date-range.js";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, failureOf, signal, sourceFor } from "./test-support/source-harness.js";

const range = { start: new Date("2019-07-07T00:00:00Z"), end: new Date("2026-11-20T21:00:00Z"), schemas: {} };
const now = new Date("2026-11-21T12:00:00Z");

describe("resolveAsOf: the moment a chain describes", () => {
  it("without an as-of, is the last complete picture: the close of the last session when the data ends at the next open", () => {
    // The data ends at 17:00 CT Friday? No: Friday 16:00 CT close; range end 2026-11-20T23:00Z is 17:00 CT Friday (weekend).
    const endAtOpen = { ...range, end: new Date("2026-11-19T23:00:00Z") }; // 17:00 CT Thursday: Friday's session's first instant
    const resolved = resolveAsOf(undefined, endAtOpen, now, "databento", "GLBX.MDP3");
    expect(resolved.asOf).toEqual(new Date("2026-11-19T22:00:00Z")); // Thursday's 16:00 CT close
    expect(resolved.reason).toMatch(/daily break.*close of the last session \(trade date 2026-11-19/);
  });
  it("without an as-of during a session, is the newest data the dataset has", () => {
    const resolved = resolveAsOf(undefined, range, new Date("2026-11-20T21:05:00Z"), "databento", "GLBX.MDP3");
    expect(resolved.asOf).toEqual(new Date(range.end.getTime() - 1));
    expect(resolved.reason).toMatch(/market is open/);
  });
  it("on a weekend, is Friday's close", () => {
    const weekend = { ...range, end: new Date("2026-11-22T00:00:00Z") };
    expect(resolveAsOf(undefined, weekend, new Date("2026-11-22T12:00:00Z"), "databento", "GLBX.MDP3").asOf).toEqual(new Date("2026-11-20T22:00:00Z"));
  });
  it("rejects an unreadable, future or too-early as-of with InvalidRequestError", () => {
    expect(() => resolveAsOf("yesterday", range, now, "databento", "GLBX.MDP3")).toThrow(InvalidRequestError);
    expect(() => resolveAsOf("2027-01-01T00:00:00Z", range, now, "databento", "GLBX.MDP3")).toThrow(/in the future/);
    expect(() => resolveAsOf("2019-01-01T00:00:00Z", range, now, "databento", "GLBX.MDP3")).toThrow(/before GLBX.MDP3's data starts \(2019-07-07/);
  });
  it("clamps an as-of after the available end, and says so", () => {
    const { asOf, notes } = resolveAsOf("2026-11-21T10:00:00Z", range, now, "databento", "GLBX.MDP3");
    expect(asOf).toEqual(new Date(range.end.getTime() - 1));
    expect(notes[0]).toContain("instead of 2026-11-21T10:00:00.000Z");
  });
});

describe("chainWindows", () => {
  const closeThursday = new Date("2026-11-19T22:00:00Z"); // 16:00 CT
  it("takes the session T belongs to, as-of inclusive, and the book in two steps", () => {
    const w = chainWindows(closeThursday, 15, range, "bbo-1m");
    expect(w.session).toEqual({ tradeDate: "2026-11-19", opensAt: new Date("2026-11-18T23:00:00Z"), closesAt: closeThursday });
    expect(w.definition).toEqual({ start: new Date("2026-11-19T00:00:00Z"), end: new Date("2026-11-19T22:00:00.001Z") });
    expect(w.trades).toEqual({ start: new Date("2026-11-18T23:00:00Z"), end: new Date("2026-11-19T22:00:00.001Z") });
    expect(w.tradesCoverSession).toBe(true);
    // The record of the closing minute is stamped exactly 16:00:00 CT: the exclusive end is just past it.
    expect(w.recentQuotes).toEqual({ start: new Date("2026-11-19T21:45:00Z"), end: new Date("2026-11-19T22:00:00.001Z") });
    expect(w.earlierQuotes).toEqual({ start: new Date("2026-11-18T23:00:00Z"), end: new Date("2026-11-19T21:45:00Z") });
    expect(w.statistics!.start).toEqual(new Date("2026-11-17T23:00:00Z"));
  });
  it("in the daily break or on a weekend, takes the book at the last close", () => {
    const saturday = chainWindows(new Date("2026-11-21T12:00:00Z"), 15, { ...range, end: new Date("2026-11-22T00:00:00Z") }, "bbo-1m");
    expect(saturday.session.tradeDate).toBe("2026-11-20");
    expect(saturday.recentQuotes).toEqual({ start: new Date("2026-11-20T21:45:00Z"), end: new Date("2026-11-20T22:00:00.001Z") });
  });
  it("in the evening session, belongs to the next trade date", () => {
    const evening = chainWindows(new Date("2026-11-24T02:30:00Z"), 15, { ...range, end: new Date("2026-11-25T00:00:00Z") }, "mbp-1");
    expect(evening.session).toMatchObject({ tradeDate: "2026-11-24", opensAt: new Date("2026-11-23T23:00:00Z") });
  });
  it("clamps to the dataset's range, and a clamped trade window no longer makes 'no trade' a volume of 0", () => {
    const early = chainWindows(new Date("2019-07-08T15:00:00Z"), 15, range, "bbo-1m");
    expect(early.statistics!.start).toEqual(range.start);
    expect(early.notes.some((n) => n.startsWith("statistics: window clamped"))).toBe(true);
    const tradesLater = chainWindows(closeThursday, 15, { ...range, schemas: { trades: { start: new Date("2026-11-19T12:00:00Z"), end: range.end } } }, "bbo-1m");
    expect(tradesLater.tradesCoverSession).toBe(false);
    const mbpStartsLater = chainWindows(closeThursday, 15, { ...range, schemas: { "mbp-1": { start: new Date("2026-11-21T00:00:00Z"), end: new Date("2026-11-22T00:00:00Z") } } }, "mbp-1");
    expect(mbpStartsLater.recentQuotes).toBeNull();
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
    expect(new Date(result.asOf).toISOString()).toBe("2026-11-20T20:59:59.999Z");
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
