/**
 * Stage 1 of 3 — transform the query: a ChainRequest plus this source's config becomes the plan of what
 * to ask Databento for. The request wins over the config's defaults for expirations and strikes.
 */
import { type ChainRequest, InvalidRequestError } from "@nq/core";
import { isQuoteSchema, type MarketSchema, type QuoteSchema, type ResolvedConfig } from "./config.js";

/**
 * NQ option product codes besides "NQ" (CME's weeklies and end-of-month series, per the reference;
 * unverified against live definitions). Those that resolve on the day are added to the parents.
 */
export const NQ_SERIES_PARENTS = [
  ...["A", "B", "C", "D"].flatMap((day) => [1, 2, 3, 4, 5].map((week) => `Q${week}${day}.OPT`)),
  ...[1, 2, 3, 4].map((week) => `QN${week}.OPT`),
  "QNE.OPT",
];

export interface InstrumentFilters {
  expirations?: string[];
  maxExpirations?: number;
  strikeMin?: number;
  strikeMax?: number;
}

export interface ChainQuery {
  dataset: string;
  parentSymbols: string[];
  /** Parents to try through `symbology.resolve` (free) and add when they exist. */
  candidateParents: string[];
  /** Market-data schemas to join onto the definitions, in request order. */
  schemas: MarketSchema[];
  /** The one top-of-book schema, if quotes were asked for. */
  quoteSchema: QuoteSchema | null;
  /** Also price each option's underlying future. */
  underlyingPrices: boolean;
  filters: InstrumentFilters;
  asOf: string | undefined;
  quoteWindowMinutes: number;
}

export function toChainQuery(request: ChainRequest, config: ResolvedConfig, source: string): ChainQuery {
  if (request.product.toUpperCase() !== "NQ") {
    throw new InvalidRequestError(source, `this source assembles NQ options chains only; the request asked for "${request.product}"`);
  }
  const filters: InstrumentFilters = {};
  const expirations = request.expirations ?? config.expirations;
  if (expirations?.length) filters.expirations = expirations;
  const maxExpirations = request.maxExpirations ?? config.max_expirations;
  if (maxExpirations !== undefined) filters.maxExpirations = maxExpirations;
  const strikeMin = request.strikeMin ?? config.strike_min;
  if (strikeMin !== undefined) filters.strikeMin = strikeMin;
  const strikeMax = request.strikeMax ?? config.strike_max;
  if (strikeMax !== undefined) filters.strikeMax = strikeMax;
  if (filters.strikeMin !== undefined && filters.strikeMax !== undefined && filters.strikeMin > filters.strikeMax) {
    throw new InvalidRequestError(source, `the strike window is empty: strikeMin ${filters.strikeMin} is above strikeMax ${filters.strikeMax}`);
  }
  const parentSymbols = [...new Set(config.parent_symbols)];
  return {
    dataset: config.dataset,
    parentSymbols,
    candidateParents: config.discover_parents ? NQ_SERIES_PARENTS.filter((parent) => !parentSymbols.includes(parent)) : [],
    schemas: [...config.schemas],
    quoteSchema: config.schemas.find(isQuoteSchema) ?? null,
    underlyingPrices: config.underlying_prices,
    filters,
    asOf: request.asOf,
    quoteWindowMinutes: config.quote_window_minutes,
  };
}
