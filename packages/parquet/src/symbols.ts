/**
 * Symbols for the Parquet rows: the raw symbol from the DBN metadata's symbology (instrument_id and
 * UTC date → raw symbol, Databento's own `TsSymbolMap` rules) and, where @nq/core's symbology reads
 * it (NQ options and futures), our canonical symbol. Each distinct (instrument, UTC day) is looked up
 * once; rows carry a small id that the Parquet writer joins back to the text.
 */
import { parseFutureSymbol, parseOptionSymbol } from "@nq/core";
import { TsSymbolMap, type Metadata } from "@nq/dbn";

const DAY_NS = 86_400_000_000_000n;
const DAY_NS_NUMBER = 86_400_000_000_000;
export const NO_SYMBOL = -1;

export interface SymbolEntry {
  id: number;
  symbol: string;
  canonical: string | null;
}

export class SymbolTable {
  private readonly map: TsSymbolMap;
  private readonly byKey = new Map<number, number>();
  private readonly bySymbol = new Map<string, SymbolEntry>();
  readonly entries: SymbolEntry[] = [];
  private lastKey = -1;
  private lastId = NO_SYMBOL;

  constructor(metadata: Metadata) {
    this.map = new TsSymbolMap(metadata);
    // Every symbol the mappings can name gets its id now: the writer's lookup table is built before
    // the first row is scanned.
    for (const mapping of metadata.mappings) {
      for (const interval of mapping.intervals) {
        const day = Math.floor(Date.UTC(Math.floor(interval.start_date / 10000), (Math.floor(interval.start_date / 100) % 100) - 1, interval.start_date % 100) / 86_400_000);
        for (const symbol of [mapping.raw_symbol, interval.symbol]) {
          if (symbol !== "") this.entryFor(symbol, Number.isFinite(day) ? day : 0);
        }
      }
    }
  }

  /** The symbol id of `instrumentId` at `ns` (a float is precise enough to pick the UTC day), or NO_SYMBOL. */
  idAt(instrumentId: number, ns: number): number {
    const day = Math.floor(ns / DAY_NS_NUMBER);
    const key = instrumentId * 200_000 + day;
    if (key === this.lastKey) return this.lastId;
    let id = this.byKey.get(key);
    if (id === undefined) {
      const symbol = this.map.get(instrumentId, BigInt(day) * DAY_NS);
      id = symbol === undefined ? NO_SYMBOL : (this.bySymbol.get(symbol)?.id ?? NO_SYMBOL);
      this.byKey.set(key, id);
    }
    this.lastKey = key;
    this.lastId = id;
    return id;
  }

  private entryFor(symbol: string, day: number): SymbolEntry {
    let entry = this.bySymbol.get(symbol);
    if (!entry) {
      entry = { id: this.entries.length, symbol, canonical: canonicalSymbol(symbol, new Date(day * 86_400_000)) };
      this.bySymbol.set(symbol, entry);
      this.entries.push(entry);
    }
    return entry;
  }
}

/** Our canonical spelling of a CME raw symbol when core reads it (NQ option or any future), else null. */
export function canonicalSymbol(raw: string, asOf: Date): string | null {
  // Every symbol core reads starts with a letter. A digit first is an instrument id (the other side
  // of a mapping, one per instrument): answered here, because core's two refusals, each an error with
  // a stack, were about half of the converter's set-up time on a file mapping 2,000 instruments.
  if (/^\s*\d/.test(raw)) return null;
  try {
    return parseOptionSymbol(raw, asOf).symbol;
  } catch {
    // not an NQ option symbol; maybe a future
  }
  try {
    return parseFutureSymbol(raw, asOf).symbol;
  } catch {
    return null;
  }
}
