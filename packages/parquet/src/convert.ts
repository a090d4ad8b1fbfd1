/**
 * DBN file → Parquet files, one per CME trade date, written by DuckDB in one streaming pass.
 *
 * DuckDB pulls the records through a table function (`DbnColumnScan`), joins each row's symbol id to
 * the symbols named in the file's metadata, and writes zstd-compressed Parquet into a temporary
 * folder inside `outDir`: one COPY per run of records with the same trade date (Databento's files are
 * in time order, so that is one per trade date; records out of order start another file for their
 * date). Each COPY streams row group by row group, so memory does not grow with the input. Only when
 * every COPY has finished are the files fsynced and renamed to their final names, so a failed or
 * interrupted conversion leaves no Parquet file under a final name (a previous run's complete files
 * stay as they were).
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { type DuckDBConnection, DuckDBInstance, DuckDBTableFunction, DuckDBTypeId, ENUM, type DuckDBEnumType, type DuckDBType, BIGINT, DATE, DECIMAL, INTEGER, SMALLINT, TIMESTAMP_NS, TINYINT, UBIGINT, UINTEGER, USMALLINT, UTINYINT, VARCHAR } from "@duckdb/node-api";
import { DbnDecodeError, schemaName, schemaRType, type Metadata, type ZstdBackend } from "@nq/dbn";
import { CHARACTER_VALUES, KIND_SCAN_TYPE, quoteIdent, recordColumns, type RecordColumns } from "./columns.js";
import { DbnColumnScan, readDbnMetadata } from "./dbn-scan.js";
import { ParquetConvertError } from "./errors.js";
import { SymbolTable } from "./symbols.js";
import { dateOfDays, TradeDateClock } from "./trade-date.js";

export interface ConvertOptions {
  /** A `.dbn` or `.dbn.zst` file (zstd is detected from the bytes, not the name). */
  input: string;
  /** Files go to `<outDir>/<schema>/trade_date=<YYYY-MM-DD>/<fileStem>.parquet`. */
  outDir: string;
  /** Default: the input's name without `.dbn`/`.dbn.zst`. Two inputs of one schema need distinct stems. */
  fileStem?: string;
  /**
   * Rows per Parquet row group (default 122,880, DuckDB's own: large enough for scans and zone maps,
   * small enough that the writer's buffer, one row group per open trade date, stays flat).
   */
  rowGroupRows?: number;
  /**
   * zstd level of the Parquet pages (default 1: about 20% less CPU than level 3 in the benchmark,
   * for slightly larger files; 3 is DuckDB's default).
   */
  compressionLevel?: number;
  /**
   * Parquet format version. "v2" (default) writes DataPageV2 pages with DELTA encodings: 2–3× less
   * CPU to write and much smaller for timestamps and sequence numbers; read by DuckDB, Arrow/pyarrow,
   * Polars, Trino and Spark ≥ 3.3. "v1" for older readers.
   */
  parquetVersion?: "v1" | "v2";
  /**
   * The most distinct values a column may have in a row group and still be dictionary-encoded
   * (default `DEFAULT_DICTIONARY_SIZE_LIMIT`, 4,096; DuckDB's own is a fifth of the row group). DuckDB
   * builds a dictionary for every column of every row group until the limit is passed, so a column of
   * timestamps or sequence numbers costs a hash-table insert per row up to the limit and a table sized
   * for it: measured ~17% of the conversion's CPU at DuckDB's default, with byte-identical files on
   * the benchmark's data. Columns with more distinct values get DELTA (v2) or PLAIN (v1) pages instead;
   * raise it to keep dictionaries for, say, instrument ids of a very wide chain.
   */
  dictionarySizeLimit?: number;
  /** DuckDB worker threads (default 1: the conversion's own core). */
  threads?: number;
  /** DuckDB memory limit (default "256MB"); the write streams, so this bounds buffering only. */
  memoryLimit?: string;
  /** zstd decompression backend for @nq/dbn (default: its default, native when installed). */
  zstdBackend?: ZstdBackend;
}

export interface ConvertedFile {
  /** Absolute or outDir-relative path, as `outDir` was given. */
  path: string;
  /** Databento schema name, e.g. `mbp-1`, `definition`. */
  schema: string;
  /** CME trade date (YYYY-MM-DD) of every row in the file. */
  tradeDate: string;
  rows: number;
  bytes: number;
}

export interface ConvertResult {
  files: ConvertedFile[];
  schema: string;
  dataset: string;
  /** DBN version of the input (columns follow that version's record layout). */
  dbnVersion: number;
  /** Rows written (= records of the schema's record type). */
  rows: number;
  /** Records of other types (symbol mappings, system or error messages): counted, not written. */
  skippedRecords: number;
  /** Decompressed DBN bytes read (metadata included). */
  dbnBytes: number;
  /** Bytes of the input file. */
  inputBytes: number;
}

export const DEFAULT_ROW_GROUP_ROWS = 122_880;
export const DEFAULT_COMPRESSION_LEVEL = 1;
export const DEFAULT_DICTIONARY_SIZE_LIMIT = 4096;
const SCAN_FUNCTION = "nq_dbn_scan";
/** COPY statements in the first query (a daily file usually spans two trade dates); later batches double, up to the max. */
const COPY_BATCH = 4;
const MAX_COPY_BATCH = 64;

/** The key-value metadata every file carries, so a reader needs no README to interpret the columns. */
export const PARQUET_KV_METADATA = {
  nq_timestamps: "UTC nanoseconds since the epoch (TIMESTAMP(NANOS); DuckDB, which wrote it, keeps nanoseconds only without the isAdjustedToUTC flag)",
  nq_prices: "DECIMAL(18,9): DBN's 1e-9 fixed-point integers unchanged; NULL where DBN has UNDEF_PRICE",
  nq_trade_date: "CME trade date: America/Chicago, a session opening at 17:00 CT belongs to the next date",
  nq_symbol: "raw symbol from the DBN metadata's symbology (instrument_id + UTC date); canonical_symbol from @nq/core where it reads it",
} as const;

/** Converts one DBN file to Parquet files per trade date; see the README for the columns. */
export async function convertDbnToParquet(options: ConvertOptions): Promise<ConvertResult> {
  const session = await openParquetSession(options);
  try {
    return await session.convert(options);
  } finally {
    session.close();
  }
}

export interface ParquetSessionOptions {
  /** DuckDB worker threads (default 1: the conversion's own core). */
  threads?: number;
  /** DuckDB memory limit (default "256MB"); the write streams, so this bounds buffering only. */
  memoryLimit?: string;
}

/**
 * One DuckDB instance for many conversions, one after another (a backfill's daily files). A new instance
 * per file costs its start-up and, above all, its first row groups on fresh memory: measured ~1.25× the
 * CPU per 100 MB file against files 2…5 of one session. `threads` and `memoryLimit` are the session's;
 * the same fields of each conversion's options are not used.
 */
export interface ParquetSession {
  convert(options: ConvertOptions): Promise<ConvertResult>;
  /** Safe to call twice; conversions after it are refused. */
  close(): void;
}

/** What the scan function serves while a conversion runs; DuckDB calls it by name from the COPY. */
interface ActiveScan {
  plan: RecordColumns;
  symbolType: DuckDBEnumType;
  canonicalType: DuckDBEnumType;
  scan: DbnColumnScan;
  /** One entry per COPY statement run so far: its trade date (null once the input has ended) and its rows. */
  started: { day: number | null; rows: number }[];
  error: unknown;
}

export async function openParquetSession(options: ParquetSessionOptions = {}): Promise<ParquetSession> {
  const spill = mkdtempSync(join(tmpdir(), "nq-parquet-spill-"));
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(":memory:", {
      threads: String(options.threads ?? 1),
      memory_limit: options.memoryLimit ?? "256MB",
      temp_directory: spill,
    });
  } catch (error) {
    rmSync(spill, { recursive: true, force: true });
    throw error;
  }
  const connection = await instance.connect();
  let active: ActiveScan | null = null;
  let closed = false;
  const current = (): ActiveScan => {
    if (!active) throw new Error(`${SCAN_FUNCTION} was called with no conversion running`);
    return active;
  };
  connection.registerTableFunction(
    DuckDBTableFunction.create({
      name: SCAN_FUNCTION,
      bindFunction: (info) => {
        const a = current();
        for (const column of a.plan.columns) info.addResultColumn(column.name, duckType(KIND_SCAN_TYPE[column.kind]));
        info.addResultColumn("symbol", a.symbolType);
        info.addResultColumn("canonical_symbol", a.canonicalType);
        info.addResultColumn("trade_date", DATE);
      },
      // A statement's trade date is the next row's, read when DuckDB initialises it.
      initFunction: (info) => {
        const a = current();
        try {
          a.started.push({ day: a.error ? null : a.scan.nextTradeDay(), rows: 0 });
        } catch (error) {
          a.error = error;
          a.started.push({ day: null, rows: 0 });
          info.setError(error instanceof Error ? error.message : String(error));
        }
      },
      mainFunction: (info, output) => {
        const a = current();
        const segment = a.started[a.started.length - 1];
        if (a.error || !segment || segment.day === null) {
          output.rowCount = 0;
          return;
        }
        try {
          const n = a.scan.emit(output.chunk, segment.day);
          segment.rows += n;
          output.rowCount = n;
        } catch (error) {
          a.error = error;
          output.rowCount = 0;
          info.setError(error instanceof Error ? error.message : String(error));
        }
      },
    }),
  );
  return {
    async convert(convertOptions) {
      if (closed) throw new Error("this Parquet session is closed: open another");
      if (active) throw new Error("a Parquet session converts one file at a time: wait for the previous conversion, or open another session");
      return convertInSession(convertOptions, connection, (scan) => (active = scan), () => (active = null));
    },
    close() {
      if (closed) return;
      closed = true;
      connection.closeSync();
      instance.closeSync();
      rmSync(spill, { recursive: true, force: true });
    },
  };
}

async function convertInSession(options: ConvertOptions, connection: DuckDBConnection, activate: (scan: ActiveScan) => void, deactivate: () => void): Promise<ConvertResult> {
  const { input, outDir } = options;
  let inputBytes: number;
  try {
    inputBytes = statSync(input).size;
  } catch (error) {
    throw new ParquetConvertError("bad_input", `${input}: cannot read the input file (${(error as Error).message})`, { cause: error });
  }
  const metadata = decoding(input, () => readDbnMetadata(input, options.zstdBackend));
  const { schema, rtype, plan } = schemaOf(input, metadata);
  const stem = options.fileStem ?? stemOf(input);
  if (!/^[^/\\]+$/.test(stem) || stem.startsWith(".")) throw new ParquetConvertError("bad_input", `fileStem must be a plain file name, got ${JSON.stringify(stem)}`);

  mkdirSync(outDir, { recursive: true });
  const tmpDir = join(outDir, `.nq-parquet-${randomBytes(6).toString("hex")}.tmp`);
  const symbols = new SymbolTable(metadata);
  // Symbols reach DuckDB as ENUM indexes: no per-row string, and no join (which buffered its input).
  const symbolValues = symbols.entries.map((e) => e.symbol);
  const canonicalValues = [...new Set(symbols.entries.flatMap((e) => (e.canonical === null ? [] : [e.canonical])))];
  const canonicalIndex = new Map(canonicalValues.map((v, i) => [v, i]));
  const symbolType = ENUM(symbolValues.length > 0 ? symbolValues : [""]);
  const canonicalType = ENUM(canonicalValues.length > 0 ? canonicalValues : [""]);
  const symbolColumns = {
    symbolWidth: enumWidth(symbolType),
    canonicalWidth: enumWidth(canonicalType),
    canonicalOf: Int32Array.from(symbols.entries, (e) => (e.canonical === null ? -1 : canonicalIndex.get(e.canonical)!)),
  };
  const scan = new DbnColumnScan({ path: input, rtype, plan, symbols, symbolColumns, clock: new TradeDateClock(), ...(options.zstdBackend ? { zstdBackend: options.zstdBackend } : {}) });
  const state: ActiveScan = { plan, symbolType, canonicalType, scan, started: [], error: null };
  activate(state);
  try {
    mkdirSync(tmpDir);
    const select = [...plan.columns.map((c) => `s.${quoteIdent(c.name)}`), `s.symbol`, `s.canonical_symbol`, `s.trade_date`].join(", ");
    const kv = { ...PARQUET_KV_METADATA, nq_schema: schema, nq_dataset: metadata.dataset, nq_dbn_version: String(metadata.version), nq_source_file: basename(input) };
    const copyOptions = [
      "FORMAT parquet",
      "COMPRESSION zstd",
      `COMPRESSION_LEVEL ${integerOption(options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL, "compressionLevel", 1, 22)}`,
      `ROW_GROUP_SIZE ${integerOption(options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS, "rowGroupRows", 1024, 1 << 30)}`,
      `PARQUET_VERSION ${options.parquetVersion === "v1" ? "v1" : "v2"}`,
      `DICTIONARY_SIZE_LIMIT ${integerOption(options.dictionarySizeLimit ?? DEFAULT_DICTIONARY_SIZE_LIMIT, "dictionarySizeLimit", 1, 1 << 30)}`,
      `KV_METADATA {${Object.entries(kv).map(([k, v]) => `${k}: ${sqlString(v)}`).join(", ")}}`,
    ].join(", ");
    // The COPY statements (one per trade date) go to DuckDB in batches, each batch one query: DuckDB
    // runs a query's statements one after another on one thread, so the memory the Parquet writer
    // allocated for one date is reused for the next. Each query can land on another of Node's pool
    // threads, and a thread's first row group costs its allocator arenas fresh pages: measured
    // ~250 ms of CPU on a 100 MB, three-date file when each date was its own query. A statement
    // started after the input ended writes an empty file, which is dropped with the temp folder.
    const segments: Segment[] = [];
    const segmentPath = (index: number) => join(tmpDir, `segment-${index}.parquet`);
    for (let batch = COPY_BATCH; decoding(input, () => scan.nextTradeDay()) !== null; batch = Math.min(batch * 2, MAX_COPY_BATCH)) {
      const first = state.started.length;
      const statements = Array.from({ length: batch }, (_, i) => `COPY (SELECT ${select} FROM ${SCAN_FUNCTION}() s) TO ${sqlString(segmentPath(first + i))} (${copyOptions})`);
      try {
        await connection.run(statements.join(";\n"));
      } catch (error) {
        throw failure(input, state.error ?? error);
      }
      if (state.error) throw failure(input, state.error);
      for (let index = first; index < state.started.length; index++) {
        const { day, rows } = state.started[index]!;
        if (day !== null && rows > 0) segments.push({ path: segmentPath(index), tradeDate: dateOfDays(day), rows });
      }
    }
    const files = publish(segments, outDir, schema, stem);
    return {
      files,
      schema,
      dataset: metadata.dataset,
      dbnVersion: metadata.version,
      rows: scan.rows,
      skippedRecords: scan.skipped,
      dbnBytes: scan.dbnBytes,
      inputBytes,
    };
  } finally {
    deactivate();
    scan.close();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

function decoding<T>(input: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw failure(input, error);
  }
}

function failure(input: string, error: unknown): ParquetConvertError {
  if (error instanceof ParquetConvertError) return error;
  if (error instanceof DbnDecodeError) {
    return new ParquetConvertError("bad_input", `${input}: not valid DBN (${error.code} at byte ${error.offset}): ${error.message}`, { cause: error });
  }
  return new ParquetConvertError("write_failed", `${input}: writing Parquet failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

function schemaOf(input: string, metadata: Metadata): { schema: string; rtype: number; plan: RecordColumns } {
  if (metadata.schema === null) {
    throw new ParquetConvertError("mixed_schema", `${input}: the DBN metadata names no schema (a mixed-schema file); expected one schema per file, as Databento's batch files are`);
  }
  const schema = schemaName(metadata.schema);
  if (schema === undefined) throw new ParquetConvertError("unsupported_schema", `${input}: unknown DBN schema code ${metadata.schema}`);
  const rtype = schemaRType(metadata.schema);
  try {
    return { schema, rtype, plan: recordColumns(metadata.version, rtype) };
  } catch (error) {
    throw new ParquetConvertError("unsupported_schema", `${input}: schema ${schema} (DBN v${metadata.version}) has no Parquet table: ${(error as Error).message}`, { cause: error });
  }
}

function stemOf(input: string): string {
  return basename(input).replace(/\.zst$/i, "").replace(/\.dbn$/i, "") || "data";
}

/** A Parquet file DuckDB finished in the temp folder: rows of one trade date. */
export interface Segment {
  path: string;
  tradeDate: string;
  rows: number;
}

/**
 * Moves finished files to `<outDir>/<schema>/trade_date=<date>/<stem>.parquet` (`<stem>.<n>.parquet`
 * when one date has several), each fsynced before its rename and its folder after.
 */
export function publish(segments: Segment[], outDir: string, schema: string, stem: string): ConvertedFile[] {
  const perDate = new Map<string, number>();
  for (const s of segments) perDate.set(s.tradeDate, (perDate.get(s.tradeDate) ?? 0) + 1);
  const seen = new Map<string, number>();
  const moves = segments.map((segment) => {
    const index = seen.get(segment.tradeDate) ?? 0;
    seen.set(segment.tradeDate, index + 1);
    const dir = join(outDir, schema, `trade_date=${segment.tradeDate}`);
    return { ...segment, dir, to: join(dir, `${stem}${perDate.get(segment.tradeDate)! > 1 ? `.${index}` : ""}.parquet`) };
  });
  for (const move of moves) syncFile(move.path);
  const files: ConvertedFile[] = [];
  for (const move of moves) {
    mkdirSync(move.dir, { recursive: true });
    renameSync(move.path, move.to);
    syncFile(move.dir);
    files.push({ path: move.to, schema, tradeDate: move.tradeDate, rows: move.rows, bytes: statSync(move.to).size });
  }
  return files.sort((a, b) => (a.tradeDate < b.tradeDate ? -1 : a.tradeDate > b.tradeDate ? 1 : a.path < b.path ? -1 : 1));
}

function syncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

let characterEnum: DuckDBEnumType | undefined;

function duckType(name: string): DuckDBType {
  switch (name) {
    case "UTINYINT": return UTINYINT;
    case "TINYINT": return TINYINT;
    case "USMALLINT": return USMALLINT;
    case "SMALLINT": return SMALLINT;
    case "UINTEGER": return UINTEGER;
    case "INTEGER": return INTEGER;
    case "UBIGINT": return UBIGINT;
    case "BIGINT": return BIGINT;
    case "DECIMAL(18,9)": return DECIMAL(18, 9);
    case "TIMESTAMP_NS": return TIMESTAMP_NS;
    case "VARCHAR": return VARCHAR;
    case "CHAR_ENUM": return (characterEnum ??= ENUM([...CHARACTER_VALUES]));
    default: throw new RangeError(`no DuckDB type for ${name}`);
  }
}

function enumWidth(type: DuckDBEnumType): number {
  return type.internalTypeId === DuckDBTypeId.UTINYINT ? 1 : type.internalTypeId === DuckDBTypeId.USMALLINT ? 2 : 4;
}

function integerOption(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name}: expected an integer in [${min}, ${max}], got ${value}`);
  return value;
}

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

