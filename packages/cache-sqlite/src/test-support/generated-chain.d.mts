import type { ChainRequest, OptionsChain, SourceResult, SourceRow } from "@nq/core";

export declare function generatedRows(contracts: number, seed?: number): SourceRow[];
export declare function generatedSourceResult(contracts: number, seed?: number): SourceResult;
export declare function generatedChain(
  contracts: number,
  options?: { source?: string; seed?: number; fetchedAt?: Date; request?: ChainRequest },
): OptionsChain;
