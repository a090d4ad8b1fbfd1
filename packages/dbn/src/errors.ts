import type { Metadata } from "./metadata.js";
import type { DbnRecord } from "./records/types.js";

/** What went wrong while decoding; stable strings callers may switch on. */
export type DbnDecodeErrorCode =
  | "bad_magic"
  | "unsupported_version"
  | "bad_metadata"
  | "truncated"
  | "bad_record_length"
  | "unknown_rtype"
  | "corrupt_zstd"
  | "bad_input";

/**
 * The one error type the decoder throws for malformed input. `offset` is the byte offset in the
 * decompressed DBN stream (or in the raw input for `corrupt_zstd`) where the problem starts.
 */
export class DbnDecodeError extends Error {
  override readonly name = "DbnDecodeError";
  /**
   * Set by `decodeDbn` and `decodeDbnSync`: the metadata (null if it was not reached, or for a
   * fragment) and every complete record decoded before the problem.
   */
  partial?: { metadata: Metadata | null; records: DbnRecord[] };
  constructor(
    readonly code: DbnDecodeErrorCode,
    readonly offset: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${detail} (at byte offset ${offset})`, options);
  }
}

/** Thrown by the encoder for values that cannot be written (wrong rtype, string too long…). */
export class DbnEncodeError extends Error {
  override readonly name = "DbnEncodeError";
}
