/** Why a conversion failed; the DBN decoder's own error (with its code and byte offset) is the `cause`. */
export type ParquetConvertErrorCode =
  /** The input is not DBN we can read: bad magic, truncated, corrupt zstd, unknown record … (see `cause`). */
  | "bad_input"
  /** The file mixes record types without a schema in its metadata; one schema per file is expected. */
  | "mixed_schema"
  /** @nq/dbn decodes the record type, but it has no table here. */
  | "unsupported_schema"
  /** A value does not fit its Parquet column (a price beyond DECIMAL(18,9), a timestamp past 2262). */
  | "out_of_range"
  /** Writing or renaming the Parquet files failed. */
  | "write_failed";

export class ParquetConvertError extends Error {
  override readonly name = "ParquetConvertError";
  constructor(
    readonly code: ParquetConvertErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
