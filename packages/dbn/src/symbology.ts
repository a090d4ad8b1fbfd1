import { SType, UNDEF_TIMESTAMP } from "./constants.js";
import type { Metadata } from "./metadata.js";
import type { SymbolMappingMsg, SymbolMappingMsgV1 } from "./records/types.js";
import { indexTimestamp } from "./text/columns.js";

interface Interval {
  startDay: number;
  endDay: number;
  symbol: string;
}

const DAY_NS = 86_400_000_000_000n;

/** Days since the epoch of a `YYYYMMDD` integer. */
function dayNumber(yyyymmdd: number): number {
  const year = Math.floor(yyyymmdd / 10000);
  const month = Math.floor(yyyymmdd / 100) % 100;
  const day = yyyymmdd % 100;
  return Math.floor(Date.UTC(year, month - 1, day) / 86_400_000);
}

/**
 * Instrument id → symbol by date, built from the metadata mappings the way Databento's
 * `TsSymbolMap` is: with `stype_out = instrument_id` the mapped symbol is the input symbol; with
 * `stype_in = instrument_id` it is the interval's symbol.
 */
export class TsSymbolMap {
  private readonly byInstrument = new Map<number, Interval[]>();

  constructor(metadata: Metadata) {
    const inputIsId = metadata.stype_in === SType.InstrumentId;
    for (const mapping of metadata.mappings) {
      for (const interval of mapping.intervals) {
        if (interval.symbol === "") continue;
        const id = Number(inputIsId ? mapping.raw_symbol : interval.symbol);
        if (!Number.isInteger(id)) continue;
        const symbol = inputIsId ? interval.symbol : mapping.raw_symbol;
        let list = this.byInstrument.get(id);
        if (!list) this.byInstrument.set(id, (list = []));
        list.push({ startDay: dayNumber(interval.start_date), endDay: dayNumber(interval.end_date), symbol });
      }
    }
  }

  get size(): number {
    return this.byInstrument.size;
  }

  /** The symbol of `instrumentId` on the UTC date of `ns`; undefined when unmapped. */
  get(instrumentId: number, ns: bigint): string | undefined {
    if (ns === UNDEF_TIMESTAMP) return undefined;
    const list = this.byInstrument.get(instrumentId);
    if (!list) return undefined;
    const day = Number(ns / DAY_NS);
    for (const interval of list) if (day >= interval.startDay && day < interval.endDay) return interval.symbol;
    return undefined;
  }

  /** The symbol for a record, dated by its index timestamp. */
  forRecord(record: { hd: { instrument_id: number; ts_event: bigint }; ts_recv?: bigint }): string | undefined {
    return this.get(record.hd.instrument_id, indexTimestamp(record));
  }
}

/**
 * Instrument id → symbol at the current point of a live stream, fed by the SymbolMappingMsg
 * records the gateway sends (they may repeat: each one is an upsert).
 */
export class PitSymbolMap {
  private readonly symbols = new Map<number, string>();

  /** Applies a SymbolMappingMsg (any version); returns the symbol now mapped. */
  update(record: SymbolMappingMsg | SymbolMappingMsgV1): string {
    this.symbols.set(record.hd.instrument_id, record.stype_out_symbol);
    return record.stype_out_symbol;
  }

  get(instrumentId: number): string | undefined {
    return this.symbols.get(instrumentId);
  }

  get size(): number {
    return this.symbols.size;
  }
}
