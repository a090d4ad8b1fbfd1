/**
 * Writes the daily chain table as Parquet, one file per trade date, with the converter's conventions
 * (DECIMAL(18,9) prices, TIMESTAMP_NS, zstd, temp folder then rename): `<outDir>/chain-daily/
 * trade_date=<YYYY-MM-DD>/<fileStem>.parquet`.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { publish, sqlString, type ConvertedFile, type Segment } from "./convert.js";
import { decimalText, foldDailyChain, type DailyChainFoldOptions, type DailyChainRow } from "./daily-chain.js";
import { ParquetConvertError } from "./errors.js";

export const DAILY_CHAIN_SCHEMA = "chain-daily";

export interface DailyChainOptions extends DailyChainFoldOptions {
  outDir: string;
  /** Default `chain`. */
  fileStem?: string;
}

/** Folds the DBN inputs into the daily chain table and writes it; returns the files and the rows. */
export async function buildDailyChainTable(options: DailyChainOptions): Promise<{ files: ConvertedFile[]; rows: DailyChainRow[] }> {
  const rows = await foldDailyChain(options);
  const files = await writeDailyChain(rows, options.outDir, options.fileStem ?? "chain");
  return { files, rows };
}

const COLUMNS: [string, string, (r: DailyChainRow) => string | null][] = [
  ["trade_date", "DATE", (r) => r.tradeDate],
  ["instrument_id", "UINTEGER", (r) => String(r.instrumentId)],
  ["symbol", "VARCHAR", (r) => r.symbol],
  ["canonical_symbol", "VARCHAR", (r) => r.canonicalSymbol],
  ["root", "VARCHAR", (r) => r.root],
  ["underlying", "VARCHAR", (r) => r.underlying],
  ["underlying_id", "UINTEGER", (r) => String(r.underlyingId)],
  ["expiration", "TIMESTAMP_NS", (r) => (r.expirationNs === null ? null : String(r.expirationNs))],
  ["strike", "DECIMAL(18,9)", (r) => decimalText(Number(r.strikeRaw) / 1e9)],
  ["right", "VARCHAR", (r) => r.right],
  ["settlement", "DECIMAL(18,9)", (r) => decimalText(r.settlement)],
  ["open_interest", "BIGINT", (r) => (r.openInterest === null ? null : String(r.openInterest))],
  ["cleared_volume", "BIGINT", (r) => (r.clearedVolume === null ? null : String(r.clearedVolume))],
  ["close_bid", "DECIMAL(18,9)", (r) => decimalText(r.closeBid)],
  ["close_ask", "DECIMAL(18,9)", (r) => decimalText(r.closeAsk)],
  ["close_bid_size", "UINTEGER", (r) => (r.closeBidSize === null ? null : String(r.closeBidSize))],
  ["close_ask_size", "UINTEGER", (r) => (r.closeAskSize === null ? null : String(r.closeAskSize))],
  ["close_quote_ts", "TIMESTAMP_NS", (r) => (r.closeQuoteNs === null ? null : String(r.closeQuoteNs))],
  ["underlying_settlement", "DECIMAL(18,9)", (r) => decimalText(r.underlyingSettlement)],
  ["iv", "DOUBLE", (r) => (r.iv === null ? null : String(r.iv))],
  ["iv_reason", "VARCHAR", (r) => r.ivReason],
];

async function writeDailyChain(rows: DailyChainRow[], outDir: string, stem: string): Promise<ConvertedFile[]> {
  mkdirSync(outDir, { recursive: true });
  const tmpDir = join(outDir, `.nq-parquet-${randomBytes(6).toString("hex")}.tmp`);
  mkdirSync(tmpDir);
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  try {
    const connection = await instance.connect();
    try {
      // Staged as text, cast in SQL: exact for decimals (no float on the way) and ns timestamps.
      await connection.run(`CREATE TABLE chain (${COLUMNS.map(([name]) => `"${name}" VARCHAR`).join(", ")})`);
      const appender = await connection.createAppender("chain");
      for (const row of rows) {
        for (const [, , value] of COLUMNS) {
          const text = value(row);
          if (text === null) appender.appendNull();
          else appender.appendVarchar(text);
        }
        appender.endRow();
      }
      appender.closeSync();
      const select = COLUMNS.map(([name, type]) =>
        type === "TIMESTAMP_NS" ? `make_timestamp_ns("${name}"::BIGINT) AS "${name}"` : `"${name}"::${type} AS "${name}"`,
      ).join(", ");
      const counts = new Map<string, number>();
      for (const row of rows) counts.set(row.tradeDate, (counts.get(row.tradeDate) ?? 0) + 1);
      const segments: Segment[] = [];
      for (const [tradeDate, count] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const path = join(tmpDir, `chain-${tradeDate}.parquet`);
        try {
          await connection.run(
            `COPY (SELECT ${select} FROM chain WHERE "trade_date" = ${sqlString(tradeDate)}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {nq_table: 'daily NQ options chain: one row per contract per CME trade date', nq_prices: 'DECIMAL(18,9)', nq_iv: 'Black-76 from settlement and the underlying future settlement, ACT/365 from the session close to expiration'})`,
          );
        } catch (error) {
          throw new ParquetConvertError("write_failed", `writing the daily chain table for ${tradeDate} failed: ${(error as Error).message}`, { cause: error });
        }
        segments.push({ path, tradeDate, rows: count });
      }
      return publish(segments, outDir, DAILY_CHAIN_SCHEMA, stem);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
