import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Xxh64 } from "./xxh64.js";

const ZSTD_CLI = "/usr/bin/zstd";

const hex = (bytes: Uint8Array | string, pieces = [Infinity]): string => {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const hash = new Xxh64();
  let at = 0;
  for (const size of pieces) {
    if (at >= data.length) break;
    hash.update(data.subarray(at, Math.min(data.length, at + size)));
    at += size;
  }
  if (at < data.length) hash.update(data.subarray(at));
  const [h, l] = hash.digest();
  return h.toString(16).padStart(8, "0") + l.toString(16).padStart(8, "0");
};

describe("XXH64 (seed 0)", () => {
  it("matches the reference's published values", () => {
    // From the xxHash repository's documentation and sanity tests.
    expect(hex("")).toBe("ef46db3751d8e999");
    expect(hex("a")).toBe("d24ec4f1a98c6e5b");
    expect(hex("abc")).toBe("44bc2cf5ad770999");
  });

  it("gives the same hash however the input is cut", () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + (i >> 3)) & 0xff);
    const whole = hex(data);
    for (const pieces of [[1], [7, 25, 1, 31, 32, 33], [31], [32], [64, 1], [999]]) {
      expect(hex(data, Array.from({ length: 200 }, (_, i) => pieces[i % pieces.length]!)), String(pieces)).toBe(whole);
    }
  });

  // zstd's frame checksum is the low 32 bits of XXH64 of the frame's content: the reference CLI is
  // an independent implementation to check against, at every length around the 32-byte stripe and
  // the 8- and 4-byte tails.
  it.skipIf(!existsSync(ZSTD_CLI))(`agrees with the checksums the zstd command-line tool writes (needs ${ZSTD_CLI})`, () => {
    const lengths = [...Array.from({ length: 100 }, (_, i) => i), 255, 256, 1023, 4096 + 13, 1_000_003];
    for (const length of lengths) {
      const data = Uint8Array.from({ length }, (_, i) => (Math.imul(i + length, 2654435761) >>> 13) & 0xff);
      const frame = execFileSync(ZSTD_CLI, ["-q", "-c", "--check", "--no-progress", "-"], { input: data });
      const stored = frame.readUInt32LE(frame.length - 4);
      expect(xxhLow(data), `length ${length}`).toBe(stored);
    }
  });
});

function xxhLow(data: Uint8Array): number {
  const hash = new Xxh64();
  hash.update(data);
  return hash.digest()[1];
}
