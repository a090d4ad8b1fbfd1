import type { TsSymbolMap } from "../symbology.js";

export interface TextOptions {
  /** Prices as decimals (`pretty_px`). */
  prettyPx?: boolean;
  /** Timestamps as ISO 8601 (`pretty_ts`). */
  prettyTs?: boolean;
  /** JSON only: indent objects by 4 spaces (the CLI's `--pretty` does this with the above). */
  indent?: boolean;
  /** DBN version of the records (their shapes). Default 3; use 3 for upgraded records. */
  version?: number;
  /** Adds a trailing `symbol` column/key looked up in this map (the CLI's `--map-symbols`). */
  symbolMap?: TsSymbolMap | null;
}
