/**
 * The local server against the reference (shared/reference/databento.md §2): paths, auth, status codes,
 * error body shapes, warnings, Retry-After, 206, and DBN bodies. Plain fetch, no client code.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { decodeDbn, RType, UNDEF_PRICE } from "@nq/dbn";
import {
  bboAt,
  bookAt,
  chicagoNs,
  DEFAULT_PRICES_USD_PER_GB,
  futureBookAt,
  futureLastTradeAt,
  generateDay,
  instrumentSession,
  lastTradeAt,
  type LocalDatabentoServer,
  NQ_GENERATOR,
  phaseNs,
  sessionAtOrBefore,
  sessionVolume,
  settlementPrice,
  startLocalDatabentoServer,
  tradeSession,
} from "./index.js";
import { CANARY_KEY, sharedDir } from "../test-support/source-harness.js";

const auth = (key: string) => `Basic ${Buffer.from(`${key}:`).toString("base64")}`;

async function post(server: LocalDatabentoServer, endpoint: string, form: Record<string, string>, key = CANARY_KEY): Promise<Response> {
  return fetch(`${server.url}/v0/${endpoint}`, {
    method: "POST",
    headers: { authorization: auth(key), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

const RANGE = { dataset: "GLBX.MDP3", symbols: "NQ.OPT", stype_in: "parent", start: "2026-11-20T00:00:00Z", end: "2026-11-20T21:00:00Z" };

describe("local Databento server: documented HTTP behaviour", () => {
  let server: LocalDatabentoServer;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 40, apiKeys: [CANARY_KEY], degradedDates: ["2026-11-19"] });
  });
  afterAll(async () => server.close());

  it("listens on 127.0.0.1 and answers get_dataset_range (GET, query string) with start/end/schema", async () => {
    expect(new URL(server.url).hostname).toBe("127.0.0.1");
    const res = await fetch(`${server.url}/v0/metadata.get_dataset_range?dataset=GLBX.MDP3`, { headers: { authorization: auth(CANARY_KEY) } });
    expect(res.status).toBe(200);
    expect(res.headers.get("request-id")).toBeTruthy();
    const body = (await res.json()) as { start: string; end: string; schema: Record<string, { start: string; end: string }> };
    expect(body.end).toBe("2026-11-20T21:00:00.000000000Z");
    expect(body.start).toBe("2019-07-07T00:00:00.000000000Z");
    expect(body.schema.definition).toEqual({ start: body.start, end: body.end });
  });

  it("401 auth_authentication_failed in the structured detail shape, for a missing or unknown key", async () => {
    const none = await fetch(`${server.url}/v0/metadata.get_dataset_range?dataset=GLBX.MDP3`);
    expect(none.status).toBe(401);
    const other = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition" }, "db-Unknown000000000000000000000x");
    expect(other.status).toBe(401);
    const body = (await other.json()) as { detail: Record<string, unknown> };
    expect(body.detail).toMatchObject({ case: "auth_authentication_failed", message: "Authentication failed.", status_code: 401 });
    expect(typeof body.detail.docs).toBe("string");
  });

  it("403 auth_no_dataset_entitlement naming the dataset, for a dataset the key is not licensed for", async () => {
    const res = await post(server, "metadata.get_cost", { ...RANGE, dataset: "XNAS.ITCH", schema: "trades" });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { detail: { case: string; message: string; payload: { dataset: string } } };
    expect(body.detail.case).toBe("auth_no_dataset_entitlement");
    expect(body.detail.message).toContain("XNAS.ITCH");
  });

  it("422 for ranges outside the available data, with the documented cases", async () => {
    const before = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition", start: "2019-01-01", end: "2019-01-02" });
    expect(before.status).toBe(422);
    expect(((await before.json()) as { detail: { case: string; payload: Record<string, string> } }).detail).toMatchObject({
      case: "data_start_before_available_start",
      payload: { available_start: "2019-07-07T00:00:00.000000000Z" },
    });
    const after = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition", end: "2026-11-21T00:00:00Z" });
    expect(((await after.json()) as { detail: { case: string } }).detail.case).toBe("data_end_after_available_end");
    const startAfter = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition", start: "2026-11-22", end: "2026-11-23" });
    expect(((await startAfter.json()) as { detail: { case: string } }).detail.case).toBe("data_start_after_available_end");
  });

  it("422 symbology_invalid_request when NQ.OPT is sent without stype_in=parent", async () => {
    const res = await post(server, "timeseries.get_range", { ...RANGE, stype_in: "raw_symbol", schema: "definition", encoding: "dbn", compression: "zstd" });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { detail: { case: string; message: string } };
    expect(body.detail.case).toBe("symbology_invalid_request");
    expect(body.detail.message).toContain("None of the symbols could be resolved");
  });

  it("get_cost is a JSON number, get_record_count a JSON integer, consistent with the streamed records", async () => {
    const cost = (await (await post(server, "metadata.get_cost", { ...RANGE, schema: "definition", stype_out: "instrument_id" })).json()) as number;
    const count = (await (await post(server, "metadata.get_record_count", { ...RANGE, schema: "definition" })).json()) as number;
    const size = (await (await post(server, "metadata.get_billable_size", { ...RANGE, schema: "definition" })).json()) as number;
    expect(typeof cost).toBe("number");
    expect(cost).toBeGreaterThan(0);
    expect(Number.isInteger(count)).toBe(true);
    expect(size).toBe(count * 520);
    const res = await post(server, "timeseries.get_range", { ...RANGE, schema: "definition", encoding: "dbn", compression: "zstd" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBeNull();
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    const decoded = await decodeDbn(bytes);
    expect(decoded.records.length).toBe(count);
    expect(decoded.metadata?.dataset).toBe("GLBX.MDP3");
    expect(decoded.metadata?.symbols).toEqual(["NQ.OPT"]);
  });

  it("X-Warning is a JSON array of \"Category: message\" strings for degraded days", async () => {
    const res = await post(server, "metadata.get_cost", { ...RANGE, schema: "statistics", start: "2026-11-19", end: "2026-11-20" });
    const warnings = JSON.parse(res.headers.get("x-warning") ?? "null") as string[];
    expect(Array.isArray(warnings)).toBe(true);
    expect(warnings[0]).toMatch(/^Warning: .*2026-11-19 \(degraded\)/);
  });

  it("206 with not_found in the DBN metadata when only some symbols resolve", async () => {
    const res = await post(server, "timeseries.get_range", { ...RANGE, symbols: "NQ.OPT,ZZ9.OPT", schema: "definition", encoding: "dbn", compression: "zstd" });
    expect(res.status).toBe(206);
    const decoded = await decodeDbn(new Uint8Array(await res.arrayBuffer()));
    expect(decoded.metadata?.not_found).toEqual(["ZZ9.OPT"]);
    expect(decoded.records.length).toBeGreaterThan(0);
  });

  it("symbology.resolve answers {result, not_found, …} with d0/d1/s intervals", async () => {
    const res = await post(server, "symbology.resolve", { dataset: "GLBX.MDP3", symbols: "QN4.OPT,Q1A.OPT", stype_in: "parent", stype_out: "instrument_id", start_date: "2026-11-20", end_date: "2026-11-21" });
    const body = (await res.json()) as { result: Record<string, { d0: string; d1: string; s: string }[]>; not_found: string[] };
    expect(body.result["QN4.OPT"]?.[0]).toMatchObject({ d0: "2026-11-20", d1: "2026-11-21" });
    expect(body.not_found).toEqual(["Q1A.OPT"]);
  });

  it("switchable faults: 429 carries Retry-After, 503, and they clear after `times`", async () => {
    server.setFault({ kind: "429", retryAfterSeconds: 7, times: 1 });
    const limited = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(((await limited.json()) as { detail: { status_code: number } }).detail.status_code).toBe(429);
    expect((await post(server, "metadata.get_cost", { ...RANGE, schema: "definition" })).status).toBe(200);
    server.setFault({ kind: "503" });
    expect((await post(server, "metadata.get_cost", { ...RANGE, schema: "definition" })).status).toBe(503);
    server.setFault(null);
  });

  it("records each request's method, path and form, never the key", async () => {
    const last = server.requests.at(-1)!;
    expect(last).toMatchObject({ method: "POST", path: "/v0/metadata.get_cost" });
    expect(last.form.schema).toBe("definition");
    expect(JSON.stringify(server.requests)).not.toContain(CANARY_KEY);
  });

  it("rate limits per key and family when configured", async () => {
    const limited = await startLocalDatabentoServer({ contracts: 4, rateLimits: { metadata: 2 } });
    try {
      // Ten at once: even if they straddle a second boundary, at most 2 + 2 can pass.
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(limited, "metadata.get_cost", { ...RANGE, schema: "definition" })));
      const statuses = answers.map((res) => res.status);
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(4);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(6);
      expect(answers.find((res) => res.status === 429)?.headers.get("retry-after")).toBe("1");
    } finally {
      await limited.close();
    }
  });
});

const shared = sharedDir();
const fixtureDir = shared ? join(shared, "fixtures/databento/databento-python/GLBX.MDP3") : null;

describe.skipIf(!shared)("local Databento server: real fixtures from ../shared (skipped when NQ_SHARED_DIR / ../shared is absent)", () => {
  it("serves the upstream ESH1 definition file byte for byte for the request that produced it", async () => {
    expect(fixtureDir).not.toBeNull();
    // No option: the fixtures are found in ../shared by default.
    const server = await startLocalDatabentoServer();
    try {
      const res = await post(server, "timeseries.get_range", {
        dataset: "GLBX.MDP3",
        symbols: "ESH1",
        stype_in: "raw_symbol",
        schema: "definition",
        start: "2020-12-28",
        end: "2020-12-29",
        encoding: "dbn",
        compression: "zstd",
      });
      expect(res.status).toBe(200);
      const served = new Uint8Array(await res.arrayBuffer());
      const original = new Uint8Array(await readFile(join(fixtureDir!, "test_data.definition.dbn.zst")));
      expect(Buffer.from(served).equals(Buffer.from(original))).toBe(true);
    } finally {
      await server.close();
    }
  });
});

// ---- the generated market: Chicago sessions, per-instrument book events, quote schemas, futures ----

const NOV19 = "2026-11-19"; // a Thursday; its session is 2026-11-18T23:00Z → 2026-11-19T22:00Z (CST)
const CONTRACTS = 200;

interface Rec {
  hd: { rtype: number; instrument_id: number; ts_event: bigint };
  ts_recv: bigint;
  price: bigint;
  size: number;
  side: string;
  levels: { bid_px: bigint; ask_px: bigint; bid_sz: number; ask_sz: number }[];
  [field: string]: unknown;
}

async function range(server: LocalDatabentoServer, form: Record<string, string>) {
  const res = await post(server, "timeseries.get_range", { dataset: "GLBX.MDP3", stype_in: "instrument_id", encoding: "dbn", compression: "zstd", ...form });
  const status = res.status;
  const warning = res.headers.get("x-warning");
  const decoded = await decodeDbn(new Uint8Array(await res.arrayBuffer()));
  return { status, warning, metadata: decoded.metadata!, records: decoded.records as unknown as Rec[] };
}

const points = (px: bigint) => Number(px) / 1e9;
const s = (ns: bigint) => String(ns);
const SEC = 1_000_000_000n;
const MIN = 60n * SEC;
const market = { contracts: CONTRACTS };

describe("local Databento server: the generated market", () => {
  let server: LocalDatabentoServer;
  const session = tradeSession(NOV19);
  const day = generateDay(NOV19, CONTRACTS);
  const front = day.futures[0]!;
  const atmCall = day.options.find((o) => o.expiration === "2026-12-18" && o.strike === 21_000 && o.right === "C")!;
  const quiet = day.options.find((o) => o.expiration === "2026-12-18" && o.strike === 21_200 && o.right === "P")!;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: CONTRACTS, apiKeys: [CANARY_KEY] });
  });
  afterAll(async () => server.close());

  it("a trade date's Globex session runs 17:00 Chicago the evening before → 16:00 Chicago, DST-aware, Friday → Sunday", () => {
    const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
    expect([iso(session.openNs), iso(session.closeNs)]).toEqual(["2026-11-18T23:00:00.000Z", "2026-11-19T22:00:00.000Z"]);
    expect(iso(tradeSession("2026-11-23").openNs)).toBe("2026-11-22T23:00:00.000Z"); // Sunday 17:00 CST
    const summer = tradeSession("2026-07-15");
    expect([iso(summer.openNs), iso(summer.closeNs)]).toEqual(["2026-07-14T22:00:00.000Z", "2026-07-15T21:00:00.000Z"]); // CDT
    expect(() => tradeSession("2026-11-21")).toThrow();
    // Saturday noon is in no session: the last one closed is Friday's; 17:30 Chicago belongs to the next trade date.
    expect(sessionAtOrBefore(chicagoNs("2026-11-21", 12)).tradeDate).toBe("2026-11-20");
    expect(sessionAtOrBefore(chicagoNs("2026-11-18", 17, 30)).tradeDate).toBe(NOV19);
  });

  it("the universe has quiet strikes (|K − F| > 150) and expiries hanging off two futures with different prices", () => {
    expect(atmCall.quiet).toBe(false);
    expect(quiet.quiet).toBe(true);
    expect(day.options.filter((o) => o.quiet).every((o) => Math.abs(o.strike - o.underlyingPrice) > NQ_GENERATOR.quietBeyondPoints)).toBe(true);
    expect(day.futures.map((f) => [f.rawSymbol, f.instrumentId, f.price])).toEqual([
      ["NQZ6", 124_324, 21_000],
      ["NQH7", 124_327, 21_150],
    ]);
    expect(new Set(day.options.map((o) => o.underlying))).toEqual(new Set(["NQZ6", "NQH7"]));
    expect(day.options.every((o) => o.underlyingId === day.futures.find((f) => f.rawSymbol === o.underlying)!.instrumentId)).toBe(true);
  });

  it("bbo-1m: the closing minute's record is stamped exactly 16:00:00 Chicago and carries the 15:59:30 book", async () => {
    const closing = chicagoNs(NOV19, 15, 59, 30);
    const at = bookAt(atmCall.instrumentId, session.closeNs, market)!;
    expect(at.tsNs).toBe(closing);
    // From just after 15:59:00: the record stamped 15:59:00 is the minute before (the future has one).
    const got = await range(server, { schema: "bbo-1m", symbols: `${atmCall.instrumentId},${front.instrumentId}`, start: s(chicagoNs(NOV19, 15, 59) + 1n), end: s(session.closeNs + 1n) });
    expect(got.status).toBe(200);
    expect(got.records.map((r) => r.hd.rtype)).toEqual([RType.Bbo1M, RType.Bbo1M]);
    expect(got.records.every((r) => r.ts_recv === session.closeNs)).toBe(true);
    const option = got.records.find((r) => r.hd.instrument_id === atmCall.instrumentId)!;
    expect(option.hd.ts_event).toBe(closing);
    expect(option.levels[0]).toMatchObject({ bid_sz: at.bidSize, ask_sz: at.askSize });
    expect([points(option.levels[0]!.bid_px), points(option.levels[0]!.ask_px)]).toEqual([at.bid, at.ask]);
    // The last sale is carried forward from the morning: the ATM call's 4th trade.
    const last = lastTradeAt(atmCall.instrumentId, session.closeNs, market)!;
    expect(last.index).toBe(3);
    expect([points(option.price), option.size]).toEqual([last.price, last.size]);
    // The future's last book event is its 5-second tick at 15:59:55.5; its trade at 15:59:45 is the last sale.
    const future = got.records.find((r) => r.hd.instrument_id === front.instrumentId)!;
    const fb = futureBookAt("NQZ6", session.closeNs - 1n)!;
    expect(fb.tsNs).toBe(session.closeNs - 4_500_000_000n);
    expect(future.hd.ts_event).toBe(fb.tsNs);
    expect([points(future.levels[0]!.bid_px), points(future.levels[0]!.ask_px)]).toEqual([fb.bid, fb.ask]);
    expect(points(future.price)).toBe(futureLastTradeAt("NQZ6", session.closeNs)!.price);
    // `end` is exclusive: ending at 16:00:00 leaves the closing minute's record out.
    const cut = await range(server, { schema: "bbo-1m", symbols: String(atmCall.instrumentId), start: s(chicagoNs(NOV19, 15, 59)), end: s(session.closeNs) });
    expect(cut.records).toHaveLength(0);
    expect(cut.warning).toContain("No data found");
  });

  it("an event exactly on a minute boundary (15:00:00.000000000): inclusive start, exclusive end, next interval's bbo", async () => {
    const boundary = chicagoNs(NOV19, 15);
    const ev = bookAt(atmCall.instrumentId, boundary, market)!;
    expect(ev.tsNs).toBe(boundary);
    const id = String(atmCall.instrumentId);
    const from = await range(server, { schema: "mbp-1", symbols: id, start: s(boundary), end: s(boundary + 1n) });
    expect(from.records.map((r) => r.ts_recv)).toEqual([boundary]);
    expect(points(from.records[0]!.levels[0]!.bid_px)).toBe(ev.bid);
    const before = await range(server, { schema: "mbp-1", symbols: id, start: s(boundary - MIN), end: s(boundary) });
    expect(before.records).toHaveLength(0);
    // bbo-1m: nothing in [14:59, 15:00) → no record stamped 15:00:00; the boundary event is in the one stamped 15:01:00.
    expect(bboAt(atmCall.instrumentId, boundary, "bbo-1m", market)).toBeNull();
    const bbo = await range(server, { schema: "bbo-1m", symbols: id, start: s(boundary - MIN), end: s(boundary + MIN + 1n) });
    expect(bbo.records.map((r) => r.ts_recv)).toEqual([boundary + MIN]);
    const expected = bboAt(atmCall.instrumentId, boundary + MIN, "bbo-1m", market)!;
    expect(bbo.records[0]!.hd.ts_event).toBe(expected.tsEvent);
    expect(expected.tsEvent).toBeGreaterThanOrEqual(boundary);
  });

  it("every bbo-1m record of a full session matches bboAt, and every interval with an event has one", async () => {
    const ids = [atmCall.instrumentId, quiet.instrumentId, front.instrumentId];
    const got = await range(server, { schema: "bbo-1m", symbols: ids.join(","), start: s(session.openNs), end: s(session.closeNs + 1n) });
    for (const id of ids) {
      const mine = got.records.filter((r) => r.hd.instrument_id === id);
      const expected: bigint[] = [];
      for (let end = session.openNs + MIN; end <= session.closeNs; end += MIN) {
        if (bboAt(id, end, "bbo-1m", market)) expected.push(end);
      }
      expect(mine.map((r) => r.ts_recv)).toEqual(expected);
      for (const r of mine.filter((_, i) => i % 37 === 0 || i === mine.length - 1)) {
        const e = bboAt(id, r.ts_recv, "bbo-1m", market)!;
        expect([r.hd.ts_event, points(r.levels[0]!.bid_px), points(r.levels[0]!.ask_px), r.levels[0]!.bid_sz, r.levels[0]!.ask_sz]).toEqual([e.tsEvent, e.book.bid, e.book.ask, e.book.bidSize, e.book.askSize]);
        expect(r.price).toBe(e.lastTrade ? BigInt(Math.round(e.lastTrade.price * 1e9)) : UNDEF_PRICE);
      }
    }
    expect(got.records.every((r, i) => i === 0 || got.records[i - 1]!.ts_recv <= r.ts_recv)).toBe(true);
    // The quiet put: one record, at the end of its only event's minute; the future: one per minute of the session.
    expect(got.records.filter((r) => r.hd.instrument_id === quiet.instrumentId)).toHaveLength(1);
    expect(got.records.filter((r) => r.hd.instrument_id === front.instrumentId)).toHaveLength(23 * 60);
  });

  it("a quiet strike's book is set once, minutes after the open, and is hours old at the close", async () => {
    const expectedTs = session.openNs + BigInt(NQ_GENERATOR.quietSetSeconds) * SEC + phaseNs(quiet);
    const mbp = await range(server, { schema: "mbp-1", symbols: String(quiet.instrumentId), start: s(session.openNs), end: s(session.closeNs) });
    expect(mbp.records.map((r) => r.ts_recv)).toEqual([expectedTs]);
    const atClose = bookAt(quiet.instrumentId, session.closeNs, market)!;
    expect(atClose.tsNs).toBe(expectedTs);
    expect(session.closeNs - atClose.tsNs).toBeGreaterThan(22n * 60n * MIN);
    expect([atClose.bid, atClose.ask]).toEqual([Math.max(0, quiet.bid - NQ_GENERATOR.tick), quiet.ask - NQ_GENERATOR.tick]);
    expect(lastTradeAt(quiet.instrumentId, session.closeNs, market)).toBeNull();
    expect(sessionVolume(quiet.instrumentId, NOV19, market)).toBe(0);
    const late = await range(server, { schema: "bbo-1m", symbols: String(quiet.instrumentId), start: s(session.closeNs - 15n * MIN), end: s(session.closeNs + 1n) });
    expect(late.records).toHaveLength(0);
    // In the daily break the book is still the last one printed.
    expect(bookAt(quiet.instrumentId, chicagoNs(NOV19, 16, 30), market)!.tsNs).toBe(expectedTs);
  });

  it("an active option's book moves between updates: a stale quote differs from a later one", () => {
    const events = instrumentSession(atmCall, session).book;
    // 92 quarter-hours × a burst of 3, plus 15:00:00.000 and 15:59:30.
    expect(events).toHaveLength(92 * 3 + 2);
    expect(new Set(events.map((e) => e.bid)).size).toBe(3);
    const early = bookAt(atmCall.instrumentId, session.openNs + 60n * MIN, market)!;
    const late = bookAt(atmCall.instrumentId, session.closeNs, market)!;
    expect(early.tsNs).toBeLessThan(late.tsNs);
    expect([early.bid, early.bidSize]).not.toEqual([late.bid, late.bidSize]);
  });

  it("trades: stamped by event; an ATM option trades 4 times (sizes 1..4) from 09:05 Chicago, a future every 5 minutes and at 15:59:45", async () => {
    const got = await range(server, { schema: "trades", symbols: `${atmCall.instrumentId},${front.instrumentId}`, start: s(session.openNs), end: s(session.closeNs) });
    const option = got.records.filter((r) => r.hd.instrument_id === atmCall.instrumentId);
    expect(option.map((r) => r.size)).toEqual([1, 2, 3, 4]);
    expect(option[0]!.ts_recv).toBe(chicagoNs(NOV19, 9, 5) + phaseNs(atmCall));
    const future = got.records.filter((r) => r.hd.instrument_id === front.instrumentId);
    expect(future).toHaveLength(23 * 12 + 1);
    const last = futureLastTradeAt("NQZ6", session.closeNs)!;
    expect(future.at(-1)!.ts_recv).toBe(session.closeNs - 15n * SEC);
    expect(last.tsNs).toBe(future.at(-1)!.ts_recv);
    expect(points(future.at(-1)!.price)).toBe(last.price);
    expect(future.reduce((sum, r) => sum + r.size, 0)).toBe(sessionVolume(front.instrumentId, NOV19));
  });

  it("futures: definitions under NQ.FUT (parent), by instrument_id and by raw_symbol; options point at them", async () => {
    const window = { schema: "definition", start: `${NOV19}T00:00:00Z`, end: `${NOV19}T01:00:00Z` };
    const byParent = await range(server, { ...window, symbols: "NQ.FUT", stype_in: "parent" });
    expect(byParent.records.map((r) => [r.raw_symbol, r.hd.instrument_id, r.instrument_class, r.security_type, r.asset])).toEqual([
      ["NQZ6", 124_324, "F", "FUT", "NQ"],
      ["NQH7", 124_327, "F", "FUT", "NQ"],
    ]);
    expect(byParent.records[0]!.expiration).toBe(BigInt(Date.parse("2026-12-18T14:30:00Z")) * 1_000_000n);
    const byId = await range(server, { ...window, symbols: "124327", stype_in: "instrument_id" });
    expect(byId.records.map((r) => r.raw_symbol)).toEqual(["NQH7"]);
    const byRaw = await range(server, { ...window, symbols: "NQZ6", stype_in: "raw_symbol" });
    expect(byRaw.records.map((r) => r.hd.instrument_id)).toEqual([124_324]);
    expect(byRaw.metadata.mappings[0]).toMatchObject({ raw_symbol: "NQZ6" });
    const options = await range(server, { ...window, symbols: "NQ.OPT", stype_in: "parent" });
    const march = options.records.find((r) => r.raw_symbol === "NQH7 C21150")!;
    expect([march.underlying, march.underlying_id]).toEqual(["NQH7", 124_327]);
    const all = await post(server, "metadata.get_record_count", { ...window, dataset: "GLBX.MDP3", symbols: "ALL_SYMBOLS" });
    expect(await all.json()).toBe(day.options.length + day.spreads.length + day.futures.length);
  });

  it("bbo-1s: rtype 0xC3, stamped at the end of the second, matching bboAt", async () => {
    const from = chicagoNs(NOV19, 15, 59, 25);
    const got = await range(server, { schema: "bbo-1s", symbols: `${atmCall.instrumentId},${front.instrumentId}`, start: s(from), end: s(session.closeNs + 1n) });
    expect(got.metadata.schema).toBe(18);
    expect(got.records.every((r) => r.hd.rtype === RType.Bbo1S && r.ts_recv % SEC === 0n)).toBe(true);
    // The option's 15:59:30.000 event → stamped 15:59:31.
    expect(got.records.filter((r) => r.hd.instrument_id === atmCall.instrumentId).map((r) => r.ts_recv)).toEqual([chicagoNs(NOV19, 15, 59, 31)]);
    const future = got.records.filter((r) => r.hd.instrument_id === front.instrumentId);
    for (const r of future) {
      const e = bboAt(front.instrumentId, r.ts_recv, "bbo-1s")!;
      expect([r.hd.ts_event, points(r.levels[0]!.bid_px)]).toEqual([e.tsEvent, e.book.bid]);
    }
    // Ticks at :25.5, :30 (extra), :30.5, :35.5, … and the trade at :45 → seconds ending :26, :31, :36, :41, :46, :51, :56.
    expect(future.map((r) => (r.ts_recv - from) / SEC)).toEqual([1n, 6n, 11n, 16n, 21n, 26n, 31n]);
    const size = (await (await post(server, "metadata.get_billable_size", { dataset: "GLBX.MDP3", schema: "bbo-1s", symbols: String(front.instrumentId), stype_in: "instrument_id", start: s(from), end: s(session.closeNs + 1n) })).json()) as number;
    expect(size).toBe(future.length * 80);
  });

  it("statistics: open interest (9) at 05:00 Chicago for the previous day, settlement (3) at 16:30 and cleared volume (6) at 16:45 for the day", async () => {
    const ids = `${atmCall.instrumentId},${quiet.instrumentId},${front.instrumentId}`;
    const got = await range(server, { schema: "statistics", symbols: ids, start: s(session.openNs), end: s(chicagoNs(NOV19, 17)) });
    const ref = (date: string) => BigInt(Date.parse(`${date}T00:00:00Z`)) * 1_000_000n;
    const find = (id: number, type: number) => got.records.find((r) => r.hd.instrument_id === id && r.stat_type === type)!;
    expect(find(atmCall.instrumentId, 9)).toMatchObject({ ts_recv: chicagoNs(NOV19, 5), ts_ref: ref("2026-11-18"), quantity: BigInt(atmCall.openInterest) });
    expect(find(atmCall.instrumentId, 3)).toMatchObject({ ts_recv: chicagoNs(NOV19, 16, 30), ts_ref: ref(NOV19), price: BigInt(atmCall.settlement * 1e9) });
    expect(find(atmCall.instrumentId, 6)).toMatchObject({ ts_recv: chicagoNs(NOV19, 16, 45), ts_ref: ref(NOV19), quantity: 10n });
    expect(find(quiet.instrumentId, 6).quantity).toBe(0n);
    expect(find(front.instrumentId, 3).price).toBe(21_000_000_000_000n);
    expect(settlementPrice(front.instrumentId, NOV19)).toBe(21_000);
    expect(find(front.instrumentId, 6).quantity).toBe(BigInt(sessionVolume(front.instrumentId, NOV19)!));
    expect(find(front.instrumentId, 9).quantity).toBe(250_000n);
    expect(got.records.filter((r) => r.stat_type === 6)).toHaveLength(3);
  });

  it("206 partial fault: listed symbols in not_found / partial, their records left out, counts agree, clears after times", async () => {
    const form = { schema: "definition", symbols: "NQ.OPT,NQ.FUT", stype_in: "parent", start: `${NOV19}T00:00:00Z`, end: `${NOV19}T01:00:00Z` };
    server.setFault({ kind: "partial", times: 1 });
    const count = (await (await post(server, "metadata.get_record_count", { dataset: "GLBX.MDP3", ...form })).json()) as number;
    const got = await range(server, form);
    expect(got.status).toBe(206);
    expect(got.metadata.not_found).toEqual(["NQ.FUT"]);
    expect(got.records.some((r) => r.instrument_class === "F")).toBe(false);
    expect(got.records).toHaveLength(count);
    expect((await range(server, form)).status).toBe(200);
    // One symbol: partial, only the first half of the window delivered.
    server.setFault({ kind: "partial", times: 1 });
    const half = await range(server, { schema: "trades", symbols: String(front.instrumentId), start: s(session.openNs), end: s(session.closeNs) });
    expect(half.status).toBe(206);
    expect(half.metadata.partial).toEqual([String(front.instrumentId)]);
    const mid = session.openNs + (session.closeNs - session.openNs) / 2n;
    expect(half.records.length).toBeGreaterThan(0);
    expect(half.records.every((r) => r.ts_recv < mid)).toBe(true);
    server.setFault(null);
  });

  it("truncate and reset faults still cut the generated body", async () => {
    const form = { dataset: "GLBX.MDP3", stype_in: "instrument_id", encoding: "dbn", compression: "zstd", schema: "mbp-1", symbols: String(front.instrumentId), start: s(session.openNs), end: s(session.closeNs) };
    server.setFault({ kind: "truncate", keepFraction: 0.5, times: 1 });
    const cut = new Uint8Array(await (await post(server, "timeseries.get_range", form)).arrayBuffer());
    await expect(decodeDbn(cut)).rejects.toThrow();
    server.setFault({ kind: "reset", afterBytes: 1000, times: 1 });
    await expect(post(server, "timeseries.get_range", form).then((r) => r.arrayBuffer())).rejects.toThrow();
    server.setFault(null);
  });

  it("the request log carries billable bytes per get_range; spend() sums them; estimate() prices a naive plan", async () => {
    const since = server.requests.length;
    const plan = await range(server, { schema: "bbo-1m", symbols: "NQ.OPT,NQ.FUT", stype_in: "parent", start: s(session.closeNs - 15n * MIN), end: s(session.closeNs + 1n) });
    await post(server, "metadata.get_cost", { dataset: "GLBX.MDP3", schema: "bbo-1m", symbols: "NQ.OPT", stype_in: "parent", start: s(session.openNs), end: s(session.closeNs) });
    expect(server.requests[since]).toMatchObject({ status: 200, schema: "bbo-1m", billed: true, recordCount: plan.records.length, billableBytes: plan.records.length * 80 });
    expect(server.requests.at(-1)).toMatchObject({ billed: false, status: 200 });
    const spent = server.spend(since);
    expect(spent).toMatchObject({ requests: 1, billableBytes: plan.records.length * 80 });
    expect(spent.bySchema["bbo-1m"]!.costUsd).toBeCloseTo(((plan.records.length * 80) / 1e9) * DEFAULT_PRICES_USD_PER_GB["bbo-1m"], 12);
    const naive = { symbols: "NQ.OPT,NQ.FUT", stype_in: "parent", start: s(session.openNs), end: s(session.closeNs) };
    const mbp = server.estimate({ schema: "mbp-1", ...naive });
    const trades = server.estimate({ schema: "trades", ...naive });
    expect(mbp.billableBytes).toBe(mbp.recordCount * 80);
    expect(trades.billableBytes).toBe(trades.recordCount * 48);
    expect(mbp.costUsd + trades.costUsd).toBeGreaterThan(spent.costUsd * 10);
    expect(server.requests.length).toBe(since + 2); // estimate() sends nothing
  });

  it("nothing trades on a weekend; Monday's session starts Sunday 17:00 Chicago", async () => {
    const weekend = await range(server, { schema: "mbp-1", symbols: String(front.instrumentId), start: "2026-11-13T22:00:00Z", end: "2026-11-15T22:59:59Z" });
    expect(weekend.records).toHaveLength(0);
    const sunday = await range(server, { schema: "mbp-1", symbols: String(front.instrumentId), start: "2026-11-15T22:00:00Z", end: "2026-11-15T23:00:01Z" });
    expect(sunday.records.map((r) => r.ts_recv)).toEqual([tradeSession("2026-11-16").openNs + 500_000_000n]);
  });
});
