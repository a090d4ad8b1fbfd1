import * as zlib from "node:zlib";
import type { Transform } from "node:stream";
import { Decompress } from "fzstd";
import { DbnDecodeError } from "./errors.js";
import { ZstdFrameWalker, type ZstdFrameHeader, type ZstdUnit } from "./zstd-frames.js";

/** True when `bytes` starts with a zstd frame or a zstd skippable frame. */
export function isZstd(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  if (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd) return true;
  return (bytes[0]! & 0xf0) === 0x50 && bytes[1] === 0x2a && bytes[2] === 0x4d && bytes[3] === 0x18;
}

/**
 * A zstd decompressor. Either `createTransform` (a Node Transform stream, e.g. node:zlib's) or
 * fzstd's synchronous push decoder is used for streaming; `decompressSync` for whole buffers.
 */
export interface ZstdBackend {
  readonly name: string;
  decompressSync(bytes: Uint8Array): Uint8Array;
  /** A streaming decompressor; undefined means "use the built-in fzstd push decoder". */
  createTransform?: () => Transform;
}

/**
 * Pure-JS fzstd: installs everywhere. One-shot decompression also goes through the bounded
 * streaming decoder, which checks frame headers and rejects a stream cut inside a frame,
 * checksum included (fzstd's own one-shot `decompress` does neither).
 */
export const FZSTD_BACKEND: ZstdBackend = {
  name: "fzstd",
  decompressSync: (bytes) => {
    const parts = new ZstdStreamDecoder().push(bytes, true);
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  },
};

type ZlibWithZstd = typeof zlib & {
  createZstdDecompress?: () => Transform;
  zstdDecompressSync?: (bytes: Uint8Array) => Buffer;
};

/**
 * node:zlib's zstd (Node ≥ 22.15 / 23.8, marked experimental there), several times faster than
 * fzstd; undefined on Node versions without it.
 */
export function nodeZlibZstdBackend(): ZstdBackend | undefined {
  const z = zlib as ZlibWithZstd;
  if (typeof z.createZstdDecompress !== "function" || typeof z.zstdDecompressSync !== "function") return undefined;
  const create = z.createZstdDecompress;
  const once = z.zstdDecompressSync;
  return { name: "node:zlib", decompressSync: (bytes) => new Uint8Array(once(bytes)), createTransform: () => create() };
}

/** The backend used when none is given: node:zlib when the runtime has zstd, else fzstd. */
export const DEFAULT_ZSTD_BACKEND: ZstdBackend = nodeZlibZstdBackend() ?? FZSTD_BACKEND;

/** A decompressor failure inside a frame the walker found whole: always corrupt data. */
function zstdFailure(error: unknown, offset: number): DbnDecodeError {
  if (error instanceof DbnDecodeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DbnDecodeError("corrupt_zstd", offset, `corrupt zstd data: ${message}`, { cause: error });
}

/**
 * Window work fzstd may do before it is held to FZSTD_WORK_PER_BYTE: 1 GiB. A block costs its
 * frame's window size (fzstd moves the whole window per block, ~6 GB/s); a frame costs 8× its
 * window size, because fzstd allocates a fresh window per frame and touching new pages costs
 * about 10× a move (1.3 s for 128 MiB on the 2-core VM). So the allowance is at most ~1.5 s, and
 * in practice the fzstd backend refuses a 128 MiB window at its first block; 64 MiB passes.
 */
export const FZSTD_WORK_ALLOWANCE = 1024 * 1024 * 1024;
/**
 * Window work allowed per output byte past the allowance: a full 128 KiB block may move a 32 MiB
 * window, so real files up to zstd level 20 pass.
 */
export const FZSTD_WORK_PER_BYTE = 256;
/** The cost of a frame, in units of its window size (see FZSTD_WORK_ALLOWANCE). */
export const FZSTD_FRAME_FACTOR = 8;

/** Tracks one frame's output against its declared content size. */
class FrameCount {
  produced = 0;
  constructor(readonly header: ZstdFrameHeader) {}
  add(length: number, offset: number): void {
    this.produced += length;
    const declared = this.header.contentSize;
    if (declared !== undefined && this.produced > declared) {
      throw new DbnDecodeError("corrupt_zstd", offset, `corrupt zstd data: frame decodes to more than its declared content size ${declared}`);
    }
  }
  end(offset: number): void {
    const declared = this.header.contentSize;
    if (declared !== undefined && this.produced !== declared) {
      throw new DbnDecodeError("corrupt_zstd", offset, `corrupt zstd data: frame decodes to ${this.produced} bytes, its header declares ${declared}`);
    }
  }
}

/**
 * Bounded streaming zstd decoder (fzstd underneath). Frame headers are checked here first
 * (window ≤ 128 MiB, no dictionary, content size honoured); fzstd is then given one whole block
 * at a time, and `decode` yields each block's output before the next block is decompressed. So
 * the output waiting for its consumer never exceeds a few blocks (fzstd holds back frames shorter
 * than 18 bytes: at most 4 blocks of 128 KiB), whatever the compression ratio.
 */
export class ZstdStreamDecoder {
  private readonly walker = new ZstdFrameWalker();
  private inner: Decompress | null = null;
  private count: FrameCount | null = null;
  private out: Uint8Array[] = [];
  /** Bytes fzstd has allocated or moved for its windows so far (see FZSTD_WORK_ALLOWANCE). */
  private work = 0;
  private produced = 0;

  /** Total compressed bytes fed so far. */
  get consumed(): number {
    return this.walker.fed;
  }

  /**
   * Feeds `chunk` and lazily yields the decompressed pieces it completes; `final` marks the end
   * of input (throws `truncated` if it ends inside a frame). Consume the generator fully before
   * calling `decode` again.
   */
  *decode(chunk: Uint8Array, final = false): Generator<Uint8Array> {
    this.walker.feed(chunk);
    for (let unit = this.walker.next(); unit; unit = this.walker.next()) {
      try {
        this.unit(unit);
      } catch (error) {
        throw zstdFailure(error, unit.offset);
      }
      const out = this.out;
      this.out = [];
      for (const piece of out) {
        this.count!.add(piece.length, unit.offset);
        this.produced += piece.length;
        yield piece;
      }
      if (unit.kind === "end") {
        this.count!.end(unit.offset);
        this.count = null;
      }
    }
    if (final) this.walker.end();
  }

  /**
   * fzstd allocates each frame's whole window and moves the whole window once per block, so a
   * stream of tiny blocks (or tiny frames) in a large window costs time out of all proportion to
   * its size. That work is metered: past a fixed allowance it may not exceed 256× the output.
   */
  private charge(unit: ZstdUnit, cost: number, window: number): void {
    this.work += cost;
    if (this.work > FZSTD_WORK_ALLOWANCE + FZSTD_WORK_PER_BYTE * this.produced) {
      throw new DbnDecodeError(
        "corrupt_zstd",
        unit.offset,
        `zstd stream too costly for fzstd: ${this.work} bytes of window work for ${this.produced} bytes of output ` +
          `(tiny blocks or frames in a ${window}-byte window); a node:zlib backend has no such limit`,
      );
    }
  }

  /** Feeds `chunk` and returns everything it completes (all at once: push small chunks). */
  push(chunk: Uint8Array, final = false): Uint8Array[] {
    return [...this.decode(chunk, final)];
  }

  private unit(unit: ZstdUnit): void {
    if (unit.kind === "frame") {
      this.charge(unit, FZSTD_FRAME_FACTOR * unit.header.windowSize, unit.header.windowSize);
      this.count = new FrameCount(unit.header);
      this.inner = new Decompress((piece) => {
        if (piece.length > 0) this.out.push(piece);
      });
      // fzstd may keep a header reference until it has 18 bytes: give it a copy it owns.
      this.inner.push(unit.bytes.slice());
      return;
    }
    if (unit.kind === "block") this.charge(unit, this.count!.header.windowSize, this.count!.header.windowSize);
    this.inner!.push(unit.bytes.slice());
    if (unit.kind === "end") {
      // Throws if fzstd did not reach the end of the frame with its last block.
      this.inner!.push(new Uint8Array(0), true);
      this.inner = null;
    }
  }
}

/** A Transform backend (node:zlib) fed whole blocks; one transform serves the whole stream. */
class TransformFeed {
  private readonly transform: Transform;
  private out: Uint8Array[] = [];
  private error: Error | undefined;

  constructor(backend: ZstdBackend) {
    this.transform = backend.createTransform!();
    this.transform.on("data", (piece: Uint8Array) => {
      if (piece.length > 0) this.out.push(piece);
    });
    this.transform.on("error", (error: Error) => {
      this.error ??= error;
    });
  }

  /** Writes `bytes` and waits until the transform has processed them; returns their output. */
  async write(bytes: Uint8Array): Promise<Uint8Array[]> {
    if (bytes.length > 0 && !this.error) {
      await new Promise<void>((resolve) => {
        const onError = (): void => resolve();
        this.transform.once("error", onError);
        this.transform.write(bytes, (error) => {
          if (error) this.error ??= error;
          this.transform.off("error", onError);
          resolve();
        });
      });
      // Output pushed from inside the write may be delivered on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.take();
  }

  destroy(): void {
    this.transform.destroy();
  }

  private take(): Uint8Array[] {
    if (this.error) throw this.error;
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** Units are written to a Transform backend in batches whose output bound stays under this. */
const TRANSFORM_BATCH_OUTPUT = 128 * 1024;

/**
 * Decompresses an async sequence of zstd chunks with `backend`, as a stream. Both kinds of
 * backend get whole blocks (a Transform gets as many as may regenerate 128 KiB at most), and
 * their output is yielded before more is decompressed, so memory is bounded by the block size,
 * not by the compression ratio.
 */
export async function* zstdDecompressStream(source: AsyncIterable<Uint8Array>, backend: ZstdBackend = DEFAULT_ZSTD_BACKEND): AsyncGenerator<Uint8Array> {
  if (!backend.createTransform) {
    const decoder = new ZstdStreamDecoder();
    for await (const chunk of source) yield* decoder.decode(chunk);
    yield* decoder.decode(new Uint8Array(0), true);
    return;
  }
  // Input errors (a missing file, a reset socket) surface as themselves: only the walker's and
  // the backend's failures become DbnDecodeErrors.
  const walker = new ZstdFrameWalker();
  const feed = new TransformFeed(backend);
  let count: FrameCount | null = null;
  let batch: ZstdUnit[] = [];
  let batchOutput = 0;
  async function* flush(): AsyncGenerator<Uint8Array> {
    if (batch.length === 0) return;
    const units = batch;
    batch = [];
    batchOutput = 0;
    const bytes = units.length === 1 ? units[0]!.bytes : concatAll(units.map((u) => u.bytes));
    let out: Uint8Array[];
    try {
      out = await feed.write(bytes);
    } catch (error) {
      throw zstdFailure(error, units[0]!.offset);
    }
    // Output is attributed to the frame of the batch's last unit: a batch spans at most one
    // frame end, which is flushed on its own below.
    for (const piece of out) {
      count?.add(piece.length, units[units.length - 1]!.offset);
      yield piece;
    }
  }
  try {
    for await (const chunk of source) {
      walker.feed(chunk);
      for (let unit = walker.next(); unit; unit = walker.next()) {
        const bound = unit.kind === "block" ? unit.maxOutput : 0;
        if (batchOutput + bound > TRANSFORM_BATCH_OUTPUT) yield* flush();
        if (unit.kind === "frame") count = new FrameCount(unit.header);
        // Units own their bytes only until the walker is fed again: copy when batching across chunks.
        batch.push(unit);
        batchOutput += bound;
        if (unit.kind === "end") {
          yield* flush();
          count!.end(unit.offset);
          count = null;
        }
      }
      if (batch.length > 0) batch = batch.map((u) => ({ ...u, bytes: u.bytes.slice() }));
    }
    yield* flush();
    walker.end();
  } finally {
    feed.destroy();
  }
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * One-shot decompression of a whole zstd buffer (all frames). The result is held in memory: for
 * large or untrusted input, stream it (`ZstdStreamDecoder.decode`, or the DBN decoders).
 */
export function zstdDecompress(bytes: Uint8Array, backend: ZstdBackend = DEFAULT_ZSTD_BACKEND): Uint8Array {
  if (backend === FZSTD_BACKEND) return FZSTD_BACKEND.decompressSync(bytes);
  // Other backends: the frame headers are checked here first (window, dictionary).
  const walker = new ZstdFrameWalker();
  walker.feed(bytes);
  while (walker.next());
  walker.end();
  try {
    return backend.decompressSync(bytes);
  } catch (error) {
    throw zstdFailure(error, 0);
  }
}
