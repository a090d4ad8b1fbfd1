import { Decompress, decompress as decompressSync } from "fzstd";
import { DbnDecodeError } from "./errors.js";

/** True when `bytes` starts with a zstd frame or a zstd skippable frame. */
export function isZstd(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  if (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd) return true;
  return (bytes[0]! & 0xf0) === 0x50 && bytes[1] === 0x2a && bytes[2] === 0x4d && bytes[3] === 0x18;
}

/**
 * Streaming zstd decompression (multi-frame and skippable frames included) with fzstd, pure JS,
 * chosen by measurement: see README "zstd". Errors become DbnDecodeError("corrupt_zstd").
 */
export class ZstdStreamDecoder {
  private readonly inner: Decompress;
  private consumed = 0;
  private out: Uint8Array[] = [];

  constructor() {
    this.inner = new Decompress((chunk) => {
      this.out.push(chunk);
    });
  }

  /** Feeds compressed bytes; returns the decompressed chunks they completed. */
  push(chunk: Uint8Array, final = false): Uint8Array[] {
    try {
      this.inner.push(chunk, final);
    } catch (error) {
      throw new DbnDecodeError("corrupt_zstd", this.consumed, `corrupt zstd data: ${(error as Error).message}`, { cause: error });
    }
    this.consumed += chunk.length;
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** One-shot decompression of a whole zstd buffer. */
export function zstdDecompress(bytes: Uint8Array): Uint8Array {
  try {
    return decompressSync(bytes);
  } catch (error) {
    throw new DbnDecodeError("corrupt_zstd", 0, `corrupt zstd data: ${(error as Error).message}`, { cause: error });
  }
}
