import { RType } from "../constants.js";
import { defineLayout, i32, i64, px, reserved, ts, u16, u32, u8 } from "./layout.js";

// v3 widened `quantity` from i32 to i64, growing the record from 64 to 80 bytes.
export const STAT_LAYOUT_V3 = defineLayout({
  name: "StatMsg",
  versions: [3],
  rtypes: [RType.Statistics],
  size: 80,
  fields: [
    ts("ts_recv", 0),
    ts("ts_ref"),
    px("price"),
    i64("quantity"),
    u32("sequence"),
    i32("ts_in_delta"),
    u16("stat_type"),
    u16("channel_id"),
    u8("update_action"),
    u8("stat_flags"),
    reserved("_reserved", 18),
  ],
});

export const STAT_LAYOUT_V1 = defineLayout({
  name: "StatMsg",
  versions: [1, 2],
  rtypes: [RType.Statistics],
  size: 64,
  fields: [
    ts("ts_recv", 0),
    ts("ts_ref"),
    px("price"),
    i32("quantity"),
    u32("sequence"),
    i32("ts_in_delta"),
    u16("stat_type"),
    u16("channel_id"),
    u8("update_action"),
    u8("stat_flags"),
    reserved("_reserved", 6),
  ],
});
