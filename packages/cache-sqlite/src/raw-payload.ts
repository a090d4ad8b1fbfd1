/**
 * A source's raw payload (DBN bytes, an HTML page, a JSON answer) compressed for storage. The encoding is
 * stored beside the bytes so a payload comes back as the type it went in: text as a string, bytes as bytes.
 */
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
