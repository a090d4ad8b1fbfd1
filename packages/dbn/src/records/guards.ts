import { RType } from "../constants.js";
import type {
  BboMsg,
  CbboMsg,
  Cmbp1Msg,
  DbnRecord,
  ErrorMsg,
  ImbalanceMsg,
  InstrumentDefMsg,
  InstrumentDefMsgV2,
  MboMsg,
  Mbp10Msg,
  Mbp1Msg,
  OhlcvMsg,
  StatMsg,
  StatMsgV2,
  StatusMsg,
  SymbolMappingMsg,
  SystemMsg,
  TradeMsg,
} from "./types.js";

// Narrowing by rtype; v1/v2 shapes are included where the version changed the record.

export const isMbo = (r: DbnRecord): r is MboMsg => r.hd.rtype === RType.Mbo;
export const isTrade = (r: DbnRecord): r is TradeMsg => r.hd.rtype === RType.Mbp0;
export const isMbp1 = (r: DbnRecord): r is Mbp1Msg => r.hd.rtype === RType.Mbp1;
export const isMbp10 = (r: DbnRecord): r is Mbp10Msg => r.hd.rtype === RType.Mbp10;
export const isBbo = (r: DbnRecord): r is BboMsg => r.hd.rtype === RType.Bbo1S || r.hd.rtype === RType.Bbo1M;
export const isCbbo = (r: DbnRecord): r is CbboMsg => r.hd.rtype === RType.Cbbo1S || r.hd.rtype === RType.Cbbo1M;
export const isCmbp1 = (r: DbnRecord): r is Cmbp1Msg => r.hd.rtype === RType.Cmbp1 || r.hd.rtype === RType.Tcbbo;
export const isOhlcv = (r: DbnRecord): r is OhlcvMsg =>
  (r.hd.rtype >= RType.Ohlcv1S && r.hd.rtype <= RType.OhlcvEod) || r.hd.rtype === RType.OhlcvDeprecated;
export const isStatus = (r: DbnRecord): r is StatusMsg => r.hd.rtype === RType.Status;
export const isImbalance = (r: DbnRecord): r is ImbalanceMsg => r.hd.rtype === RType.Imbalance;
export const isInstrumentDef = (r: DbnRecord): r is InstrumentDefMsg | InstrumentDefMsgV2 => r.hd.rtype === RType.InstrumentDef;
export const isStat = (r: DbnRecord): r is StatMsg | StatMsgV2 => r.hd.rtype === RType.Statistics;
export const isError = (r: DbnRecord): r is ErrorMsg => r.hd.rtype === RType.Error;
export const isSystem = (r: DbnRecord): r is SystemMsg => r.hd.rtype === RType.System;
export const isSymbolMapping = (r: DbnRecord): r is SymbolMappingMsg => r.hd.rtype === RType.SymbolMapping;
