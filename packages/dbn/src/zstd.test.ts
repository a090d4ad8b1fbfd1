import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { Transform } from "node:stream";
import { Decompress } from "fzstd";
import { describe, expect, it, vi } from "vitest";
import {
  createMetadata,
  DbnDecodeError,
  decodeDbn,
  decodeDbnSync,
  DEFAULT_ZSTD_BACKEND,
  encodeDbn,
  FZSTD_BACKEND,
  isZstd,
  nativeZstdBackend,
  nodeZlibZstdBackend,
  zstdBackendNamed,
  RType,
  Schema,
  zstdCompress,
  parseFrameHeader,
  zstdDecompress,
  ZstdStreamDecoder,
  type DbnRecordV3,
  type ZstdBackend,
} from "./index.js";
import { HAVE_FIXTURES, listFixtures, readFixture, SKIP_REASON } from "./fixtures.test-support.js";
import { Xxh64 } from "./xxh64.js";

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
  it("picks zstd-napi when its addon loads, else node:zlib where the runtime has zstd, else fzstd", () => {
    const forced = process.env.NQ_DBN_ZSTD_BACKEND;
    const expected = forced ? zstdBackendNamed(forced).name : (nativeZstdBackend() ?? nodeZlibZstdBackend() ?? FZSTD_BACKEND).name;
    expect(DEFAULT_ZSTD_BACKEND.name).toBe(expected);
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

// ---------------------------------------------------------------------------------------------
// The native backend (zstd-napi) against fzstd: the same bytes must give the same outcome.

const NATIVE = nativeZstdBackend();
const NO_NATIVE = "zstd-napi's addon is not built here (optional dependency): native backend tests skipped";
if (!NATIVE) console.warn(NO_NATIVE);
const BACKENDS: ZstdBackend[] = NATIVE ? [FZSTD_BACKEND, NATIVE] : [FZSTD_BACKEND];

/** The outcome of one decode: records, or the error's class, code, offset and message. */
interface Outcome {
  records?: unknown[];
  error?: { name: string; code: string; offset: number; message: string; partial: number | undefined };
}

function describeError(error: unknown): Outcome {
  if (!(error instanceof DbnDecodeError)) throw error;
  return { error: { name: error.name, code: error.code, offset: error.offset, message: error.message, partial: error.partial?.records.length } };
}

/** Decodes `bytes` with `backend` three ways (sync, one chunk, 1000-byte chunks); all must agree. */
async function outcome(bytes: Uint8Array, backend: ZstdBackend, options: { maxZstdWindow?: number } = {}): Promise<Outcome> {
  const all: Outcome[] = [];
  try {
    all.push({ records: decodeDbnSync(bytes, { zstdBackend: backend, ...options }).records });
  } catch (error) {
    all.push(describeError(error));
  }
  for (const size of [bytes.length || 1, 1000]) {
    all.push(await decodeDbn(chunked(bytes, size), { zstdBackend: backend, ...options }).then((r) => ({ records: r.records }), describeError));
  }
  // How many records precede an error inside a frame may depend on the chunking (libzstd streams
  // a raw block out as it arrives); the error itself may not.
  const withoutPartial = (o: Outcome) => (o.error ? { error: { ...o.error, partial: undefined } } : o);
  expect(withoutPartial(all[1]!)).toEqual(withoutPartial(all[0]!));
  expect(withoutPartial(all[2]!)).toEqual(withoutPartial(all[0]!));
  return all[0]!;
}

const MiB = 1024 * 1024;
const body = encodeDbn({ metadata: createMetadata({ dataset: "GLBX.MDP3", schema: Schema.Trades }), records: records.slice(0, 50) });

/** A zstd frame header written by hand (RFC 8878 §3.1.1.1): 4-byte content size when given. */
function header(descriptorWindow: number, contentSize?: number): Uint8Array {
  const out = [0x28, 0xb5, 0x2f, 0xfd, contentSize === undefined ? 0x00 : 0x80, descriptorWindow];
  if (contentSize !== undefined) for (let i = 0, v = contentSize; i < 4; i++, v = Math.floor(v / 256)) out.push(v % 256);
  return Uint8Array.from(out);
}

/** `bytes` as one last raw block. */
function lastRawBlock(bytes: Uint8Array): Uint8Array {
  const b = bytes.length * 8 + 1;
  return Buffer.concat([Uint8Array.from([b & 0xff, (b >> 8) & 0xff, (b >> 16) & 0xff]), bytes]);
}

const skippable = (n: number) => Buffer.concat([Uint8Array.from([0x5a, 0x2a, 0x4d, 0x18, n, 0, 0, 0]), new Uint8Array(n).fill(7)]);

describe("native backend (zstd-napi)", () => {
  it.skipIf(!NATIVE)("is chosen by name, and an unknown or unavailable name is a clear error", () => {
    expect(zstdBackendNamed("native").name).toBe("zstd-napi");
    expect(zstdBackendNamed("zstd-napi").createContext).toBeTypeOf("function");
    expect(zstdBackendNamed("fzstd")).toBe(FZSTD_BACKEND);
    expect(() => zstdBackendNamed("zlib")).toThrow('unknown zstd backend "zlib"');
    if (!nodeZlibZstdBackend()) expect(() => zstdBackendNamed("node:zlib")).toThrow("has no zlib zstd");
  });

  it("is undefined, not an error, when the addon is absent or is not zstd-napi", () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module 'zstd-napi/binding'"), { code: "MODULE_NOT_FOUND" });
    };
    expect(nativeZstdBackend(missing)).toBeUndefined();
    expect(nativeZstdBackend(() => ({}))).toBeUndefined();
  });

  it.skipIf(!NATIVE)("decodes our encoder's files, multi-frame, in any chunking, exactly as fzstd does", async () => {
    const expected = decodeDbnSync(file).records;
    for (const backend of BACKENDS) {
      for (const size of [1, 7, 4096, multiFrame.length]) {
        expect((await decodeDbn(chunked(multiFrame, size), { zstdBackend: backend })).records).toEqual(expected);
      }
      expect(decodeDbnSync(multiFrame, { zstdBackend: backend }).records).toEqual(expected);
      expect(zstdDecompress(multiFrame, backend)).toEqual(file);
    }
  });

  it.skipIf(!NATIVE)("never hands out more than one 128 KiB block per piece, and yields before decompressing more", () => {
    const big = encodeDbn({ metadata: createMetadata({ dataset: "GLBX.MDP3", schema: Schema.Trades }), records: Array.from({ length: 40 }, () => records).flat() });
    const zst = zstdCompress(big, 19);
    const decoder = new ZstdStreamDecoder({ backend: NATIVE! });
    expect(decoder.backendName).toBe("zstd-napi");
    const pieces = decoder.decode(zst, true);
    const first = pieces.next();
    expect(first.done).toBe(false);
    expect((first.value as Uint8Array).length).toBeLessThanOrEqual(128 * 1024);
    const kept = [first.value as Uint8Array];
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(128 * 1024);
      kept.push(piece);
    }
    // Without reuseOutput every piece stays intact after later ones are decompressed.
    expect(Buffer.concat(kept).equals(big)).toBe(true);
    // With it, pieces share one buffer: each is right when handed out (checked as it comes).
    let offset = 0;
    for (const piece of new ZstdStreamDecoder({ backend: NATIVE!, reuseOutput: true }).decode(zst, true)) {
      expect(Buffer.from(piece).equals(big.subarray(offset, offset + piece.length))).toBe(true);
      offset += piece.length;
    }
    expect(offset).toBe(big.length);
  });
});

describe("hostile zstd headers: the same outcome with every backend", () => {
  const cases: [string, Uint8Array, Partial<NonNullable<Outcome["error"]>> & { records?: number }][] = [
    // Window descriptor 0xA8: exponent 21 → 2^31 bytes, which fzstd would otherwise trust.
    ["a declared 2 GiB window", Buffer.concat([header(0xa8), lastRawBlock(body)]), { code: "corrupt_zstd", offset: 5 }],
    ["a declared 2^41 window (descriptor 0xF8)", Buffer.concat([header(0xf8), lastRawBlock(body)]), { code: "corrupt_zstd", offset: 5 }],
    ["a single-segment frame declaring 4 GiB of content", Buffer.concat([Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 1, 0, 0, 0]), lastRawBlock(body)]), { code: "corrupt_zstd", offset: 5 }],
    ["a frame declaring 3 GiB of content it does not have", Buffer.concat([header(0x58, 3 * 1024 * MiB), lastRawBlock(body)]), { code: "corrupt_zstd" }],
    ["a frame cut inside its last block", Buffer.concat([header(0x58), lastRawBlock(body)]).subarray(0, 100), { code: "truncated", offset: 100 }],
    ["a frame cut inside its header", multiFrame.subarray(0, 5), { code: "truncated", offset: 5 }],
    ["garbage after a whole frame", Buffer.concat([zstdCompress(body), Buffer.from("not zstd at all")]), { code: "corrupt_zstd", records: 50 }],
    ["a reserved block type", Buffer.concat([header(0x58), Uint8Array.from([0x07, 0, 0])]), { code: "corrupt_zstd", offset: 6 }],
  ];

  it.skipIf(!NATIVE).each(cases)("%s", async (_name, bytes, expected) => {
    const [fzstd, native] = await Promise.all(BACKENDS.map((backend) => outcome(bytes, backend)));
    for (const got of [fzstd!, native!]) {
      expect(got.error).toBeDefined();
      expect(got.error!.name).toBe("DbnDecodeError");
      expect(got.error!.code).toBe(expected.code);
      if (expected.offset !== undefined) expect(got.error!.offset).toBe(expected.offset);
      if (expected.records !== undefined) expect(got.error!.partial).toBe(expected.records);
    }
    // Structural problems are found by the frame walker, before either decompressor: identical
    // errors. A content-size mismatch is found by each decompressor in its own words.
    if (!_name.includes("content it does not have")) expect(native!.error).toEqual(fzstd!.error);
    else for (const got of [fzstd!, native!]) expect(got.error!.message).toMatch(/^corrupt zstd data: /);
  });

  it.skipIf(!NATIVE)("a chunk boundary anywhere in a header or in garbage after a frame changes nothing", async () => {
    const frame = zstdCompress(body);
    const inputs = [
      Buffer.concat([frame, Buffer.from("garbage!")]),
      Buffer.concat([frame, header(0xa8), lastRawBlock(body)]),
      Buffer.concat([frame, skippable(5), frame]),
    ];
    for (const bytes of inputs) {
      const whole = await outcome(bytes, FZSTD_BACKEND);
      for (let split = frame.length - 3; split <= frame.length + 16; split++) {
        for (const backend of BACKENDS) {
          const got = await decodeDbn([bytes.subarray(0, split), bytes.subarray(split)], { zstdBackend: backend }).then((r) => ({ records: r.records }), describeError);
          expect(got, `${backend.name}, split at ${split}`).toEqual(whole);
        }
      }
    }
  });

  it("the window error says what was declared and what is allowed", async () => {
    const got = await outcome(Buffer.concat([header(0xa8), lastRawBlock(body)]), FZSTD_BACKEND);
    expect(got.error!.message).toBe(
      "zstd frame declares a window of 2147483648 bytes (2 GiB); at most 134217728 bytes (128 MiB) is allowed " +
        "(option maxZstdWindow; reference zstd refuses above 128 MiB by default too) (at byte offset 5)",
    );
    const lowered = await outcome(Buffer.concat([header(0x58), lastRawBlock(body)]), FZSTD_BACKEND, { maxZstdWindow: MiB });
    expect(lowered.error!.message).toContain("a window of 2097152 bytes (2 MiB); at most 1048576 bytes (1 MiB) is allowed");
    await expect(decodeDbn([multiFrame], { maxZstdWindow: 5 })).rejects.toThrow("maxZstdWindow must be an integer number of bytes >= 1024");
  });

  it.skipIf(!NATIVE)("skippable frames before, between and after frames are skipped by both", async () => {
    const third = Math.floor(body.length / 3);
    const bytes = Buffer.concat([skippable(3), zstdCompress(body.subarray(0, third)), skippable(0), skippable(200), zstdCompress(body.subarray(third)), skippable(9)]);
    const [fzstd, native] = await Promise.all(BACKENDS.map((backend) => outcome(bytes, backend)));
    expect(fzstd!.records).toHaveLength(50);
    expect(native).toEqual(fzstd);
  });

  it.skipIf(!NATIVE)("a window above the default is refused by both, and decoded by zstd-napi once allowed", async () => {
    // Descriptor 0x90: 2^28 = 256 MiB, declared by a frame whose content is tiny.
    const bytes = Buffer.concat([header(0x90), lastRawBlock(body)]);
    const [fzstd, native] = await Promise.all(BACKENDS.map((backend) => outcome(bytes, backend)));
    expect(native!.error).toEqual(fzstd!.error);
    expect(native!.error!.message).toContain("268435456 bytes (256 MiB)");
    const raised = await outcome(bytes, NATIVE!, { maxZstdWindow: 256 * MiB });
    expect(raised.records).toHaveLength(50);
    // fzstd allocates and moves a whole 256 MiB window per block: its cost meter refuses it.
    const slow = await outcome(bytes, FZSTD_BACKEND, { maxZstdWindow: 256 * MiB });
    expect(slow.error!.message).toContain("too costly for fzstd");
  });
});

describe("when the addon is absent", () => {
  it("the package falls back to fzstd (addon made unloadable in a fresh module graph)", async () => {
    vi.resetModules();
    vi.doMock("node:module", async (importOriginal) => {
      const real = await importOriginal<typeof import("node:module")>();
      const createRequire = (from: string | URL) => {
        const require = real.createRequire(from);
        return Object.assign((id: string) => {
          if (id.startsWith("zstd-napi")) throw Object.assign(new Error(`Cannot find module '${id}'`), { code: "MODULE_NOT_FOUND" });
          return require(id);
        }, require);
      };
      return { ...real, createRequire, default: { ...real, createRequire } };
    });
    const saved = process.env.NQ_DBN_ZSTD_BACKEND;
    delete process.env.NQ_DBN_ZSTD_BACKEND;
    try {
      const fresh = await import("./index.js");
      expect(fresh.nativeZstdBackend()).toBeUndefined();
      expect(fresh.DEFAULT_ZSTD_BACKEND.name).toBe(nodeZlibZstdBackend() ? "node:zlib" : "fzstd");
      expect((await fresh.decodeDbn(chunked(multiFrame, 999))).records).toEqual(decodeDbnSync(file).records);
      expect(fresh.decodeDbnSync(multiFrame).records).toHaveLength(500);
      expect(() => fresh.zstdBackendNamed("native")).toThrow("optional dependency zstd-napi is not installed or its addon did not build or load");
      // Forcing the missing backend by environment is an error at first use, not a silent fallback.
      process.env.NQ_DBN_ZSTD_BACKEND = "native";
      vi.resetModules();
      const forced = await import("./index.js");
      expect(forced.DEFAULT_ZSTD_BACKEND.name).toBe("native (unavailable)");
      expect(() => forced.decodeDbnSync(multiFrame)).toThrow("NQ_DBN_ZSTD_BACKEND=native: zstd backend");
    } finally {
      if (saved === undefined) delete process.env.NQ_DBN_ZSTD_BACKEND;
      else process.env.NQ_DBN_ZSTD_BACKEND = saved;
      vi.doUnmock("node:module");
      vi.resetModules();
    }
  });

  it("NQ_DBN_ZSTD_BACKEND=fzstd forces fzstd even where zstd-napi loads", async () => {
    const saved = process.env.NQ_DBN_ZSTD_BACKEND;
    process.env.NQ_DBN_ZSTD_BACKEND = "fzstd";
    vi.resetModules();
    try {
      const fresh = await import("./index.js");
      expect(fresh.DEFAULT_ZSTD_BACKEND.name).toBe("fzstd");
    } finally {
      if (saved === undefined) delete process.env.NQ_DBN_ZSTD_BACKEND;
      else process.env.NQ_DBN_ZSTD_BACKEND = saved;
      vi.resetModules();
    }
  });
});

describe("real files decode identically with both backends", () => {
  const zstdFixtures = listFixtures().filter((f) => f.zstd);
  it.skipIf(!HAVE_FIXTURES || !NATIVE)(`Databento's .zst fixtures (${HAVE_FIXTURES ? "shared folder" : SKIP_REASON})`, async () => {
    expect(zstdFixtures.length).toBeGreaterThan(10);
    for (const fixture of zstdFixtures) {
      const bytes = readFixture(fixture.name);
      const options = { fragment: fixture.fragment, version: fixture.version };
      const viaFzstd = decodeDbnSync(bytes, { ...options, zstdBackend: FZSTD_BACKEND });
      const viaNative = await decodeDbn(chunked(bytes, 4093), { ...options, zstdBackend: NATIVE! });
      expect(viaNative, fixture.name).toEqual(viaFzstd);
      expect(zstdDecompress(bytes, NATIVE!), fixture.name).toEqual(zstdDecompress(bytes, FZSTD_BACKEND));
    }
  });

  const ZSTD_CLI = "/usr/bin/zstd";
  it.skipIf(!existsSync(ZSTD_CLI) || !NATIVE)(`files written by the zstd command-line tool, checksummed, --long=27 included (needs ${ZSTD_CLI})`, () => {
    for (const flags of [["-3"], ["-19", "--long=27"]]) {
      // From stdin the size is unknown, so zstd keeps the whole 2^27 window --long asks for.
      const zst = new Uint8Array(execFileSync(ZSTD_CLI, ["-q", "-c", ...flags], { input: file }));
      expect(parseFrameHeader(zst, 0, 0)!.windowSize).toBe(flags.includes("--long=27") ? 128 * MiB : 2 * MiB);
      expect(decodeDbnSync(zst, { zstdBackend: NATIVE! }).records).toEqual(decodeDbnSync(file).records);
      if (flags.includes("--long=27")) {
        // A 128 MiB window: within the bound, but fzstd's cost meter refuses it at its first
        // block (it moves the whole window per block); libzstd decodes it.
        expect(() => decodeDbnSync(zst, { zstdBackend: FZSTD_BACKEND })).toThrow("too costly for fzstd");
      } else {
        expect(decodeDbnSync(zst, { zstdBackend: FZSTD_BACKEND }).records).toEqual(decodeDbnSync(file).records);
      }
    }
  });
});

describe("content checksums", () => {
  const ZSTD_CLI = "/usr/bin/zstd";
  // Incompressible bytes: zstd stores them in raw blocks, so a flipped byte still decodes — to
  // different bytes. Only the frame's checksum can tell.
  const noise = Uint8Array.from({ length: 300_000 }, (_, i) => (Math.imul(i ^ (i >>> 7), 2654435761) >>> 19) & 0xff);
  const compress = (flags: string[]) => new Uint8Array(execFileSync(ZSTD_CLI, ["-q", "-c", "-1", ...flags], { input: noise }));
  const damaged = (zst: Uint8Array) => {
    const copy = zst.slice();
    copy[Math.floor(copy.length / 2)]! ^= 0x10;
    return copy;
  };
  const streamed = (bytes: Uint8Array, backend: ZstdBackend, size: number) => {
    const decoder = new ZstdStreamDecoder({ backend });
    const out: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += size) out.push(...decoder.push(bytes.subarray(at, at + size), at + size >= bytes.length));
    return Buffer.concat(out);
  };

  // A frame built by hand (RFC 8878): single segment, one raw block, the checksum from our own XXH64.
  // libzstd (the native backend) checks that checksum itself, so it also vouches for the hash.
  const rawFrame = (content: Uint8Array) => {
    const header = [0x28, 0xb5, 0x2f, 0xfd, 0x24, content.length];
    const block = 1 | (content.length << 3);
    const hash = new Xxh64();
    hash.update(content);
    const sum = hash.digest()[1];
    return Uint8Array.from([...header, block & 0xff, (block >> 8) & 0xff, block >> 16, ...content, sum & 0xff, (sum >>> 8) & 0xff, (sum >>> 16) & 0xff, sum >>> 24]);
  };

  it("a hand-built frame with a raw block: decoded when its checksum matches, refused when a content byte is changed, by every backend", () => {
    const content = Uint8Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff);
    const frame = rawFrame(content);
    const bad = frame.slice();
    bad[9 + 100]! ^= 0x01; // a byte of the raw block's content
    for (const backend of BACKENDS) {
      expect(Buffer.from(zstdDecompress(frame, backend)).equals(Buffer.from(content)), backend.name).toBe(true);
      expect(() => zstdDecompress(bad, backend), backend.name).toThrow(DbnDecodeError);
      expect(() => zstdDecompress(bad, backend), backend.name).toThrow(/checksum/);
    }
  });

  it.skipIf(!existsSync(ZSTD_CLI))(`a damaged frame that still decodes is refused by its checksum, by every backend, whatever the chunking (needs ${ZSTD_CLI})`, () => {
    const zst = compress(["--check"]);
    expect(zst[4]! & 0x04).toBe(0x04); // the frame says it carries a checksum
    const bad = damaged(zst);
    for (const backend of BACKENDS) {
      expect(Buffer.from(zstdDecompress(zst, backend)).equals(Buffer.from(noise)), backend.name).toBe(true);
      for (const decode of [() => zstdDecompress(bad, backend), () => streamed(bad, backend, 1), () => streamed(bad, backend, 4093)]) {
        let error: unknown;
        try {
          decode();
        } catch (e) {
          error = e;
        }
        expect(error, backend.name).toBeInstanceOf(DbnDecodeError);
        expect((error as DbnDecodeError).code, backend.name).toBe("corrupt_zstd");
        expect((error as DbnDecodeError).message, backend.name).toMatch(/checksum/);
      }
    }
    // fzstd's message names both values and where the frame ends.
    expect(() => zstdDecompress(bad, FZSTD_BACKEND)).toThrow(/content checksum is 0x[0-9a-f]{8} but its 300000 decoded bytes hash to 0x[0-9a-f]{8} \(the file is damaged\)/);
  });

  it.skipIf(!existsSync(ZSTD_CLI))(`without a checksum the same damage goes unseen (what the flag buys) (needs ${ZSTD_CLI})`, () => {
    const bad = damaged(compress(["--no-check"]));
    for (const backend of BACKENDS) {
      const out = zstdDecompress(bad, backend);
      expect(out.length, backend.name).toBe(noise.length);
      expect(Buffer.from(out).equals(Buffer.from(noise)), backend.name).toBe(false);
    }
  });
});
