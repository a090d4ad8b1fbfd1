/**
 * Decoded record shapes. Field names and nesting follow Databento's structs (`hd` is the
 * common header). 64-bit integers are `bigint`; prices are raw 1e-9 fixed-point `bigint`s (see
 * `priceToNumber`); characters are one-character strings; C strings are cut at the first NUL.
 */

export interface RecordHeader {
  /** Record size in 32-bit words (includes a `ts_out` suffix). */
  length: number;
  rtype: number;
  publisher_id: number;
  instrument_id: number;
  ts_event: bigint;
}

interface WithTsOut {
  /** Gateway send time, present only when the record carries the `ts_out` suffix. */
  ts_out?: bigint;
}

export interface BidAskPair {
  bid_px: bigint;
  ask_px: bigint;
  bid_sz: number;
  ask_sz: number;
  bid_ct: number;
  ask_ct: number;
}

export interface ConsolidatedBidAskPair {
  bid_px: bigint;
  ask_px: bigint;
  bid_sz: number;
  ask_sz: number;
  bid_pb: number;
  ask_pb: number;
}

export interface MboMsg extends WithTsOut {
  hd: RecordHeader;
  order_id: bigint;
  price: bigint;
  size: number;
  flags: number;
  channel_id: number;
  action: string;
  side: string;
  ts_recv: bigint;
  ts_in_delta: number;
  sequence: number;
}

export interface TradeMsg extends WithTsOut {
  hd: RecordHeader;
  price: bigint;
  size: number;
  action: string;
  side: string;
  flags: number;
  depth: number;
  ts_recv: bigint;
  ts_in_delta: number;
  sequence: number;
}

export interface Mbp1Msg extends TradeMsg {
  levels: [BidAskPair];
}

export interface Mbp10Msg extends TradeMsg {
  levels: BidAskPair[];
}

export interface BboMsg extends WithTsOut {
  hd: RecordHeader;
  price: bigint;
  size: number;
  side: string;
  flags: number;
  ts_recv: bigint;
  sequence: number;
  levels: [BidAskPair];
}

export interface CbboMsg extends WithTsOut {
  hd: RecordHeader;
  price: bigint;
  size: number;
  side: string;
  flags: number;
  ts_recv: bigint;
  levels: [ConsolidatedBidAskPair];
}

export interface Cmbp1Msg extends WithTsOut {
  hd: RecordHeader;
  price: bigint;
  size: number;
  action: string;
  side: string;
  flags: number;
  ts_recv: bigint;
  ts_in_delta: number;
  levels: [ConsolidatedBidAskPair];
}

export interface OhlcvMsg extends WithTsOut {
  hd: RecordHeader;
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  volume: bigint;
}

export interface StatusMsg extends WithTsOut {
  hd: RecordHeader;
  ts_recv: bigint;
  action: number;
  reason: number;
  trading_event: number;
  is_trading: string;
  is_quoting: string;
  is_short_sell_restricted: string;
}

export interface ImbalanceMsg extends WithTsOut {
  hd: RecordHeader;
  ts_recv: bigint;
  ref_price: bigint;
  auction_time: bigint;
  cont_book_clr_price: bigint;
  auct_interest_clr_price: bigint;
  ssr_filling_price: bigint;
  ind_match_price: bigint;
  upper_collar: bigint;
  lower_collar: bigint;
  paired_qty: number;
  total_imbalance_qty: number;
  market_imbalance_qty: number;
  unpaired_qty: number;
  auction_type: string;
  side: string;
  auction_status: number;
  freeze_status: number;
  num_extensions: number;
  unpaired_side: string;
  significant_imbalance: string;
}

interface InstrumentDefCommon extends WithTsOut {
  hd: RecordHeader;
  ts_recv: bigint;
  min_price_increment: bigint;
  display_factor: bigint;
  expiration: bigint;
  activation: bigint;
  high_limit_price: bigint;
  low_limit_price: bigint;
  max_price_variation: bigint;
  unit_of_measure_qty: bigint;
  min_price_increment_amount: bigint;
  price_ratio: bigint;
  strike_price: bigint;
  inst_attrib_value: number;
  underlying_id: number;
  market_depth_implied: number;
  market_depth: number;
  market_segment_id: number;
  max_trade_vol: number;
  min_lot_size: number;
  min_lot_size_block: number;
  min_lot_size_round_lot: number;
  min_trade_vol: number;
  contract_multiplier: number;
  decay_quantity: number;
  original_contract_size: number;
  appl_id: number;
  maturity_year: number;
  decay_start_date: number;
  channel_id: number;
  currency: string;
  settl_currency: string;
  secsubtype: string;
  raw_symbol: string;
  group: string;
  exchange: string;
  asset: string;
  cfi: string;
  security_type: string;
  unit_of_measure: string;
  underlying: string;
  strike_price_currency: string;
  instrument_class: string;
  match_algorithm: string;
  main_fraction: number;
  price_display_format: number;
  sub_fraction: number;
  underlying_product: number;
  security_update_action: string;
  maturity_month: number;
  maturity_day: number;
  maturity_week: number;
  user_defined_instrument: string;
  contract_multiplier_unit: number;
  flow_schedule_type: number;
  tick_rule: number;
}

/** DBN v3 instrument definition (also the upgrade target of v1/v2). */
export interface InstrumentDefMsg extends InstrumentDefCommon {
  raw_instrument_id: bigint;
  leg_price: bigint;
  leg_delta: bigint;
  leg_instrument_id: number;
  leg_ratio_price_numerator: number;
  leg_ratio_price_denominator: number;
  leg_ratio_qty_numerator: number;
  leg_ratio_qty_denominator: number;
  leg_underlying_id: number;
  leg_count: number;
  leg_index: number;
  leg_raw_symbol: string;
  leg_instrument_class: string;
  leg_side: string;
}

/** DBN v1 and v2 instrument definition (v1 symbols are at most 21 characters). */
export interface InstrumentDefMsgV2 extends InstrumentDefCommon {
  raw_instrument_id: number;
  trading_reference_price: bigint;
  trading_reference_date: number;
  md_security_trading_status: number;
  settl_price_type: number;
}
export type InstrumentDefMsgV1 = InstrumentDefMsgV2;

export interface StatMsg extends WithTsOut {
  hd: RecordHeader;
  ts_recv: bigint;
  ts_ref: bigint;
  price: bigint;
  /** `bigint` in v3; UNDEF_STAT_QUANTITY when unused. */
  quantity: bigint;
  sequence: number;
  ts_in_delta: number;
  stat_type: number;
  channel_id: number;
  update_action: number;
  stat_flags: number;
}

/** v1/v2 statistics: `quantity` is an i32 (UNDEF_STAT_QUANTITY_V1 when unused). */
export interface StatMsgV2 extends Omit<StatMsg, "quantity"> {
  quantity: number;
}
export type StatMsgV1 = StatMsgV2;

export interface ErrorMsg extends WithTsOut {
  hd: RecordHeader;
  err: string;
  code: number;
  is_last: number;
}
export interface ErrorMsgV1 extends WithTsOut {
  hd: RecordHeader;
  err: string;
}

export interface SystemMsg extends WithTsOut {
  hd: RecordHeader;
  msg: string;
  code: number;
}
export interface SystemMsgV1 extends WithTsOut {
  hd: RecordHeader;
  msg: string;
}

export interface SymbolMappingMsg extends WithTsOut {
  hd: RecordHeader;
  stype_in: number;
  stype_in_symbol: string;
  stype_out: number;
  stype_out_symbol: string;
  start_ts: bigint;
  end_ts: bigint;
}
export interface SymbolMappingMsgV1 extends WithTsOut {
  hd: RecordHeader;
  stype_in_symbol: string;
  stype_out_symbol: string;
  start_ts: bigint;
  end_ts: bigint;
}

/** Any v3 record (what `upgrade: true` yields, and what the encoder accepts). */
export type DbnRecordV3 =
  | MboMsg
  | TradeMsg
  | Mbp1Msg
  | Mbp10Msg
  | BboMsg
  | CbboMsg
  | Cmbp1Msg
  | OhlcvMsg
  | StatusMsg
  | ImbalanceMsg
  | InstrumentDefMsg
  | StatMsg
  | ErrorMsg
  | SystemMsg
  | SymbolMappingMsg;

/** Any record of any DBN version. */
export type DbnRecord =
  | DbnRecordV3
  | InstrumentDefMsgV2
  | StatMsgV2
  | ErrorMsgV1
  | SystemMsgV1
  | SymbolMappingMsgV1;
