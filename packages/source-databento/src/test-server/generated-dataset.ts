/**
 * The local server's GLBX.MDP3: symbol resolution (parent, instrument_id, raw_symbol, ALL_SYMBOLS) and
 * the records of a (schema, symbols, window) query, built from the generated NQ market: definitions per
 * UTC day, statistics per trade date, trades and quotes per Globex session (market-events.ts). Every
 * query filters on ts_recv: `start` inclusive, `end` exclusive.
 */
import type { DbnRecordV3 } from "@nq/dbn";
import { addDays, sessionsOverlapping } from "./chicago-time.js";
import { bboRecords, mbp1Records, statisticsRecords, tradeRecords } from "./market-events.js";
import { definitionRecords, type GeneratedDay, generateDay } from "./nq-chain-generator.js";

export const SERVED_SCHEMAS = ["definition", "statistics", "trades", "mbp-1", "bbo-1s", "bbo-1m"] as const;
export type ServedSchema = (typeof SERVED_SCHEMAS)[number];

/** Uncompressed DBN v3 record sizes, for billable size and cost. */
export const RECORD_BYTES: Record<ServedSchema, number> = { definition: 520, statistics: 80, trades: 48, "mbp-1": 80, "bbo-1s": 80, "bbo-1m": 80 };

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
  /** Input symbol → the instrument ids it resolved to. */
  bySymbol: Map<string, number[]>;
  notFound: string[];
}

export interface QueryResult {
  records: DbnRecordV3[];
  resolution: Resolution;
}

const DAY_MS = 86_400_000;
const NS_PER_MS = 1_000_000n;

interface Listed {
  id: number;
  raw: string;
  parent: string;
}

export class GeneratedDataset {
  private readonly cache = new Map<string, QueryResult>();

  constructor(readonly contracts: number) {}

  /** The UTC days a window touches. */
  days(startNs: bigint, endNs: bigint): GeneratedDay[] {
    const startMs = Number(startNs / NS_PER_MS);
    const endMs = Number((endNs - 1n) / NS_PER_MS);
    const out: GeneratedDay[] = [];
    for (let d = Math.floor(startMs / DAY_MS) * DAY_MS; d <= endMs; d += DAY_MS) {
      out.push(generateDay(new Date(d).toISOString().slice(0, 10), this.contracts));
    }
    return out;
  }

  /** The UTC days of a window and the trade dates of the sessions it overlaps: the universes a query may draw on. */
  universes(startNs: bigint, endNs: bigint): GeneratedDay[] {
    const dates = new Set(this.days(startNs, endNs).map((d) => d.date));
    for (const s of sessionsOverlapping(startNs - 1n, endNs)) dates.add(s.tradeDate);
    return [...dates].sort().map((date) => generateDay(date, this.contracts));
  }

  resolve(symbols: string[], stypeIn: string, days: GeneratedDay[]): Resolution {
    const ids = new Set<number>();
    const rawSymbols = new Map<string, number>();
    const bySymbol = new Map<string, number[]>();
    const notFound: string[] = [];
    const seen = new Set<number>();
    const instruments: Listed[] = [];
    for (const day of days) {
      const add = (i: Listed) => {
        if (seen.has(i.id)) return;
        seen.add(i.id);
        instruments.push(i);
      };
      for (const f of day.futures) add({ id: f.instrumentId, raw: f.rawSymbol, parent: "NQ.FUT" });
      for (const o of day.options) add({ id: o.instrumentId, raw: o.rawSymbol, parent: `${o.asset}.OPT` });
      for (const s of day.spreads) add({ id: s.instrumentId, raw: s.rawSymbol, parent: "NQ.OPT" });
    }
    const key = (i: Listed) => (stypeIn === "parent" ? i.parent : stypeIn === "instrument_id" ? String(i.id) : stypeIn === "raw_symbol" ? i.raw : null);
    const lookup = new Map<string, Listed[]>();
    for (const i of instruments) {
      const k = key(i);
      if (k === null) continue;
      const list = lookup.get(k);
      if (list) list.push(i);
      else lookup.set(k, [i]);
    }
    for (const symbol of symbols) {
      const matched = symbol === "ALL_SYMBOLS" ? instruments : (lookup.get(symbol) ?? []);
      if (matched.length === 0) notFound.push(symbol);
      bySymbol.set(symbol, matched.map((i) => i.id));
      for (const i of matched) {
        ids.add(i.id);
        rawSymbols.set(i.raw, i.id);
      }
    }
    return { ids, rawSymbols, bySymbol, notFound };
  }

  query(request: RangeRequest): QueryResult {
    const key = JSON.stringify({ ...request, startNs: String(request.startNs), endNs: String(request.endNs) });
    const cached = this.cache.get(key);
    if (cached) return cached;
    const { schema, startNs, endNs } = request;
    const resolution = this.resolve(request.symbols, request.stypeIn, this.universes(startNs, endNs));
    const wanted = resolution.ids;
    let records: DbnRecordV3[] = [];
    if (schema === "definition") {
      for (const day of this.days(startNs, endNs)) {
        for (const r of definitionRecords(day)) if (r.ts_recv >= startNs && r.ts_recv < endNs && wanted.has(r.hd.instrument_id)) records.push(r);
      }
    } else if (schema === "statistics") {
      // Statistics of trade date D are stamped on D's Chicago calendar day: look one day either side of the window's UTC days.
      const days = this.days(startNs, endNs).map((d) => d.date);
      const dates = new Set([addDays(days[0]!, -1), ...days, addDays(days.at(-1)!, 1)]);
      for (const date of [...dates].sort()) records.push(...statisticsRecords(generateDay(date, this.contracts), wanted, startNs, endNs));
      records.sort((a, b) => {
        const x = (a as { ts_recv: bigint }).ts_recv;
        const y = (b as { ts_recv: bigint }).ts_recv;
        return x < y ? -1 : x > y ? 1 : 0;
      });
    } else {
      // startNs − 1: a bbo record of a session's last interval is stamped at its close.
      for (const session of sessionsOverlapping(startNs - 1n, endNs)) {
        const day = generateDay(session.tradeDate, this.contracts);
        if (schema === "trades") records.push(...tradeRecords(day, session, wanted, startNs, endNs));
        else if (schema === "mbp-1") records.push(...mbp1Records(day, session, wanted, startNs, endNs));
        else records.push(...bboRecords(day, session, wanted, schema, startNs, endNs));
      }
    }
    if (request.limit !== null) records = records.slice(0, request.limit);
    const result = { records, resolution };
    if (this.cache.size > 16) this.cache.clear();
    this.cache.set(key, result);
    return result;
  }
}
