import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  DbnDecodeError,
  decodeDbn,
  decodeDbnSync,
  encodeDbn,
  encodeRecords,
  layoutFor,
  isMbo,
  isSymbolMapping,
  openDbn,
  PitSymbolMap,
  priceToNumber,
  RType,
  Schema,
  SType,
  UNDEF_PRICE,
  UNDEF_STAT_QUANTITY,
  UNDEF_TIMESTAMP,
  visitDbn,
  zstdDecompress,
  type DbnRecord,
  type DbnRecordV3,
  type InstrumentDefMsg,
  type MboMsg,
  type Mbp1Msg,
  type StatMsg,
} from "./index.js";
import { FIXTURE_DIR, HAVE_FIXTURES, listFixtures, readFixture, SKIP_REASON } from "./fixtures.test-support.js";

const fixtures = listFixtures();
const optionsFor = (f: { fragment: boolean; version: number }) => ({ fragment: f.fragment, version: f.version });

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

function webStream(source: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await source.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}

describe.skipIf(!HAVE_FIXTURES)(`Databento fixtures (${FIXTURE_DIR})`, () => {
  it("finds all 97 upstream files", () => {
    expect(fixtures.length, SKIP_REASON).toBe(97);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))("%s decodes to its last byte with exact record lengths", (_name, f) => {
    const bytes = readFixture(f.name);
    const raw = f.zstd ? zstdDecompress(bytes) : bytes;
    const { metadata, records } = decodeDbnSync(bytes, optionsFor(f));
    if (f.fragment) expect(metadata).toBeNull();
    else expect(metadata?.version).toBe(f.version);
    // Sum of record sizes + metadata must account for every byte of the file.
    const metadataBytes = f.fragment ? 0 : 8 + new DataView(raw.buffer, raw.byteOffset).getUint32(4, true);
    let total = metadataBytes;
    for (const record of records) {
      const layout = layoutFor(f.version, record.hd.rtype);
      expect(layout, `rtype ${record.hd.rtype}`).toBeDefined();
      expect(record.hd.length * 4).toBe(layout!.size + (record.ts_out === undefined ? 0 : 8));
      total += record.hd.length * 4;
    }
    expect(total).toBe(raw.length);
  });

  it("decodes the v3 MBO file (ESH1, 2020-12-28) field by field", () => {
    const { metadata, records } = decodeDbnSync(readFixture("dbn/test_data.mbo.v3.dbn"));
    expect(metadata).toMatchObject({
      version: 3,
      dataset: "GLBX.MDP3",
      schema: Schema.Mbo,
      start: 1609160400000000000n,
      end: 1609200000000000000n,
      limit: 2n,
      stype_in: SType.RawSymbol,
      stype_out: SType.InstrumentId,
      ts_out: false,
      symbol_cstr_len: 71,
      symbols: ["ESH1"],
      partial: [],
      not_found: [],
      mappings: [{ raw_symbol: "ESH1", intervals: [{ start_date: 20201228, end_date: 20201229, symbol: "5482" }] }],
    });
    expect(records).toHaveLength(2);
    const [first, second] = records as MboMsg[];
    expect(first).toEqual({
      hd: { length: 14, rtype: RType.Mbo, publisher_id: 1, instrument_id: 5482, ts_event: 1609160400000429831n },
      order_id: 647784973705n,
      price: 3722750000000n,
      size: 1,
      flags: 128,
      channel_id: 0,
      action: "C",
      side: "A",
      ts_recv: 1609160400000704060n,
      ts_in_delta: 22993,
      sequence: 1170352,
    });
    expect(priceToNumber(first!.price)).toBe(3722.75);
    expect(second!.price).toBe(3723000000000n);
    expect(second!.sequence).toBe(1170353);
  });

  it("decodes trades, mbp-1 and bbo-1s values worked out from the bytes", () => {
    const trade = decodeDbnSync(readFixture("dbn/test_data.trades.v3.dbn.zst")).records[0]!;
    expect(trade).toMatchObject({ price: 3720250000000n, size: 5, action: "T", side: "A", flags: 129, depth: 0, ts_recv: 1609160400099150057n, ts_in_delta: 19251, sequence: 1170380 });
    const mbp1 = decodeDbnSync(readFixture("dbn/test_data.mbp-1.v3.dbn.zst")).records[0] as Mbp1Msg;
    expect(mbp1.levels).toEqual([{ bid_px: 3720250000000n, ask_px: 3720500000000n, bid_sz: 24, ask_sz: 11, bid_ct: 15, ask_ct: 9 }]);
    expect(mbp1.hd.ts_event).toBe(1609160400006001487n);
    const bbo = decodeDbnSync(readFixture("dbn/test_data.bbo-1s.v3.dbn.zst")).records[0]!;
    expect(bbo).toMatchObject({
      hd: { rtype: RType.Bbo1S, instrument_id: 5482, ts_event: 1609113599045849637n },
      price: 3702500000000n,
      size: 2,
      side: "A",
      flags: 168,
      ts_recv: 1609113600000000000n,
      sequence: 145799,
      levels: [{ bid_px: 3702250000000n, ask_px: 3702750000000n, bid_sz: 18, ask_sz: 13, bid_ct: 10, ask_ct: 13 }],
    });
  });

  it("matches the Rust crate's own OHLCV-1s expectation", () => {
    // rust/dbn/src/record.rs OHLCV_MSG: the first record of test_data.ohlcv-1s.
    const record = decodeDbnSync(readFixture("dbn/test_data.ohlcv-1s.v3.dbn.zst")).records[0];
    expect(record).toMatchObject({
      hd: { rtype: RType.Ohlcv1S, publisher_id: 1, instrument_id: 5482, ts_event: 1609160400000000000n },
      open: 372025000000000n,
      high: 372050000000000n,
      low: 372025000000000n,
      close: 372050000000000n,
      volume: 57n,
    });
  });

  it("decodes v3 definitions: ESH1 future and an OPRA AAPL call", () => {
    const es = decodeDbnSync(readFixture("databento-python/GLBX.MDP3/test_data.definition.dbn.zst")).records[0] as InstrumentDefMsg;
    expect(es).toMatchObject({
      hd: { length: 130, rtype: RType.InstrumentDef, instrument_id: 5482, ts_event: 1609088715926494829n },
      ts_recv: 1609113600000000000n,
      min_price_increment: 250000000n,
      display_factor: 10000000n,
      expiration: 1616160600000000000n,
      activation: 1576852200000000000n,
      high_limit_price: 3953500000000n,
      low_limit_price: 3435500000000n,
      unit_of_measure_qty: 50000000000n,
      strike_price: UNDEF_PRICE,
      raw_symbol: "ESH1",
      group: "ES",
      exchange: "XCME",
      asset: "ES",
      cfi: "FFIXSX",
      security_type: "FUT",
      unit_of_measure: "IPNT",
      currency: "USD",
      instrument_class: "F",
      match_algorithm: "F",
    });
    const aapl = decodeDbnSync(readFixture("databento-python/OPRA.PILLAR/test_data.definition.dbn.zst")).records[0] as InstrumentDefMsg;
    expect(aapl).toMatchObject({
      hd: { publisher_id: 30, instrument_id: 16783963 },
      raw_symbol: "AAPL  250221C00250000",
      strike_price: 250000000000n,
      instrument_class: "C",
      underlying: "AAPL",
      expiration: 1740096000000000000n,
    });
    expect(priceToNumber(aapl.strike_price)).toBe(250);
  });

  it("decodes statistics in v1 (i32 quantity) and v3 (i64 quantity) and upgrades v1", () => {
    const v3 = decodeDbnSync(readFixture("dbn/test_data.statistics.v3.dbn.zst")).records[0] as StatMsg;
    expect(v3).toMatchObject({
      hd: { length: 20, instrument_id: 146945, ts_event: 1682269536030443135n },
      ts_recv: 1682269536040124325n,
      ts_ref: UNDEF_TIMESTAMP,
      price: 100000000000n,
      quantity: UNDEF_STAT_QUANTITY,
      sequence: 2,
      ts_in_delta: 26961,
      stat_type: 7,
      channel_id: 13,
      update_action: 1,
      stat_flags: 255,
    });
    const v1 = decodeDbnSync(readFixture("dbn/test_data.statistics.v1.dbn.zst")).records[0] as DbnRecord;
    expect(v1).toMatchObject({ hd: { length: 16 }, quantity: 2147483647 });
    const upgraded = decodeDbnSync(readFixture("dbn/test_data.statistics.v1.dbn.zst"), { upgrade: true });
    expect(upgraded.metadata?.version).toBe(3);
    expect(upgraded.records[0]).toEqual(v3);
  });

  it("upgrades v1 and v2 definitions to the v3 shape", () => {
    const v1 = decodeDbnSync(readFixture("dbn/test_data.definition.v1.dbn.zst"), { upgrade: true });
    expect(v1.metadata).toMatchObject({ version: 3, dataset: "XNAS.ITCH", schema: Schema.Definition, symbol_cstr_len: 71 });
    const def = v1.records[0] as InstrumentDefMsg;
    expect(def).toMatchObject({ hd: { length: 130, publisher_id: 2, instrument_id: 6819 }, raw_symbol: "MSFT", leg_price: UNDEF_PRICE, leg_count: 0, leg_side: "N" });
    expect(typeof def.raw_instrument_id).toBe("bigint");
    expect("trading_reference_price" in def).toBe(false);
    // v1, v2 and v3 files hold the same instruments: the upgraded forms agree on shared fields.
    const v2 = decodeDbnSync(readFixture("dbn/test_data.definition.v2.dbn.zst"), { upgrade: true }).records as InstrumentDefMsg[];
    const v3 = decodeDbnSync(readFixture("dbn/test_data.definition.v3.dbn.zst")).records as InstrumentDefMsg[];
    for (const [i, d] of v3.entries()) {
      expect(v2[i]!.raw_symbol).toBe(d.raw_symbol);
      expect(v2[i]!.strike_price).toBe(d.strike_price);
      expect((v1.records[i] as InstrumentDefMsg).raw_symbol).toBe(d.raw_symbol);
      expect(Object.keys(v2[i]!).sort()).toEqual(Object.keys(d).sort());
    }
  });

  it("decodes a multi-frame zstd v1 fragment", () => {
    const { metadata, records } = decodeDbnSync(readFixture("dbn/multi-frame.definition.v1.dbn.frag.zst"), { fragment: true, version: 1 });
    expect(metadata).toBeNull();
    expect(records.length).toBe(8);
    expect(records.every((r) => r.hd.rtype === RType.InstrumentDef && r.hd.length === 90)).toBe(true);
  });

  it("decodes the recorded live stream with symbol mappings", () => {
    const { metadata, records } = decodeDbnSync(readFixture("databento-python/LIVE/test_data.live.dbn.zst"));
    expect(metadata?.schema).toBeNull();
    expect(records.some((r) => r.hd.rtype === RType.SymbolMapping && (r as { stype_out_symbol: string }).stype_out_symbol === "ESZ4")).toBe(true);
    // Live data carries its symbology in-band: every MBO record's instrument was announced first.
    const symbols = new PitSymbolMap();
    let mapped = 0;
    for (const record of records) {
      if (isSymbolMapping(record)) symbols.update(record);
      else if (isMbo(record)) {
        expect(symbols.get(record.hd.instrument_id), `instrument ${record.hd.instrument_id}`).toBeDefined();
        mapped++;
      }
    }
    expect(mapped).toBeGreaterThan(0);
    expect(symbols.get(183748)).toBe("ESZ4");
  });

  it("gives identical records for 1-byte chunks, Readables, web streams and paths", async () => {
    for (const f of fixtures.filter((x) => /mbo|definition|statistics|live/.test(x.name))) {
      const bytes = readFixture(f.name);
      const expected = decodeDbnSync(bytes, optionsFor(f));
      const oneByte = await decodeDbn(chunked(bytes, 1), optionsFor(f));
      expect(oneByte, f.name).toEqual(expected);
      const readable = await decodeDbn(Readable.from(chunked(bytes, 7)), optionsFor(f));
      expect(readable.records).toEqual(expected.records);
      const web = await decodeDbn(webStream(chunked(bytes, 13)), optionsFor(f));
      expect(web.records).toEqual(expected.records);
      const path = await decodeDbn(`${FIXTURE_DIR}/${f.name}`, optionsFor(f));
      expect(path.records).toEqual(expected.records);
    }
  });

  it("fast path visits the same records with raw views", async () => {
    const bytes = readFixture("dbn/test_data.mbo.v3.dbn.zst");
    const prices: bigint[] = [];
    const result = await visitDbn(chunked(bytes, 3), (view, offset, rtype) => {
      expect(rtype).toBe(RType.Mbo);
      prices.push(view.getBigInt64(offset + 24, true));
    });
    expect(result.recordCount).toBe(2);
    expect(prices).toEqual([3722750000000n, 3723000000000n]);
  });

  it("metadata() then iteration yields every record", async () => {
    const decoder = openDbn(chunked(readFixture("dbn/test_data.mbo.v3.dbn"), 400));
    expect((await decoder.metadata())?.symbols).toEqual(["ESH1"]);
    const records: DbnRecord[] = [];
    for await (const r of decoder) records.push(r);
    expect(records).toHaveLength(2);
  });

  describe("round trip: decode → encode → decode", () => {
    const v3 = fixtures.filter((f) => f.version === 3);
    it.each(v3.map((f) => [f.name, f] as const))("%s re-encodes byte-identically", (_name, f) => {
      const bytes = readFixture(f.name);
      const raw = f.zstd ? zstdDecompress(bytes) : bytes;
      const decoded = decodeDbnSync(bytes, optionsFor(f));
      const records = decoded.records as DbnRecordV3[];
      const encoded = decoded.metadata ? encodeDbn({ metadata: decoded.metadata, records }) : encodeRecords(records);
      // Reserved bytes are not part of the decoded objects and are written as zeros; OPRA CBBO
      // files carry non-zero bytes there, so every other byte must match exactly.
      expect(encoded.length).toBe(raw.length);
      const differing = diffOutsideReserved(raw, encoded, decoded.metadata ? raw.length - records.reduce((n, r) => n + r.hd.length * 4, 0) : 0);
      expect(differing).toEqual([]);
      if (!f.zstd) expect(Buffer.from(encoded).equals(Buffer.from(raw))).toBe(true);
      expect(decodeDbnSync(encoded, optionsFor(f))).toEqual(decoded);
      if (decoded.metadata) {
        const compressed = encodeDbn({ metadata: decoded.metadata, records }, { zstd: true });
        expect(decodeDbnSync(compressed)).toEqual(decoded);
      }
    });

    const older = fixtures.filter((f) => f.version < 3 && !f.fragment);
    it.each(older.map((f) => [f.name, f] as const))("%s upgrades to v3 and round-trips", (_name, f) => {
      const upgraded = decodeDbnSync(readFixture(f.name), { upgrade: true });
      expect(upgraded.metadata?.version).toBe(3);
      const encoded = encodeDbn({ metadata: upgraded.metadata!, records: upgraded.records as DbnRecordV3[] });
      expect(decodeDbnSync(encoded)).toEqual(upgraded);
    });
  });
});

/** Offsets where `a` and `b` differ outside the reserved fields of the records starting at `start`. */
function diffOutsideReserved(a: Uint8Array, b: Uint8Array, start: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < start; i++) if (a[i] !== b[i]) out.push(i);
  let p = start;
  while (p < a.length) {
    const length = a[p]! * 4;
    const layout = layoutFor(3, a[p + 1]!)!;
    for (let i = 0; i < length; i++) {
      if (a[p + i] === b[p + i]) continue;
      const field = layout.fields.find((f) => i >= f.offset && i < f.offset + f.size);
      if (field?.kind.type !== "reserved") out.push(p + i);
    }
    p += length;
  }
  return out;
}

describe("ts_out and the decoder's two modes", () => {
  const metadata = {
    version: 3, dataset: "GLBX.MDP3", schema: Schema.Mbo, start: 0n, end: UNDEF_TIMESTAMP, limit: 0n,
    stype_in: SType.RawSymbol, stype_out: SType.InstrumentId, ts_out: true, symbol_cstr_len: 71,
    symbols: [], partial: [], not_found: [], mappings: [],
  };
  const records: DbnRecordV3[] = [1, 2, 3].map((i) => ({
    hd: { length: 16, rtype: RType.Mbo, publisher_id: 1, instrument_id: i, ts_event: BigInt(i) },
    order_id: BigInt(i), price: 21000n * 1_000_000_000n, size: i, flags: 0, channel_id: 0, action: "A", side: "B",
    ts_recv: BigInt(i) + 10n, ts_in_delta: 0, sequence: i, ts_out: BigInt(i) + 100n,
  }));
  const bytes = encodeDbn({ metadata, records });

  it("round-trips the ts_out suffix (record length 56 + 8)", () => {
    const decoded = decodeDbnSync(bytes);
    expect(decoded.metadata?.ts_out).toBe(true);
    expect(decoded.records.map((r) => [r.hd.length, r.ts_out])).toEqual([[16, 101n], [16, 102n], [16, 103n]]);
    expect(encodeDbn({ metadata, records: decoded.records as DbnRecordV3[] })).toEqual(bytes);
  });

  it("metadata() before visit() keeps every record for the fast path", async () => {
    const decoder = openDbn(chunked(bytes, 1000));
    expect((await decoder.metadata())?.ts_out).toBe(true);
    const ids: number[] = [];
    const result = await decoder.visit((view, offset, _rtype, byteLength) => {
      expect(byteLength).toBe(64);
      ids.push(view.getUint32(offset + 4, true));
    });
    expect(ids).toEqual([1, 2, 3]);
    expect(result.recordCount).toBe(3);
  });

  it("batches() yields the same records in arrays", async () => {
    const all: DbnRecord[] = [];
    for await (const batch of openDbn(chunked(bytes, 5)).batches()) all.push(...batch);
    expect(all).toEqual(decodeDbnSync(bytes).records);
  });

  it("a visitor returning false stops decoding", async () => {
    let seen = 0;
    const result = await visitDbn(chunked(bytes, 7), () => {
      seen++;
      return false;
    });
    expect(seen).toBe(1);
    expect(result.recordCount).toBe(1);
  });
});

describe("decode errors", () => {
  const good = encodeDbn({
    metadata: {
      version: 3, dataset: "GLBX.MDP3", schema: Schema.Trades, start: 1n, end: UNDEF_TIMESTAMP, limit: 0n,
      stype_in: SType.RawSymbol, stype_out: SType.InstrumentId, ts_out: false, symbol_cstr_len: 71,
      symbols: ["NQZ5"], partial: [], not_found: [], mappings: [],
    },
    records: [
      { hd: { length: 12, rtype: RType.Mbp0, publisher_id: 1, instrument_id: 7, ts_event: 5n }, price: 21000250000000n, size: 3, action: "T", side: "B", flags: 0x80, depth: 0, ts_recv: 6n, ts_in_delta: 1, sequence: 2 },
    ],
  });
  const recordsAt = good.length - 48;

  const expectError = (bytes: Uint8Array, code: string, offset: number, options = {}) => {
    let error: unknown;
    try {
      decodeDbnSync(bytes, options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DbnDecodeError);
    expect((error as DbnDecodeError).code).toBe(code);
    expect((error as DbnDecodeError).offset).toBe(offset);
    expect((error as DbnDecodeError).message).toContain(`offset ${offset}`);
  };

  it("decodes the unmodified buffer", () => {
    expect(decodeDbnSync(good).records).toHaveLength(1);
  });
  it("bad magic", () => expectError(Uint8Array.from([0x44, 0x42, 0x4f, 3, 0, 0, 0, 0]), "bad_magic", 0));
  it("unsupported version", () => {
    const bytes = good.slice();
    bytes[3] = 4;
    expectError(bytes, "unsupported_version", 3);
  });
  it("truncated metadata", () => expectError(good.slice(0, 50), "truncated", 50));
  it("truncated record", () => expectError(good.slice(0, good.length - 1), "truncated", recordsAt));
  it("record length disagreeing with its rtype", () => {
    const bytes = good.slice();
    bytes[recordsAt] = 10;
    expectError(bytes, "bad_record_length", recordsAt);
  });
  it("record length below the header", () => {
    const bytes = good.slice();
    bytes[recordsAt] = 0;
    expectError(bytes, "bad_record_length", recordsAt);
  });
  it("unknown rtype", () => {
    const bytes = good.slice();
    bytes[recordsAt + 1] = 0x7e;
    expectError(bytes, "unknown_rtype", recordsAt + 1);
    expect(decodeDbnSync(bytes, { unknownRType: "skip" }).records).toHaveLength(0);
  });
  it("corrupt zstd", () => {
    const compressed = encodeDbn({ metadata: decodeDbnSync(good).metadata!, records: [] }, { zstd: true });
    const bytes = compressed.slice();
    for (let i = 6; i < bytes.length; i++) bytes[i] = 0xff;
    expect(() => decodeDbnSync(bytes)).toThrow(DbnDecodeError);
  });
  it("errors reach async iteration as DbnDecodeError", async () => {
    await expect(decodeDbn(chunked(good.slice(0, good.length - 5), 1))).rejects.toBeInstanceOf(DbnDecodeError);
  });
});
