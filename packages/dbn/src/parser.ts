import { DBN_VERSION, RECORD_HEADER_LEN } from "./constants.js";
import { DbnDecodeError } from "./errors.js";
import { decodeMetadata, decodePrelude, PRELUDE_LEN, type Metadata } from "./metadata.js";
import { recordSizeTable } from "./records/registry.js";

/**
 * Fast-path callback: one call per complete record. `offset` indexes `view`/`bytes` (they are
 * only valid during the call); `rtype` and `byteLength` (= `length * 4`) are pre-read.
 * Return `false` to stop decoding.
 */
export type RecordVisitor = (view: DataView, offset: number, rtype: number, byteLength: number, bytes: Uint8Array) => void | boolean;

export interface ParserOptions {
  /** The input has no metadata header (a record-only fragment, e.g. the live stream body). */
  fragment?: boolean;
  /** DBN version of a fragment's records; ignored when metadata is present. Default 3. */
  version?: number;
  /** What to do with an rtype the version does not define: throw (default) or skip it. */
  unknownRType?: "error" | "skip";
  /** Refuse metadata longer than this many bytes (default `MAX_METADATA_LENGTH`, 16 MiB). */
  maxMetadataLength?: number;
}

const EMPTY = new Uint8Array(0);

/**
 * The default largest metadata length (the prelude's u32, in bytes) the decoder accepts: 16 MiB,
 * room for about 100,000 symbols with a mapping interval each (a Databento request names at most
 * 2,000 symbols). A larger declared length is refused as `bad_metadata` before anything is
 * buffered; `maxMetadataLength` raises it. The bound matters because zstd can inflate a declared
 * metadata block from a few kilobytes, and it must all be buffered before it can be decoded.
 */
export const MAX_METADATA_LENGTH = 16 * 1024 * 1024;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Synchronous DBN state machine (prelude → metadata → records). Push decompressed bytes in any
 * chunking; at most one partial record (≤ 1020 bytes) plus an incomplete metadata block (at most
 * `MAX_METADATA_LENGTH`, and never more than twice the bytes received) is retained between
 * pushes, so memory does not grow with the stream.
 */
export class DbnParser {
  metadata: Metadata | null = null;
  version: number;
  /** Bytes consumed so far (absolute offset of the next unparsed byte). */
  position = 0;
  recordCount = 0;
  stopped = false;
  /** While true, bytes after the metadata are retained instead of visited (see DbnDecoder.metadata). */
  holdRecords = false;

  private pending: Uint8Array = EMPTY;
  /** The metadata (prelude included) received so far, while it is incomplete. */
  private meta: Uint8Array = new Uint8Array(PRELUDE_LEN);
  private metaFill = 0;
  private metadataLength = -1;
  private sizes: Uint16Array;
  private readonly skipUnknown: boolean;
  private readonly maxMetadataLength: number;
  private readonly fragment: boolean;

  constructor(
    private readonly onMetadata: (metadata: Metadata) => void,
    private readonly visit: RecordVisitor,
    options: ParserOptions = {},
  ) {
    this.fragment = options.fragment ?? false;
    this.version = options.version ?? DBN_VERSION;
    if (this.fragment && (this.version < 1 || this.version > DBN_VERSION)) {
      throw new DbnDecodeError("unsupported_version", 0, `unsupported DBN version ${this.version} for a fragment`);
    }
    this.sizes = recordSizeTable(this.version);
    this.skipUnknown = options.unknownRType === "skip";
    this.maxMetadataLength = options.maxMetadataLength ?? MAX_METADATA_LENGTH;
  }

  /** True once metadata is known (or not expected). */
  get ready(): boolean {
    return this.fragment || this.metadata !== null;
  }

  push(chunk: Uint8Array): void {
    if (this.stopped || (chunk.length === 0 && this.pending.length === 0)) return;
    let offset = 0;
    if (!this.ready) {
      offset = this.feedMetadata(chunk);
      if (offset < 0) return;
      // The bytes behind the metadata: held for DbnDecoder.metadata(), or parsed now.
      this.retain(chunk, this.holdRecords ? offset : this.parseRecords(chunk, offset));
      return;
    }
    if (this.pending.length > 0) {
      // Records retained while holding, then the one record straddling the chunk boundary:
      // only that record is copied, the rest of the chunk is parsed in place.
      const pending = this.pending;
      this.pending = EMPTY;
      const consumed = this.parseRecords(pending, 0);
      if (this.stopped) return;
      const tail = pending.subarray(consumed);
      if (tail.length > 0) {
        const take = Math.min(tail[0]! * 4 - tail.length, chunk.length);
        const joined = concat(tail, chunk.subarray(0, take));
        offset = take;
        if (this.parseRecords(joined, 0) < joined.length) {
          this.pending = joined;
          return;
        }
        if (this.stopped) return;
      }
    }
    this.retain(chunk, this.parseRecords(chunk, offset));
  }

  /**
   * Copies metadata bytes from `chunk` into one buffer that grows geometrically (so buffering is
   * linear in the bytes received, never in the declared length). Returns the offset in `chunk`
   * where records start, or -1 when the whole chunk was consumed and more is needed.
   */
  private feedMetadata(chunk: Uint8Array): number {
    let offset = 0;
    for (;;) {
      const need = this.metadataLength < 0 ? PRELUDE_LEN : PRELUDE_LEN + this.metadataLength;
      const take = Math.min(need - this.metaFill, chunk.length - offset);
      if (take > 0) {
        if (this.metaFill + take > this.meta.length) {
          const grown = new Uint8Array(Math.min(need, Math.max(this.metaFill + take, this.meta.length * 2)));
          grown.set(this.meta.subarray(0, this.metaFill));
          this.meta = grown;
        }
        this.meta.set(chunk.subarray(offset, offset + take), this.metaFill);
        this.metaFill += take;
        offset += take;
      }
      if (this.metaFill < need) {
        // Reject a wrong magic as soon as 3 bytes are in, not after the whole prelude.
        const m = this.meta;
        if (this.metaFill >= 3 && this.metadataLength < 0 && !(m[0] === 0x44 && m[1] === 0x42 && m[2] === 0x4e)) decodePrelude(m, this.position);
        return -1;
      }
      if (this.metadataLength >= 0) break;
      const prelude = decodePrelude(this.meta, this.position);
      if (prelude.length > this.maxMetadataLength) {
        throw new DbnDecodeError(
          "bad_metadata",
          this.position + 4,
          `metadata length ${prelude.length} bytes exceeds the ${this.maxMetadataLength}-byte maximum (option maxMetadataLength)`,
        );
      }
      this.metadataLength = prelude.length;
      this.version = prelude.version;
      this.sizes = recordSizeTable(prelude.version);
    }
    const end = PRELUDE_LEN + this.metadataLength;
    this.metadata = decodeMetadata(this.meta.subarray(0, end), this.position);
    this.meta = EMPTY;
    this.metaFill = 0;
    this.position += end;
    this.onMetadata(this.metadata);
    return offset;
  }

  /** Keeps the unconsumed tail of `bytes` (copied: callers may reuse their buffers). */
  private retain(bytes: Uint8Array, consumed: number): void {
    this.pending = consumed < bytes.length && !this.stopped ? bytes.slice(consumed) : EMPTY;
  }

  /** Visits records retained while `holdRecords` was set. */
  drain(): void {
    this.push(new Uint8Array(0));
  }

  /** Signals the end of input; throws if it ended inside the metadata or a record. */
  finish(): void {
    if (this.stopped) return;
    this.holdRecords = false;
    this.drain();
    if (!this.ready) {
      const needed = this.metadataLength < 0 ? PRELUDE_LEN : PRELUDE_LEN + this.metadataLength;
      throw new DbnDecodeError(
        "truncated",
        this.position + this.metaFill,
        this.metaFill === 0 ? "empty input: no DBN metadata" : `input ends inside the DBN metadata (${this.metaFill} of ${needed} bytes)`,
      );
    }
    if (this.pending.length > 0) {
      const expected = this.pending[0]! * 4;
      throw new DbnDecodeError(
        "truncated",
        this.position,
        `input ends inside a record: ${this.pending.length} of ${expected} bytes (DBN stream is truncated or contains an incomplete record)`,
      );
    }
  }

  /** Visits every complete record from `start`; returns the offset of the first unconsumed byte. */
  private parseRecords(bytes: Uint8Array, start: number): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const sizes = this.sizes;
    const end = bytes.length;
    const visit = this.visit;
    let p = start;
    let count = 0;
    while (p < end) {
      const byteLength = bytes[p]! * 4;
      if (byteLength < RECORD_HEADER_LEN) {
        this.position += p - start;
        throw new DbnDecodeError("bad_record_length", this.position, `record length ${byteLength} bytes is below the 16-byte header`);
      }
      if (p + byteLength > end) break;
      const rtype = bytes[p + 1]!;
      const size = sizes[rtype]!;
      if (size === 0) {
        if (!this.skipUnknown) {
          this.position += p - start;
          throw new DbnDecodeError("unknown_rtype", this.position + 1, `unknown rtype 0x${rtype.toString(16).padStart(2, "0")} in DBN v${this.version}`);
        }
      } else {
        // Exactly the struct, or the struct plus the 8-byte ts_out suffix.
        if (byteLength !== size && byteLength !== size + 8) {
          this.position += p - start;
          throw new DbnDecodeError(
            "bad_record_length",
            this.position,
            `record length ${byteLength} bytes disagrees with rtype 0x${rtype.toString(16).padStart(2, "0")} (${size} bytes in DBN v${this.version})`,
          );
        }
        count++;
        if (visit(view, p, rtype, byteLength, bytes) === false) {
          p += byteLength;
          this.stopped = true;
          break;
        }
      }
      p += byteLength;
    }
    this.recordCount += count;
    this.position += p - start;
    return p;
  }
}
