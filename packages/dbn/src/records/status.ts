import { RType } from "../constants.js";
import { char, defineLayout, reserved, ts, u16 } from "./layout.js";

export const STATUS_LAYOUT = defineLayout({
  name: "StatusMsg",
  versions: [1, 2, 3],
  rtypes: [RType.Status],
  size: 40,
  fields: [
    ts("ts_recv", 0),
    u16("action"),
    u16("reason"),
    u16("trading_event"),
    char("is_trading"),
    char("is_quoting"),
    char("is_short_sell_restricted"),
    reserved("_reserved", 7),
  ],
});
