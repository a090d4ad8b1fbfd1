import { compress, init } from "@bokuweb/zstd-wasm";

// fzstd only decompresses, so compression uses the official zstd C library compiled to WASM.
// Top-level await keeps `encodeDbn` synchronous for callers: the module is ready once imported.
await init();

/** Compresses `bytes` into one zstd frame. */
export function zstdCompress(bytes: Uint8Array, level = 3): Uint8Array {
  return compress(bytes, level);
}
