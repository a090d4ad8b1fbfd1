// Synthetic DBN generators shared by the benchmark and its child processes. Everything is made
// with the package's own encoder so no real data set is needed.
import { createMetadata, DbnEncoder, RType, Schema, SType, UNDEF_PRICE, UNDEF_TIMESTAMP, writeRecord } from "../dist/index.js";

const MBO_SIZE = 56;
const T0 = 1_700_000_000_000_000_000n;

export function mboMetadata() {
  return createMetadata({ dataset: "GLBX.MDP3", schema: Schema.Mbo, start: T0, stype_in: SType.Parent, stype_out: SType.InstrumentId, symbols: ["NQ.OPT"] });
}

export function definitionMetadata() {
  return createMetadata({ dataset: "GLBX.MDP3", schema: Schema.Definition, start: T0, stype_in: SType.Parent, stype_out: SType.InstrumentId, symbols: ["NQ.OPT"] });
}

/** A plausible NQ-options MBO record; `i` varies ids, prices and sides. */
export function mboRecord(i) {
  return {
    hd: { length: 14, rtype: RType.Mbo, publisher_id: 1, instrument_id: 40_000_000 + (i % 5000), ts_event: T0 + BigInt(i) * 1000n },
    order_id: BigInt(6_400_000_000_000 + i),
    price: BigInt(100 + (i % 4000)) * 250_000_000n,
    size: 1 + (i % 20),
    flags: i % 7 === 0 ? 0x80 : 0,
    channel_id: i % 4,
    action: "ACMTF"[i % 5],
    side: i % 2 ? "A" : "B",
    ts_recv: T0 + BigInt(i) * 1000n + 20_000n,
    ts_in_delta: 17_000 + (i % 1000),
    sequence: i,
  };
}

export function definitionRecord(i) {
  const strike = 15000 + (i % 400) * 25;
  const call = i % 2 === 0;
  return {
    hd: { length: 130, rtype: RType.InstrumentDef, publisher_id: 1, instrument_id: 40_000_000 + i, ts_event: T0 },
    ts_recv: T0 + 1000n, min_price_increment: 250_000_000n, display_factor: 1_000_000_000n,
    expiration: T0 + 86_400_000_000_000n * BigInt(1 + (i % 90)), activation: T0 - 86_400_000_000_000n,
    high_limit_price: UNDEF_PRICE, low_limit_price: UNDEF_PRICE, max_price_variation: 1_000_000_000_000n,
    unit_of_measure_qty: 20_000_000_000n, min_price_increment_amount: 5_000_000_000n, price_ratio: UNDEF_PRICE,
    strike_price: BigInt(strike) * 1_000_000_000n, raw_instrument_id: BigInt(40_000_000 + i), leg_price: UNDEF_PRICE,
    leg_delta: UNDEF_PRICE, inst_attrib_value: 0, underlying_id: 1234, market_depth_implied: 2, market_depth: 10,
    market_segment_id: 0, max_trade_vol: 5000, min_lot_size: 1, min_lot_size_block: 1, min_lot_size_round_lot: 1,
    min_trade_vol: 1, contract_multiplier: 0, decay_quantity: 0, original_contract_size: 0, leg_instrument_id: 0,
    leg_ratio_price_numerator: 0, leg_ratio_price_denominator: 0, leg_ratio_qty_numerator: 0,
    leg_ratio_qty_denominator: 0, leg_underlying_id: 0, appl_id: 0, maturity_year: 2026, decay_start_date: 0,
    channel_id: 12, leg_count: 0, leg_index: 0, currency: "USD", settl_currency: "", secsubtype: "",
    raw_symbol: `NQH6 ${call ? "C" : "P"}${strike}`, group: "NQ", exchange: "XCME", asset: "NQ", cfi: call ? "OCAFPS" : "OPAFPS",
    security_type: "OOF", unit_of_measure: "IPNT", underlying: "NQH6", strike_price_currency: "USD", leg_raw_symbol: "",
    instrument_class: call ? "C" : "P", match_algorithm: "F", main_fraction: 0, price_display_format: 0, sub_fraction: 0,
    underlying_product: 5, security_update_action: "A", maturity_month: 3, maturity_day: 0, maturity_week: 0,
    user_defined_instrument: "N", contract_multiplier_unit: 0, flow_schedule_type: 0, tick_rule: 0,
    leg_instrument_class: "\0", leg_side: "N",
  };
}

/** `count` records of `make` encoded as one in-memory DBN file. */
export function encodeMany(metadata, make, count) {
  const chunks = [];
  const encoder = new DbnEncoder(metadata, (c) => chunks.push(c), { chunkBytes: 4 << 20 });
  for (let i = 0; i < count; i++) encoder.write(make(i));
  encoder.end();
  return Buffer.concat(chunks);
}

/**
 * An async stream of about `totalBytes` of MBO DBN (optionally zstd frames), generated on the fly
 * by the streaming encoder: nothing of that size is ever held or written to disk.
 */
export async function* mboStream(totalBytes, zstd = false) {
  const template = new Uint8Array(MBO_SIZE * 4096);
  const view = new DataView(template.buffer);
  for (let i = 0; i < 4096; i++) writeRecord(view, template, i * MBO_SIZE, mboRecord(i));
  const chunks = [];
  const encoder = new DbnEncoder(mboMetadata(), (c) => chunks.push(c), { zstd, chunkBytes: 1 << 20 });
  let written = 0;
  while (written < totalBytes) {
    // Patch sequence numbers into a pre-encoded block and hand it to the encoder, which copies
    // it into its own chunk: generation keeps up with the decoder and makes no garbage itself.
    for (let i = 0; i < 4096; i++) view.setUint32(i * MBO_SIZE + 52, (written / MBO_SIZE + i) >>> 0, true);
    encoder.writeBytes(template);
    written += template.length;
    if (chunks.length > 0) yield* chunks.splice(0);
  }
  encoder.end();
  yield* chunks.splice(0);
}

export { UNDEF_TIMESTAMP };
