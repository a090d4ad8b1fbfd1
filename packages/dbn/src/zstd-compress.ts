import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { compress } from "@bokuweb/zstd-wasm";

// fzstd only decompresses, so compression uses the official zstd C library compiled to WASM. The WASM is
// compiled and instantiated synchronously on first use — no top-level await — so `encodeDbn` stays
// synchronous and the package can be require()d (Node's require(esm) refuses a graph with top-level await).
interface EmscriptenModule {
  instantiateWasm?: (imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => void) => WebAssembly.Exports;
  init(): void;
}

const require = createRequire(import.meta.url);
let ready = false;

function ensureZstd(): void {
  if (ready) return;
  // Beside the CommonJS entry that `compress` above comes from (its exports map lists only "."), so this
  // is the same Emscripten Module that `compress` uses. Pinned: @bokuweb/zstd-wasm 0.0.27.
  const dist = dirname(require.resolve("@bokuweb/zstd-wasm"));
  const { Module } = require(join(dist, "module.js")) as { Module: EmscriptenModule };
  const wasm = readFileSync(join(dist, "zstd.wasm"));
  Module.instantiateWasm = (imports, receive) => {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), imports);
    receive(instance);
    return instance.exports;
  };
  Module.init();
  ready = true;
}

/** Compresses `bytes` into one zstd frame. */
export function zstdCompress(bytes: Uint8Array, level = 3): Uint8Array {
  ensureZstd();
  return compress(bytes, level);
}
