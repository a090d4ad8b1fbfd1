import { describe, expect, it } from "vitest";
import { createMetadata, decodeMetadata, encodeMetadata, priceFromString, priceToNumber, readPrice, timestampToDate, UNDEF_PRICE, UNDEF_TIMESTAMP } from "./index.js";

describe("prices", () => {
  it("converts raw fixed-point prices to numbers, null for UNDEF_PRICE", () => {
    expect(priceToNumber(3722750000000n)).toBe(3722.75);
    expect(priceToNumber(-100_000n)).toBe(-0.0001);
    expect(priceToNumber(1n)).toBe(1e-9);
    expect(priceToNumber(UNDEF_PRICE)).toBeNull();
  });
  it("reads prices from a DataView without bigints", () => {
    const view = new DataView(new ArrayBuffer(16));
    view.setBigInt64(0, 21012250000000n, true);
    view.setBigInt64(8, UNDEF_PRICE, true);
    expect(readPrice(view, 0)).toBe(21012.25);
    expect(readPrice(view, 8)).toBeNaN();
    view.setBigInt64(0, -250000000n, true);
    expect(readPrice(view, 0)).toBe(-0.25);
  });
  it("parses decimal strings exactly", () => {
    expect(priceFromString("4108.25")).toBe(4108250000000n);
    expect(priceFromString("-0.000000001")).toBe(-1n);
    expect(() => priceFromString("1e5")).toThrow(RangeError);
  });
  it("converts timestamps to Dates", () => {
    expect(timestampToDate(1609160400000704060n)?.toISOString()).toBe("2020-12-28T13:00:00.000Z");
    expect(timestampToDate(UNDEF_TIMESTAMP)).toBeNull();
  });
});

describe("metadata encoding", () => {
  it("pads v3 metadata so records start on an 8-byte boundary, and round-trips", () => {
    for (const symbols of [[], ["A"], ["NQ.OPT", "ES.OPT", "QNE.OPT"]]) {
      const metadata = createMetadata({ dataset: "GLBX.MDP3", symbols, start: 5n });
      const bytes = encodeMetadata(metadata);
      expect(bytes.length % 8).toBe(0);
      expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(bytes.length - 8);
      expect(decodeMetadata(bytes)).toEqual(metadata);
    }
  });
});
