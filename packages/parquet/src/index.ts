/**
 * @nq/parquet — Databento DBN files to Parquet that DuckDB, Spark or any warehouse reads.
 *
 * Reading order: the converter (one DBN file → one Parquet file per CME trade date), its column
 * conventions, then the daily chain table built from converted files.
 */
export {
  convertDbnToParquet,
  openParquetSession,
  DEFAULT_COMPRESSION_LEVEL,
  DEFAULT_DICTIONARY_SIZE_LIMIT,
  DEFAULT_ROW_GROUP_ROWS,
  PARQUET_KV_METADATA,
  type ConvertOptions,
  type ConvertResult,
  type ConvertedFile,
  type ParquetSession,
  type ParquetSessionOptions,
} from "./convert.js";
export { ParquetConvertError, type ParquetConvertErrorCode } from "./errors.js";
export { recordColumns, type ColumnKind, type ColumnSpec, type RecordColumns } from "./columns.js";
export { TradeDateClock } from "./trade-date.js";
export { canonicalSymbol } from "./symbols.js";
export { foldDailyChain, type DailyChainFoldOptions, type DailyChainIvReason, type DailyChainRow } from "./daily-chain.js";
export { buildDailyChainTable, DAILY_CHAIN_SCHEMA, type DailyChainOptions } from "./daily-chain-writer.js";
