import { RType } from "../constants.js";
import { cstr, defineLayout, reserved, ts, u8 } from "./layout.js";

// Live-gateway records. v2 widened every string and added codes; v3 kept the v2 shapes.

export const ERROR_LAYOUT_V2 = defineLayout({
  name: "ErrorMsg",
  versions: [2, 3],
  rtypes: [RType.Error],
  size: 320,
  fields: [cstr("err", 302), u8("code"), u8("is_last")],
});

export const ERROR_LAYOUT_V1 = defineLayout({
  name: "ErrorMsg",
  versions: [1],
  rtypes: [RType.Error],
  size: 80,
  fields: [cstr("err", 64)],
});

export const SYSTEM_LAYOUT_V2 = defineLayout({
  name: "SystemMsg",
  versions: [2, 3],
  rtypes: [RType.System],
  size: 320,
  fields: [cstr("msg", 303), u8("code")],
});

export const SYSTEM_LAYOUT_V1 = defineLayout({
  name: "SystemMsg",
  versions: [1],
  rtypes: [RType.System],
  size: 80,
  fields: [cstr("msg", 64)],
});

export const SYMBOL_MAPPING_LAYOUT_V2 = defineLayout({
  name: "SymbolMappingMsg",
  versions: [2, 3],
  rtypes: [RType.SymbolMapping],
  size: 176,
  fields: [
    u8("stype_in"),
    cstr("stype_in_symbol", 71),
    u8("stype_out"),
    cstr("stype_out_symbol", 71),
    ts("start_ts"),
    ts("end_ts"),
  ],
});

export const SYMBOL_MAPPING_LAYOUT_V1 = defineLayout({
  name: "SymbolMappingMsg",
  versions: [1],
  rtypes: [RType.SymbolMapping],
  size: 80,
  fields: [
    cstr("stype_in_symbol", 22),
    cstr("stype_out_symbol", 22),
    reserved("_dummy", 4),
    ts("start_ts"),
    ts("end_ts"),
  ],
});
