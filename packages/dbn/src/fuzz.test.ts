import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createMetadata,
  DbnDecodeError,
  decodeDbn,
  decodeDbnSync,
  encodeDbn,
  encodeRecords,
  RType,
  Schema,
  SType,
  zstdDecompress,
  DbnParser,
  isZstd,
  MAX_ZSTD_BLOCK,
  ZstdStreamDecoder,
  type DbnRecordV3,
} from "./index.js";
import { concat, frameHeader, rawBlocks, rleBlock, validDbn } from "./hostile.js";
import { HAVE_FIXTURES, listFixtures, readFixture } from "./fixtures.test-support.js";

// Property tests. The vitest run does a bounded number of cases; `pnpm fuzz` sets FUZZ_RUNS.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TIMEOUT = Math.max(30_000, RUNS * 5);

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const symbol = (max: number) => fc.array(printable, { maxLength: max }).map((a) => a.join(""));
const level = fc.record({ bid_px: i64, ask_px: i64, bid_sz: u32, ask_sz: u32, bid_ct: u32, ask_ct: u32 });

const header = (rtype: number | fc.Arbitrary<number>) =>
  fc.record({
    length: fc.constant(0),
    rtype: typeof rtype === "number" ? fc.constant(rtype) : rtype,
    publisher_id: u16,
    instrument_id: u32,
    ts_event: u64,
  });

const mbo = fc.record({
  hd: header(RType.Mbo), order_id: u64, price: i64, size: u32, flags: u8, channel_id: u8,
  action: printable, side: printable, ts_recv: u64, ts_in_delta: i32, sequence: u32,
});
const mbp1 = fc.record({
  hd: header(RType.Mbp1), price: i64, size: u32, action: printable, side: printable, flags: u8, depth: u8,
  ts_recv: u64, ts_in_delta: i32, sequence: u32, levels: fc.tuple(level),
});
const stat = fc.record({
  hd: header(RType.Statistics), ts_recv: u64, ts_ref: u64, price: i64, quantity: i64, sequence: u32, ts_in_delta: i32,
  stat_type: u16, channel_id: u16, update_action: u8, stat_flags: u8,
});
const mapping = fc.record({
  hd: header(RType.SymbolMapping), stype_in: u8, stype_in_symbol: symbol(71), stype_out: u8, stype_out_symbol: symbol(71),
  start_ts: u64, end_ts: u64,
});
const ohlcv = fc.record({
  hd: header(fc.constantFrom(RType.Ohlcv1S, RType.Ohlcv1M, RType.Ohlcv1H, RType.Ohlcv1D)),
  open: i64, high: i64, low: i64, close: i64, volume: u64,
});
const anyRecord = fc.oneof(mbo, mbp1, stat, mapping, ohlcv) as fc.Arbitrary<DbnRecordV3>;

const metadata = fc
  .record({
    dataset: symbol(16),
    start: u64,
    end: u64,
    limit: u64,
    symbols: fc.array(symbol(71), { maxLength: 3 }),
    mappings: fc.array(
      fc.record({
        raw_symbol: symbol(71),
        intervals: fc.array(fc.record({ start_date: u32, end_date: u32, symbol: symbol(71) }), { maxLength: 2 }),
      }),
      { maxLength: 2 },
    ),
  })
  .map((m) => createMetadata({ ...m, schema: null, stype_in: SType.RawSymbol, stype_out: SType.InstrumentId }));

const dbnFile = fc.record({ metadata, records: fc.array(anyRecord, { maxLength: 8 }) });

/** Per-input resource bounds, asserted by every property below. */
const MAX_MS_PER_INPUT = 2_000;
/** Decompressed bytes allowed to wait for the parser (fzstd may emit 4 blocks in one push). */
const MAX_AHEAD = 4 * MAX_ZSTD_BLOCK;

/**
 * Decodes `bytes` the way decodeDbnSync does (block-by-block zstd into the parser), checking
 * that it ends within MAX_MS_PER_INPUT and that the decompressor never runs more than MAX_AHEAD
 * bytes ahead of the parser: the memory bound, counted rather than sampled.
 */
function boundedDecode(bytes: Uint8Array, options: { fragment?: boolean; version?: number; upgrade?: boolean; compression?: "none" } = {}): void {
  const start = performance.now();
  const parser = new DbnParser(() => undefined, () => undefined, options);
  if (options.compression !== "none" && isZstd(bytes)) {
    let produced = 0;
    for (const piece of new ZstdStreamDecoder().decode(bytes, true)) {
      produced += piece.length;
      parser.push(piece);
      expect(produced - parser.position).toBeLessThanOrEqual(MAX_AHEAD + 2048);
    }
  } else {
    parser.push(bytes);
  }
  parser.finish();
  expect(performance.now() - start).toBeLessThan(MAX_MS_PER_INPUT);
}

/** Either decodes or throws DbnDecodeError, within the bounds; anything else fails the property. */
function decodesOrRejects(bytes: Uint8Array, options = {}): void {
  const start = performance.now();
  try {
    decodeDbnSync(bytes, options);
  } catch (error) {
    if (!(error instanceof DbnDecodeError)) throw error;
    expect(error.offset).toBeGreaterThanOrEqual(0);
  }
  expect(performance.now() - start).toBeLessThan(MAX_MS_PER_INPUT);
  try {
    boundedDecode(bytes, options);
  } catch (error) {
    if (!(error instanceof DbnDecodeError)) throw error;
  }
}

const mutation = fc.array(fc.tuple(fc.nat(), u8), { minLength: 1, maxLength: 4 });

function mutate(bytes: Uint8Array, edits: [number, number][], cut: number | null): Uint8Array {
  const out = bytes.slice(0, cut === null ? bytes.length : cut % (bytes.length + 1));
  for (const [at, value] of edits) if (out.length > 0) out[at % out.length] = value;
  return out;
}

describe("property: encoder-generated data", () => {
  it("decode(encode(x)) is x, for files and fragments", () => {
    fc.assert(
      fc.property(dbnFile, (file) => {
        const decoded = decodeDbnSync(encodeDbn(file));
        expect(decoded.metadata).toEqual(file.metadata);
        expect(decoded.records.length).toBe(file.records.length);
        // Equal up to the recomputed hd.length.
        const stripped = (records: unknown[]) => records.map((r) => ({ ...(r as DbnRecordV3), hd: { ...(r as DbnRecordV3).hd, length: 0 } }));
        expect(stripped(decoded.records)).toEqual(stripped(file.records));
        expect(stripped(decodeDbnSync(encodeRecords(file.records), { fragment: true }).records)).toEqual(stripped(file.records));
      }),
      { numRuns: Math.min(RUNS, 2_000) },
    );
  }, TIMEOUT);

  it("mutated or truncated DBN either decodes or throws DbnDecodeError", () => {
    fc.assert(
      fc.property(dbnFile, mutation, fc.option(fc.nat()), fc.boolean(), (file, edits, cut, fragment) => {
        const bytes = fragment ? encodeRecords(file.records) : encodeDbn(file);
        decodesOrRejects(mutate(bytes, edits, cut), { fragment });
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it("mutated zstd input either decodes or throws DbnDecodeError", () => {
    fc.assert(
      fc.property(dbnFile, mutation, fc.option(fc.nat()), (file, edits, cut) => {
        decodesOrRejects(mutate(encodeDbn(file, { zstd: true }), edits, cut));
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  }, TIMEOUT);

  it("random bytes either decode or throw DbnDecodeError, also as fragments of any version", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.constantFrom(1, 2, 3), fc.boolean(), (bytes, version, fragment) => {
        decodesOrRejects(bytes, { fragment, version });
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it("streaming in random chunks agrees with the one-shot decoder", async () => {
    await fc.assert(
      fc.asyncProperty(dbnFile, mutation, fc.integer({ min: 1, max: 64 }), async (file, edits, chunk) => {
        const zstd = chunk % 2 === 0;
        const bytes = mutate(encodeDbn(file, { zstd }), edits, null);
        let expected: unknown;
        try {
          expected = decodeDbnSync(bytes);
        } catch (error) {
          expected = error;
        }
        async function* chunks() {
          for (let i = 0; i < bytes.length; i += chunk) yield bytes.slice(i, i + chunk);
        }
        const actual = await decodeDbn(chunks()).catch((error: unknown) => error);
        if (zstd) {
          // Corrupt zstd without a checksum can decompress differently one-shot and streamed
          // (fzstd stops at different points), so only the error contract is compared.
          if (actual instanceof Error) expect(actual).toBeInstanceOf(DbnDecodeError);
        } else if (expected instanceof DbnDecodeError) {
          expect(actual).toBeInstanceOf(DbnDecodeError);
          expect((actual as DbnDecodeError).code).toBe(expected.code);
          expect((actual as DbnDecodeError).offset).toBe(expected.offset);
        } else {
          expect(actual).toEqual(expected);
        }
      }),
      { numRuns: Math.min(RUNS, 5_000) },
    );
  }, TIMEOUT);
});

interface HostileFrame {
  window: number;
  singleSegment: boolean;
  contentSize: number | null;
  checksum: boolean;
  blocks: { kind: string; byte?: number; size?: number; bytes?: Uint8Array; count?: number }[];
  repeat: number;
}

describe("property: hand-built hostile zstd (issue 18)", () => {
  // Frames built from the zstd syntax with arbitrary windows, content sizes and block mixes
  // (RLE blocks up to 128 KiB, raw DBN, random "compressed" bytes), behind valid DBN or not.
  const block = fc.oneof(
    fc.record({ kind: fc.constant("rle" as const), byte: u8, size: fc.integer({ min: 0, max: 128 * 1024 }) }),
    fc.record({ kind: fc.constant("raw" as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
    fc.record({ kind: fc.constant("dbn" as const), count: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant("garbage" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  );
  const frame = fc.record({
    window: u8,
    singleSegment: fc.boolean(),
    contentSize: fc.option(fc.integer({ min: 0, max: 2 ** 28 })),
    checksum: fc.boolean(),
    blocks: fc.array(block, { maxLength: 12 }),
    repeat: fc.integer({ min: 1, max: 300 }),
  });
  function build(frames: HostileFrame[]): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const f of frames) {
      const header = frameHeader({ window: f.window, singleSegment: f.singleSegment, contentSize: f.singleSegment ? (f.contentSize ?? 0) % (1 << 20) : (f.contentSize ?? undefined), checksum: f.checksum });
      const body: Uint8Array[] = [];
      f.blocks.forEach((b, i) => {
        const last = i === f.blocks.length - 1;
        if (b.kind === "rle") for (let r = 0; r < f.repeat; r++) body.push(rleBlock(b.byte!, b.size!, last && r === f.repeat - 1));
        else if (b.kind === "raw") body.push(rawBlocks(b.bytes!, last));
        else if (b.kind === "dbn") body.push(rawBlocks(validDbn(b.count!), last));
        else body.push(Uint8Array.from([(b.bytes!.length << 3) | 4 | (last ? 1 : 0), b.bytes!.length >> 5, 0]), b.bytes!);
      });
      parts.push(header, ...body, f.checksum ? new Uint8Array(4) : new Uint8Array(0));
    }
    return concat(parts);
  }

  it("decodes or throws DbnDecodeError within the time and memory bounds", () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 3 }), (frames) => {
        decodesOrRejects(build(frames));
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  }, TIMEOUT);
});

describe.skipIf(!HAVE_FIXTURES)("property: mutated real fixtures", () => {
  const files = listFixtures().map((f) => {
    const bytes = readFixture(f.name);
    return { f, bytes, raw: f.zstd ? zstdDecompress(bytes) : bytes };
  });
  it("every mutation of every decompressed fixture decodes or throws DbnDecodeError", () => {
    fc.assert(
      fc.property(fc.nat({ max: files.length - 1 }), mutation, fc.option(fc.nat()), fc.boolean(), (index, edits, cut, upgrade) => {
        const { f, raw } = files[index]!;
        decodesOrRejects(mutate(raw, edits, cut), { fragment: f.fragment, version: f.version, upgrade, compression: "none" });
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
  it("every mutation of every compressed fixture decodes or throws DbnDecodeError", () => {
    fc.assert(
      fc.property(fc.nat({ max: files.length - 1 }), mutation, fc.option(fc.nat()), (index, edits, cut) => {
        const { f, bytes } = files[index]!;
        decodesOrRejects(mutate(bytes, edits, cut), { fragment: f.fragment, version: f.version });
      }),
      { numRuns: Math.ceil(RUNS / 10) },
    );
  }, TIMEOUT);
});

it("the schema constants used by the generators are the DBN ones", () => {
  expect(Schema.Mbo).toBe(0);
});
