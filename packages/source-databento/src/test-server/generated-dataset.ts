/**
 * The local server's GLBX.MDP3: symbol resolution (parent, instrument_id, raw_symbol, ALL_SYMBOLS) and
 * the records of a (schema, symbols, window) query, built from the generated NQ market day by day.
 */
import type { DbnRecordV3 } from "@nq/dbn";
import {
  definitionRecords,
  type GeneratedDay,
  generateDay,
  quoteRecords,
  statisticsRecords,
  tradeRecords,
} from "./nq-chain-generator.js";

export const SERVED_SCHEMAS = ["definition", "statistics", "trades", "mbp-1", "bbo-1m"] as const;
export type ServedSchema = (typeof SERVED_SCHEMAS)[number];

/** Uncompressed DBN v3 record sizes, for billable size and cost. */
export const RECORD_BYTES: Record<ServedSchema, number> = { definition: 520, statistics: 80, trades: 48, "mbp-1": 80, "bbo-1m": 80 };

export interface RangeRequest {
  schema: ServedSchema;
  symbols: string[];
  stypeIn: string;
  startNs: bigint;
  endNs: bigint;
  limit: number | null;
}

export interface Resolution {
  ids: Set<number>;
  /** raw symbol → instrument id, for the DBN metadata mappings. */
  rawSymbols: Map<string, number>;
  notFound: string[];
}

export interface QueryResult {
  records: DbnRecordV3[];
  resolution: Resolution;
}

const DAY_MS = 86_400_000;

export class GeneratedDataset {
  private readonly cache = new Map<string, QueryResult>();

  constructor(private readonly contracts: number) {}

  /** The UTC days a window touches. */
  days(startNs: bigint, endNs: bigint): GeneratedDay[] {
    const startMs = Number(startNs / 1_000_000n);
    const endMs = Number((endNs - 1n) / 1_000_000n);
    const out: GeneratedDay[] = [];
    for (let d = Math.floor(startMs / DAY_MS) * DAY_MS; d <= endMs; d += DAY_MS) {
      out.push(generateDay(new Date(d).toISOString().slice(0, 10), this.contracts));
    }
    return out;
  }

  resolve(symbols: string[], stypeIn: string, days: GeneratedDay[]): Resolution {
    const ids = new Set<number>();
    const rawSymbols = new Map<string, number>();
    const notFound: string[] = [];
    const instruments = days.flatMap((day) => [
      ...day.options.map((o) => ({ id: o.instrumentId, raw: o.rawSymbol, asset: o.asset })),
      ...day.spreads.map((s) => ({ id: s.instrumentId, raw: s.rawSymbol, asset: "NQ" })),
    ]);
    const index = (key: (i: (typeof instruments)[number]) => string) => {
      const map = new Map<string, typeof instruments>();
      for (const i of instruments) {
        const list = map.get(key(i));
        if (list) list.push(i);
        else map.set(key(i), [i]);
      }
      return map;
    };
    const lookup =
      stypeIn === "parent"
        ? index((i) => `${i.asset}.OPT`)
        : stypeIn === "instrument_id"
          ? index((i) => String(i.id))
          : stypeIn === "raw_symbol"
            ? index((i) => i.raw)
            : new Map<string, typeof instruments>();
    for (const symbol of symbols) {
      const matched = symbol === "ALL_SYMBOLS" ? instruments : (lookup.get(symbol) ?? []);
      if (matched.length === 0) notFound.push(symbol);
      for (const i of matched) {
        ids.add(i.id);
        rawSymbols.set(i.raw, i.id);
      }
    }
    return { ids, rawSymbols, notFound };
  }

  query(request: RangeRequest): QueryResult {
    const key = JSON.stringify({ ...request, startNs: String(request.startNs), endNs: String(request.endNs) });
    const cached = this.cache.get(key);
    if (cached) return cached;
    const days = this.days(request.startNs, request.endNs);
    const resolution = this.resolve(request.symbols, request.stypeIn, days);
    const startMs = Number(request.startNs / 1_000_000n);
    const endMs = Number(request.endNs / 1_000_000n);
    let records: DbnRecordV3[] = [];
    for (const day of days) {
      const dayRecords: DbnRecordV3[] =
        request.schema === "definition"
          ? definitionRecords(day)
          : request.schema === "statistics"
            ? statisticsRecords(day)
            : request.schema === "trades"
              ? tradeRecords(day)
              : quoteRecords(day, request.schema, startMs, endMs);
      for (const record of dayRecords) {
        const ts = (record as { ts_recv: bigint }).ts_recv;
        if (ts >= request.startNs && ts < request.endNs && resolution.ids.has(record.hd.instrument_id)) records.push(record);
      }
    }
    if (request.limit !== null) records = records.slice(0, request.limit);
    const result = { records, resolution };
    if (this.cache.size > 16) this.cache.clear();
    this.cache.set(key, result);
    return result;
  }
}
