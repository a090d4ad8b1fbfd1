import * as zlib from "node:zlib";
import { Readable, type Transform } from "node:stream";
import { Decompress } from "fzstd";
import { DbnDecodeError } from "./errors.js";

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
 * Pure-JS fzstd: installs everywhere, handles multi-frame and skippable frames. One-shot
 * decompression also goes through the streaming decoder, which (unlike fzstd's one-shot
 * `decompress`) rejects a stream cut inside a frame, checksum included.
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

/** A decompressor failure as a DbnDecodeError: `truncated` when the input ended inside a frame. */
function zstdFailure(error: unknown, offset: number, endOffset: number): DbnDecodeError {
  if (error instanceof DbnDecodeError) return error;
  const message = (error as Error).message;
  if (/unexpected (EOF|end of file)/i.test(message)) {
    return new DbnDecodeError("truncated", endOffset, `zstd stream ends inside a frame: ${message}`, { cause: error });
  }
  return new DbnDecodeError("corrupt_zstd", offset, `corrupt zstd data: ${message}`, { cause: error });
}

/** Streaming fzstd decoder: push compressed chunks, get the decompressed chunks they complete. */
export class ZstdStreamDecoder {
  private readonly inner: Decompress;
  private consumed = 0;
  private out: Uint8Array[] = [];

  constructor() {
    this.inner = new Decompress((chunk) => {
      this.out.push(chunk);
    });
  }

  push(chunk: Uint8Array, final = false): Uint8Array[] {
    try {
      this.inner.push(chunk, final);
    } catch (error) {
      throw zstdFailure(error, this.consumed, this.consumed + chunk.length);
    }
    this.consumed += chunk.length;
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** Decompresses an async sequence of zstd chunks with `backend`, as a stream. */
export async function* zstdDecompressStream(source: AsyncIterable<Uint8Array>, backend: ZstdBackend = DEFAULT_ZSTD_BACKEND): AsyncGenerator<Uint8Array> {
  if (!backend.createTransform) {
    const decoder = new ZstdStreamDecoder();
    for await (const chunk of source) yield* decoder.push(chunk);
    yield* decoder.push(new Uint8Array(0), true);
    return;
  }
  // Input errors (a missing file, a reset socket) must surface as themselves, not as corrupt zstd.
  let inputError: unknown;
  let consumed = 0;
  async function* tracked(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of source) {
        consumed += chunk.length;
        yield chunk;
      }
    } catch (error) {
      inputError = error;
      throw error;
    }
  }
  const transform = backend.createTransform();
  const input = Readable.from(tracked());
  input.on("error", (error) => transform.destroy(error));
  input.pipe(transform);
  try {
    for await (const chunk of transform) yield chunk as Uint8Array;
  } catch (error) {
    if (inputError !== undefined) throw inputError;
    throw zstdFailure(error, consumed, consumed);
  } finally {
    input.destroy();
  }
}

/** One-shot decompression of a whole zstd buffer (all frames). */
export function zstdDecompress(bytes: Uint8Array, backend: ZstdBackend = DEFAULT_ZSTD_BACKEND): Uint8Array {
  try {
    return backend.decompressSync(bytes);
  } catch (error) {
    throw zstdFailure(error, 0, bytes.length);
  }
}
