/**
 * Declarative record layouts. Each layout lists a record's fields in C struct order, including
 * the reserved padding, so that byte offsets follow from the sizes and Databento's text column
 * order (which counts reserved fields when placing `encode_order` fields) can be reproduced.
 */

export type ScalarType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64";

export type FieldKind =
  | { readonly type: ScalarType }
  | { readonly type: "char" }
  | { readonly type: "cstr"; readonly size: number }
  | { readonly type: "reserved"; readonly size: number }
  | { readonly type: "levels"; readonly count: number; readonly consolidated: boolean };

/** How text encoders render a field: as a fixed-point price, a timestamp, or a character. */
export type TextFormat = "px" | "ts" | "char" | undefined;

export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly format?: TextFormat;
  /** Databento's `encode_order`: the index this field is moved to in text output. */
  readonly encodeOrder?: number;
}

export interface Field extends FieldSpec {
  /** Byte offset from the start of the record. */
  readonly offset: number;
  readonly size: number;
}

export interface RecordLayout {
  /** Databento's struct name, e.g. `Mbp1Msg`. */
  readonly name: string;
  /** DBN versions this layout applies to. */
  readonly versions: readonly number[];
  readonly rtypes: readonly number[];
  /** Record size in bytes without a `ts_out` suffix. */
  readonly size: number;
  /** Body fields after the 16-byte header, reserved ones included, with offsets. */
  readonly fields: readonly Field[];
  /** Column order of CSV/JSON output; `hd` stands for the nested header. */
  readonly textOrder: readonly string[];
}

const SCALAR_SIZES: Record<ScalarType, number> = {
  u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8, i64: 8,
};

export function fieldSize(kind: FieldKind): number {
  switch (kind.type) {
    case "char":
      return 1;
    case "cstr":
    case "reserved":
      return kind.size;
    case "levels":
      return kind.count * 32;
    default:
      return SCALAR_SIZES[kind.type];
  }
}

// Field constructors keep the layout tables short and readable.
export const u8 = (name: string, encodeOrder?: number): FieldSpec => ({ name, kind: { type: "u8" }, encodeOrder });
export const i8 = (name: string): FieldSpec => ({ name, kind: { type: "i8" } });
export const u16 = (name: string, encodeOrder?: number): FieldSpec => ({ name, kind: { type: "u16" }, encodeOrder });
export const i16 = (name: string): FieldSpec => ({ name, kind: { type: "i16" } });
export const u32 = (name: string, encodeOrder?: number): FieldSpec => ({ name, kind: { type: "u32" }, encodeOrder });
export const i32 = (name: string, encodeOrder?: number): FieldSpec => ({ name, kind: { type: "i32" }, encodeOrder });
export const u64 = (name: string, encodeOrder?: number): FieldSpec => ({ name, kind: { type: "u64" }, encodeOrder });
export const i64 = (name: string): FieldSpec => ({ name, kind: { type: "i64" } });
export const px = (name: string, encodeOrder?: number): FieldSpec => ({ name, kind: { type: "i64" }, format: "px", encodeOrder });
export const ts = (name: string, encodeOrder?: number): FieldSpec => ({ name, kind: { type: "u64" }, format: "ts", encodeOrder });
export const char = (name: string, encodeOrder?: number): FieldSpec => ({ name, kind: { type: "char" }, format: "char", encodeOrder });
export const cstr = (name: string, size: number, encodeOrder?: number): FieldSpec => ({ name, kind: { type: "cstr", size }, encodeOrder });
export const reserved = (name: string, size: number): FieldSpec => ({ name, kind: { type: "reserved", size } });
export const levels = (count: number, consolidated = false): FieldSpec => ({
  name: "levels",
  kind: { type: "levels", count, consolidated },
});

/** The header is always the first struct field; `hd` gets the text slot Databento gives it. */
const HEADER_SPEC: FieldSpec = { name: "hd", kind: { type: "reserved", size: 16 } };

export function defineLayout(def: {
  name: string;
  versions: readonly number[];
  rtypes: readonly number[];
  size: number;
  fields: readonly FieldSpec[];
}): RecordLayout {
  let offset = 16;
  const fields: Field[] = [];
  for (const spec of def.fields) {
    const size = fieldSize(spec.kind);
    fields.push({ ...spec, offset, size });
    offset += size;
  }
  if (offset !== def.size) {
    throw new Error(`layout ${def.name} v${def.versions.join("/")}: fields sum to ${offset}, expected ${def.size}`);
  }
  return { ...def, fields, textOrder: textOrder([HEADER_SPEC, ...def.fields]) };
}

/**
 * Reproduces dbn-macros' `get_sorted_fields`: in ascending `encode_order`, each prioritised
 * field is removed and re-inserted at that index (or appended past the end). Reserved fields
 * take part in the indexing, then are dropped from the output.
 */
function textOrder(specs: readonly FieldSpec[]): string[] {
  const order = specs.slice();
  const prioritised = specs
    .filter((s) => s.encodeOrder !== undefined)
    .sort((a, b) => (a.encodeOrder ?? 0) - (b.encodeOrder ?? 0));
  for (const spec of prioritised) {
    order.splice(order.indexOf(spec), 1);
    const at = spec.encodeOrder ?? 0;
    if (at >= order.length) order.push(spec);
    else order.splice(at, 0, spec);
  }
  return order.filter((s) => s.name === "hd" || (s.kind.type !== "reserved")).map((s) => s.name);
}
