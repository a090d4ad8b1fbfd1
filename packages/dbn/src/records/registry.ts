import type { RecordLayout } from "./layout.js";
import { BBO_LAYOUT, CBBO_LAYOUT, CMBP1_LAYOUT, MBO_LAYOUT, MBP10_LAYOUT, MBP1_LAYOUT, OHLCV_LAYOUT, TRADE_LAYOUT } from "./market.js";
import { DEFINITION_LAYOUT_V1, DEFINITION_LAYOUT_V2, DEFINITION_LAYOUT_V3 } from "./definition.js";
import { STAT_LAYOUT_V1, STAT_LAYOUT_V3 } from "./statistics.js";
import { STATUS_LAYOUT } from "./status.js";
import { IMBALANCE_LAYOUT } from "./imbalance.js";
import {
  ERROR_LAYOUT_V1,
  ERROR_LAYOUT_V2,
  SYMBOL_MAPPING_LAYOUT_V1,
  SYMBOL_MAPPING_LAYOUT_V2,
  SYSTEM_LAYOUT_V1,
  SYSTEM_LAYOUT_V2,
} from "./gateway.js";

export const ALL_LAYOUTS: readonly RecordLayout[] = [
  MBO_LAYOUT,
  TRADE_LAYOUT,
  MBP1_LAYOUT,
  MBP10_LAYOUT,
  BBO_LAYOUT,
  CBBO_LAYOUT,
  CMBP1_LAYOUT,
  OHLCV_LAYOUT,
  STATUS_LAYOUT,
  IMBALANCE_LAYOUT,
  DEFINITION_LAYOUT_V1,
  DEFINITION_LAYOUT_V2,
  DEFINITION_LAYOUT_V3,
  STAT_LAYOUT_V1,
  STAT_LAYOUT_V3,
  ERROR_LAYOUT_V1,
  ERROR_LAYOUT_V2,
  SYSTEM_LAYOUT_V1,
  SYSTEM_LAYOUT_V2,
  SYMBOL_MAPPING_LAYOUT_V1,
  SYMBOL_MAPPING_LAYOUT_V2,
];

export const SUPPORTED_VERSIONS = [1, 2, 3] as const;
export type DbnVersion = (typeof SUPPORTED_VERSIONS)[number];

// Indexed [version][rtype] so the hot loop does two array loads.
const BY_VERSION: (RecordLayout | undefined)[][] = [[], [], [], []];
for (const layout of ALL_LAYOUTS) {
  for (const version of layout.versions) {
    const table = BY_VERSION[version]!;
    for (const rtype of layout.rtypes) table[rtype] = layout;
  }
}

/** The layout of `rtype` in DBN `version`, or undefined for an rtype this version lacks. */
export function layoutFor(version: number, rtype: number): RecordLayout | undefined {
  return BY_VERSION[version]?.[rtype];
}

/** Struct size in bytes per rtype for one version; 0 marks an unknown rtype. */
export function recordSizeTable(version: number): Uint16Array {
  const sizes = new Uint16Array(256);
  const table = BY_VERSION[version] ?? [];
  for (let rtype = 0; rtype < 256; rtype++) sizes[rtype] = table[rtype]?.size ?? 0;
  return sizes;
}
