import { RType } from "../constants.js";
import { char, defineLayout, i32, levels, px, reserved, ts, u32, u64, u8 } from "./layout.js";

// These layouts are identical in DBN v1, v2 and v3.
const ALL_VERSIONS = [1, 2, 3] as const;

export const MBO_LAYOUT = defineLayout({
  name: "MboMsg",
  versions: ALL_VERSIONS,
  rtypes: [RType.Mbo],
  size: 56,
  fields: [
    u64("order_id"),
    px("price", 4),
    u32("size", 5),
    u8("flags"),
    u8("channel_id", 6),
    char("action", 2),
    char("side", 3),
    ts("ts_recv", 0),
    i32("ts_in_delta"),
    u32("sequence"),
  ],
});

const TRADE_FIELDS = [
  px("price"),
  u32("size"),
  char("action", 2),
  char("side", 3),
  u8("flags"),
  u8("depth", 4),
  ts("ts_recv", 0),
  i32("ts_in_delta"),
  u32("sequence"),
];

export const TRADE_LAYOUT = defineLayout({
  name: "TradeMsg",
  versions: ALL_VERSIONS,
  rtypes: [RType.Mbp0],
  size: 48,
  fields: TRADE_FIELDS,
});

export const MBP1_LAYOUT = defineLayout({
  name: "Mbp1Msg",
  versions: ALL_VERSIONS,
  rtypes: [RType.Mbp1],
  size: 80,
  fields: [...TRADE_FIELDS, levels(1)],
});

export const MBP10_LAYOUT = defineLayout({
  name: "Mbp10Msg",
  versions: ALL_VERSIONS,
  rtypes: [RType.Mbp10],
  size: 368,
  fields: [...TRADE_FIELDS, levels(10)],
});

export const BBO_LAYOUT = defineLayout({
  name: "BboMsg",
  versions: ALL_VERSIONS,
  rtypes: [RType.Bbo1S, RType.Bbo1M],
  size: 80,
  fields: [
    px("price"),
    u32("size"),
    reserved("_reserved1", 1),
    char("side", 2),
    u8("flags"),
    reserved("_reserved2", 1),
    ts("ts_recv", 0),
    reserved("_reserved3", 4),
    u32("sequence"),
    levels(1),
  ],
});

export const CBBO_LAYOUT = defineLayout({
  name: "CbboMsg",
  versions: ALL_VERSIONS,
  rtypes: [RType.Cbbo1S, RType.Cbbo1M],
  size: 80,
  fields: [
    px("price"),
    u32("size"),
    reserved("_reserved1", 1),
    char("side", 2),
    u8("flags"),
    reserved("_reserved2", 1),
    ts("ts_recv", 0),
    reserved("_reserved3", 8),
    levels(1, true),
  ],
});

export const CMBP1_LAYOUT = defineLayout({
  name: "Cmbp1Msg",
  versions: ALL_VERSIONS,
  rtypes: [RType.Cmbp1, RType.Tcbbo],
  size: 80,
  fields: [
    px("price"),
    u32("size"),
    char("action", 2),
    char("side", 3),
    u8("flags"),
    reserved("_reserved1", 1),
    ts("ts_recv", 0),
    i32("ts_in_delta"),
    reserved("_reserved2", 4),
    levels(1, true),
  ],
});

export const OHLCV_LAYOUT = defineLayout({
  name: "OhlcvMsg",
  versions: ALL_VERSIONS,
  rtypes: [RType.Ohlcv1S, RType.Ohlcv1M, RType.Ohlcv1H, RType.Ohlcv1D, RType.OhlcvEod, RType.OhlcvDeprecated],
  size: 56,
  fields: [px("open"), px("high"), px("low"), px("close"), u64("volume")],
});
