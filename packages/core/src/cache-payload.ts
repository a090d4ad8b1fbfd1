/**
 * How a cache store keeps an entry's bytes, the same in every store (SQLite, PostgreSQL): the chain's JSON
 * with its sha256, checked on every read so bytes changed after they were written are a miss, never a
 * hit; and the source's raw payload gzipped, with its encoding stored beside it so it comes back as the
 * type it went in (text as a string, bytes as bytes).
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";

export type RawEncoding = "gzip/utf8" | "gzip/bytes";

export interface StoredRaw {
  bytes: Uint8Array;
  encoding: RawEncoding;
}

export function compressRaw(raw: Uint8Array | string): StoredRaw {
  if (typeof raw === "string") return { bytes: gzipSync(Buffer.from(raw, "utf8")), encoding: "gzip/utf8" };
  return { bytes: gzipSync(raw), encoding: "gzip/bytes" };
}

export function decompressRaw(bytes: Uint8Array, encoding: string): Uint8Array | string {
  const plain = gunzipSync(bytes);
  if (encoding === "gzip/utf8") return plain.toString("utf8");
  if (encoding === "gzip/bytes") return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
  throw new Error(`unknown raw payload encoding ${JSON.stringify(encoding)} (expected "gzip/utf8" or "gzip/bytes")`);
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** "64 MiB", "1.5 KiB", "512 B": sizes in a store's messages (entry limits, what was not cached). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : Number(value.toFixed(1))} ${units[unit]}`;
}
