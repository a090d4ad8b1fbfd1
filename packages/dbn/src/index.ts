/**
 * @nq/dbn — a native TypeScript codec for Databento's DBN format (v1, v2, v3).
 *
 * Reading order: decode (object iterator, then the fast path), encode, text output, and the
 * format's constants, types and layouts.
 */

// Decoding: streaming object iterator and whole-input helpers.
export {
  DbnDecoder,
  openDbn,
  decodeDbn,
  decodeDbnSync,
  visitDbn,
  visitDbnSync,
  readRecord,
  decompressedChunks,
  type DecodeOptions,
  type DecodeResult,
  type VisitResult,
} from "./decoder.js";
export type { DbnInput } from "./input.js";
export { DbnParser, type ParserOptions, type RecordVisitor } from "./parser.js";
export { DbnDecodeError, DbnEncodeError, type DbnDecodeErrorCode } from "./errors.js";

// Prices and timestamps.
export { priceToNumber, readPrice, priceFromString, timestampToDate } from "./price.js";

// Encoding DBN v3.
export {
  encodeDbn,
  encodeRecords,
  encodeDbnStream,
  DbnEncoder,
  writeRecord,
  encodedRecordSize,
  type EncodeOptions,
} from "./encoder.js";

// Metadata.
export {
  decodeMetadata,
  encodeMetadata,
  createMetadata,
  upgradeMetadata,
  type Metadata,
  type SymbolMapping,
  type MappingInterval,
} from "./metadata.js";

// zstd.
export {
  isZstd,
  zstdDecompress,
  zstdDecompressStream,
  ZstdStreamDecoder,
  FZSTD_BACKEND,
  DEFAULT_ZSTD_BACKEND,
  nodeZlibZstdBackend,
  type ZstdBackend,
} from "./zstd.js";
export { zstdCompress } from "./zstd-compress.js";

// Format constants, record types and layouts.
export * from "./constants.js";
export type * from "./records/types.js";
export * from "./records/guards.js";
export { upgradeRecord } from "./records/upgrade.js";
export { layoutFor, ALL_LAYOUTS, SUPPORTED_VERSIONS, type DbnVersion } from "./records/registry.js";
export type { RecordLayout, Field, FieldKind, TextFormat } from "./records/layout.js";

// Text output identical to Databento's `dbn` CLI.
export { CsvEncoder, recordsToCsv, type CsvOptions } from "./text/csv.js";
export { recordToJson, recordsToJson, metadataToJson, type MetadataJsonOptions } from "./text/json.js";
export type { TextOptions } from "./text/options.js";
export { TsSymbolMap } from "./text/symbol-map.js";
export { formatPrice, formatTimestamp, formatDate } from "./text/format.js";
