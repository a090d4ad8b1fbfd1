/**
 * A synchronous, bounded reader that turns a DBN file's records into column buffers for DuckDB.
 *
 * DuckDB pulls data from a table function one chunk (2,048 rows) at a time and waits for the answer,
 * so the reading here is synchronous: the file is read in pieces, zstd is inflated one block at a
 * time by @nq/dbn's bounded `ZstdStreamDecoder` (native libzstd when @nq/dbn has it, fzstd
 * otherwise), and @nq/dbn's `DbnParser` hands each record's bytes to a visitor that copies the fields
 * into per-column buffers. A piece is only read when fewer than one chunk of rows is waiting, so the
 * buffers hold at most one chunk plus one inflated block of records, whatever the file's size. The
 * scan stops at each change of trade date, so each DuckDB COPY it feeds holds one trade date.
 *
 * Fixed-width fields are copied as they are (DBN and DuckDB are both little-endian, and DuckDB's
 * DECIMAL(18,9) and TIMESTAMP_NS are int64 underneath), with the DBN null sentinels turned into
 * DuckDB nulls; a one-character field becomes a two-byte index into the characters' ENUM. The copy is
 * code generated per record layout (`compileRowWriter`), and a column with no null in a chunk gets an
 * all-valid mask without a per-row loop.
 */
import { closeSync, openSync, readSync } from "node:fs";
import duckdb from "@duckdb/node-bindings";
import { DbnParser, isZstd, ZstdStreamDecoder, type Metadata, type ZstdBackend } from "@nq/dbn";
import { isNullable, KIND_WIDTH, type RecordColumns } from "./columns.js";
import { ParquetConvertError } from "./errors.js";
import { NO_SYMBOL, type SymbolTable } from "./symbols.js";
import type { TradeDateClock } from "./trade-date.js";

/** DuckDB's vector size: rows per chunk a table function returns. */
export const CHUNK_ROWS = 2048;
const READ_BYTES = 256 * 1024;
const TWO_32 = 4_294_967_296;

/** Copies one record's fields into the staging buffers at `row`. */
type RowWriter = (view: DataView, offset: number, bytes: Uint8Array, row: number) => void;

/** Reads DBN metadata only (the records behind it are not visited). */
export function readDbnMetadata(path: string, zstdBackend?: ZstdBackend): Metadata {
  const source = new ByteSource(path, zstdBackend);
  let metadata: Metadata | null = null;
  const parser = new DbnParser((m) => (metadata = m), () => false);
  parser.holdRecords = true;
  try {
    for (;;) {
      const piece = source.next();
      if (piece === null) break;
      parser.push(piece);
      if (metadata) return metadata;
    }
    parser.finish();
  } finally {
    source.close();
  }
  throw new ParquetConvertError("bad_input", `${path}: the input ended before its DBN metadata was complete`);
}

/** File bytes, inflated when the file is zstd (detected from the magic bytes), one bounded piece at a time. */
class ByteSource {
  private readonly fd: number;
  /**
   * Two read buffers used in turn: the parser may keep a view of the last piece (the record cut by its
   * end) until the next push, never longer, so the other buffer is always free to read into. No
   * per-read allocation: a fresh 256 KiB array per read was most of the garbage collector's work.
   */
  private readonly buffers = [new Uint8Array(READ_BYTES), new Uint8Array(READ_BYTES)];
  private turn = 0;
  private zstd: ZstdStreamDecoder | null = null;
  private pieces: Iterator<Uint8Array> | null = null;
  private started = false;
  private eof = false;
  /** Compressed bytes read from the file. */
  bytesRead = 0;

  constructor(
    readonly path: string,
    private readonly zstdBackend?: ZstdBackend,
  ) {
    this.fd = openSync(path, "r");
  }

  /** The next decompressed piece, or null at the end of the file. */
  next(): Uint8Array | null {
    for (;;) {
      if (this.pieces) {
        const step = this.pieces.next();
        if (!step.done) return step.value;
        this.pieces = null;
      }
      if (this.eof) return null;
      const buffer = this.buffers[this.turn]!;
      this.turn ^= 1;
      const n = readSync(this.fd, buffer, 0, READ_BYTES, null);
      this.bytesRead += n;
      if (n === 0) this.eof = true;
      if (!this.started) {
        this.started = true;
        if (n >= 4 && isZstd(buffer.subarray(0, n))) this.zstd = new ZstdStreamDecoder(this.zstdBackend ? { backend: this.zstdBackend } : {});
      }
      if (!this.zstd) {
        if (n === 0) return null;
        return buffer.subarray(0, n);
      }
      // The zstd decoder may hold on to input across calls: it gets its own copy.
      this.pieces = this.zstd.decode(buffer.slice(0, n), this.eof)[Symbol.iterator]();
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** How the symbol columns are handed to DuckDB: as ENUM indexes of `width` bytes. */
export interface SymbolColumns {
  /** Bytes per ENUM index of the symbol column (1, 2 or 4, from DuckDB's choice for the value count). */
  symbolWidth: number;
  canonicalWidth: number;
  /** Canonical ENUM index per symbol id; -1 where the symbol has no canonical form. */
  canonicalOf: Int32Array;
}

export interface ScanOptions {
  path: string;
  symbolColumns: SymbolColumns;
  rtype: number;
  plan: RecordColumns;
  symbols: SymbolTable;
  clock: TradeDateClock;
  zstdBackend?: ZstdBackend;
}

/** The scan's columns in DuckDB: the record's own, then `symbol_id` (INTEGER) and `trade_date` (DATE). */
export class DbnColumnScan {
  /** Records of other rtypes (symbol mappings, system messages, …): counted, not written. */
  skipped = 0;
  rows = 0;
  private readonly source: ByteSource;
  private readonly parser: DbnParser;
  private readonly widths: Uint8Array;
  private writeRow!: RowWriter;
  private capacity = CHUNK_ROWS * 8;
  /**
   * Rows [head, end) of the staging buffers wait for DuckDB. `emit` moves `head` forward (DuckDB copies
   * from that offset); the rows left are moved to the front only when more input is read, so each
   * row is moved at most once instead of at every chunk.
   */
  private head = 0;
  private end = 0;
  /** Per nullable column, the last staged row that is null (-1: none), so a chunk with no null skips building a mask. */
  private lastNull: Int32Array;
  private lastNoSymbol = -1;
  private buffers: ArrayBuffer[] = [];
  private u8: Uint8Array[] = [];
  private u16: Uint16Array[] = [];
  private u32: Uint32Array[] = [];
  private valid: (Uint8Array | null)[] = [];
  private strings: (string[] | null)[] = [];
  private symbolIds = new Int32Array(this.capacity);
  private tradeDays = new Int32Array(this.capacity);
  private readonly validityBits = new Uint8Array(CHUNK_ROWS / 8);
  private readonly allValid = new Uint8Array(CHUNK_ROWS / 8).fill(0xff);
  private readonly symbolOut = new ArrayBuffer(CHUNK_ROWS * 4);
  private readonly canonicalOut = new ArrayBuffer(CHUNK_ROWS * 4);
  private readonly canonicalValid = new Uint8Array(CHUNK_ROWS);
  private readonly symbolValid = new Uint8Array(CHUNK_ROWS);
  private readonly text = new TextDecoder();
  private finished = false;

  constructor(private readonly options: ScanOptions) {
    const columns = options.plan.columns;
    this.widths = Uint8Array.from(columns, (c) => KIND_WIDTH[c.kind]);
    this.lastNull = new Int32Array(columns.length).fill(-1);
    this.allocate(this.capacity);
    this.source = new ByteSource(options.path, options.zstdBackend);
    this.parser = new DbnParser(
      () => undefined,
      (view, offset, rtype, _byteLength, bytes) => {
        if (rtype !== options.rtype) this.skipped++;
        else this.addRecord(view, offset, bytes);
      },
    );
  }

  /** Compressed (file) bytes read so far. */
  get bytesRead(): number {
    return this.source.bytesRead;
  }

  /** Decompressed DBN bytes parsed so far. */
  get dbnBytes(): number {
    return this.parser.position;
  }

  private allocate(capacity: number): void {
    const columns = this.options.plan.columns;
    const old = { buffers: this.buffers, strings: this.strings, valid: this.valid, symbolIds: this.symbolIds, tradeDays: this.tradeDays };
    this.buffers = columns.map((_, i) => new ArrayBuffer(capacity * this.widths[i]!));
    this.u8 = this.buffers.map((b) => new Uint8Array(b));
    this.u16 = this.buffers.map((b, i) => new Uint16Array(b, 0, this.widths[i]! >= 2 ? (capacity * this.widths[i]!) / 2 : 0));
    this.u32 = this.buffers.map((b, i) => new Uint32Array(b, 0, this.widths[i]! >= 4 ? (capacity * this.widths[i]!) / 4 : 0));
    this.valid = columns.map((c) => (isNullable(c.kind) ? new Uint8Array(capacity) : null));
    this.strings = columns.map((c, i) => (c.kind === "cstr" ? (old.strings[i] ?? []) : null));
    this.symbolIds = new Int32Array(capacity);
    this.tradeDays = new Int32Array(capacity);
    if (old.buffers.length > 0) {
      const n = this.end;
      this.buffers.forEach((_, i) => this.u8[i]!.set(new Uint8Array(old.buffers[i]!, 0, n * this.widths[i]!)));
      this.valid.forEach((v, i) => v?.set(old.valid[i]!.subarray(0, n)));
      this.symbolIds.set(old.symbolIds.subarray(0, n));
      this.tradeDays.set(old.tradeDays.subarray(0, n));
    }
    this.capacity = capacity;
    this.writeRow = this.compileRowWriter();
  }

  /**
   * The per-record copy as straight-line code generated for this plan: each field's offset is a
   * constant and each column's staging array a bound variable. The same copy written as a loop over
   * the columns with a switch on the kind took about twice the JS time per record (measured on the
   * benchmark's MBP-1 file). Regenerated whenever the staging buffers are reallocated. Only numbers
   * from the plan and fixed text go into the generated source.
   */
  private compileRowWriter(): RowWriter {
    const names: string[] = [];
    const values: unknown[] = [];
    const bind = (value: unknown): string => {
      names.push(`b${values.length}`);
      values.push(value);
      return names[names.length - 1]!;
    };
    const nul = bind((c: number, row: number) => this.markNull(c, row));
    const checkPrice = bind((c: number, lo: number, hi: number) => this.checkPriceRange(c, lo, hi));
    const badTimestamp = bind((c: number, lo: number, hi: number) => this.timestampOutOfRange(c, lo, hi));
    const cstr = bind((c: number, bytes: Uint8Array, at: number, size: number, row: number) => this.readString(c, bytes, at, size, row));
    const lines = ["let v = 0, lo = 0, hi = 0;"];
    this.options.plan.columns.forEach((column, c) => {
      const at = `o + ${column.offset}`;
      const valid = this.valid[c] ? bind(this.valid[c]) : "";
      const setNull = `{ ${nul}(${c}, row); } else { ${valid}[row] = 1;`;
      switch (column.kind) {
        case "u8":
        case "i8":
          lines.push(`${bind(this.u8[c])}[row] = bytes[${at}];`);
          break;
        case "u16":
        case "i16":
          lines.push(`${bind(this.u16[c])}[row] = view.getUint16(${at}, true);`);
          break;
        case "char":
          lines.push(`v = bytes[${at}]; ${bind(this.u16[c])}[row] = v; if (v === 0) ${setNull} }`);
          break;
        case "u32":
        case "i32":
          lines.push(`${bind(this.u32[c])}[row] = view.getUint32(${at}, true);`);
          break;
        case "qty32":
          lines.push(`v = view.getUint32(${at}, true); ${bind(this.u32[c])}[row] = v; if (v === 0x7fffffff) ${setNull} }`);
          break;
        case "u64":
        case "i64": {
          const words = bind(this.u32[c]);
          lines.push(`${words}[2 * row] = view.getUint32(${at}, true); ${words}[2 * row + 1] = view.getUint32(${at} + 4, true);`);
          break;
        }
        case "px":
        case "qty64":
        case "ts": {
          const words = bind(this.u32[c]);
          // Prices are checked signed: DECIMAL(18,9) holds |raw| < 1e18, whose high word is 232,830,643.
          const hi = column.kind === "px" ? `view.getUint32(${at} + 4, true) | 0` : `view.getUint32(${at} + 4, true)`;
          const isNull = column.kind === "ts" ? "lo === 0xffffffff && hi === 0xffffffff" : "lo === 0xffffffff && hi === 0x7fffffff";
          const check =
            column.kind === "px" ? `if (hi > 232830642 || hi < -232830643) ${checkPrice}(${c}, lo, hi);` : column.kind === "ts" ? `if (hi >= 0x80000000) ${badTimestamp}(${c}, lo, hi);` : "";
          lines.push(`lo = view.getUint32(${at}, true); hi = ${hi}; ${words}[2 * row] = lo; ${words}[2 * row + 1] = hi; if (${isNull}) ${setNull} ${check} }`);
          break;
        }
        case "cstr":
          lines.push(`${cstr}(${c}, bytes, ${at}, ${column.size}, row);`);
          break;
      }
    });
    const factory = new Function(...names, `return function writeRow(view, o, bytes, row) {\n${lines.join("\n")}\n};`) as (...bound: unknown[]) => RowWriter;
    return factory(...values);
  }

  private addRecord(view: DataView, offset: number, bytes: Uint8Array): void {
    if (this.end === this.capacity) this.allocate(this.capacity * 2);
    const row = this.end++;
    this.writeRow(view, offset, bytes, row);
    const tsAt = offset + this.options.plan.indexTsOffset;
    let lo = view.getUint32(tsAt, true);
    let hi = view.getUint32(tsAt + 4, true);
    if (lo === 0xffffffff && hi === 0xffffffff) {
      // No ts_recv: date the record by ts_event, as Databento's index timestamp does.
      lo = view.getUint32(offset + 8, true);
      hi = view.getUint32(offset + 12, true);
      if (lo === 0xffffffff && hi === 0xffffffff) {
        throw new ParquetConvertError("bad_input", `${this.options.path}: record ${this.parser.recordCount} has neither ts_recv nor ts_event, so it has no trade date`);
      }
    }
    const ns = hi * TWO_32 + lo;
    const day = this.options.clock.daysAt(Math.floor(ns / 1e6));
    this.tradeDays[row] = day;
    const symbol = this.options.symbols.idAt(view.getUint32(offset + 4, true), ns);
    this.symbolIds[row] = symbol;
    if (symbol === NO_SYMBOL) this.lastNoSymbol = row;
    this.rows++;
  }

  private readString(c: number, bytes: Uint8Array, at: number, size: number, row: number): void {
    let end = at;
    const limit = at + size;
    while (end < limit && bytes[end] !== 0) end++;
    this.strings[c]![row] = this.text.decode(bytes.subarray(at, end));
  }

  private timestampOutOfRange(c: number, lo: number, hi: number): never {
    throw new ParquetConvertError(
      "out_of_range",
      `${this.options.path}: column ${this.options.plan.columns[c]!.name}: timestamp ${BigInt(hi) * 2n ** 32n + BigInt(lo)} ns is beyond 2262-04-11, the last instant an int64 ns timestamp holds`,
    );
  }

  private markNull(c: number, row: number): void {
    this.valid[c]![row] = 0;
    this.lastNull[c] = row;
  }

  private checkPriceRange(c: number, lo: number, hi: number): void {
    const raw = BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo));
    if (raw < 1_000_000_000_000_000_000n && raw > -1_000_000_000_000_000_000n) return;
    throw new ParquetConvertError(
      "out_of_range",
      `${this.options.path}: column ${this.options.plan.columns[c]!.name}: price ${raw} (1e-9 units) does not fit DECIMAL(18,9) (|price| < 1e9)`,
    );
  }

  /** Reads until at least one chunk of rows waits, or the input ends. */
  private fill(): void {
    if (this.end - this.head >= CHUNK_ROWS || this.finished) return;
    this.compact();
    while (this.end < CHUNK_ROWS && !this.finished) {
      const piece = this.source.next();
      if (piece === null) {
        this.parser.finish();
        this.finished = true;
        break;
      }
      this.parser.push(piece);
    }
  }

  /** The trade date (days since the epoch) of the next row, or null when the input is exhausted. */
  nextTradeDay(): number | null {
    this.fill();
    return this.end === this.head ? null : this.tradeDays[this.head]!;
  }

  /**
   * Writes the next rows of trade day `day` (at most CHUNK_ROWS) into DuckDB's output chunk and
   * returns how many; 0 when the input ends or the next row belongs to another trade date (the
   * caller then starts the next file). Column order: the plan's columns, then symbol and
   * canonical_symbol (ENUM indexes) and trade_date.
   */
  emit(chunk: duckdb.DataChunk, day: number): number {
    this.fill();
    const head = this.head;
    const limit = Math.min(this.end - head, CHUNK_ROWS);
    const tradeDays = this.tradeDays;
    let n = 0;
    while (n < limit && tradeDays[head + n] === day) n++;
    if (n === 0) return 0;
    const columns = this.options.plan.columns;
    for (let c = 0; c < columns.length; c++) {
      const vector = duckdb.data_chunk_get_vector(chunk, c);
      const strings = this.strings[c];
      if (strings) {
        for (let i = 0; i < n; i++) duckdb.vector_assign_string_element(vector, i, strings[head + i]!);
        continue;
      }
      const width = this.widths[c]!;
      duckdb.copy_data_to_vector(vector, 0, this.buffers[c]!, head * width, n * width);
      const valid = this.valid[c];
      if (valid) this.writeValidity(vector, this.lastNull[c]! >= head ? valid : null, n);
    }
    this.writeSymbols(chunk, columns.length, n);
    duckdb.copy_data_to_vector(duckdb.data_chunk_get_vector(chunk, columns.length + 2), 0, tradeDays.buffer, head * 4, n * 4);
    this.head += n;
    return n;
  }

  private writeSymbols(chunk: duckdb.DataChunk, at: number, n: number): void {
    const { symbolWidth, canonicalWidth, canonicalOf } = this.options.symbolColumns;
    const symbols = indexArray(this.symbolOut, symbolWidth);
    const canonicals = indexArray(this.canonicalOut, canonicalWidth);
    const symbolValid = this.symbolValid;
    const canonicalValid = this.canonicalValid;
    const ids = this.symbolIds;
    const head = this.head;
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[head + i]!;
      const canonical = id === NO_SYMBOL ? -1 : canonicalOf[id]!;
      symbols[i] = id === NO_SYMBOL ? 0 : id;
      symbolValid[i] = id === NO_SYMBOL ? 0 : 1;
      canonicals[i] = canonical < 0 ? 0 : canonical;
      canonicalValid[i] = canonical < 0 ? 0 : 1;
      missing |= canonical >>> 31;
    }
    const symbolVector = duckdb.data_chunk_get_vector(chunk, at);
    duckdb.copy_data_to_vector(symbolVector, 0, this.symbolOut, 0, n * symbolWidth);
    this.writeValidity(symbolVector, this.lastNoSymbol >= head ? symbolValid : null, n, 0);
    const canonicalVector = duckdb.data_chunk_get_vector(chunk, at + 1);
    duckdb.copy_data_to_vector(canonicalVector, 0, this.canonicalOut, 0, n * canonicalWidth);
    this.writeValidity(canonicalVector, missing ? canonicalValid : null, n, 0);
  }

  /**
   * The null bits of `n` rows from `valid[from]` on (1 = valid), or all valid when `valid` is null.
   * Always written, even when every row is valid, so no mask from an earlier chunk can linger.
   */
  private writeValidity(vector: duckdb.Vector, valid: Uint8Array | null, n: number, from = this.head): void {
    let bits = this.allValid;
    if (valid) {
      bits = this.validityBits;
      bits.fill(0);
      for (let i = 0; i < n; i++) bits[i >> 3]! |= valid[from + i]! << (i & 7);
    }
    duckdb.vector_ensure_validity_writable(vector);
    duckdb.copy_data_to_vector_validity(vector, 0, bits.buffer, 0, Math.ceil(n / 64) * 8);
  }

  /** Moves the waiting rows [head, end) to the front of the staging buffers. */
  private compact(): void {
    const head = this.head;
    if (head === 0) return;
    const end = this.end;
    if (end > head) {
      for (let c = 0; c < this.buffers.length; c++) {
        const w = this.widths[c]!;
        if (w > 0) this.u8[c]!.copyWithin(0, head * w, end * w);
        this.valid[c]?.copyWithin(0, head, end);
      }
      this.symbolIds.copyWithin(0, head, end);
      this.tradeDays.copyWithin(0, head, end);
    }
    for (const strings of this.strings) strings?.splice(0, head);
    for (let c = 0; c < this.lastNull.length; c++) this.lastNull[c] = Math.max(-1, this.lastNull[c]! - head);
    this.lastNoSymbol = Math.max(-1, this.lastNoSymbol - head);
    this.head = 0;
    this.end = end - head;
  }

  close(): void {
    this.source.close();
  }
}

function indexArray(buffer: ArrayBuffer, width: number): Uint8Array | Uint16Array | Uint32Array {
  return width === 1 ? new Uint8Array(buffer) : width === 2 ? new Uint16Array(buffer) : new Uint32Array(buffer);
}
