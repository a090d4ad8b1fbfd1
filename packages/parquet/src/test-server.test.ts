/**
 * Files served by the local Databento server (@nq/source-databento's generated NQ market, on
 * 127.0.0.1): converted, read back with DuckDB and compared with the DBN decode; the daily chain table
 * checked against the generator's own formulas (settlement, open interest) and Black-76.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { black76Price } from "@nq/core";
import { decodeDbn, isBbo, isMbp1, isStat, isTrade, type DbnRecord } from "@nq/dbn";
import { generateDay, settlementPrice, startLocalDatabentoServer, type LocalDatabentoServer } from "@nq/source-databento/test-server";
import { convertDbnToParquet } from "./convert.js";
import { foldDailyChain } from "./daily-chain.js";
import { rawDecimalSql, queryRows, tempDir, withDuckDb } from "./test-support.js";

const KEY = "db-ParquetKeyZx81vQ0pLm4tRe7uYw2Q";
const CONTRACTS = 40;
const D = "2026-11-19"; // Thursday: its session opens Wed 17:00 CST (23:00Z); its OI is published Fri 05:00 CT
const WINDOW = { start: "2026-11-18T23:00:00Z", end: "2026-11-20T12:00:00Z" };
const SCHEMAS = ["definition", "statistics", "mbp-1", "bbo-1m", "trades"] as const;

let server: LocalDatabentoServer;
let dir: string;
const files = new Map<string, string>();

beforeAll(async () => {
  server = await startLocalDatabentoServer({ contracts: CONTRACTS, apiKeys: [KEY] });
  dir = tempDir("server");
  for (const schema of SCHEMAS) {
    const res = await fetch(`${server.url}/v0/timeseries.get_range`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${KEY}:`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ dataset: "GLBX.MDP3", symbols: "ALL_SYMBOLS", stype_in: "raw_symbol", schema, encoding: "dbn", compression: "zstd", ...WINDOW }).toString(),
    });
    expect(res.status).toBe(200);
    const path = join(dir, `${schema}.dbn.zst`);
    writeFileSync(path, new Uint8Array(await res.arrayBuffer()));
    files.set(schema, path);
  }
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const indexTs = (r: DbnRecord): bigint => ("ts_recv" in r ? (r.ts_recv as bigint) : r.hd.ts_event);

describe("the local Databento server's files, converted", () => {
  it.each(SCHEMAS)("%s: DuckDB's count, sums and min/max ts_recv equal the DBN decode's", async (schema) => {
    const input = files.get(schema)!;
    const { records } = await decodeDbn(input);
    const result = await convertDbnToParquet({ input, outDir: join(dir, "out") });
    expect(records.length).toBeGreaterThan(0);
    expect(result.rows).toBe(records.length);
    const priced = records.filter((r) => isMbp1(r) || isBbo(r) || isTrade(r) || isStat(r)) as unknown as { price: bigint }[];
    const UNDEF = 9_223_372_036_854_775_807n;
    const expected = {
      n: String(records.length),
      lo: String(records.reduce((m, r) => (indexTs(r) < m ? indexTs(r) : m), indexTs(records[0]!))),
      hi: String(records.reduce((m, r) => (indexTs(r) > m ? indexTs(r) : m), indexTs(records[0]!))),
      ids: String(records.reduce((s, r) => s + BigInt(r.hd.instrument_id), 0n)),
      price: schema === "definition" ? null : String(priced.reduce((s, r) => (r.price === UNDEF ? s : s + r.price), 0n)),
    };
    await withDuckDb(async (db) => {
      const list = result.files.map((f) => `'${f.path}'`).join(", ");
      const [row] = await queryRows(
        db,
        `SELECT count(*)::VARCHAR AS n, epoch_ns(min(ts_recv))::VARCHAR AS lo, epoch_ns(max(ts_recv))::VARCHAR AS hi, sum(instrument_id)::VARCHAR AS ids,
                ${schema === "definition" ? "NULL" : rawDecimalSql("sum(price)")} AS price FROM read_parquet([${list}])`,
      );
      expect(row).toEqual(expected);
    });
  });

  it("the daily chain of a served day: settlement and open interest are the generator's, the IV reprices the settlement", async () => {
    const rows = (await foldDailyChain({ inputs: [files.get("definition")!, files.get("statistics")!, files.get("mbp-1")!] })).filter((r) => r.tradeDate === D);
    expect(rows.length).toBeGreaterThan(10);
    const nextDay = generateDay("2026-11-20", CONTRACTS);
    let priced = 0;
    let oiChecked = 0;
    for (const row of rows) {
      expect(row.settlement).toBe(settlementPrice(row.instrumentId, D, { contracts: CONTRACTS }));
      expect(row.underlyingSettlement).toBe(settlementPrice(row.underlyingId, D, { contracts: CONTRACTS }));
      const published = nextDay.byId.get(row.instrumentId);
      if (published && published.kind === "option") {
        expect(row.openInterest).toBe(published.openInterest);
        oiChecked++;
      }
      if (row.iv !== null) {
        priced++;
        const years = (Number(row.expirationNs! / 1_000_000n) - Date.parse("2026-11-19T22:00:00Z")) / (365 * 86_400_000);
        expect(black76Price({ future: row.underlyingSettlement!, strike: Number(row.strikeRaw) / 1e9, years, volatility: row.iv, rate: 0, right: row.right })).toBeCloseTo(row.settlement!, 6);
      } else {
        expect(row.ivReason).not.toBeNull();
      }
    }
    expect(priced).toBeGreaterThan(rows.length / 2);
    expect(oiChecked).toBeGreaterThan(rows.length / 2);
  });
});
