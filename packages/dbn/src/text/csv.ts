import { schemaRType } from "../constants.js";
import { DbnEncodeError } from "../errors.js";
import type { Metadata } from "../metadata.js";
import type { RecordLayout } from "../records/layout.js";
import { layoutFor } from "../records/registry.js";
import type { DbnRecord } from "../records/types.js";
import { textColumns, type TextColumn } from "./columns.js";
import { cStringText, formatPrice, formatTimestamp, isNullPrice, isNullTimestamp } from "./format.js";
import type { TextOptions } from "./options.js";

export interface CsvOptions extends TextOptions {
  /** Write the header row (default true); `--omit-header` turns it off. */
  header?: boolean;
  /** Adds the `ts_out` column (set from metadata by `CsvEncoder`). */
  tsOut?: boolean;
}

/** Quotes a cell the way the Rust csv crate does by default (only when necessary). */
function quote(cell: string): string {
  return /[",\n\r]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

function cell(column: TextColumn, record: Record<string, unknown>, prettyPx: boolean, prettyTs: boolean): string {
  const holder =
    column.in === "record"
      ? record
      : column.in === "hd"
        ? (record.hd as Record<string, unknown>)
        : (record.levels as Record<string, unknown>[])[column.level]!;
  const value = holder[column.source];
  switch (column.format) {
    case "px":
      return prettyPx ? (isNullPrice(value as bigint) ? "" : formatPrice(value as bigint)) : String(value);
    case "ts":
      return prettyTs ? (isNullTimestamp(value as bigint) ? "" : formatTimestamp(value as bigint)) : String(value);
    case "char":
      return value === "\0" ? "" : quote(value as string);
    case "cstr":
      return quote(cStringText(value as string));
    default:
      return String(value);
  }
}

/**
 * Renders records as CSV exactly as Databento's `dbn` CLI: header from the metadata schema (so an
 * empty file still gets one) or else from the first record; `ts_out` and `symbol` columns last.
 */
export class CsvEncoder {
  private readonly columnsByRType = new Map<number, TextColumn[]>();
  private headerDone: boolean;
  private readonly prettyPx: boolean;
  private readonly prettyTs: boolean;
  private readonly version: number;

  constructor(
    private readonly metadata: Metadata | null,
    private readonly options: CsvOptions = {},
  ) {
    this.prettyPx = options.prettyPx ?? false;
    this.prettyTs = options.prettyTs ?? false;
    this.version = options.version ?? metadata?.version ?? 3;
    this.headerDone = options.header === false;
  }

  private get tsOut(): boolean {
    return this.options.tsOut ?? this.metadata?.ts_out ?? false;
  }

  private layout(rtype: number): RecordLayout {
    const layout = layoutFor(this.version, rtype);
    if (!layout) throw new DbnEncodeError(`no DBN v${this.version} layout for rtype 0x${rtype.toString(16)}`);
    return layout;
  }

  private columns(rtype: number): TextColumn[] {
    let columns = this.columnsByRType.get(rtype);
    if (!columns) this.columnsByRType.set(rtype, (columns = textColumns(this.layout(rtype))));
    return columns;
  }

  private headerLine(rtype: number): string {
    const names = this.columns(rtype).map((c) => c.name);
    if (this.tsOut) names.push("ts_out");
    if (this.options.symbolMap) names.push("symbol");
    return `${names.join(",")}\n`;
  }

  /** The header row announced by the metadata schema (empty when there is none to write yet). */
  begin(): string {
    if (this.headerDone || this.metadata?.schema == null) return "";
    this.headerDone = true;
    return this.headerLine(schemaRType(this.metadata.schema));
  }

  /** One CSV row (preceded by the header if none was written yet), newline-terminated. */
  encode(record: DbnRecord): string {
    let out = "";
    if (!this.headerDone) {
      this.headerDone = true;
      out = this.headerLine(record.hd.rtype);
    }
    const rec = record as unknown as Record<string, unknown>;
    const cells = this.columns(record.hd.rtype).map((c) => cell(c, rec, this.prettyPx, this.prettyTs));
    if (this.tsOut) {
      const tsOut = record.ts_out ?? 0n;
      cells.push(this.prettyTs ? (isNullTimestamp(tsOut) ? "" : formatTimestamp(tsOut)) : String(tsOut));
    }
    if (this.options.symbolMap) cells.push(quote(this.options.symbolMap.forRecord(record) ?? ""));
    return `${out}${cells.join(",")}\n`;
  }
}

/** Renders a whole decoded file as CSV text. */
export function recordsToCsv(metadata: Metadata | null, records: Iterable<DbnRecord>, options: CsvOptions = {}): string {
  const encoder = new CsvEncoder(metadata, options);
  let out = encoder.begin();
  for (const record of records) out += encoder.encode(record);
  return out;
}
