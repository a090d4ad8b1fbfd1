import { RType, UNDEF_PRICE, UNDEF_STAT_QUANTITY, UNDEF_STAT_QUANTITY_V1 } from "../constants.js";
import type {
  ErrorMsg,
  ErrorMsgV1,
  InstrumentDefMsg,
  InstrumentDefMsgV2,
  StatMsg,
  StatMsgV2,
  SymbolMappingMsg,
  SymbolMappingMsgV1,
  SystemMsg,
  SystemMsgV1,
} from "./types.js";

// Conversions of v1/v2 records to v3 shapes, following the Rust crate's `From` impls: common
// fields are copied, v3-only fields take the v3 defaults, `hd.length` is recomputed.

const words = (bytes: number, tsOut: bigint | undefined): number => (bytes + (tsOut === undefined ? 0 : 8)) / 4;

export function upgradeDefinition(old: InstrumentDefMsgV2): InstrumentDefMsg {
  const {
    trading_reference_price: _trp,
    trading_reference_date: _trd,
    md_security_trading_status: _mdst,
    settl_price_type: _spt,
    ...common
  } = old;
  return {
    ...common,
    hd: { ...old.hd, length: words(520, old.ts_out) },
    raw_instrument_id: BigInt(old.raw_instrument_id),
    leg_price: UNDEF_PRICE,
    leg_delta: UNDEF_PRICE,
    leg_instrument_id: 0,
    leg_ratio_price_numerator: 0,
    leg_ratio_price_denominator: 0,
    leg_ratio_qty_numerator: 0,
    leg_ratio_qty_denominator: 0,
    leg_underlying_id: 0,
    leg_count: 0,
    leg_index: 0,
    leg_raw_symbol: "",
    leg_instrument_class: "\0",
    leg_side: "N",
  };
}

export function upgradeStat(old: StatMsgV2): StatMsg {
  return {
    ...old,
    hd: { ...old.hd, length: words(80, old.ts_out) },
    quantity: old.quantity === UNDEF_STAT_QUANTITY_V1 ? UNDEF_STAT_QUANTITY : BigInt(old.quantity),
  };
}

export function upgradeError(old: ErrorMsgV1): ErrorMsg {
  return { ...old, hd: { ...old.hd, length: words(320, old.ts_out) }, code: 255, is_last: 1 };
}

/** v1 system messages had no code; infer it from the text as the Rust crate does. */
export function upgradeSystem(old: SystemMsgV1): SystemMsg {
  let code = 255;
  if (old.msg === "Heartbeat") code = 0;
  else if (/^Subscription request .*succeeded/.test(old.msg)) code = 1;
  return { ...old, hd: { ...old.hd, length: words(320, old.ts_out) }, code };
}

export function upgradeSymbolMapping(old: SymbolMappingMsgV1): SymbolMappingMsg {
  return {
    hd: { ...old.hd, length: words(176, old.ts_out) },
    stype_in: 255,
    stype_in_symbol: old.stype_in_symbol,
    stype_out: 255,
    stype_out_symbol: old.stype_out_symbol,
    start_ts: old.start_ts,
    end_ts: old.end_ts,
    ...(old.ts_out === undefined ? {} : { ts_out: old.ts_out }),
  };
}

/** Upgrades one decoded record of `version` to its v3 shape; v3-identical records pass through. */
export function upgradeRecord(record: unknown, version: number): unknown {
  if (version >= 3) return record;
  const rtype = (record as { hd: { rtype: number } }).hd.rtype;
  switch (rtype) {
    case RType.InstrumentDef:
      return upgradeDefinition(record as InstrumentDefMsgV2);
    case RType.Statistics:
      return upgradeStat(record as StatMsgV2);
    case RType.Error:
      return version === 1 ? upgradeError(record as ErrorMsgV1) : record;
    case RType.System:
      return version === 1 ? upgradeSystem(record as SystemMsgV1) : record;
    case RType.SymbolMapping:
      return version === 1 ? upgradeSymbolMapping(record as SymbolMappingMsgV1) : record;
    default:
      return record;
  }
}
