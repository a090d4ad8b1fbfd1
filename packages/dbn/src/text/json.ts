import { stypeName, schemaName } from "../constants.js";
import { DbnEncodeError } from "../errors.js";
import type { Metadata } from "../metadata.js";
import { layoutFor } from "../records/registry.js";
import type { DbnRecord } from "../records/types.js";
import { cStringText, formatDate, formatPrice, formatTimestamp, isNullPrice, isNullTimestamp } from "./format.js";
import type { TextOptions } from "./options.js";

// JSON rendering follows Databento's encoder: compact, `hd` nested with `ts_event` first, every
// 64-bit integer and price quoted (no precision loss), NUL characters as null.

const str = (s: string): string => JSON.stringify(s);

function px(value: bigint, pretty: boolean): string {
  if (!pretty) return `"${value}"`;
  return isNullPrice(value) ? "null" : `"${formatPrice(value)}"`;
}

function ts(value: bigint, pretty: boolean): string {
  if (!pretty) return `"${value}"`;
  return isNullTimestamp(value) ? "null" : `"${formatTimestamp(value)}"`;
}

/** One record as a JSON object (no trailing newline). */
export function recordToJson(record: DbnRecord, options: TextOptions = {}): string {
  const prettyPx = options.prettyPx ?? false;
  const prettyTs = options.prettyTs ?? false;
  const version = options.version ?? 3;
  const layout = layoutFor(version, record.hd.rtype);
  if (!layout) throw new DbnEncodeError(`no DBN v${version} layout for rtype 0x${record.hd.rtype.toString(16)}`);
  const rec = record as unknown as Record<string, unknown>;
  const parts: string[] = [];
  const fields = new Map(layout.fields.map((f) => [f.name, f]));
  for (const name of layout.textOrder) {
    if (name === "hd") {
      const hd = record.hd;
      parts.push(`"hd":{"ts_event":${ts(hd.ts_event, prettyTs)},"rtype":${hd.rtype},"publisher_id":${hd.publisher_id},"instrument_id":${hd.instrument_id}}`);
      continue;
    }
    const field = fields.get(name)!;
    const value = rec[name];
    let json: string;
    if (field.kind.type === "levels") {
      const consolidated = field.kind.consolidated;
      json = `[${(value as Record<string, bigint | number>[])
        .map((l) =>
          consolidated
            ? `{"bid_px":${px(l.bid_px as bigint, prettyPx)},"ask_px":${px(l.ask_px as bigint, prettyPx)},"bid_sz":${l.bid_sz},"ask_sz":${l.ask_sz},"bid_pb":${l.bid_pb},"ask_pb":${l.ask_pb}}`
            : `{"bid_px":${px(l.bid_px as bigint, prettyPx)},"ask_px":${px(l.ask_px as bigint, prettyPx)},"bid_sz":${l.bid_sz},"ask_sz":${l.ask_sz},"bid_ct":${l.bid_ct},"ask_ct":${l.ask_ct}}`,
        )
        .join(",")}]`;
    } else if (field.format === "px") json = px(value as bigint, prettyPx);
    else if (field.format === "ts") json = ts(value as bigint, prettyTs);
    else if (field.format === "char") json = value === "\0" ? "null" : str(value as string);
    else if (field.kind.type === "cstr") json = str(cStringText(value as string));
    else if (field.kind.type === "u64" || field.kind.type === "i64") json = `"${value}"`;
    else json = String(value);
    parts.push(`"${name}":${json}`);
  }
  if (record.ts_out !== undefined) parts.push(`"ts_out":${ts(record.ts_out, prettyTs)}`);
  if (options.symbolMap) {
    const symbol = options.symbolMap.forRecord(record);
    parts.push(`"symbol":${symbol === undefined ? "null" : str(symbol)}`);
  }
  const compact = `{${parts.join(",")}}`;
  // Every 64-bit value is already a string, so a parse/stringify round trip is lossless.
  return options.indent ? JSON.stringify(JSON.parse(compact), null, 4) : compact;
}

/** Records as newline-delimited JSON. */
export function recordsToJson(records: Iterable<DbnRecord>, options: TextOptions = {}): string {
  let out = "";
  for (const record of records) out += `${recordToJson(record, options)}\n`;
  return out;
}

export interface MetadataJsonOptions {
  /** ISO timestamps and `YYYY-MM-DD` dates (the CLI's `--pretty` sets this and `indent`). */
  prettyTs?: boolean;
  /** 4-space indentation. */
  indent?: boolean;
}

/** Metadata as Databento's `dbn --metadata` prints it. */
export function metadataToJson(metadata: Metadata, options: MetadataJsonOptions = {}): string {
  const pretty = options.prettyTs ?? false;
  const undefEnd = metadata.end === 18_446_744_073_709_551_615n;
  const object = {
    version: metadata.version,
    dataset: metadata.dataset,
    schema: metadata.schema === null ? null : (schemaName(metadata.schema) ?? null),
    start: pretty ? (isNullTimestamp(metadata.start) ? null : formatTimestamp(metadata.start)) : String(metadata.start),
    end: undefEnd ? null : pretty ? (isNullTimestamp(metadata.end) ? null : formatTimestamp(metadata.end)) : String(metadata.end),
    limit: metadata.limit === 0n ? null : String(metadata.limit),
    stype_in: metadata.stype_in === null ? null : (stypeName(metadata.stype_in) ?? null),
    stype_out: stypeName(metadata.stype_out) ?? null,
    ts_out: metadata.ts_out,
    symbol_cstr_len: metadata.symbol_cstr_len,
    symbols: metadata.symbols,
    partial: metadata.partial,
    not_found: metadata.not_found,
    mappings: metadata.mappings.map((m) => ({
      raw_symbol: m.raw_symbol,
      intervals: m.intervals.map((i) => ({
        start_date: pretty ? formatDate(i.start_date) : i.start_date,
        end_date: pretty ? formatDate(i.end_date) : i.end_date,
        symbol: i.symbol,
      })),
    })),
  };
  return options.indent ? JSON.stringify(object, null, 4) : JSON.stringify(object);
}
