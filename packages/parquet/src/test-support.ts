/**
 * Test helpers: where Databento's real files are (never copied into the repo), a DuckDB reader for
 * the Parquet output, and the value a DBN record holds for a Parquet column, taken from @nq/dbn's
 * object decoder (the independent side of every read-back comparison).
 */
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { UNDEF_PRICE, UNDEF_STAT_QUANTITY, UNDEF_STAT_QUANTITY_V1, UNDEF_TIMESTAMP, type DbnRecord } from "@nq/dbn";
import type { ColumnSpec } from "./columns.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SHARED_DIR = process.env.NQ_SHARED_DIR ?? resolve(repoRoot, "../shared");
export const FIXTURE_DIR = join(SHARED_DIR, "fixtures", "databento");
export const HAVE_FIXTURES = existsSync(FIXTURE_DIR);
export const SKIP_REASON = `Databento fixtures not found at ${FIXTURE_DIR} (set NQ_SHARED_DIR); skipping the real-file Parquet tests`;

/** Every fixture file with metadata (fragments have none and are not convertible). */
export function listFixtureFiles(): string[] {
  if (!HAVE_FIXTURES) return [];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.includes(".dbn") && !entry.includes(".frag")) out.push(path);
    }
  };
  walk(FIXTURE_DIR);
  return out;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `nq-parquet-${prefix}-`));
}

export async function withDuckDb<T>(run: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  const connection = await instance.connect();
  try {
    return await run(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function queryRows(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjects() as Record<string, unknown>[];
}

/** SQL that reads a column back as the text of DBN's raw value (prices in 1e-9 units, timestamps in ns). */
export function rawValueSql(column: ColumnSpec): string {
  const id = `"${column.name}"`;
  if (column.kind === "px") return `${rawDecimalSql(id)} AS ${id}`;
  if (column.kind === "ts") return `epoch_ns(${id})::VARCHAR AS ${id}`;
  return `${id}::VARCHAR AS ${id}`;
}

/** The raw value of `column` in a decoded record, as text, or null where the Parquet column is null. */
export function recordValue(record: DbnRecord, column: ColumnSpec): string | null {
  const r = record as unknown as Record<string, unknown> & { hd: Record<string, unknown>; levels?: Record<string, unknown>[] };
  const level = /^(bid_px|ask_px|bid_sz|ask_sz|bid_ct|ask_ct|bid_pb|ask_pb)_(\d\d)$/.exec(column.name);
  const value = level ? r.levels![Number(level[2])]![level[1]!] : column.name in r.hd && column.name !== "ts_recv" ? r.hd[column.name] : r[column.name];
  if (column.kind === "px" && value === UNDEF_PRICE) return null;
  if (column.kind === "ts" && value === UNDEF_TIMESTAMP) return null;
  if (column.kind === "qty64" && value === UNDEF_STAT_QUANTITY) return null;
  if (column.kind === "qty32" && value === UNDEF_STAT_QUANTITY_V1) return null;
  if (column.kind === "char") return value === "\0" ? null : String(value);
  return String(value);
}

/** A DECIMAL(…,9) expression as the text of its 1e-9 integer (exact: no arithmetic on the value). */
export function rawDecimalSql(expression: string): string {
  return `replace(${expression}::VARCHAR, '.', '')::HUGEINT::VARCHAR`;
}
