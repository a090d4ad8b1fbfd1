import { RType } from "../constants.js";
import { char, defineLayout, px, reserved, ts, u32, u8 } from "./layout.js";

export const IMBALANCE_LAYOUT = defineLayout({
  name: "ImbalanceMsg",
  versions: [1, 2, 3],
  rtypes: [RType.Imbalance],
  size: 112,
  fields: [
    ts("ts_recv", 0),
    px("ref_price"),
    ts("auction_time"),
    px("cont_book_clr_price"),
    px("auct_interest_clr_price"),
    px("ssr_filling_price"),
    px("ind_match_price"),
    px("upper_collar"),
    px("lower_collar"),
    u32("paired_qty"),
    u32("total_imbalance_qty"),
    u32("market_imbalance_qty"),
    u32("unpaired_qty"),
    char("auction_type"),
    char("side"),
    u8("auction_status"),
    u8("freeze_status"),
    u8("num_extensions"),
    char("unpaired_side"),
    char("significant_imbalance"),
    reserved("_reserved", 1),
  ],
});
