import { DBN_VERSION, METADATA_FIXED_LEN, SYMBOL_CSTR_LEN, SYMBOL_CSTR_LEN_V1, UNDEF_TIMESTAMP, type Schema, type SType } from "./constants.js";
import { DbnDecodeError, DbnEncodeError } from "./errors.js";
import { readCString, writeCString } from "./records/codec.js";

/** One interval of a symbol mapping; dates are `YYYYMMDD` integers, `end_date` exclusive. */
export interface MappingInterval {
  start_date: number;
  end_date: number;
  symbol: string;
}

export interface SymbolMapping {
  raw_symbol: string;
  intervals: MappingInterval[];
}

/** The DBN metadata header. Sentinels are kept raw so that encoding is byte-exact. */
export interface Metadata {
  version: number;
  dataset: string;
  /** null for a mixed-schema stream (0xFFFF on the wire, e.g. live data). */
  schema: Schema | null;
  /** ns since the UNIX epoch. */
  start: bigint;
  /** ns since the UNIX epoch; UNDEF_TIMESTAMP when unbounded. */
  end: bigint;
  /** 0n when there was no limit. */
  limit: bigint;
  /** null when mixed (0xFF on the wire). */
  stype_in: SType | null;
  stype_out: SType;
  ts_out: boolean;
  symbol_cstr_len: number;
  symbols: string[];
  partial: string[];
  not_found: string[];
  mappings: SymbolMapping[];
}

/** Bytes 0–7 of a DBN stream. */
export interface Prelude {
  version: number;
  /** Metadata bytes after the prelude. */
  length: number;
}

export const PRELUDE_LEN = 8;

/** Validates the 8-byte prelude; `offset` is its absolute position for error messages. */
export function decodePrelude(bytes: Uint8Array, offset = 0): Prelude {
  if (bytes[0] !== 0x44 || bytes[1] !== 0x42 || bytes[2] !== 0x4e) {
    throw new DbnDecodeError("bad_magic", offset, `not a DBN stream: expected "DBN" magic, got bytes ${hex(bytes.subarray(0, 3))}`);
  }
  const version = bytes[3]!;
  if (version < 1 || version > DBN_VERSION) {
    throw new DbnDecodeError(
      "unsupported_version",
      offset + 3,
      version === 0 ? "DBN version 0 (legacy DBZ) is not supported" : `unsupported DBN version ${version} (supported: 1, 2, 3)`,
    );
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true);
  if (length < METADATA_FIXED_LEN) {
    throw new DbnDecodeError("bad_metadata", offset + 4, `metadata length ${length} is below the minimum ${METADATA_FIXED_LEN}`);
  }
  return { version, length };
}

/**
 * Decodes the whole metadata block: `bytes` holds the prelude plus `length` bytes. `offset` is
 * the block's absolute position, used in error messages.
 */
export function decodeMetadata(bytes: Uint8Array, offset = 0): Metadata {
  const { version, length } = decodePrelude(bytes, offset);
  const end = PRELUDE_LEN + length;
  if (bytes.length < end) {
    throw new DbnDecodeError("truncated", offset + bytes.length, `metadata needs ${end} bytes, only ${bytes.length} available`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, end);
  const dataset = readCString(bytes, 8, 16);
  const rawSchema = view.getUint16(24, true);
  const start = view.getBigUint64(26, true);
  const endTs = view.getBigUint64(34, true);
  const limit = view.getBigUint64(42, true);
  let stypeIn: number;
  let stypeOut: number;
  let tsOut: number;
  let symbolLen: number;
  if (version === 1) {
    stypeIn = bytes[58]!;
    stypeOut = bytes[59]!;
    tsOut = bytes[60]!;
    symbolLen = SYMBOL_CSTR_LEN_V1;
  } else {
    stypeIn = bytes[50]!;
    stypeOut = bytes[51]!;
    tsOut = bytes[52]!;
    symbolLen = view.getUint16(53, true);
    if (symbolLen === 0) {
      throw new DbnDecodeError("bad_metadata", offset + 53, "metadata symbol_cstr_len is 0");
    }
  }
  if (end < 112) {
    throw new DbnDecodeError("bad_metadata", offset + end, `metadata length ${length} leaves no room for the variable part`);
  }
  const schemaDefinitionLength = view.getUint32(108, true);
  if (schemaDefinitionLength !== 0) {
    throw new DbnDecodeError("bad_metadata", offset + 108, `schema definitions are not supported (length ${schemaDefinitionLength})`);
  }

  let pos = 112;
  const need = (n: number, what: string): void => {
    if (pos + n > end) {
      throw new DbnDecodeError("bad_metadata", offset + pos, `metadata ends inside ${what} (needs ${n} bytes, ${end - pos} left)`);
    }
  };
  const readU32 = (what: string): number => {
    need(4, what);
    const value = view.getUint32(pos, true);
    pos += 4;
    return value;
  };
  const readSymbol = (what: string): string => {
    need(symbolLen, what);
    const value = readCString(bytes, pos, symbolLen);
    pos += symbolLen;
    return value;
  };
  const readSymbolList = (what: string): string[] => {
    const count = readU32(`${what} count`);
    need(count * symbolLen, what); // reject absurd counts before allocating
    const list: string[] = [];
    for (let i = 0; i < count; i++) list.push(readSymbol(what));
    return list;
  };

  const symbols = readSymbolList("symbols");
  const partial = readSymbolList("partial");
  const notFound = readSymbolList("not_found");
  const mappingCount = readU32("mappings count");
  need(mappingCount * (symbolLen + 4), "mappings");
  const mappings: SymbolMapping[] = [];
  for (let i = 0; i < mappingCount; i++) {
    const rawSymbol = readSymbol("mapping raw_symbol");
    const intervalCount = readU32("mapping interval count");
    need(intervalCount * (8 + symbolLen), "mapping intervals");
    const intervals: MappingInterval[] = [];
    for (let j = 0; j < intervalCount; j++) {
      const startDate = readU32("interval start_date");
      const endDate = readU32("interval end_date");
      intervals.push({ start_date: startDate, end_date: endDate, symbol: readSymbol("interval symbol") });
    }
    mappings.push({ raw_symbol: rawSymbol, intervals });
  }

  return {
    version,
    dataset,
    schema: rawSchema === 0xffff ? null : (rawSchema as Schema),
    start,
    end: endTs,
    limit,
    stype_in: stypeIn === 0xff ? null : (stypeIn as SType),
    stype_out: stypeOut as SType,
    ts_out: tsOut !== 0,
    symbol_cstr_len: symbolLen,
    symbols,
    partial,
    not_found: notFound,
    mappings,
  };
}

/** The v3 form of older metadata, as Databento's upgrade policy defines it. */
export function upgradeMetadata(metadata: Metadata): Metadata {
  if (metadata.version >= DBN_VERSION) return metadata;
  return { ...metadata, version: DBN_VERSION, symbol_cstr_len: SYMBOL_CSTR_LEN };
}

/** Builds metadata with Databento's defaults for anything not given. */
export function createMetadata(fields: Partial<Metadata> & Pick<Metadata, "dataset">): Metadata {
  return {
    version: DBN_VERSION,
    schema: null,
    start: 0n,
    end: UNDEF_TIMESTAMP,
    limit: 0n,
    stype_in: null,
    stype_out: 0 as SType,
    ts_out: false,
    symbol_cstr_len: SYMBOL_CSTR_LEN,
    symbols: [],
    partial: [],
    not_found: [],
    mappings: [],
    ...fields,
  };
}

/** Encodes metadata as DBN v3 (prelude included), zero-padded to a multiple of 8 bytes. */
export function encodeMetadata(metadata: Metadata): Uint8Array {
  const symbolLen = SYMBOL_CSTR_LEN;
  const listsLen = (metadata.symbols.length + metadata.partial.length + metadata.not_found.length) * symbolLen;
  let mappingsLen = 0;
  for (const mapping of metadata.mappings) mappingsLen += symbolLen + 4 + mapping.intervals.length * (8 + symbolLen);
  const unpadded = METADATA_FIXED_LEN + 5 * 4 + listsLen + mappingsLen;
  const total = Math.ceil((PRELUDE_LEN + unpadded) / 8) * 8;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set([0x44, 0x42, 0x4e, DBN_VERSION]);
  view.setUint32(4, total - PRELUDE_LEN, true);
  writeCString(bytes, 8, 16, metadata.dataset, "dataset");
  view.setUint16(24, metadata.schema ?? 0xffff, true);
  view.setBigUint64(26, metadata.start, true);
  view.setBigUint64(34, metadata.end, true);
  view.setBigUint64(42, metadata.limit, true);
  bytes[50] = metadata.stype_in ?? 0xff;
  bytes[51] = metadata.stype_out;
  bytes[52] = metadata.ts_out ? 1 : 0;
  view.setUint16(53, symbolLen, true);
  view.setUint32(108, 0, true);
  let pos = 112;
  const writeU32 = (value: number): void => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new DbnEncodeError(`metadata: ${value} is not a u32`);
    view.setUint32(pos, value, true);
    pos += 4;
  };
  const writeSymbol = (value: string, what: string): void => {
    writeCString(bytes, pos, symbolLen, value, what);
    pos += symbolLen;
  };
  for (const [list, what] of [[metadata.symbols, "symbols"], [metadata.partial, "partial"], [metadata.not_found, "not_found"]] as const) {
    writeU32(list.length);
    for (const symbol of list) writeSymbol(symbol, what);
  }
  writeU32(metadata.mappings.length);
  for (const mapping of metadata.mappings) {
    writeSymbol(mapping.raw_symbol, "mapping raw_symbol");
    writeU32(mapping.intervals.length);
    for (const interval of mapping.intervals) {
      writeU32(interval.start_date);
      writeU32(interval.end_date);
      writeSymbol(interval.symbol, "interval symbol");
    }
  }
  return bytes;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
