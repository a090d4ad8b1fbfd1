/**
 * What the extract stage keeps from the DBN records, folded as they stream past so memory grows with
 * the number of instruments, not the number of records: the latest definition per instrument, the
 * latest settlement, open interest and cleared volume, the session's traded volume and last price, and
 * the book at as-of. HTTP answers and local files go through this one fold, so both modes agree.
 *
 * "The book at T" (reference §2.9): the last top-of-book record with ts_recv at or before T inside the
 * Globex session T belongs to. Interval schemas (bbo-1s, bbo-1m) stamp a record with the END of its
 * interval, so the record of the minute that ends at T is stamped exactly T and counts; a quiet
 * option's book may sit in a record stamped hours earlier, and is still the book.
 */
import {
  type BboMsg,
  type DbnRecord,
  isBbo,
  isInstrumentDef,
  isMbp1,
  isStat,
  isTrade,
  type Mbp1Msg,
  UNDEF_ORDER_SIZE,
  UNDEF_PRICE,
  UNDEF_STAT_QUANTITY,
  UNDEF_STAT_QUANTITY_V1,
  UNDEF_TIMESTAMP,
} from "@nq/dbn";

export interface OptionDefinition {
  instrumentId: number;
  rawSymbol: string;
  /** CME product code = the parent ("NQ", "QN3", …). */
  asset: string;
  underlying: string;
  right: "C" | "P";
  /** Fixed-point, 1e-9 units. */
  strikeRaw: bigint;
  /** ns since the epoch; null when the feed leaves it undefined. */
  expirationNs: bigint | null;
  /** Index-point multiplier from unit_of_measure_qty, when the feed gives a usable one. */
  multiplier: number | null;
  /** The underlying future's instrument_id (0 when the feed leaves it unset). */
  underlyingId: number;
}

export interface ReferencedValue {
  value: number;
  /** ns: the trading date the value belongs to (null when unset). */
  tsRef: bigint | null;
  tsRecv: bigint;
}

export interface TradeTotals {
  volume: number;
  last: number | null;
  lastTs: bigint;
}

export interface Quote {
  bid: number | null;
  ask: number | null;
  bidSize: number | null;
  askSize: number | null;
  ts: bigint;
}

/** stat_type values used (DBN StatType). */
export const STAT_SETTLEMENT = 3;
export const STAT_CLEARED_VOLUME = 6;
export const STAT_OPEN_INTEREST = 9;

/** The window a fold keeps: records received in [sessionOpenNs, asOfNs] (as-of inclusive). */
export interface FoldWindow {
  asOfNs: bigint;
  /** The open of the Globex session as-of belongs to: trades (session volume) and quotes count from here. */
  sessionOpenNs: bigint;
}

export class ChainRecords {
  readonly definitions = new Map<number, OptionDefinition>();
  readonly settlements = new Map<number, ReferencedValue>();
  readonly openInterest = new Map<number, ReferencedValue>();
  readonly clearedVolume = new Map<number, ReferencedValue>();
  readonly trades = new Map<number, TradeTotals>();
  readonly quotes = new Map<number, Quote>();
  /** Which market schemas were actually read (a missing one means null, not 0, for its fields). */
  readonly schemasRead = new Set<string>();
  /** Records of an unexpected type or for instruments outside the chain; counted, not kept. */
  ignoredRecords = 0;

  /**
   * Whether the trade data read covers the whole session up to as-of: only then is "no trade" a volume
   * of 0; otherwise an instrument without trades has an unknown (null) volume.
   */
  tradesCoverSession = false;

  /**
   * Only records received at or before `asOfNs` count; trades and quotes from the session's open (so
   * volume is the session's and a book is this session's). The HTTP windows already ensure this; files
   * may hold more.
   */
  constructor(private readonly window: FoldWindow) {}

  /** Keeps only what belongs to `ids` from now on (market data fetched by parent carries everything). */
  accepts: (instrumentId: number) => boolean = () => true;

  add(record: DbnRecord): void {
    if (isInstrumentDef(record)) this.addDefinition(record);
    else if (isStat(record)) this.addStat(record);
    else if (isTrade(record)) this.addTrade(record);
    else if (isMbp1(record) || isBbo(record)) this.addQuote(record);
    else this.ignoredRecords++;
  }

  /** Marks a schema as read, so an instrument with no record in it gets a real 0 (volume), not null. */
  markRead(schema: string): void {
    this.schemasRead.add(schema === "mbp-1" || schema === "bbo-1m" || schema === "bbo-1s" ? "quotes" : schema);
  }

  /** Received in the session, up to and including as-of. */
  private inSession(tsRecv: bigint): boolean {
    return tsRecv >= this.window.sessionOpenNs && tsRecv <= this.window.asOfNs;
  }

  private addDefinition(record: Extract<DbnRecord, { strike_price: bigint }>): void {
    const id = record.hd.instrument_id;
    if (record.security_update_action === "D") {
      this.definitions.delete(id);
      return;
    }
    const right = record.instrument_class;
    if (right !== "C" && right !== "P") {
      // Spreads, combos and futures share a parent with the options; a chain has outrights only.
      this.ignoredRecords++;
      return;
    }
    // Index points ("IPNT") × unit_of_measure_qty is the dollar multiplier; anything else is left to
    // core's NQ default rather than guessed.
    const qty = record.unit_of_measure_qty;
    const multiplier = record.unit_of_measure === "IPNT" && qty !== UNDEF_PRICE && qty > 0n ? Number(qty) / 1e9 : null;
    this.definitions.set(id, {
      instrumentId: id,
      rawSymbol: record.raw_symbol,
      asset: record.asset,
      underlying: record.underlying,
      right,
      strikeRaw: record.strike_price,
      expirationNs: record.expiration === UNDEF_TIMESTAMP ? null : record.expiration,
      multiplier,
      underlyingId: record.underlying_id,
    });
  }

  private addStat(record: Extract<DbnRecord, { stat_type: number }>): void {
    const id = record.hd.instrument_id;
    if (!this.accepts(id) || record.ts_recv > this.window.asOfNs) return void this.ignoredRecords++;
    const target =
      record.stat_type === STAT_SETTLEMENT
        ? this.settlements
        : record.stat_type === STAT_OPEN_INTEREST
          ? this.openInterest
          : record.stat_type === STAT_CLEARED_VOLUME
            ? this.clearedVolume
            : null;
    if (!target) return void this.ignoredRecords++;
    if (record.update_action === 2) {
      target.delete(id);
      return;
    }
    const value =
      record.stat_type === STAT_SETTLEMENT ? priceOrNull(record.price) : quantityOrNull(record.quantity as bigint | number);
    if (value === null) return;
    const tsRef = record.ts_ref === UNDEF_TIMESTAMP ? null : record.ts_ref;
    const previous = target.get(id);
    // The latest trading date wins; within one date, the latest message (a final after a preliminary).
    if (previous && compareRef(previous, tsRef, record.ts_recv) > 0) return;
    target.set(id, { value, tsRef, tsRecv: record.ts_recv });
  }

  private addTrade(record: Extract<DbnRecord, { depth: number }>): void {
    const id = record.hd.instrument_id;
    if (!this.accepts(id) || !this.inSession(record.ts_recv)) return void this.ignoredRecords++;
    const totals = this.trades.get(id) ?? { volume: 0, last: null, lastTs: 0n };
    if (record.size !== UNDEF_ORDER_SIZE) totals.volume += record.size;
    const price = priceOrNull(record.price);
    if (price !== null && record.ts_recv >= totals.lastTs) {
      totals.last = price;
      totals.lastTs = record.ts_recv;
    }
    this.trades.set(id, totals);
  }

  private addQuote(record: Mbp1Msg | BboMsg): void {
    const id = record.hd.instrument_id;
    if (!this.accepts(id) || !this.inSession(record.ts_recv)) return void this.ignoredRecords++;
    const previous = this.quotes.get(id);
    // Later wins; at one timestamp, the later record (mbp-1 can carry several events per ns).
    if (previous && previous.ts > record.ts_recv) return;
    const level = record.levels[0];
    this.quotes.set(id, {
      bid: priceOrNull(level.bid_px),
      ask: priceOrNull(level.ask_px),
      bidSize: level.bid_px === UNDEF_PRICE ? null : level.bid_sz,
      askSize: level.ask_px === UNDEF_PRICE ? null : level.ask_sz,
      ts: record.ts_recv,
    });
  }
}

function compareRef(previous: ReferencedValue, tsRef: bigint | null, tsRecv: bigint): number {
  const a = previous.tsRef ?? -1n;
  const b = tsRef ?? -1n;
  if (a !== b) return a > b ? 1 : -1;
  return previous.tsRecv > tsRecv ? 1 : -1;
}

/** 1e-9 fixed point → number; UNDEF_PRICE → null. Exact for NQ's magnitudes (< 2^53 raw units). */
export function priceOrNull(raw: bigint): number | null {
  if (raw === UNDEF_PRICE) return null;
  return Number(raw) / 1e9;
}

function quantityOrNull(raw: bigint | number): number | null {
  if (raw === UNDEF_STAT_QUANTITY || raw === UNDEF_STAT_QUANTITY_V1) return null;
  return Number(raw);
}
