import { DbnDecodeError } from "./errors.js";

// zstd frame and block structure (RFC 8878, section 3.1), parsed here rather than trusted to the
// decompressor: the decoder checks every frame header itself and hands the decompressor one block
// at a time, so no backend ever sees a window it must not allocate or runs ahead of the parser.

/**
 * The largest window accepted by default: 128 MiB, the reference `zstd -d` default
 * (`--memory=128MB`), which also admits `zstd --long` (window log 27) files. Raise it per decode
 * with the `maxZstdWindow` option, for trusted input only: the decompressor allocates the window.
 */
export const MAX_ZSTD_WINDOW = 128 * 1024 * 1024;
/** A block never regenerates more than this (RFC 8878 Block_Maximum_Size upper bound). */
export const MAX_ZSTD_BLOCK = 128 * 1024;

const ZSTD_MAGIC = 0xfd2fb528;
/** Longest frame header: magic 4 + descriptor 1 + window 1 + dictionary id 4 + content size 8. */
const MAX_HEADER = 18;

export interface ZstdFrameHeader {
  /** Bytes of the header, magic included. */
  headerSize: number;
  /** Window size in bytes, computed without 32-bit shifts (descriptor byte 0xF8 is 2^41). */
  windowSize: number;
  singleSegment: boolean;
  /** Declared decompressed size (may exceed 2^53 in a hostile header: then it is approximate). */
  contentSize: number | undefined;
  dictionaryId: number;
  checksum: boolean;
}

function readLE(bytes: Uint8Array, at: number, n: number): number {
  let value = 0;
  for (let i = n - 1; i >= 0; i--) value = value * 256 + bytes[at + i]!;
  return value;
}

/** `bytes` for people: "2147483648 bytes (2 GiB)". */
export function describeBytes(bytes: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = "";
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return unit ? `${bytes} bytes (${Number(value.toFixed(2))} ${unit})` : `${bytes} bytes`;
}

/**
 * Parses and validates the zstd frame header at `at` (the magic already checked). Returns null
 * when `bytes` ends before the header does. `offset` is the absolute input offset of `at`. A
 * window (or, for a single-segment frame, a content size) above `maxWindow` is refused.
 */
export function parseFrameHeader(bytes: Uint8Array, at: number, offset: number, maxWindow = MAX_ZSTD_WINDOW): ZstdFrameHeader | null {
  if (bytes.length < at + 5) return null;
  const descriptor = bytes[at + 4]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const checksum = (descriptor & 0x04) !== 0;
  const dictFlag = descriptor & 0x03;
  if (descriptor & 0x08) throw new DbnDecodeError("corrupt_zstd", offset + 4, "corrupt zstd frame header: reserved bit set");
  const dictBytes = dictFlag === 3 ? 4 : dictFlag;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  const headerSize = 5 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
  if (bytes.length < at + headerSize) return null;
  let p = at + 5;
  let windowSize = 0;
  if (!singleSegment) {
    const w = bytes[p++]!;
    const base = 2 ** (10 + (w >> 3));
    windowSize = base + (base / 8) * (w & 7);
  }
  const dictionaryId = readLE(bytes, p, dictBytes);
  p += dictBytes;
  let contentSize: number | undefined;
  if (fcsBytes > 0) contentSize = readLE(bytes, p, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
  if (singleSegment) windowSize = contentSize!;
  if (dictionaryId !== 0) {
    throw new DbnDecodeError("corrupt_zstd", offset + 5, `zstd frame needs dictionary ${dictionaryId}; dictionaries are not supported`);
  }
  if (windowSize > maxWindow) {
    const what = singleSegment ? "a single-segment content size (its window)" : "a window";
    throw new DbnDecodeError(
      "corrupt_zstd",
      offset + 5,
      `zstd frame declares ${what} of ${describeBytes(windowSize)}; at most ${describeBytes(maxWindow)} is allowed ` +
        `(option maxZstdWindow; reference zstd refuses above 128 MiB by default too)`,
    );
  }
  return { headerSize, windowSize, singleSegment, contentSize, dictionaryId, checksum };
}

/** A piece of the compressed stream, in order. `offset` is its absolute compressed offset. */
export type ZstdUnit =
  | { kind: "frame"; header: ZstdFrameHeader; bytes: Uint8Array; offset: number }
  /** One whole block (its 3-byte header included); it regenerates at most `maxOutput` bytes. */
  | { kind: "block"; bytes: Uint8Array; offset: number; last: boolean; maxOutput: number }
  /** The end of a frame, after its last block and checksum: `bytes` is the checksum (or empty). */
  | { kind: "end"; bytes: Uint8Array; offset: number; header: ZstdFrameHeader };

const EMPTY = new Uint8Array(0);

/**
 * Splits a compressed stream, fed in any chunking, into frame headers, whole blocks and frame
 * ends; skippable frames are dropped. Retains at most one incomplete unit (≤ 128 KiB + 3 bytes),
 * plus the chunk being split. Structural problems throw `DbnDecodeError` with the compressed offset.
 */
export class ZstdFrameWalker {
  /** Absolute offset of `buf[pos]`. */
  private base = 0;
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  /** Unit assembled across chunks. */
  private partial: Uint8Array = EMPTY;
  private partialFill = 0;
  private frame: ZstdFrameHeader | null = null;
  private state: "magic" | "block" | "checksum" | "skip" = "magic";
  private skipLeft = 0;
  private taken = 0;

  /** Total compressed bytes fed so far. */
  fed = 0;

  /** `maxWindow`: the largest frame window accepted (see MAX_ZSTD_WINDOW). */
  constructor(readonly maxWindow = MAX_ZSTD_WINDOW) {}

  /** Adds a chunk; call `next()` until it returns undefined before feeding more. */
  feed(chunk: Uint8Array): void {
    if (this.pos < this.buf.length) throw new Error("ZstdFrameWalker.feed before the previous chunk was consumed");
    this.base += this.buf.length;
    this.buf = chunk;
    this.pos = 0;
    this.fed += chunk.length;
  }

  /**
   * Where an incomplete frame header, skippable-frame header or frame magic starts, when the input
   * so far ends inside one (it has not been checked yet); otherwise undefined.
   */
  get incompleteHeaderAt(): number | undefined {
    return this.state === "magic" && this.partialFill > 0 ? this.fed - this.partialFill : undefined;
  }

  /** Signals the end of input: throws `truncated` when it ends inside a frame. */
  end(): void {
    if (this.state === "magic" && this.partialFill === 0) return;
    throw new DbnDecodeError("truncated", this.fed, "zstd stream ends inside a frame");
  }

  /** The next complete unit, or undefined when more input is needed. */
  next(): ZstdUnit | undefined {
    for (;;) {
      if (this.state === "skip") {
        const n = Math.min(this.skipLeft, this.buf.length - this.pos);
        this.pos += n;
        this.skipLeft -= n;
        if (this.skipLeft > 0) return undefined;
        this.state = "magic";
      }
      if (this.state === "magic") {
        const head = this.take(4);
        if (!head) return undefined;
        const at = this.unitOffset;
        const magic = readLE(head.bytes, head.at, 4);
        if ((magic & 0xfffffff0) === 0x184d2a50) {
          const header = this.take(8);
          if (!header) return undefined;
          this.skipLeft = readLE(header.bytes, header.at + 4, 4);
          this.done();
          this.state = "skip";
          continue;
        }
        if (magic !== ZSTD_MAGIC) {
          throw new DbnDecodeError("corrupt_zstd", at, `corrupt zstd data: no frame magic (got 0x${magic.toString(16).padStart(8, "0")})`);
        }
        const descriptor = this.take(5);
        if (!descriptor) return undefined;
        const d = descriptor.bytes[descriptor.at + 4]!;
        const size = 5 + (d & 0x20 ? 0 : 1) + ((d & 3) === 3 ? 4 : d & 3) + (d >> 6 === 0 ? (d & 0x20 ? 1 : 0) : 1 << (d >> 6));
        const whole = this.take(size);
        if (!whole) return undefined;
        const header = parseFrameHeader(whole.bytes, whole.at, at, this.maxWindow)!;
        this.frame = header;
        this.state = "block";
        return { kind: "frame", header, bytes: this.done(), offset: at };
      }
      if (this.state === "block") {
        const head = this.take(3);
        if (!head) return undefined;
        const at = this.unitOffset;
        const b = readLE(head.bytes, head.at, 3);
        const last = (b & 1) === 1;
        const type = (b >> 1) & 3;
        const size = b >>> 3;
        const frame = this.frame!;
        const blockMax = Math.min(frame.windowSize, MAX_ZSTD_BLOCK);
        if (type === 3) throw new DbnDecodeError("corrupt_zstd", at, "corrupt zstd data: reserved block type");
        // Raw and RLE sizes are regenerated sizes; a compressed block's is its compressed size.
        if (size > (type === 2 ? MAX_ZSTD_BLOCK : blockMax)) {
          throw new DbnDecodeError("corrupt_zstd", at, `corrupt zstd data: block size ${size} exceeds the block maximum ${type === 2 ? MAX_ZSTD_BLOCK : blockMax}`);
        }
        const whole = this.take(3 + (type === 1 ? 1 : size));
        if (!whole) return undefined;
        if (last) this.state = "checksum";
        return { kind: "block", bytes: this.done(), offset: at, last, maxOutput: type === 2 ? blockMax : size };
      }
      // checksum
      const frame = this.frame!;
      const at = this.unitOffset;
      const sum = this.take(frame.checksum ? 4 : 0);
      if (!sum) return undefined;
      this.state = "magic";
      this.frame = null;
      return { kind: "end", bytes: this.done(), offset: at, header: frame };
    }
  }

  /** Absolute offset of the unit being assembled. */
  private get unitOffset(): number {
    return this.base + this.pos - this.partialFill;
  }

  /**
   * Makes the first `n` bytes of the current unit available: in place in the chunk when it holds
   * them all (nothing is consumed until `done`), else assembled in `partial`. Returns null, having
   * buffered what there is, when the input does not hold them yet.
   */
  private take(n: number): { bytes: Uint8Array; at: number } | null {
    this.taken = n;
    if (this.partialFill === 0 && this.buf.length - this.pos >= n) return { bytes: this.buf, at: this.pos };
    if (this.partialFill >= n) return { bytes: this.partial, at: 0 };
    if (this.partial.length < n) {
      const grown = new Uint8Array(Math.max(n, MAX_HEADER));
      grown.set(this.partial.subarray(0, this.partialFill));
      this.partial = grown;
    }
    const copy = Math.min(n - this.partialFill, this.buf.length - this.pos);
    this.partial.set(this.buf.subarray(this.pos, this.pos + copy), this.partialFill);
    this.partialFill += copy;
    this.pos += copy;
    return this.partialFill < n ? null : { bytes: this.partial, at: 0 };
  }

  /** Ends the current unit (the `n` bytes of the last successful `take`) and returns its bytes. */
  private done(): Uint8Array {
    const n = this.taken;
    if (this.partialFill === 0) {
      const out = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      return out;
    }
    const out = this.partial.subarray(0, n);
    this.partial = EMPTY;
    this.partialFill = 0;
    return out;
  }
}
