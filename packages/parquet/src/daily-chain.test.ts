import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { black76Price } from "@nq/core";
import {
  createMetadata,
  encodeDbn,
  layoutFor,
  RType,
  Schema,
  SType,
  UNDEF_PRICE,
  UNDEF_STAT_QUANTITY,
  UNDEF_TIMESTAMP,
  type DbnRecordV3,
  type InstrumentDefMsg,
  type Mbp1Msg,
  type StatMsg,
} from "@nq/dbn";
import { buildDailyChainTable } from "./daily-chain-writer.js";
import { queryRows, tempDir, withDuckDb } from "./test-support.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const px = (points: number): bigint => BigInt(Math.round(points * 4)) * 250_000_000n;

/** A v3 definition with every field at its null/zero value, then `fields`. */
function definition(id: number, fields: Partial<InstrumentDefMsg>): InstrumentDefMsg {
  const record: Record<string, unknown> = { hd: { length: 0, rtype: RType.InstrumentDef, publisher_id: 1, instrument_id: id, ts_event: ns("2024-06-04T00:00:00Z") } };
  for (const field of layoutFor(3, RType.InstrumentDef)!.fields) {
    const k = field.kind.type;
    if (k === "reserved") continue;
    record[field.name] = field.format === "px" ? UNDEF_PRICE : field.format === "ts" ? UNDEF_TIMESTAMP : field.format === "char" || k === "char" ? "\0" : k === "cstr" ? "" : k === "u64" || k === "i64" ? 0n : 0;
  }
  return { ...(record as unknown as InstrumentDefMsg), ts_recv: ns("2024-06-04T00:00:00Z"), security_update_action: "A", ...fields };
}

function stat(id: number, type: number, tsRecv: string, tsRef: string | null, value: { price?: number; quantity?: number }, updateAction = 1): StatMsg {
  return {
    hd: { length: 0, rtype: RType.Statistics, publisher_id: 1, instrument_id: id, ts_event: ns(tsRecv) },
    ts_recv: ns(tsRecv),
    ts_ref: tsRef === null ? UNDEF_TIMESTAMP : ns(tsRef),
    price: value.price === undefined ? UNDEF_PRICE : px(value.price),
    quantity: value.quantity === undefined ? UNDEF_STAT_QUANTITY : BigInt(value.quantity),
    sequence: 1,
    ts_in_delta: 0,
    stat_type: type,
    channel_id: 0,
    update_action: updateAction,
    stat_flags: 3,
  };
}

function quote(id: number, tsRecv: bigint, bid: number, ask: number): Mbp1Msg {
  return {
    hd: { length: 0, rtype: RType.Mbp1, publisher_id: 1, instrument_id: id, ts_event: tsRecv },
    price: UNDEF_PRICE, size: 0, action: "A", side: "B", flags: 0x80, depth: 0, ts_recv: tsRecv, ts_in_delta: 0, sequence: 1,
    levels: [{ bid_px: px(bid), ask_px: px(ask), bid_sz: 5, ask_sz: 7, bid_ct: 1, ask_ct: 1 }],
  };
}

function file(dir: string, name: string, schema: Schema, records: DbnRecordV3[]): string {
  const path = join(dir, name);
  writeFileSync(path, encodeDbn({ metadata: createMetadata({ dataset: "GLBX.MDP3", schema, stype_in: SType.Parent, stype_out: SType.InstrumentId }), records }, { zstd: true }));
  return path;
}

// Trade date 2024-06-04 (Tuesday): its session runs Mon 17:00 CDT (22:00Z) → Tue 16:00 CDT (21:00Z).
const D = "2024-06-04";
const CLOSE = "2024-06-04T21:00:00Z";
const EXPIRY = "2024-06-21T13:30:00Z"; // NQM4 quarterly options: 08:30 CT
const YEARS = (Date.parse(EXPIRY) - Date.parse(CLOSE)) / (365 * 86_400_000);
const F = 18_500;
const CALL_SETTLE = Math.round(black76Price({ future: F, strike: 18_000, years: YEARS, volatility: 0.22, rate: 0, right: "C" }) * 4) / 4;
const PUT_SETTLE = Math.round(black76Price({ future: F, strike: 18_000, years: YEARS, volatility: 0.24, rate: 0, right: "P" }) * 4) / 4;

describe("daily chain table on generated data", () => {
  it("settlement, OI, cleared volume, close bid/ask and IV per contract per trade date", async () => {
    const dir = tempDir("daily");
    dirs.push(dir);
    const option = (id: number, right: "C" | "P", strike: number) =>
      definition(id, { raw_symbol: `NQM4 ${right}${strike}`, instrument_class: right, strike_price: px(strike), expiration: ns(EXPIRY), underlying_id: 500, underlying: "NQM4", asset: "NQ", unit_of_measure: "IPNT", unit_of_measure_qty: 20_000_000_000n });
    const defs = file(dir, "def.dbn.zst", Schema.Definition, [
      definition(500, { raw_symbol: "NQM4", instrument_class: "F", expiration: ns("2024-06-21T13:30:00Z"), asset: "NQ" }),
      option(601, "C", 18_000),
      option(602, "P", 18_000),
      option(603, "C", 19_000),
    ]);
    const stats = file(dir, "stat.dbn.zst", Schema.Statistics, [
      stat(500, 3, "2024-06-04T21:20:00Z", `${D}T00:00:00Z`, { price: F }),
      stat(601, 3, "2024-06-04T21:15:00Z", `${D}T00:00:00Z`, { price: CALL_SETTLE + 5 }), // preliminary
      stat(601, 3, "2024-06-04T22:30:00Z", `${D}T00:00:00Z`, { price: CALL_SETTLE }), // final, received in the next session
      stat(601, 3, "2024-06-03T21:30:00Z", "2024-06-03T00:00:00Z", { price: 999 }), // the day before
      stat(601, 9, "2024-06-05T11:00:00Z", `${D}T00:00:00Z`, { quantity: 1234 }),
      stat(601, 6, "2024-06-05T11:00:00Z", `${D}T00:00:00Z`, { quantity: 56 }),
      stat(602, 3, "2024-06-04T21:25:00Z", `${D}T00:00:00Z`, { price: PUT_SETTLE }),
      stat(602, 9, "2024-06-05T11:00:00Z", `${D}T00:00:00Z`, { quantity: 4321 }),
      stat(603, 9, "2024-06-05T11:00:00Z", `${D}T00:00:00Z`, { quantity: 77 }),
      stat(603, 9, "2024-06-05T11:05:00Z", `${D}T00:00:00Z`, {}, 2), // deleted
    ]);
    const quotes = file(dir, "mbp1.dbn.zst", Schema.Mbp1, [
      quote(601, ns("2024-06-03T20:30:00Z"), 400, 410), // Monday 15:30 CDT: Monday's book at its close
      quote(601, ns("2024-06-03T21:30:00Z"), 450, 460), // Monday's daily break: after its close, so not its book
      quote(601, ns("2024-06-04T20:00:00Z"), 500, 505),
      quote(603, ns("2024-06-04T20:30:00Z"), 10, 11),
      quote(601, ns("2024-06-04T20:59:59Z"), 501, 506),
      quote(601, ns(CLOSE), 502, 507), // exactly at the close: still the book at the close
      quote(601, ns(CLOSE) + 1n, 600, 610), // after the close: not
    ]);

    const { rows, files } = await buildDailyChainTable({ inputs: [defs, stats, quotes], outDir: join(dir, "out") });

    const byKey = new Map(rows.map((r) => [`${r.tradeDate} ${r.symbol}`, r]));
    expect([...byKey.keys()].sort()).toEqual([`2024-06-03 NQM4 C18000`, `${D} NQM4 C18000`, `${D} NQM4 C19000`, `${D} NQM4 P18000`]);
    const call = byKey.get(`${D} NQM4 C18000`)!;
    expect(call).toMatchObject({ settlement: CALL_SETTLE, openInterest: 1234, clearedVolume: 56, closeBid: 502, closeAsk: 507, closeBidSize: 5, closeAskSize: 7, underlyingSettlement: F, ivReason: null, canonicalSymbol: "NQM4 C18000", root: "NQ" });
    // Independent check: Black-76 at the table's IV gives back the settlement.
    expect(black76Price({ future: F, strike: 18_000, years: YEARS, volatility: call.iv!, rate: 0, right: "C" })).toBeCloseTo(CALL_SETTLE, 6);
    expect(call.iv!).toBeGreaterThan(0.2);
    expect(call.iv!).toBeLessThan(0.24);
    const put = byKey.get(`${D} NQM4 P18000`)!;
    expect(put).toMatchObject({ settlement: PUT_SETTLE, openInterest: 4321, clearedVolume: null, closeBid: null, closeAsk: null, ivReason: null });
    expect(black76Price({ future: F, strike: 18_000, years: YEARS, volatility: put.iv!, rate: 0, right: "P" })).toBeCloseTo(PUT_SETTLE, 6);
    const far = byKey.get(`${D} NQM4 C19000`)!;
    expect(far).toMatchObject({ settlement: null, openInterest: null, closeBid: 10, closeAsk: 11, iv: null, ivReason: "no-price" });
    const monday = byKey.get(`2024-06-03 NQM4 C18000`)!;
    // Monday: a settlement of 999 but no future settlement that day → no IV, with the reason.
    expect(monday).toMatchObject({ settlement: 999, closeBid: 400, iv: null, ivReason: "no-underlying-price" });

    expect(files.map((f) => [f.schema, f.tradeDate, f.rows])).toEqual([
      ["chain-daily", "2024-06-03", 1],
      ["chain-daily", D, 3],
    ]);
    await withDuckDb(async (db) => {
      const list = files.map((f) => `'${f.path}'`).join(", ");
      const back = await queryRows(db, `SELECT trade_date::VARCHAR AS d, symbol, settlement::VARCHAR AS s, open_interest::VARCHAR AS oi, close_bid::VARCHAR AS bid, iv, iv_reason, epoch_ns(expiration)::VARCHAR AS exp, strike::VARCHAR AS k FROM read_parquet([${list}]) ORDER BY d, symbol`);
      expect(back.map((r) => [r.d, r.symbol, r.s, r.oi, r.bid, r.iv_reason, r.exp, r.k])).toEqual([
        ["2024-06-03", "NQM4 C18000", "999.000000000", null, "400.000000000", "no-underlying-price", String(ns(EXPIRY)), "18000.000000000"],
        [D, "NQM4 C18000", CALL_SETTLE.toFixed(9), "1234", "502.000000000", null, String(ns(EXPIRY)), "18000.000000000"],
        [D, "NQM4 C19000", null, null, "10.000000000", "no-price", String(ns(EXPIRY)), "19000.000000000"],
        [D, "NQM4 P18000", PUT_SETTLE.toFixed(9), "4321", null, null, String(ns(EXPIRY)), "18000.000000000"],
      ]);
      expect(back[1]!.iv).toBe(call.iv);
    });
    expect(readFileSync(files[0]!.path).subarray(0, 4).toString()).toBe("PAR1");
  });
});
