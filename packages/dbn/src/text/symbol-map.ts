import { SType, UNDEF_TIMESTAMP } from "../constants.js";
import type { Metadata } from "../metadata.js";
import { indexTimestamp } from "./columns.js";

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
