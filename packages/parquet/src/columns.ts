/**
 * Which Parquet columns a DBN record type becomes, derived from @nq/dbn's own record layouts so every
 * record type it decodes (any DBN version) converts without a hand-written table per schema.
 *
 * Each column says where its value sits in the record, how wide it is in the staging buffers, the
 * DuckDB type the scan hands to DuckDB, and the SQL that turns that into the written column:
 *
 * - timestamps (`ts_*`, `expiration`, `activation`): TIMESTAMP_NS (int64 ns since the epoch, UTC);
 *   UNDEF_TIMESTAMP → NULL;
 * - prices (1e-9 fixed point): DECIMAL(18,9), whose int64 storage is exactly DBN's raw value, so no
 *   arithmetic happens on the way; UNDEF_PRICE → NULL;
 * - the statistics `quantity`: BIGINT; UNDEF_STAT_QUANTITY (v3) / its i32 form (v1, v2) → NULL;
 * - one-character fields (`action`, `side`, `instrument_class`, …): VARCHAR of one character; NUL → NULL.
 *   The scan hands DuckDB the byte as an index into a 256-value ENUM whose values are the characters
 *   (DuckDB's ENUM writer emits a dictionary-encoded string column); building the strings in SQL
 *   (`chr()`) made DuckDB hash a string per row and cost about a quarter of the writer's CPU;
 * - fixed-width strings: VARCHAR; other integers keep their width and signedness;
 * - book levels are flattened as Databento's CSV does: `bid_px_00`, `ask_px_00`, `bid_sz_00`, ….
 */
import { layoutFor, type Field } from "@nq/dbn";

export type ColumnKind =
  | "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64"
  /** 1e-9 fixed-point price, null on UNDEF_PRICE. */
  | "px"
  /** ns since the epoch, null on UNDEF_TIMESTAMP. */
  | "ts"
  /** v3 statistics quantity (i64), null on i64::MAX. */
  | "qty64"
  /** v1/v2 statistics quantity (i32), null on i32::MAX. */
  | "qty32"
  | "char"
  | "cstr";

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  /** Byte offset in the record. */
  offset: number;
  /** cstr: field width. */
  size: number;
}

/** Bytes per row in the staging buffers (cstr columns are held as strings). */
export const KIND_WIDTH: Record<ColumnKind, number> = {
  u8: 1, i8: 1, char: 2, u16: 2, i16: 2, u32: 4, i32: 4, qty32: 4, u64: 8, i64: 8, px: 8, ts: 8, qty64: 8, cstr: 0,
};

/**
 * The DuckDB type of each kind as the scan produces it. `CHAR_ENUM` is {@link CHARACTER_VALUES}: 256
 * values, so DuckDB indexes it with a USMALLINT, which is why a char is staged in two bytes.
 */
export const KIND_SCAN_TYPE: Record<ColumnKind, string> = {
  u8: "UTINYINT", i8: "TINYINT", char: "CHAR_ENUM", u16: "USMALLINT", i16: "SMALLINT", u32: "UINTEGER", i32: "INTEGER",
  qty32: "INTEGER", u64: "UBIGINT", i64: "BIGINT", px: "DECIMAL(18,9)", ts: "TIMESTAMP_NS", qty64: "BIGINT", cstr: "VARCHAR",
};

export function isNullable(kind: ColumnKind): boolean {
  return kind === "px" || kind === "ts" || kind === "qty64" || kind === "qty32" || kind === "char";
}

/**
 * The values of the one-character columns' ENUM: value i is the character with code i (what SQL's
 * `chr(i)` gives, so a byte above 0x7f reads as that Latin-1 character). Index 0 (NUL) is never
 * used: the scan marks it NULL. Its value is the empty string because DuckDB's C API takes ENUM
 * values as NUL-terminated strings.
 */
export const CHARACTER_VALUES: readonly string[] = Array.from({ length: 256 }, (_, i) => (i === 0 ? "" : String.fromCharCode(i)));

/** The record header's columns: `ts_event` follows `ts_recv` (placed first when the record has one). */
const HEADER: ColumnSpec[] = [
  { name: "rtype", kind: "u8", offset: 1, size: 1 },
  { name: "publisher_id", kind: "u16", offset: 2, size: 2 },
  { name: "instrument_id", kind: "u32", offset: 4, size: 4 },
];
const TS_EVENT: ColumnSpec = { name: "ts_event", kind: "ts", offset: 8, size: 8 };

/** Names of columns that convert adds after the record's own (they are not in any DBN layout). */
export const DERIVED_COLUMNS = ["symbol", "canonical_symbol", "trade_date"] as const;

export interface RecordColumns {
  /** The struct name from @nq/dbn, e.g. `Mbp1Msg`. */
  layoutName: string;
  columns: ColumnSpec[];
  /** Offset of the index timestamp (ts_recv, else ts_event) used for the trade date and symbology. */
  indexTsOffset: number;
}

/** The columns of `rtype` in DBN `version`; throws when @nq/dbn has no layout for it. */
export function recordColumns(version: number, rtype: number): RecordColumns {
  const layout = layoutFor(version, rtype);
  if (!layout) throw new RangeError(`no DBN v${version} layout for rtype 0x${rtype.toString(16)}`);
  const body: ColumnSpec[] = [];
  let tsRecv: ColumnSpec | null = null;
  for (const field of layout.fields) {
    if (field.kind.type === "reserved") continue;
    if (field.kind.type === "levels") {
      body.push(...levelColumns(field));
      continue;
    }
    const spec: ColumnSpec = { name: field.name, kind: fieldKind(field, layout.name), offset: field.offset, size: field.size };
    if (field.name === "ts_recv") tsRecv = spec;
    else body.push(spec);
  }
  const columns = tsRecv ? [tsRecv, TS_EVENT, ...HEADER, ...body] : [TS_EVENT, ...HEADER, ...body];
  for (const derived of DERIVED_COLUMNS) {
    if (columns.some((c) => c.name === derived)) throw new RangeError(`${layout.name} has a field named ${derived}, which convert also adds`);
  }
  return { layoutName: layout.name, columns, indexTsOffset: tsRecv ? tsRecv.offset : TS_EVENT.offset };
}

function fieldKind(field: Field, layoutName: string): ColumnKind {
  if (field.format === "px") return "px";
  if (field.format === "ts") return "ts";
  if (field.format === "char") return "char";
  const kind = field.kind;
  if (kind.type === "cstr") return "cstr";
  if (layoutName === "StatMsg" && field.name === "quantity") return kind.type === "i64" ? "qty64" : "qty32";
  if (kind.type === "char" || kind.type === "reserved" || kind.type === "levels") throw new RangeError(`unexpected field kind ${kind.type}`);
  return kind.type;
}

function levelColumns(field: Field): ColumnSpec[] {
  if (field.kind.type !== "levels") return [];
  const { count, consolidated } = field.kind;
  const out: ColumnSpec[] = [];
  for (let level = 0; level < count; level++) {
    const base = field.offset + level * 32;
    const suffix = `_${String(level).padStart(2, "0")}`;
    out.push(
      { name: `bid_px${suffix}`, kind: "px", offset: base, size: 8 },
      { name: `ask_px${suffix}`, kind: "px", offset: base + 8, size: 8 },
      { name: `bid_sz${suffix}`, kind: "u32", offset: base + 16, size: 4 },
      { name: `ask_sz${suffix}`, kind: "u32", offset: base + 20, size: 4 },
      consolidated
        ? { name: `bid_pb${suffix}`, kind: "u16", offset: base + 24, size: 2 }
        : { name: `bid_ct${suffix}`, kind: "u32", offset: base + 24, size: 4 },
      consolidated
        ? { name: `ask_pb${suffix}`, kind: "u16", offset: base + 28, size: 2 }
        : { name: `ask_ct${suffix}`, kind: "u32", offset: base + 28, size: 4 },
    );
  }
  return out;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
