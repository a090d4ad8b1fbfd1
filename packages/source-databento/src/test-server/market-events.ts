/**
 * The generated market's events: per instrument and Globex session, a list of top-of-book changes and a
 * list of trades with exact nanosecond timestamps (rules and parameters in NQ_GENERATOR). Every quote and
 * trade schema the server streams is derived from these lists:
 *
 * - `trades`: one record per trade, stamped by the trade (ts_event = ts_recv).
 * - `mbp-1`: one record per book change (action "A", side "B", price/size = the new bid) and per trade
 *   (action "T", the trade's price/size/side, the book unchanged), stamped by event; the book at T is the
 *   last record at or before T.
 * - `bbo-1s` / `bbo-1m`: intervals [n·I, (n+1)·I) with I = 1 s / 60 s; one record per instrument for
 *   each interval holding at least one book change or trade, stamped ts_recv = the interval's END
 *   ((n+1)·I), carrying the state after the interval's last event: the book (a trade alone carries the
 *   book forward) and the session's last trade so far (a book change alone carries the last sale forward;
 *   UNDEF_PRICE, size 0, side "N" before the session's first trade). hd.ts_event is the time of the
 *   interval's last event. An event exactly on a boundary belongs to the interval that starts there.
 * - `statistics`: open interest, settlement and cleared volume per trade date (see NQ_GENERATOR).
 *
 * The pure functions (`bookAt`, `lastTradeAt`, `sessionVolume`, `bboAt`, …) compute expected values from
 * the same lists, never from encoded records, so tests can compare the server's bytes with them.
 */
import { type BboMsg, type Mbp1Msg, RType, type StatMsg, type TradeMsg, UNDEF_PRICE, UNDEF_STAT_QUANTITY } from "@nq/dbn";
import { chicagoNs, isWeekday, sessionAtOrBefore, type TradeSession, tradeSession } from "./chicago-time.js";
import {
  type GeneratedDay,
  type GeneratedFuture,
  type GeneratedInstrument,
  type GeneratedOption,
  generateDay,
  header,
  NQ_GENERATOR,
  previousBusinessDay,
  px,
} from "./nq-chain-generator.js";

const G = NQ_GENERATOR;
const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;
const MS = 1_000_000n;
/** The universe size the server uses when `contracts` is not given. */
export const DEFAULT_CONTRACTS = 200;

export interface BookEvent {
  instrumentId: number;
  tsNs: bigint;
  /** k: the event's index among the instrument's book events of the session, in time order. */
  index: number;
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
}

export interface TradeEvent {
  instrumentId: number;
  tsNs: bigint;
  /** j: the trade's index in the session. */
  index: number;
  price: number;
  size: number;
  /** The aggressor: "B" buyer (at the ask), "A" seller (at the bid). */
  side: "A" | "B";
}

export interface InstrumentSession {
  session: TradeSession;
  instrument: GeneratedInstrument;
  book: BookEvent[];
  trades: TradeEvent[];
}

/** The book at a moment: the last book event at or before it, with that event's timestamp. */
export interface TopOfBook extends BookEvent {
  /** The trade date of the session the event belongs to. */
  tradeDate: string;
}

export interface LastTrade extends TradeEvent {
  tradeDate: string;
}

/** Phase of an instrument's regular events within the session. */
export function phaseNs(instrument: GeneratedInstrument): bigint {
  if (instrument.kind === "future") return BigInt(G.futurePhaseMs) * MS;
  return BigInt((instrument.instrumentId % G.phaseModulo) * 1000 + G.phaseExtraMs) * MS;
}

/** The two extra events of active options and futures: 15:00:00.000 and 15:59:30 Chicago. */
export function specialEventTimes(session: TradeSession): { boundaryNs: bigint; closingNs: bigint } {
  return {
    boundaryNs: session.closeNs - BigInt(G.boundaryUpdateMinutesBeforeClose) * MINUTE,
    closingNs: session.closeNs - BigInt(G.closingUpdateSecondsBeforeClose) * SECOND,
  };
}

/** Book-event offsets from the session's open, in ms (before the expiration cut), ascending. */
function bookOffsetsMs(instrument: GeneratedInstrument, session: TradeSession): number[] {
  const phaseMs = Number(phaseNs(instrument) / MS);
  if (instrument.kind === "option" && instrument.quiet) return [G.quietSetSeconds * 1000 + phaseMs];
  const durationMs = Number((session.closeNs - session.openNs) / MS);
  const future = instrument.kind === "future";
  const stepMs = (future ? G.futureUpdateSeconds : G.activeUpdateSeconds) * 1000;
  const burst = future ? 1 : G.activeBurstSize;
  const spacingMs = G.activeBurstSpacingSeconds * 1000;
  const offsets: number[] = [];
  for (let base = phaseMs; base < durationMs; base += stepMs) {
    for (let b = 0; b < burst; b++) {
      const t = base + b * spacingMs;
      if (t < durationMs) offsets.push(t);
    }
  }
  offsets.push(durationMs - G.boundaryUpdateMinutesBeforeClose * 60_000, durationMs - G.closingUpdateSecondsBeforeClose * 1000);
  offsets.sort((x, y) => x - y);
  return offsets.filter((t, i) => i === 0 || t !== offsets[i - 1]);
}

/** Book-event times of an instrument in a session (before the expiration cut), ascending. */
export function bookEventTimes(instrument: GeneratedInstrument, session: TradeSession): bigint[] {
  return bookOffsetsMs(instrument, session).map((ms) => session.openNs + BigInt(ms) * MS);
}

/** Trade times of an option in a session: 09:05 Chicago + phase + i × 30 min, i < number of trades. */
export function optionTradeTimes(option: GeneratedOption, session: TradeSession): bigint[] {
  const first = chicagoNs(session.tradeDate, G.optionFirstTradeChicago.hour, G.optionFirstTradeChicago.minute) + phaseNs(option);
  return option.trades.map((_, i) => first + BigInt(i * G.tradeIntervalMinutes) * MINUTE);
}

/** Trade times of a future in a session: open + 15 s + j × 300 s, then close − 15 s. */
export function futureTradeTimes(session: TradeSession): bigint[] {
  const times: bigint[] = [];
  const step = BigInt(G.futureTradeSeconds) * SECOND;
  for (let t = session.openNs + BigInt(G.futureTradePhaseSeconds) * SECOND; t < session.closeNs; t += step) times.push(t);
  times.push(session.closeNs - BigInt(G.futureClosingTradeSecondsBeforeClose) * SECOND);
  return times;
}

function optionBook(o: GeneratedOption, k: number, tsNs: bigint): BookEvent {
  const w = (k % G.optionWiggleCycle) - 1;
  const extra = k % G.sizeCycle;
  return {
    instrumentId: o.instrumentId,
    tsNs,
    index: k,
    bid: Math.max(0, o.bid + w * G.tick),
    ask: o.ask + w * G.tick,
    bidSize: o.bidSize + extra,
    askSize: o.askSize + extra,
  };
}

function futureBook(f: GeneratedFuture, k: number, tsNs: bigint): BookEvent {
  const bid = f.price + ((k % G.futureWiggleCycle) - 2) * G.tick;
  return { instrumentId: f.instrumentId, tsNs, index: k, bid, ask: bid + G.tick, bidSize: G.futureBidSizeBase + (k % 4), askSize: G.futureAskSizeBase + (k % 3) };
}

/** Futures sessions are large (a book event every few seconds) and asked for often: a few are kept. */
const futureSessions = new Map<string, InstrumentSession>();

/**
 * An instrument's events in one session, from the universe of the session's trade date. Events at or
 * after the instrument's expiration are dropped.
 */
export function instrumentSession(instrument: GeneratedInstrument, session: TradeSession): InstrumentSession {
  const key = instrument.kind === "future" ? `${session.tradeDate}|${instrument.instrumentId}|${instrument.price}` : null;
  const cached = key === null ? undefined : futureSessions.get(key);
  if (cached) return cached;
  const cut = instrument.expirationNs;
  const book: BookEvent[] = [];
  bookOffsetsMs(instrument, session).forEach((ms, k) => {
    const t = session.openNs + BigInt(ms) * MS;
    if (t < cut) book.push(instrument.kind === "future" ? futureBook(instrument, k, t) : optionBook(instrument, k, t));
  });
  const result = { session, instrument, book, trades: tradesOf(instrument, session, book) };
  if (key !== null) {
    if (futureSessions.size >= 16) futureSessions.clear();
    futureSessions.set(key, result);
  }
  return result;
}

/** The instrument's trades in a session (the book is needed for futures, whose trades hit it). */
function tradesOf(instrument: GeneratedInstrument, session: TradeSession, book?: BookEvent[]): TradeEvent[] {
  const cut = instrument.expirationNs;
  if (instrument.kind === "option") {
    return optionTradeTimes(instrument, session)
      .map((t, i) => ({ instrumentId: instrument.instrumentId, tsNs: t, index: i, ...instrument.trades[i]! }))
      .filter((e) => e.tsNs < cut);
  }
  const events = book ?? instrumentSession(instrument, session).book;
  return futureTradeTimes(session)
    .filter((t) => t < cut)
    .map((t, j) => {
      const at = lastAtOrBefore(events, t);
      const buy = j % 2 === 0;
      return { instrumentId: instrument.instrumentId, tsNs: t, index: j, price: at ? (buy ? at.ask : at.bid) : instrument.price, size: 1 + (j % 5), side: buy ? ("B" as const) : ("A" as const) };
    });
}

/** The instrument's trades in a session, without building an option's book. */
export function instrumentTrades(instrument: GeneratedInstrument, session: TradeSession): TradeEvent[] {
  return instrument.kind === "future" ? instrumentSession(instrument, session).trades : tradesOf(instrument, session);
}

/** The last element with tsNs ≤ t of a list sorted by tsNs, or null. */
function lastAtOrBefore<T extends { tsNs: bigint }>(list: T[], t: bigint): T | null {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.tsNs <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : list[lo - 1]!;
}

export interface MarketOptions {
  /** The universe size (the server's `contracts` option); default 200. */
  contracts?: number;
}

const contractsOf = (options?: MarketOptions) => Math.max(4, Math.round(options?.contracts ?? DEFAULT_CONTRACTS));

/** Up to this many sessions back are searched for an instrument's last book event. */
const LOOKBACK_SESSIONS = 10;

/**
 * The expected top of book of an instrument (option or future) at time T (ns): the last book event at or
 * before T — in the session T falls in, or (daily break, weekend, before the instrument's first event)
 * an earlier one. Null when the instrument has no event in the last 10 sessions (or does not exist).
 */
export function bookAt(instrumentId: number, tNs: bigint, options?: MarketOptions): TopOfBook | null {
  let session = sessionAtOrBefore(tNs);
  for (let i = 0; i < LOOKBACK_SESSIONS; i++) {
    const instrument = generateDay(session.tradeDate, contractsOf(options)).byId.get(instrumentId);
    if (instrument) {
      const event = lastAtOrBefore(instrumentSession(instrument, session).book, tNs);
      if (event) return { ...event, tradeDate: session.tradeDate };
    }
    session = sessionAtOrBefore(session.openNs - 1n);
  }
  return null;
}

/**
 * The last trade at or before T within the session T belongs to (or, in a break, the session just
 * closed); null when there was none. This is also the "last sale" a bbo record carries.
 */
export function lastTradeAt(instrumentId: number, tNs: bigint, options?: MarketOptions): LastTrade | null {
  const session = sessionAtOrBefore(tNs);
  const instrument = generateDay(session.tradeDate, contractsOf(options)).byId.get(instrumentId);
  if (!instrument) return null;
  const trade = lastAtOrBefore(instrumentTrades(instrument, session), tNs);
  return trade ? { ...trade, tradeDate: session.tradeDate } : null;
}

/** Contracts traded in the session of a trade date (also its cleared volume, stat_type 6); null if unknown. */
export function sessionVolume(instrumentId: number, tradeDate: string, options?: MarketOptions): number | null {
  if (!isWeekday(tradeDate)) return null;
  const instrument = generateDay(tradeDate, contractsOf(options)).byId.get(instrumentId);
  if (!instrument) return null;
  return instrumentTrades(instrument, tradeSession(tradeDate)).reduce((sum, t) => sum + t.size, 0);
}

/** The settlement price (stat_type 3) for a trade date: an option's base price, a future's F; null if unknown. */
export function settlementPrice(instrumentId: number, tradeDate: string, options?: MarketOptions): number | null {
  if (!isWeekday(tradeDate)) return null;
  const instrument = generateDay(tradeDate, contractsOf(options)).byId.get(instrumentId);
  if (!instrument) return null;
  return instrument.kind === "future" ? instrument.price : instrument.settlement;
}

/** The futures listed on a date (parent NQ.FUT), front first. */
export function futuresOn(date: string, options?: MarketOptions): GeneratedFuture[] {
  return generateDay(date, contractsOf(options)).futures;
}

function futureId(symbolOrId: string | number, tNs: bigint, options?: MarketOptions): number | null {
  if (typeof symbolOrId === "number") return symbolOrId;
  const date = sessionAtOrBefore(tNs).tradeDate;
  return futuresOn(date, options).find((f) => f.rawSymbol === symbolOrId)?.instrumentId ?? null;
}

/** `bookAt` for a future, by raw symbol ("NQZ6") or instrument id. */
export function futureBookAt(symbolOrId: string | number, tNs: bigint, options?: MarketOptions): TopOfBook | null {
  const id = futureId(symbolOrId, tNs, options);
  return id === null ? null : bookAt(id, tNs, options);
}

/** `lastTradeAt` for a future, by raw symbol or instrument id. */
export function futureLastTradeAt(symbolOrId: string | number, tNs: bigint, options?: MarketOptions): LastTrade | null {
  const id = futureId(symbolOrId, tNs, options);
  return id === null ? null : lastTradeAt(id, tNs, options);
}

export type BboSchema = "bbo-1s" | "bbo-1m";
export const BBO_INTERVAL_NS: Record<BboSchema, bigint> = { "bbo-1s": SECOND, "bbo-1m": MINUTE };

/** The end (the record's ts_recv) of the bbo interval an event at t belongs to: floor(t / I) × I + I. */
export function bboIntervalEnd(tNs: bigint, schema: BboSchema): bigint {
  const i = BBO_INTERVAL_NS[schema];
  return (tNs / i) * i + i;
}

export interface ExpectedBbo {
  instrumentId: number;
  /** The interval's end. */
  tsRecv: bigint;
  /** The interval's last event. */
  tsEvent: bigint;
  book: TopOfBook;
  lastTrade: LastTrade | null;
}

/**
 * The bbo record the server prints for the interval ending at `intervalEndNs`, or null when the
 * instrument had no book change or trade in [end − I, end) (nothing is printed then).
 */
export function bboAt(instrumentId: number, intervalEndNs: bigint, schema: BboSchema, options?: MarketOptions): ExpectedBbo | null {
  const last = intervalEndNs - 1n;
  const startNs = intervalEndNs - BBO_INTERVAL_NS[schema];
  const book = bookAt(instrumentId, last, options);
  const trade = lastTradeAt(instrumentId, last, options);
  const inside = (t: bigint | undefined) => t !== undefined && t >= startNs && t <= last;
  if (!book || (!inside(book.tsNs) && !inside(trade?.tsNs))) return null;
  const tsEvent = [book.tsNs, trade?.tsNs ?? 0n].filter(inside).reduce((a, b) => (a > b ? a : b));
  return { instrumentId, tsRecv: intervalEndNs, tsEvent, book, lastTrade: trade };
}

// ---- records ----

/** The instruments of a session's universe (trade date's day) that pass the filter, with their events. */
function sessionEvents(day: GeneratedDay, session: TradeSession, wanted: Set<number>): InstrumentSession[] {
  const out: InstrumentSession[] = [];
  for (const instrument of [...day.futures, ...day.options]) {
    if (wanted.has(instrument.instrumentId)) out.push(instrumentSession(instrument, session));
  }
  return out;
}

type Stamped = { ts_recv: bigint; hd: { instrument_id: number } };

/**
 * Merges per-instrument lists, each already in time order, into one ordered by (ts_recv, instrument_id):
 * a binary heap on exact numeric keys (ns since `base`; a session spans far less than 2^53 ns).
 */
function mergeByTime<T extends Stamped>(lists: T[][], base: bigint): T[] {
  const live = lists.filter((l) => l.length > 0);
  const pos = new Int32Array(live.length);
  const key = (l: number) => Number(live[l]![pos[l]!]!.ts_recv - base);
  const keys = new Float64Array(live.length);
  const less = (a: number, b: number) => keys[a]! < keys[b]! || (keys[a] === keys[b] && live[a]![pos[a]!]!.hd.instrument_id < live[b]![pos[b]!]!.hd.instrument_id);
  const heap: number[] = [];
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  live.forEach((_, l) => {
    keys[l] = key(l);
    heap.push(l);
  });
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  const out: T[] = [];
  while (heap.length > 0) {
    const l = heap[0]!;
    out.push(live[l]![pos[l]!]!);
    pos[l] = pos[l]! + 1;
    if (pos[l]! < live[l]!.length) {
      keys[l] = key(l);
    } else {
      const last = heap.pop()!;
      if (heap.length === 0) break;
      heap[0] = last;
    }
    down(0);
  }
  return out;
}

/** Fixed-point prices, memoized: the market has few distinct prices. */
const pxCache = new Map<number, bigint>();
function pxc(points: number): bigint {
  let v = pxCache.get(points);
  if (v === undefined) {
    if (pxCache.size > 100_000) pxCache.clear();
    v = px(points);
    pxCache.set(points, v);
  }
  return v;
}

type Levels = [Mbp1Msg["levels"][0]];
/** One levels array per book event of a session (by its index k), shared by every record that carries it; records are never mutated. */
function levelsMaker(): (e: BookEvent) => Levels {
  const made: Levels[] = [];
  return (e) => (made[e.index] ??= [{ bid_px: pxc(e.bid), ask_px: pxc(e.ask), bid_sz: e.bidSize, ask_sz: e.askSize, bid_ct: 1, ask_ct: 1 }]);
}

export function tradeRecords(day: GeneratedDay, session: TradeSession, wanted: Set<number>, startNs: bigint, endNs: bigint): TradeMsg[] {
  const lists: TradeMsg[][] = [];
  for (const instrument of [...day.futures, ...day.options]) {
    if (!wanted.has(instrument.instrumentId)) continue;
    const out: TradeMsg[] = [];
    lists.push(out);
    for (const t of instrumentTrades(instrument, session)) {
      if (t.tsNs < startNs || t.tsNs >= endNs) continue;
      out.push({ hd: header(RType.Mbp0, t.instrumentId, t.tsNs), price: pxc(t.price), size: t.size, action: "T", side: t.side, flags: 0x80, depth: 0, ts_recv: t.tsNs, ts_in_delta: 0, sequence: t.index });
    }
  }
  return mergeByTime(lists, session.openNs);
}

export function mbp1Records(day: GeneratedDay, session: TradeSession, wanted: Set<number>, startNs: bigint, endNs: bigint): Mbp1Msg[] {
  const lists: Mbp1Msg[][] = [];
  for (const s of sessionEvents(day, session, wanted)) {
    const out: Mbp1Msg[] = [];
    lists.push(out);
    const levelsOf = levelsMaker();
    let sequence = 0;
    for (const e of mergeEvents(s)) {
      sequence += 1;
      if (e.tsNs < startNs || e.tsNs >= endNs) continue;
      if (e.kind === "book") {
        out.push({ hd: header(RType.Mbp1, e.book.instrumentId, e.tsNs), price: pxc(e.book.bid), size: e.book.bidSize, action: "A", side: "B", flags: 0x80, depth: 0, ts_recv: e.tsNs, ts_in_delta: 0, sequence, levels: levelsOf(e.book) });
      } else if (e.book) {
        out.push({ hd: header(RType.Mbp1, e.trade.instrumentId, e.tsNs), price: pxc(e.trade.price), size: e.trade.size, action: "T", side: e.trade.side, flags: 0x80, depth: 0, ts_recv: e.tsNs, ts_in_delta: 0, sequence, levels: levelsOf(e.book) });
      }
    }
  }
  return mergeByTime(lists, session.openNs);
}

export function bboRecords(day: GeneratedDay, session: TradeSession, wanted: Set<number>, schema: BboSchema, startNs: bigint, endNs: bigint): BboMsg[] {
  const rtype = schema === "bbo-1s" ? RType.Bbo1S : RType.Bbo1M;
  const intervalNs = Number(BBO_INTERVAL_NS[schema]);
  const lists: BboMsg[][] = [];
  for (const s of sessionEvents(day, session, wanted)) {
    const out: BboMsg[] = [];
    lists.push(out);
    const levelsOf = levelsMaker();
    const events = mergeEvents(s);
    let sequence = 0;
    // The open is on a whole minute, so intervals can be counted from it in exact numbers.
    const intervalOf = (t: bigint) => Math.floor(Number(t - session.openNs) / intervalNs);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      sequence += 1;
      const index = intervalOf(e.tsNs);
      const next = events[i + 1];
      if (next && intervalOf(next.tsNs) === index) continue; // not the interval's last event
      const end = session.openNs + BigInt(index + 1) * BBO_INTERVAL_NS[schema];
      if (end < startNs || end >= endNs || !e.book) continue;
      const trade = e.lastTrade;
      out.push({
        hd: header(rtype, e.book.instrumentId, e.tsNs),
        price: trade ? pxc(trade.price) : UNDEF_PRICE,
        size: trade?.size ?? 0,
        side: trade?.side ?? "N",
        flags: 0x80,
        ts_recv: end,
        sequence,
        levels: levelsOf(e.book),
      });
    }
  }
  return mergeByTime(lists, session.openNs);
}

type MergedEvent =
  | { kind: "book"; tsNs: bigint; book: BookEvent; lastTrade: TradeEvent | null }
  | { kind: "trade"; tsNs: bigint; trade: TradeEvent; book: BookEvent | null; lastTrade: TradeEvent };

/** Book changes and trades of one instrument in time order (a book change before a trade at the same ns), with the state after each. */
function mergeEvents(s: InstrumentSession): MergedEvent[] {
  const out: MergedEvent[] = [];
  let b = 0;
  let t = 0;
  let book: BookEvent | null = null;
  let lastTrade: TradeEvent | null = null;
  while (b < s.book.length || t < s.trades.length) {
    const nextBook = s.book[b];
    const nextTrade = s.trades[t];
    if (nextBook && (!nextTrade || nextBook.tsNs <= nextTrade.tsNs)) {
      book = nextBook;
      b += 1;
      out.push({ kind: "book", tsNs: book.tsNs, book, lastTrade });
    } else {
      lastTrade = nextTrade!;
      t += 1;
      out.push({ kind: "trade", tsNs: lastTrade.tsNs, trade: lastTrade, book, lastTrade });
    }
  }
  return out;
}

/** Statistics published on trade date D (open interest for the previous business day; settlement and cleared volume for D). */
export function statisticsRecords(day: GeneratedDay, wanted: Set<number>, startNs: bigint, endNs: bigint): StatMsg[] {
  if (!isWeekday(day.date)) return [];
  const refOf = (date: string) => BigInt(Date.parse(`${date}T00:00:00Z`)) * MS;
  const oiTs = chicagoNs(day.date, G.openInterestChicago.hour, G.openInterestChicago.minute);
  const settleTs = chicagoNs(day.date, G.settlementChicago.hour, G.settlementChicago.minute);
  const volumeTs = chicagoNs(day.date, G.clearedVolumeChicago.hour, G.clearedVolumeChicago.minute);
  const inWindow = (ts: bigint) => ts >= startNs && ts < endNs;
  const instruments = [...day.futures, ...day.options].filter((i) => wanted.has(i.instrumentId));
  const out: StatMsg[] = [];
  if (inWindow(oiTs)) {
    const ref = refOf(previousBusinessDay(day.date));
    for (const i of instruments) out.push(stat(i.instrumentId, oiTs, ref, UNDEF_PRICE, BigInt(i.openInterest), 9));
  }
  if (inWindow(settleTs)) {
    for (const i of instruments) out.push(stat(i.instrumentId, settleTs, refOf(day.date), px(i.kind === "future" ? i.price : i.settlement), UNDEF_STAT_QUANTITY, 3));
  }
  if (inWindow(volumeTs)) {
    const session = tradeSession(day.date);
    for (const i of instruments) {
      const volume = instrumentTrades(i, session).reduce((sum, t) => sum + t.size, 0);
      out.push(stat(i.instrumentId, volumeTs, refOf(day.date), UNDEF_PRICE, BigInt(volume), 6));
    }
  }
  return out;
}

function stat(instrumentId: number, ts: bigint, tsRef: bigint, price: bigint, quantity: bigint, statType: number): StatMsg {
  return {
    hd: header(RType.Statistics, instrumentId, ts),
    ts_recv: ts,
    ts_ref: tsRef,
    price,
    quantity,
    sequence: 0,
    ts_in_delta: 0,
    stat_type: statType,
    channel_id: 0,
    update_action: 1,
    stat_flags: statType === 3 ? 3 : 0,
  };
}
