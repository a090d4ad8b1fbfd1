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
        yield piece;
      }
      if (unit.kind === "end") {
        this.count!.end(unit.offset);
        this.count = null;
      }
    }
    if (final) this.walker.end();
  }

  /** Feeds `chunk` and returns everything it completes (all at once: push small chunks). */
  push(chunk: Uint8Array, final = false): Uint8Array[] {
    return [...this.decode(chunk, final)];
  }

  private unit(unit: ZstdUnit): void {
    if (unit.kind === "frame") {
      this.count = new FrameCount(unit.header);
      this.inner = new Decompress((piece) => {
        if (piece.length > 0) this.out.push(piece);
      });
      // fzstd may keep a header reference until it has 18 bytes: give it a copy it owns.
      this.inner.push(unit.bytes.slice());
      return;
    }
    this.inner!.push(unit.bytes.slice());
    if (unit.kind === "end") {
      // Throws if fzstd did not reach the end of the frame with its last block.
      this.inner!.push(new Uint8Array(0), true);
      this.inner = null;
    }
  }
}

/** A frame decoded by a Transform backend (node:zlib), one whole block per write. */
class TransformFrame {
  private readonly transform: Transform;
  private out: Uint8Array[] = [];
  private error: Error | undefined;
  readonly count: FrameCount;

  constructor(backend: ZstdBackend, header: ZstdFrameHeader) {
    this.count = new FrameCount(header);
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
        this.transform.once("error", () => resolve());
        this.transform.write(bytes, (error) => {
          if (error) this.error ??= error;
          resolve();
        });
      });
      // Output pushed from inside the write may be delivered on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.take();
  }

  /** Ends the frame's transform and returns its remaining output. */
  async end(): Promise<Uint8Array[]> {
    if (!this.error) {
      await new Promise<void>((resolve) => {
        this.transform.once("end", () => resolve());
        this.transform.once("error", () => resolve());
        this.transform.end();
      });
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

/**
 * Decompresses an async sequence of zstd chunks with `backend`, as a stream. Both kinds of
 * backend get one whole block at a time, and each block's output is yielded before the next block
 * is decompressed, so memory is bounded by the block size, not by the compression ratio.
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
  let frame: TransformFrame | null = null;
  try {
    for await (const chunk of source) {
      walker.feed(chunk);
      for (let unit = walker.next(); unit; unit = walker.next()) {
        let out: Uint8Array[];
        try {
          if (unit.kind === "frame") {
            frame?.destroy();
            frame = new TransformFrame(backend, unit.header);
          }
          out = await frame!.write(unit.bytes);
          if (unit.kind === "end") out.push(...(await frame!.end()));
        } catch (error) {
          throw zstdFailure(error, unit.offset);
        }
        for (const piece of out) {
          frame!.count.add(piece.length, unit.offset);
          yield piece;
        }
        if (unit.kind === "end") {
          frame!.count.end(unit.offset);
          frame = null;
        }
      }
    }
    walker.end();
  } finally {
    frame?.destroy();
  }
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
