/**
 * @nq/dbn — a native TypeScript codec for Databento's DBN format (v1, v2, v3).
 *
 * Reading order: decoding (streaming objects, then the DataView fast path), prices, encoding,
 * metadata, text output, zstd, and the format's constants, record types and layouts.
 */

// Decoding: a streaming decoder over any input, and whole-input helpers.
export {
  DbnDecoder,
  openDbn,
  decodeDbn,
  decodeDbnSync,
  visitDbn,
  visitDbnSync,
  readRecord,
  recordReader,
  decompressedChunks,
  type DecodeOptions,
  type DecodeResult,
  type VisitResult,
} from "./decoder.js";
export type { DbnInput } from "./input.js";
export { DbnParser, MAX_METADATA_LENGTH, type ParserOptions, type RecordVisitor } from "./parser.js";
export { mergeRecords } from "./merge.js";
export { DbnDecodeError, DbnEncodeError, type DbnDecodeErrorCode } from "./errors.js";

// Prices and timestamps: raw fixed-point bigints to numbers and back.
export { priceToNumber, readPrice, priceFromString, timestampToDate } from "./price.js";

// Encoding DBN v3, in memory or streaming.
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

// Symbology: instrument ids to symbols, from metadata mappings or live SymbolMappingMsg records.
export { TsSymbolMap, PitSymbolMap } from "./symbology.js";

// Text output identical to Databento's `dbn` CLI.
export { CsvEncoder, recordsToCsv, type CsvOptions } from "./text/csv.js";
export { recordToJson, recordsToJson, metadataToJson, type MetadataJsonOptions } from "./text/json.js";
export type { TextOptions } from "./text/options.js";
export { formatPrice, formatTimestamp, formatDate } from "./text/format.js";

// zstd: pluggable decompression (native zstd-napi when installed, node:zlib where available,
// else fzstd), WASM compression.
export {
  isZstd,
  zstdDecompress,
  zstdDecompressStream,
  ZstdStreamDecoder,
  FZSTD_WORK_ALLOWANCE,
  FZSTD_WORK_PER_BYTE,
  FZSTD_FRAME_FACTOR,
  FZSTD_BACKEND,
  DEFAULT_ZSTD_BACKEND,
  nativeZstdBackend,
  nodeZlibZstdBackend,
  zstdBackendNamed,
  resolveZstdBackend,
  type ZstdBackend,
  type ZstdBackendName,
  type ZstdOptions,
  type ZstdStreamContext,
} from "./zstd.js";
export { zstdCompress } from "./zstd-compress.js";
export { parseFrameHeader, describeBytes, ZstdFrameWalker, MAX_ZSTD_WINDOW, MAX_ZSTD_BLOCK, type ZstdFrameHeader, type ZstdUnit } from "./zstd-frames.js";

// The format: constants and enums, record types and guards, per-version layouts.
export * from "./constants.js";
export type * from "./records/types.js";
export * from "./records/guards.js";
export { upgradeRecord } from "./records/upgrade.js";
export { layoutFor, ALL_LAYOUTS, SUPPORTED_VERSIONS, type DbnVersion } from "./records/registry.js";
export type { RecordLayout, Field, FieldKind, TextFormat } from "./records/layout.js";
