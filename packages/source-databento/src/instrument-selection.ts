/**
 * Which of the defined options make the chain: NQ options only (an option whose underlying is an NQ
 * future — how weekly and end-of-month series found under other product codes are recognised), not
 * expired at as-of (core's rule: the expiry instant, else the CME trade date in Chicago — the same rule
 * the normalizer applies), inside the requested expirations and strike window. Filtering here, before
 * the market-data requests, is what keeps a narrow request cheap.
 */
import { chicagoDate, isExpiredAt } from "@nq/core";
import type { OptionDefinition } from "./chain-records.js";
import type { InstrumentFilters } from "./query.js";

/** NQ futures: NQ + month code + 1–2 year digits (NQZ6, NQH27). */
const NQ_FUTURE = /^NQ[FGHJKMNQUVXZ]\d{1,2}$/;

export function isNqOption(definition: OptionDefinition): boolean {
  return NQ_FUTURE.test(definition.underlying);
}

/** The expiration date as CME states it: the Chicago calendar date of the last trading instant. */
export function expirationDate(definition: OptionDefinition): string | null {
  if (definition.expirationNs === null) return null;
  return chicagoDate(new Date(Number(definition.expirationNs / 1_000_000n)));
}

export function expirationTime(definition: OptionDefinition): string | null {
  return definition.expirationNs === null ? null : new Date(Number(definition.expirationNs / 1_000_000n)).toISOString();
}

export function selectInstruments(definitions: Iterable<OptionDefinition>, filters: InstrumentFilters, asOf: Date): OptionDefinition[] {
  let selected = [...definitions].filter((d) => {
    if (!isNqOption(d)) return false;
    const expiration = expirationDate(d);
    if (expiration === null || isExpiredAt({ expiration, expirationTime: expirationTime(d) }, asOf)) return false;
    if (filters.expirations && !filters.expirations.includes(expiration)) return false;
    const strike = Number(d.strikeRaw) / 1e9;
    if (filters.strikeMin !== undefined && strike < filters.strikeMin) return false;
    if (filters.strikeMax !== undefined && strike > filters.strikeMax) return false;
    return true;
  });
  if (filters.maxExpirations !== undefined) {
    const keep = new Set([...new Set(selected.map((d) => expirationDate(d)!))].sort().slice(0, filters.maxExpirations));
    selected = selected.filter((d) => keep.has(expirationDate(d)!));
  }
  return selected;
}
