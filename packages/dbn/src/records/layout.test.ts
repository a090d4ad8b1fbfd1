import { describe, expect, it } from "vitest";
import { RType } from "../constants.js";
import { layoutFor } from "./registry.js";

// Sizes from rust/dbn/src/record/layout_tests.rs as quoted in reference/databento.md; offsets
// are spot checks of the reference's per-version tables.
describe("record layouts", () => {
  it.each([
    [RType.Mbp0, [48, 48, 48]],
    [RType.Mbp1, [80, 80, 80]],
    [RType.Mbp10, [368, 368, 368]],
    [RType.Mbo, [56, 56, 56]],
    [RType.Ohlcv1D, [56, 56, 56]],
    [RType.Status, [40, 40, 40]],
    [RType.Imbalance, [112, 112, 112]],
    [RType.Bbo1S, [80, 80, 80]],
    [RType.Cbbo1M, [80, 80, 80]],
    [RType.Tcbbo, [80, 80, 80]],
    [RType.InstrumentDef, [360, 400, 520]],
    [RType.Statistics, [64, 64, 80]],
    [RType.Error, [80, 320, 320]],
    [RType.System, [80, 320, 320]],
    [RType.SymbolMapping, [80, 176, 176]],
  ])("rtype 0x%s has sizes %j in v1, v2, v3", (rtype, sizes) => {
    expect([1, 2, 3].map((v) => layoutFor(v, rtype)?.size)).toEqual(sizes);
  });

  it("places the definition fields that moved between versions", () => {
    const at = (version: number, name: string) => layoutFor(version, RType.InstrumentDef)!.fields.find((f) => f.name === name)?.offset;
    expect([at(1, "strike_price"), at(2, "strike_price"), at(3, "strike_price")]).toEqual([328, 112, 104]);
    expect([at(1, "raw_symbol"), at(2, "raw_symbol"), at(3, "raw_symbol")]).toEqual([200, 200, 238]);
    expect([at(1, "instrument_class"), at(2, "instrument_class"), at(3, "instrument_class")]).toEqual([325, 374, 487]);
    expect([at(1, "raw_instrument_id"), at(2, "raw_instrument_id"), at(3, "raw_instrument_id")]).toEqual([120, 128, 112]);
    expect(at(3, "leg_raw_symbol")).toBe(416);
    expect(at(3, "trading_reference_price")).toBeUndefined();
  });

  it("has no rtype outside the known set", () => {
    for (const version of [1, 2, 3]) {
      expect(layoutFor(version, 0x02)).toBeUndefined();
      expect(layoutFor(version, 0xff)).toBeUndefined();
    }
  });
});
