import type { Field, RecordLayout } from "../records/layout.js";

/**
 * One output column of a record in Databento's text order. `level` is set for columns taken
 * from `levels[level]`; `source` names the property read from the record (or from `hd`).
 */
export interface TextColumn {
  /** Column name (`bid_px_00` for levels in CSV). */
  readonly name: string;
  /** Property name inside the record, header or level. */
  readonly source: string;
  readonly in: "record" | "hd" | "level";
  readonly level: number;
  readonly format: "px" | "ts" | "char" | "int" | "int64" | "cstr";
}

const HEADER_COLUMNS: TextColumn[] = [
  { name: "ts_event", source: "ts_event", in: "hd", level: 0, format: "ts" },
  { name: "rtype", source: "rtype", in: "hd", level: 0, format: "int" },
  { name: "publisher_id", source: "publisher_id", in: "hd", level: 0, format: "int" },
  { name: "instrument_id", source: "instrument_id", in: "hd", level: 0, format: "int" },
];

function fieldFormat(field: Field): TextColumn["format"] {
  if (field.format === "px" || field.format === "ts" || field.format === "char") return field.format;
  if (field.kind.type === "cstr") return "cstr";
  if (field.kind.type === "u64" || field.kind.type === "i64") return "int64";
  return "int";
}

function levelColumns(count: number, consolidated: boolean): TextColumn[] {
  const names = ["bid_px", "ask_px", "bid_sz", "ask_sz", consolidated ? "bid_pb" : "bid_ct", consolidated ? "ask_pb" : "ask_ct"];
  const out: TextColumn[] = [];
  for (let level = 0; level < count; level++) {
    for (const source of names) {
      out.push({
        name: `${source}_${String(level).padStart(2, "0")}`,
        source,
        in: "level",
        level,
        format: source.endsWith("_px") ? "px" : "int",
      });
    }
  }
  return out;
}

/** Flat column list of a layout (CSV order; JSON nests `hd` and `levels` at the same places). */
export function textColumns(layout: RecordLayout): TextColumn[] {
  const byName = new Map(layout.fields.map((f) => [f.name, f]));
  const columns: TextColumn[] = [];
  for (const name of layout.textOrder) {
    if (name === "hd") {
      columns.push(...HEADER_COLUMNS);
      continue;
    }
    const field = byName.get(name)!;
    if (field.kind.type === "levels") columns.push(...levelColumns(field.kind.count, field.kind.consolidated));
    else columns.push({ name, source: name, in: "record", level: 0, format: fieldFormat(field) });
  }
  return columns;
}

/**
 * The field used to date a record for symbology: `ts_recv` where the struct marks it as the
 * index timestamp (every record that has it), otherwise `hd.ts_event`.
 */
export function indexTimestamp(record: { hd: { ts_event: bigint }; ts_recv?: bigint }): bigint {
  return record.ts_recv ?? record.hd.ts_event;
}
