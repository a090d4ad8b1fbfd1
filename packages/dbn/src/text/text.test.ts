import { describe, expect, it } from "vitest";
import {
  createMetadata,
  CsvEncoder,
  decodeDbnSync,
  metadataToJson,
  recordsToCsv,
  recordToJson,
  RType,
  Schema,
  SType,
  TsSymbolMap,
  UNDEF_PRICE,
  type DbnRecord,
  type InstrumentDefMsg,
} from "../index.js";
import { HAVE_FIXTURES, readFixture } from "../fixtures.test-support.js";

// Expected strings are Databento's own test vectors (rust/dbn/src/encode/{csv,json}/sync.rs),
// with the header rtype set to the record's real rtype (the Rust tests use a dummy 4).

const hd = (rtype: number) => ({ length: 0, rtype, publisher_id: 1, instrument_id: 323, ts_event: 1658441851000000000n });
const header = (rtype: number) => `1658441851000000000,${rtype},1,323`;
const headerJson = (rtype: number) => `"hd":{"ts_event":"1658441851000000000","rtype":${rtype},"publisher_id":1,"instrument_id":323}`;
const BID_ASK = { bid_px: 372000000000000n, ask_px: 372500000000000n, bid_sz: 10, ask_sz: 5, bid_ct: 5, ask_ct: 2 };
const BID_ASK_CSV = "372000000000000,372500000000000,10,5,5,2";
const BID_ASK_JSON = `{"bid_px":"372000.000000000","ask_px":"372500.000000000","bid_sz":10,"ask_sz":5,"bid_ct":5,"ask_ct":2}`;

const mbo = { hd: hd(RType.Mbo), order_id: 16n, price: 5500n, size: 3, flags: 128, channel_id: 14, action: "B", side: "B", ts_recv: 1658441891000000000n, ts_in_delta: 22000, sequence: 1002375 };
const trade = { hd: hd(RType.Mbp0), price: 5500n, size: 3, action: "B", side: "B", flags: 128, depth: 9, ts_recv: 1658441891000000000n, ts_in_delta: 22000, sequence: 1002375 };
const ohlcv = { hd: hd(RType.Ohlcv1S), open: 5000n, high: 8000n, low: 3000n, close: 6000n, volume: 55000n };
const status = { hd: hd(RType.Status), ts_recv: 1658441891000000000n, action: 1, reason: 2, trading_event: 3, is_trading: "Y", is_quoting: "Y", is_short_sell_restricted: "~" };
const imbalance = {
  hd: hd(RType.Imbalance), ts_recv: 1n, ref_price: 2n, auction_time: 3n, cont_book_clr_price: 4n, auct_interest_clr_price: 5n,
  ssr_filling_price: 6n, ind_match_price: 7n, upper_collar: 8n, lower_collar: 9n, paired_qty: 10, total_imbalance_qty: 11,
  market_imbalance_qty: 12, unpaired_qty: 13, auction_type: "B", side: "A", auction_status: 14, freeze_status: 15,
  num_extensions: 16, unpaired_side: "A", significant_imbalance: "N",
};
const stat = { hd: hd(RType.Statistics), ts_recv: 1n, ts_ref: 2n, price: 3n, quantity: 0n, sequence: 4, ts_in_delta: 5, stat_type: 1, channel_id: 7, update_action: 1, stat_flags: 0 };
const line2 = (text: string) => text.split("\n")[1];
const rec = (r: object) => r as unknown as DbnRecord;

describe("CSV (Databento vectors)", () => {
  it("MBO", () => {
    expect(line2(recordsToCsv(null, [rec(mbo)]))).toBe(`1658441891000000000,${header(RType.Mbo)},B,B,5500,3,14,16,128,22000,1002375`);
  });
  it("MBP-1 and MBP-10", () => {
    const mbp1 = { ...trade, hd: hd(RType.Mbp1), action: "M", side: "A", levels: [BID_ASK] };
    expect(line2(recordsToCsv(null, [rec(mbp1)]))).toBe(`1658441891000000000,${header(RType.Mbp1)},M,A,9,5500,3,128,22000,1002375,${BID_ASK_CSV}`);
    const mbp10 = { ...mbp1, hd: hd(RType.Mbp10), action: "B", levels: Array.from({ length: 10 }, () => BID_ASK) };
    expect(line2(recordsToCsv(null, [rec(mbp10)]))).toBe(`1658441891000000000,${header(RType.Mbp10)},B,A,9,5500,3,128,22000,1002375,${Array(10).fill(BID_ASK_CSV).join(",")}`);
  });
  it("trades with ts_out, header included", () => {
    const out = recordsToCsv(null, [rec({ ...trade, action: "T", side: "A", ts_out: 1678480044000000000n })], { tsOut: true });
    expect(out).toBe(
      "ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,flags,ts_in_delta,sequence,ts_out\n" +
        `1658441891000000000,${header(RType.Mbp0)},T,A,9,5500,3,128,22000,1002375,1678480044000000000\n`,
    );
  });
  it("OHLCV, status, imbalance, statistics", () => {
    expect(line2(recordsToCsv(null, [rec(ohlcv)]))).toBe(`${header(RType.Ohlcv1S)},5000,8000,3000,6000,55000`);
    expect(line2(recordsToCsv(null, [rec(status)]))).toBe(`1658441891000000000,${header(RType.Status)},1,2,3,Y,Y,~`);
    expect(line2(recordsToCsv(null, [rec(imbalance)]))).toBe(`1,${header(RType.Imbalance)},2,3,4,5,6,7,8,9,10,11,12,13,B,A,14,15,16,A,N`);
    expect(line2(recordsToCsv(null, [rec(stat)]))).toBe(`1,${header(RType.Statistics)},2,3,0,4,5,1,7,1,0`);
  });
  it("DBN v2 instrument definition column order", () => {
    const def = {
      hd: hd(RType.InstrumentDef), ts_recv: 1658441891000000000n, min_price_increment: 100n, display_factor: 1000n,
      expiration: 1698450000000000000n, activation: 1697350000000000000n, high_limit_price: 1000000n, low_limit_price: -1000000n,
      max_price_variation: 0n, trading_reference_price: 500000n, unit_of_measure_qty: 5n, min_price_increment_amount: 5n,
      price_ratio: 10n, inst_attrib_value: 10, underlying_id: 256785, raw_instrument_id: 323, market_depth_implied: 0,
      market_depth: 13, market_segment_id: 0, max_trade_vol: 10000, min_lot_size: 1, min_lot_size_block: 1000,
      min_lot_size_round_lot: 100, min_trade_vol: 1, contract_multiplier: 0, decay_quantity: 0, original_contract_size: 0,
      trading_reference_date: 0, appl_id: 0, maturity_year: 0, decay_start_date: 0, channel_id: 4, currency: "USD",
      settl_currency: "USD", secsubtype: "", raw_symbol: "ESZ4 C4100", group: "EW", exchange: "XCME", asset: "ES",
      cfi: "OCAFPS", security_type: "OOF", unit_of_measure: "IPNT", underlying: "ESZ4", strike_price_currency: "USD",
      instrument_class: "C", strike_price: 4100000000000n, match_algorithm: "F", md_security_trading_status: 2,
      main_fraction: 4, price_display_format: 8, settl_price_type: 9, sub_fraction: 23, underlying_product: 10,
      security_update_action: "A", maturity_month: 8, maturity_day: 9, maturity_week: 11, user_defined_instrument: "N",
      contract_multiplier_unit: 0, flow_schedule_type: 5, tick_rule: 0,
    };
    expect(line2(recordsToCsv(null, [rec(def)], { version: 2 }))).toBe(
      `1658441891000000000,${header(RType.InstrumentDef)},ESZ4 C4100,A,C,100,1000,1698450000000000000,1697350000000000000,1000000,` +
        "-1000000,0,500000,5,5,10,10,256785,323,0,13,0,10000,1,1000,100,1,0,0,0,0,0,0,0,4,USD,USD,,EW,XCME,ES,OCAFPS,OOF,IPNT,ESZ4," +
        "USD,4100000000000,F,2,4,8,9,23,10,8,9,11,N,0,5,0",
    );
  });
  it("symbol column: empty when unmapped", () => {
    const metadata = createMetadata({
      dataset: "XNAS.ITCH", schema: Schema.Ohlcv1H, stype_in: SType.RawSymbol, stype_out: SType.InstrumentId,
      mappings: [{ raw_symbol: "AAPL", intervals: [{ start_date: 19700101, end_date: 19700102, symbol: "9" }] }],
    });
    const bar = (instrument: number) =>
      rec({ hd: { length: 14, rtype: RType.Ohlcv1H, publisher_id: 10, instrument_id: instrument, ts_event: 0n }, open: 175000000000n, high: 177000000000n, low: 174000000000n, close: 175000000000n, volume: 4033445n });
    const encoder = new CsvEncoder(metadata, { header: false, symbolMap: new TsSymbolMap(metadata) });
    expect(encoder.begin() + encoder.encode(bar(8)) + encoder.encode(bar(9))).toBe(
      "0,34,10,8,175000000000,177000000000,174000000000,175000000000,4033445,\n" +
        "0,34,10,9,175000000000,177000000000,174000000000,175000000000,4033445,AAPL\n",
    );
  });
  it("C strings print as UTF-8, or empty when the bytes are not UTF-8 (as Rust's c_chars_to_str)", () => {
    const def = (raw_symbol: string) => rec({ ...status, hd: hd(RType.Error), err: raw_symbol, code: 1, is_last: 1 });
    expect(recordToJson(def("\u00c3\u00a9t\u00c3\u00a9"))).toContain(`"err":"été"`);
    expect(recordToJson(def("bad \u00ff byte"))).toContain(`"err":""`);
  });
  it("pretty prices and timestamps: decimals, ISO, and empty for nulls", () => {
    const row = line2(recordsToCsv(null, [rec({ ...trade, price: UNDEF_PRICE, ts_recv: 0n })], { prettyPx: true, prettyTs: true }));
    expect(row).toBe(`,2022-07-21T22:17:31.000000000Z,0,1,323,B,B,9,,3,128,22000,1002375`);
  });
});

describe("JSON (Databento vectors)", () => {
  it("MBO with pretty prices", () => {
    const json = recordToJson(rec({ ...mbo, action: "R", side: "N" }), { prettyPx: true });
    expect(json).toBe(
      `{"ts_recv":"1658441891000000000",${headerJson(RType.Mbo)},"action":"R","side":"N","price":"0.000005500","size":3,"channel_id":14,"order_id":"16","flags":128,"ts_in_delta":22000,"sequence":1002375}`,
    );
  });
  it("MBP-1 with pretty prices and timestamps", () => {
    const json = recordToJson(rec({ ...trade, hd: hd(RType.Mbp1), levels: [BID_ASK] }), { prettyPx: true, prettyTs: true });
    expect(json).toBe(
      `{"ts_recv":"2022-07-21T22:18:11.000000000Z","hd":{"ts_event":"2022-07-21T22:17:31.000000000Z","rtype":1,"publisher_id":1,"instrument_id":323},` +
        `"action":"B","side":"B","depth":9,"price":"0.000005500","size":3,"flags":128,"ts_in_delta":22000,"sequence":1002375,"levels":[${BID_ASK_JSON}]}`,
    );
  });
  it("trades raw, OHLCV, status, imbalance, statistics", () => {
    expect(recordToJson(rec({ ...trade, action: "C" }))).toBe(
      `{"ts_recv":"1658441891000000000",${headerJson(RType.Mbp0)},"action":"C","side":"B","depth":9,"price":"5500","size":3,"flags":128,"ts_in_delta":22000,"sequence":1002375}`,
    );
    expect(recordToJson(rec(ohlcv), { prettyPx: true })).toBe(
      `{${headerJson(RType.Ohlcv1S)},"open":"0.000005000","high":"0.000008000","low":"0.000003000","close":"0.000006000","volume":"55000"}`,
    );
    expect(recordToJson(rec(status), { prettyTs: true })).toBe(
      `{"ts_recv":"2022-07-21T22:18:11.000000000Z","hd":{"ts_event":"2022-07-21T22:17:31.000000000Z","rtype":18,"publisher_id":1,"instrument_id":323},"action":1,"reason":2,"trading_event":3,"is_trading":"Y","is_quoting":"Y","is_short_sell_restricted":"~"}`,
    );
    expect(recordToJson(rec(imbalance))).toBe(
      `{"ts_recv":"1",${headerJson(RType.Imbalance)},"ref_price":"2","auction_time":"3","cont_book_clr_price":"4","auct_interest_clr_price":"5",` +
        `"ssr_filling_price":"6","ind_match_price":"7","upper_collar":"8","lower_collar":"9","paired_qty":10,"total_imbalance_qty":11,"market_imbalance_qty":12,"unpaired_qty":13,` +
        `"auction_type":"B","side":"A","auction_status":14,"freeze_status":15,"num_extensions":16,"unpaired_side":"A","significant_imbalance":"N"}`,
    );
    expect(recordToJson(rec(stat), { prettyPx: true })).toBe(
      `{"ts_recv":"1",${headerJson(RType.Statistics)},"ts_ref":"2","price":"0.000000003","quantity":"0","sequence":4,"ts_in_delta":5,"stat_type":1,"channel_id":7,"update_action":1,"stat_flags":0}`,
    );
  });
  it("DBN v3 instrument definition with legs", () => {
    const def: InstrumentDefMsg = {
      hd: hd(RType.InstrumentDef), ts_recv: 1658441891000000000n, min_price_increment: 100n, display_factor: 1000000000n,
      expiration: 1698450000000000000n, activation: 1697350000000000000n, high_limit_price: 1000000n, low_limit_price: -1000000n,
      max_price_variation: 0n, unit_of_measure_qty: 5000000000n, min_price_increment_amount: 5n, price_ratio: 10n,
      strike_price: 4100000000000n, raw_instrument_id: 323n, leg_price: UNDEF_PRICE, leg_delta: UNDEF_PRICE,
      inst_attrib_value: 10, underlying_id: 256785, market_depth_implied: 0, market_depth: 13, market_segment_id: 0,
      max_trade_vol: 10000, min_lot_size: 1, min_lot_size_block: 1000, min_lot_size_round_lot: 100, min_trade_vol: 1,
      contract_multiplier: 0, decay_quantity: 0, original_contract_size: 0, leg_instrument_id: 24,
      leg_ratio_price_numerator: 0, leg_ratio_price_denominator: 0, leg_ratio_qty_numerator: 1, leg_ratio_qty_denominator: 2,
      leg_underlying_id: 25, appl_id: 0, maturity_year: 0, decay_start_date: 0, channel_id: 4, leg_count: 2, leg_index: 1,
      currency: "USD", settl_currency: "USD", secsubtype: "", raw_symbol: "ESZ4 C4100", group: "EW", exchange: "XCME",
      asset: "ES", cfi: "OCAFPS", security_type: "OOF", unit_of_measure: "IPNT", underlying: "ESZ4", strike_price_currency: "USD",
      leg_raw_symbol: "", instrument_class: "C", match_algorithm: "F", main_fraction: 4, price_display_format: 8, sub_fraction: 23,
      underlying_product: 10, security_update_action: "A", maturity_month: 8, maturity_day: 9, maturity_week: 11,
      user_defined_instrument: "N", contract_multiplier_unit: 0, flow_schedule_type: 5, tick_rule: 0, leg_instrument_class: "F", leg_side: "N",
    };
    expect(recordToJson(def, { prettyPx: true, prettyTs: true })).toBe(
      `{"ts_recv":"2022-07-21T22:18:11.000000000Z","hd":{"ts_event":"2022-07-21T22:17:31.000000000Z","rtype":19,"publisher_id":1,"instrument_id":323},` +
        `"raw_symbol":"ESZ4 C4100","security_update_action":"A","instrument_class":"C","min_price_increment":"0.000000100","display_factor":"1.000000000","expiration":"2023-10-27T23:40:00.000000000Z","activation":"2023-10-15T06:06:40.000000000Z",` +
        `"high_limit_price":"0.001000000","low_limit_price":"-0.001000000","max_price_variation":"0.000000000","unit_of_measure_qty":"5.000000000",` +
        `"min_price_increment_amount":"0.000000005","price_ratio":"0.000000010","inst_attrib_value":10,"underlying_id":256785,"raw_instrument_id":"323","market_depth_implied":0,` +
        `"market_depth":13,"market_segment_id":0,"max_trade_vol":10000,"min_lot_size":1,"min_lot_size_block":1000,"min_lot_size_round_lot":100,"min_trade_vol":1,` +
        `"contract_multiplier":0,"decay_quantity":0,"original_contract_size":0,"appl_id":0,` +
        `"maturity_year":0,"decay_start_date":0,"channel_id":4,"currency":"USD","settl_currency":"USD","secsubtype":"","group":"EW","exchange":"XCME","asset":"ES","cfi":"OCAFPS",` +
        `"security_type":"OOF","unit_of_measure":"IPNT","underlying":"ESZ4","strike_price_currency":"USD","strike_price":"4100.000000000","match_algorithm":"F","main_fraction":4,"price_display_format":8,` +
        `"sub_fraction":23,"underlying_product":10,"maturity_month":8,"maturity_day":9,"maturity_week":11,` +
        `"user_defined_instrument":"N","contract_multiplier_unit":0,"flow_schedule_type":5,"tick_rule":0,` +
        `"leg_count":2,"leg_index":1,"leg_instrument_id":24,"leg_raw_symbol":"","leg_instrument_class":"F",` +
        `"leg_side":"N","leg_price":null,"leg_delta":null,"leg_ratio_price_numerator":0,"leg_ratio_price_denominator":0,` +
        `"leg_ratio_qty_numerator":1,"leg_ratio_qty_denominator":2,"leg_underlying_id":25}`,
    );
  });
  it("ts_out, quoted strings and null timestamps", () => {
    expect(recordToJson(rec({ ...ohlcv, ts_out: 1678481869000000000n }), { prettyTs: true })).toBe(
      `{"hd":{"ts_event":"2022-07-21T22:17:31.000000000Z","rtype":32,"publisher_id":1,"instrument_id":323},"open":"5000","high":"8000","low":"3000","close":"6000","volume":"55000","ts_out":"2023-03-10T20:57:49.000000000Z"}`,
    );
    const error = { hd: { length: 80, rtype: RType.Error, publisher_id: 0, instrument_id: 0, ts_event: 0n }, err: '"A test', code: 255, is_last: 1 };
    expect(recordToJson(rec(error), { prettyPx: true, prettyTs: true })).toBe(
      `{"hd":{"ts_event":null,"rtype":21,"publisher_id":0,"instrument_id":0},"err":"\\"A test","code":255,"is_last":1}`,
    );
  });
  it("metadata", () => {
    const metadata = createMetadata({
      version: 1, dataset: "GLBX.MDP3", schema: Schema.Ohlcv1H, start: 1662734705128748281n, end: 1662734720914876944n,
      stype_in: SType.InstrumentId, stype_out: SType.RawSymbol, symbol_cstr_len: 22, symbols: ["ESZ2"],
      mappings: [{ raw_symbol: "ESZ2", intervals: [{ start_date: 20220909, end_date: 20220910, symbol: "ESH2" }] }],
    });
    expect(metadataToJson(metadata, { prettyTs: true })).toBe(
      `{"version":1,"dataset":"GLBX.MDP3","schema":"ohlcv-1h","start":"2022-09-09T14:45:05.128748281Z","end":"2022-09-09T14:45:20.914876944Z","limit":null,` +
        `"stype_in":"instrument_id","stype_out":"raw_symbol","ts_out":false,"symbol_cstr_len":22,"symbols":["ESZ2"],"partial":[],"not_found":[],` +
        `"mappings":[{"raw_symbol":"ESZ2","intervals":[{"start_date":"2022-09-09","end_date":"2022-09-10","symbol":"ESH2"}]}]}`,
    );
    expect(metadataToJson(metadata)).toContain(`"start":"1662734705128748281"`);
    expect(metadataToJson(metadata)).toContain(`"start_date":20220909`);
  });
});

describe.skipIf(!HAVE_FIXTURES)("text output of real files", () => {
  it("writes only the header for an empty file", () => {
    const { metadata, records } = decodeDbnSync(readFixture("dbn/test_data.ohlcv-1d.v3.dbn.zst"));
    expect(records).toHaveLength(0);
    expect(recordsToCsv(metadata, records)).toBe("ts_event,rtype,publisher_id,instrument_id,open,high,low,close,volume\n");
  });
  it("maps instrument ids to raw symbols from the metadata", () => {
    const { metadata, records } = decodeDbnSync(readFixture("dbn/test_data.mbo.v3.dbn"));
    const out = recordsToCsv(metadata, records, { symbolMap: new TsSymbolMap(metadata!), prettyPx: true, prettyTs: true });
    const lines = out.trimEnd().split("\n");
    expect(lines[0]!.endsWith(",sequence,symbol")).toBe(true);
    // 1609160400000704060 ns = 2020-12-28T13:00:00.000704060Z; price 3722750000000 = 3722.75.
    expect(lines[1]).toBe("2020-12-28T13:00:00.000704060Z,2020-12-28T13:00:00.000429831Z,160,1,5482,C,A,3722.750000000,1,0,647784973705,128,22993,1170352,ESH1");
    const json = recordToJson(records[0]!, { symbolMap: new TsSymbolMap(metadata!) });
    expect(json.endsWith(`"sequence":1170352,"symbol":"ESH1"}`)).toBe(true);
  });
});
