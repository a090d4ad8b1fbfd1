import { Transform } from "node:stream";
import { Decompress } from "fzstd";
import { describe, expect, it } from "vitest";
import {
  createMetadata,
  DbnDecodeError,
  decodeDbn,
  decodeDbnSync,
  DEFAULT_ZSTD_BACKEND,
  encodeDbn,
  FZSTD_BACKEND,
  isZstd,
  nodeZlibZstdBackend,
  RType,
  Schema,
  zstdCompress,
  type DbnRecordV3,
  type ZstdBackend,
} from "./index.js";

// A Transform-based backend built on fzstd exercises the same streaming plumbing node:zlib's
// zstd uses on Node ≥ 22.15, which this Node 20 toolchain cannot run.
const transformBackend: ZstdBackend = {
  name: "fzstd-transform",
  decompressSync: FZSTD_BACKEND.decompressSync,
  createTransform: () => {
    // eslint-disable-next-line prefer-const -- assigned after the Transform it pushes into exists
    let decoder: Decompress;
    const transform = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        try {
          decoder.push(chunk);
          callback();
        } catch (error) {
          callback(error as Error);
        }
      },
      flush(callback) {
        try {
          decoder.push(new Uint8Array(0), true);
          callback();
        } catch (error) {
          callback(error as Error);
        }
      },
    });
    decoder = new Decompress((out) => transform.push(out));
    return transform;
  },
};

const records: DbnRecordV3[] = Array.from({ length: 500 }, (_, i) => ({
  hd: { length: 12, rtype: RType.Mbp0, publisher_id: 1, instrument_id: i, ts_event: BigInt(i) },
  price: BigInt(i) * 250_000_000n, size: 1, action: "T", side: "A", flags: 0, depth: 0, ts_recv: BigInt(i), ts_in_delta: 0, sequence: i,
}));
const file = encodeDbn({ metadata: createMetadata({ dataset: "GLBX.MDP3", schema: Schema.Trades }), records });
// Three frames in a row, as Databento's streams and the streaming encoder produce.
const third = Math.floor(file.length / 3);
const multiFrame = Buffer.concat([zstdCompress(file.subarray(0, third)), zstdCompress(file.subarray(third, 2 * third)), zstdCompress(file.subarray(2 * third))]);

async function* chunked(bytes: Uint8Array, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

describe("zstd backends", () => {
  it("uses node:zlib only where the runtime has zstd", () => {
    const native = nodeZlibZstdBackend();
    expect(DEFAULT_ZSTD_BACKEND.name).toBe(native ? "node:zlib" : "fzstd");
  });

  it("detects zstd and skippable frames", () => {
    expect(isZstd(multiFrame)).toBe(true);
    expect(isZstd(Uint8Array.from([0x50, 0x2a, 0x4d, 0x18]))).toBe(true);
    expect(isZstd(file)).toBe(false);
  });

  it.each([FZSTD_BACKEND, transformBackend])("$name decodes multi-frame input in any chunking", async (backend) => {
    const expected = decodeDbnSync(file).records;
    for (const size of [1, 7, 4096]) {
      const { records: got } = await decodeDbn(chunked(multiFrame, size), { zstdBackend: backend });
      expect(got).toEqual(expected);
    }
  });

  it.each([FZSTD_BACKEND, transformBackend])("$name reports corrupt zstd as DbnDecodeError", async (backend) => {
    const bad = Buffer.from(multiFrame);
    bad.fill(0xff, 8, 40);
    const error = await decodeDbn(chunked(bad, 16), { zstdBackend: backend }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbnDecodeError);
    // A corrupted block size reads as a frame running past the end of the input: zstd cannot
    // tell that from truncation, so either code is honest.
    expect(["corrupt_zstd", "truncated"]).toContain((error as DbnDecodeError).code);
  });

  it.each([FZSTD_BACKEND, transformBackend])("$name reports a bad frame magic as corrupt_zstd", async (backend) => {
    const bad = Buffer.from(multiFrame);
    bad[0] = 0x29; // no longer a zstd frame nor a skippable frame
    const error = await decodeDbn(chunked(bad, 16), { zstdBackend: backend, compression: "zstd" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbnDecodeError);
    expect((error as DbnDecodeError).code).toBe("corrupt_zstd");
  });

  it("passes input errors through unchanged", async () => {
    async function* failing() {
      yield multiFrame.subarray(0, 20);
      throw new Error("socket reset");
    }
    await expect(decodeDbn(failing(), { zstdBackend: transformBackend })).rejects.toThrow("socket reset");
    await expect(decodeDbn(failing(), { zstdBackend: FZSTD_BACKEND })).rejects.toThrow("socket reset");
  });
});

describe("zstd truncation", () => {
  it("a stream cut inside a frame (even just its checksum) is truncated, one-shot and streaming", async () => {
    for (const cut of [1, 4, 30]) {
      const bytes = multiFrame.subarray(0, multiFrame.length - cut);
      let sync: unknown;
      try {
        decodeDbnSync(bytes);
      } catch (error) {
        sync = error;
      }
      const streamed = await decodeDbn(chunked(bytes, 64)).catch((error: unknown) => error);
      for (const error of [sync, streamed]) {
        expect(error).toBeInstanceOf(DbnDecodeError);
        expect((error as DbnDecodeError).code).toBe("truncated");
        expect((error as DbnDecodeError).offset).toBe(bytes.length);
      }
    }
  });
});
