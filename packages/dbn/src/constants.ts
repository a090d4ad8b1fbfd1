/** Fixed-point prices: 1 unit = 1e-9. */
export const FIXED_PRICE_SCALE = 1_000_000_000n;
/** Null price sentinel (i64::MAX). */
export const UNDEF_PRICE = 9_223_372_036_854_775_807n;
/** Null order size sentinel (u32::MAX). */
export const UNDEF_ORDER_SIZE = 4_294_967_295;
/** Null statistics quantity in DBN v3 (i64::MAX). */
export const UNDEF_STAT_QUANTITY = 9_223_372_036_854_775_807n;
/** Null statistics quantity in DBN v1 and v2 (i32::MAX). */
export const UNDEF_STAT_QUANTITY_V1 = 2_147_483_647;
/** Null timestamp sentinel (u64::MAX). */
export const UNDEF_TIMESTAMP = 18_446_744_073_709_551_615n;

/** The DBN version this package encodes. */
export const DBN_VERSION = 3;
/** Symbol width of v1 metadata and records. */
export const SYMBOL_CSTR_LEN_V1 = 22;
/** Symbol width of v2 and v3 metadata and records. */
export const SYMBOL_CSTR_LEN = 71;
/** Size of the fixed part of the metadata after the 8-byte prelude. */
export const METADATA_FIXED_LEN = 100;
/** Largest possible record: the length byte counts 32-bit words. */
export const MAX_RECORD_LEN = 255 * 4;
export const RECORD_HEADER_LEN = 16;

/** Record types (`hd.rtype`). */
export const RType = {
  Mbp0: 0x00,
  Mbp1: 0x01,
  Mbp10: 0x0a,
  OhlcvDeprecated: 0x11,
  Status: 0x12,
  InstrumentDef: 0x13,
  Imbalance: 0x14,
  Error: 0x15,
  SymbolMapping: 0x16,
  System: 0x17,
  Statistics: 0x18,
  Ohlcv1S: 0x20,
  Ohlcv1M: 0x21,
  Ohlcv1H: 0x22,
  Ohlcv1D: 0x23,
  OhlcvEod: 0x24,
  Mbo: 0xa0,
  Cmbp1: 0xb1,
  Cbbo1S: 0xc0,
  Cbbo1M: 0xc1,
  Tcbbo: 0xc2,
  Bbo1S: 0xc3,
  Bbo1M: 0xc4,
} as const;
export type RType = (typeof RType)[keyof typeof RType];

/** Schema codes of the metadata `schema` field. */
export const Schema = {
  Mbo: 0,
  Mbp1: 1,
  Mbp10: 2,
  Tbbo: 3,
  Trades: 4,
  Ohlcv1S: 5,
  Ohlcv1M: 6,
  Ohlcv1H: 7,
  Ohlcv1D: 8,
  Definition: 9,
  Statistics: 10,
  Status: 11,
  Imbalance: 12,
  OhlcvEod: 13,
  Cmbp1: 14,
  Cbbo1S: 15,
  Cbbo1M: 16,
  Tcbbo: 17,
  Bbo1S: 18,
  Bbo1M: 19,
} as const;
export type Schema = (typeof Schema)[keyof typeof Schema];

const SCHEMA_NAMES = [
  "mbo", "mbp-1", "mbp-10", "tbbo", "trades", "ohlcv-1s", "ohlcv-1m", "ohlcv-1h", "ohlcv-1d",
  "definition", "statistics", "status", "imbalance", "ohlcv-eod", "cmbp-1", "cbbo-1s", "cbbo-1m",
  "tcbbo", "bbo-1s", "bbo-1m",
] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** `"mbo"` for 0 etc.; undefined for an unknown code. */
export function schemaName(schema: number): SchemaName | undefined {
  return SCHEMA_NAMES[schema];
}

/** Schema code for a name like `"mbp-1"`; undefined when unknown. */
export function schemaFromName(name: string): Schema | undefined {
  const index = (SCHEMA_NAMES as readonly string[]).indexOf(name);
  return index < 0 ? undefined : (index as Schema);
}

/** Symbology types of the metadata `stype_in`/`stype_out` fields. */
export const SType = {
  InstrumentId: 0,
  RawSymbol: 1,
  Smart: 2,
  Continuous: 3,
  Parent: 4,
  NasdaqSymbol: 5,
  CmsSymbol: 6,
  Isin: 7,
  UsCode: 8,
  BbgCompId: 9,
  BbgCompTicker: 10,
  Figi: 11,
  FigiTicker: 12,
} as const;
export type SType = (typeof SType)[keyof typeof SType];

const STYPE_NAMES = [
  "instrument_id", "raw_symbol", "smart", "continuous", "parent", "nasdaq_symbol", "cms_symbol",
  "isin", "us_code", "bbg_comp_id", "bbg_comp_ticker", "figi", "figi_ticker",
] as const;

export function stypeName(stype: number): string | undefined {
  return STYPE_NAMES[stype];
}

export function stypeFromName(name: string): SType | undefined {
  const index = (STYPE_NAMES as readonly string[]).indexOf(name);
  return index < 0 ? undefined : (index as SType);
}

/** Bits of the `flags` field. */
export const Flags = {
  LAST: 0x80,
  TOB: 0x40,
  SNAPSHOT: 0x20,
  MBP: 0x10,
  BAD_TS_RECV: 0x08,
  MAYBE_BAD_BOOK: 0x04,
  PUBLISHER_SPECIFIC: 0x02,
} as const;

/** Statistic types (`StatMsg.stat_type`). */
export const StatType = {
  OpeningPrice: 1,
  IndicativeOpeningPrice: 2,
  SettlementPrice: 3,
  TradingSessionLowPrice: 4,
  TradingSessionHighPrice: 5,
  ClearedVolume: 6,
  LowestOffer: 7,
  HighestBid: 8,
  OpenInterest: 9,
  FixingPrice: 10,
  ClosePrice: 11,
  NetChange: 12,
  Vwap: 13,
  Volatility: 14,
  Delta: 15,
  UncrossingPrice: 16,
  UpperPriceLimit: 17,
  LowerPriceLimit: 18,
  BlockVolume: 19,
  VenueSpecificVolume1: 10001,
} as const;

const SCHEMA_RTYPES: readonly number[] = [
  RType.Mbo, RType.Mbp1, RType.Mbp10, RType.Mbp1, RType.Mbp0, RType.Ohlcv1S, RType.Ohlcv1M,
  RType.Ohlcv1H, RType.Ohlcv1D, RType.InstrumentDef, RType.Statistics, RType.Status,
  RType.Imbalance, RType.OhlcvEod, RType.Cmbp1, RType.Cbbo1S, RType.Cbbo1M, RType.Tcbbo,
  RType.Bbo1S, RType.Bbo1M,
];

/** The rtype of a schema's records (`tbbo` records are MBP-1). */
export function schemaRType(schema: Schema): number {
  const rtype = SCHEMA_RTYPES[schema];
  if (rtype === undefined) throw new RangeError(`unknown schema ${schema}`);
  return rtype;
}
