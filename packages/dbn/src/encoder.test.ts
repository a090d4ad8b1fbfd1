import { describe, expect, it } from "vitest";
import {
  createMetadata,
  DbnEncodeError,
  DbnEncoder,
  decodeDbn,
  decodeDbnSync,
  encodeDbn,
  encodeDbnStream,
  isZstd,
  RType,
  Schema,
  type DbnRecordV3,
  type TradeMsg,
} from "./index.js";

const metadata = createMetadata({ dataset: "GLBX.MDP3", schema: Schema.Trades, start: 1n });
const trade = (i: number): TradeMsg => ({
  hd: { length: 12, rtype: RType.Mbp0, publisher_id: 1, instrument_id: i, ts_event: BigInt(i) },
  price: 21000_250000000n, size: 1 + (i % 9), action: "T", side: i % 2 ? "A" : "B", flags: 0x80, depth: 0,
  ts_recv: BigInt(i) + 5n, ts_in_delta: 100, sequence: i,
});

describe("encoder", () => {
  it("streams chunks (one zstd frame each) that decode back to the records", async () => {
    const records = Array.from({ length: 20_000 }, (_, i) => trade(i));
    const chunks: Uint8Array[] = [];
    for await (const chunk of encodeDbnStream(metadata, records, { zstd: true, chunkBytes: 64 * 1024 })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.every(isZstd)).toBe(true);
    const decoded = await decodeDbn(chunks);
    expect(decoded.metadata).toEqual(metadata);
    expect(decoded.records).toEqual(records);
  });

  it("push-style DbnEncoder matches encodeDbn byte for byte", () => {
    const records = Array.from({ length: 1000 }, (_, i) => trade(i));
    const chunks: Uint8Array[] = [];
    const encoder = new DbnEncoder(metadata, (c) => chunks.push(c), { chunkBytes: 4096 });
    for (const r of records) encoder.write(r);
    encoder.end();
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(encodeDbn({ metadata, records })));
  });

  it("accepts integral numbers where bigints are expected", () => {
    const loose = { ...trade(1), price: 5, ts_recv: 7, hd: { ...trade(1).hd, ts_event: 3 } } as unknown as DbnRecordV3;
    const [record] = decodeDbnSync(encodeDbn({ metadata, records: [loose] })).records;
    expect(record).toMatchObject({ price: 5n, ts_recv: 7n, hd: { ts_event: 3n } });
  });

  it("rejects what it cannot write with a DbnEncodeError naming the field", () => {
    const missing = { ...trade(1), size: undefined } as unknown as DbnRecordV3;
    expect(() => encodeDbn({ metadata, records: [missing] })).toThrow(/TradeMsg\.size/);
    const unknown = { ...trade(1), hd: { ...trade(1).hd, rtype: 0x7e } } as DbnRecordV3;
    expect(() => encodeDbn({ metadata, records: [unknown] })).toThrow(DbnEncodeError);
    const fractional = { ...trade(1), price: 1.5 } as unknown as DbnRecordV3;
    expect(() => encodeDbn({ metadata, records: [fractional] })).toThrow(/TradeMsg\.price/);
    expect(() => encodeDbn({ metadata: { ...metadata, dataset: "X".repeat(17) }, records: [] })).toThrow(/dataset/);
  });
});
