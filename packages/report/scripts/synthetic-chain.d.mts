import type { OptionsChain } from "@nq/core";
export interface SyntheticOptions {
  expiries?: number;
  strikesPerExpiry?: number;
  step?: number;
  asOf?: string;
  sample?: boolean;
  delayed?: boolean;
  complete?: boolean;
  incompleteReasons?: string[];
  withIv?: boolean;
  seed?: number;
  source?: string;
  cache?: "hit" | "miss" | "off";
  spendUsd?: number;
}
export function syntheticChain(options?: SyntheticOptions): OptionsChain;
