/**
 * The daily chain table: one row per option contract per CME trade date, with the day's settlement,
 * open interest, cleared volume, the book at the session close and the settlement's Black-76 implied
 * volatility, built from the same DBN files a backfill converts (definition, statistics and a quote
 * schema: mbp-1, tbbo, bbo-1s or bbo-1m).
 *
 * The values are folded by @nq/source-databento's `ChainRecords`, the fold its live and file modes use,
 * so a day here agrees with the chain that source gives for the same close:
 * - the book: the last top-of-book record with ts_recv in [the session's open, its close] (close
 *   included: an interval record stamped exactly at the close is the book at the close);
 * - settlement (stat_type 3), open interest (9) and cleared volume (6): per trade date, the record with
 *   the latest `ts_ref`, then the latest `ts_recv` (a final settlement after a preliminary one), with
 *   deletes honoured. A statistic belongs to the trade date its `ts_ref` names (its UTC date: Databento
 *   stamps the trading date at midnight UTC), or, without a `ts_ref`, to the trade date it was received in.
 * IV uses @nq/core's Black-76 solver with the option's settlement and its underlying future's settlement
 * on the same trade date, and the time from that session's close to the option's expiration (ACT/365).
 */
import { cmeSessionFor, impliedVolatility, MS_PER_YEAR_ACT_365, DEFAULT_ANALYTICS_RATE, type AnalyticsUnavailableReason } from "@nq/core";
import { formatPrice, isBbo, isInstrumentDef, isMbp1, isStat, openDbn, UNDEF_TIMESTAMP, type DbnRecord, type ZstdBackend } from "@nq/dbn";
import { ChainRecords } from "@nq/source-databento";
import { canonicalSymbol } from "./symbols.js";
import { TradeDateClock } from "./trade-date.js";

export type DailyChainIvReason = AnalyticsUnavailableReason | "no-expiration" | "no-session";

export interface DailyChainRow {
  tradeDate: string;
  instrumentId: number;
  /** The CME raw symbol from the definition, e.g. `NQM4 C18000`. */
  symbol: string;
  /** @nq/core's canonical symbol, or null where core does not read the raw one. */
  canonicalSymbol: string | null;
  /** CME product code (`asset`): `NQ`, `QN2`, `Q3C`, …. */
  root: string;
  underlying: string;
  underlyingId: number;
  /** ns since the epoch (UTC); null when the definition leaves it undefined. */
  expirationNs: bigint | null;
  /** 1e-9 fixed point. */
  strikeRaw: bigint;
  right: "C" | "P";
  settlement: number | null;
  openInterest: number | null;
  clearedVolume: number | null;
  closeBid: number | null;
  closeAsk: number | null;
  closeBidSize: number | null;
  closeAskSize: number | null;
  /** ts_recv of the quote that is the book at the close. */
  closeQuoteNs: bigint | null;
  underlyingSettlement: number | null;
  iv: number | null;
  /** Why `iv` is null (null when it is not). */
  ivReason: DailyChainIvReason | null;
}

export interface DailyChainFoldOptions {
  /** DBN files (any mix of definition, statistics, mbp-1/tbbo/bbo-1s/bbo-1m; zstd or not). */
  inputs: string[];
  /** Continuously compounded rate for Black-76 (default @nq/core's DEFAULT_ANALYTICS_RATE, 0). */
  rate?: number;
  zstdBackend?: ZstdBackend;
}

const NS_PER_MS = 1_000_000n;
const FOREVER = (1n << 63n) - 1n;

interface Session {
  opensAt: Date;
  closesAt: Date;
}

class TradeDay {
  readonly stats = new ChainRecords({ asOfNs: FOREVER, sessionOpenNs: 0n });
  readonly quotes: ChainRecords;
  constructor(readonly session: Session | null) {
    this.quotes = session
      ? new ChainRecords({ asOfNs: BigInt(session.closesAt.getTime()) * NS_PER_MS, sessionOpenNs: BigInt(session.opensAt.getTime()) * NS_PER_MS })
      : new ChainRecords({ asOfNs: -1n, sessionOpenNs: 0n });
  }
}

/** Folds the inputs into daily rows (sorted by trade date, underlying, expiration, strike, right). */
export async function foldDailyChain(options: DailyChainFoldOptions): Promise<DailyChainRow[]> {
  const clock = new TradeDateClock();
  const definitions = new ChainRecords({ asOfNs: FOREVER, sessionOpenNs: 0n });
  const days = new Map<string, TradeDay>();
  const dayOf = (date: string, sampleMs: number): TradeDay => {
    let day = days.get(date);
    if (!day) days.set(date, (day = new TradeDay(sessionOf(date, sampleMs))));
    return day;
  };
  for (const input of options.inputs) {
    const decoder = openDbn(input, { upgrade: true, ...(options.zstdBackend ? { zstdBackend: options.zstdBackend } : {}) });
    for await (const batch of decoder.batches()) {
      for (const record of batch) route(record);
    }
  }

  function route(record: DbnRecord): void {
    if (isInstrumentDef(record)) definitions.add(record);
    else if (isStat(record)) {
      const received = Number(record.ts_recv / NS_PER_MS);
      const date = record.ts_ref !== UNDEF_TIMESTAMP ? utcDate(record.ts_ref) : clock.dateAt(received);
      dayOf(date, received).stats.add(record);
    } else if (isMbp1(record) || isBbo(record)) {
      const received = Number(record.ts_recv / NS_PER_MS);
      dayOf(clock.dateAt(received), received).quotes.add(record);
    }
  }

  const rate = options.rate ?? DEFAULT_ANALYTICS_RATE;
  const rows: DailyChainRow[] = [];
  for (const [tradeDate, day] of [...days].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const ids = new Set<number>([...day.stats.settlements.keys(), ...day.stats.openInterest.keys(), ...day.stats.clearedVolume.keys(), ...day.quotes.quotes.keys()]);
    for (const id of ids) {
      const def = definitions.definitions.get(id);
      if (!def) continue; // futures, spreads, and instruments without a definition in the inputs
      const settlement = day.stats.settlements.get(id)?.value ?? null;
      const underlyingSettlement = def.underlyingId !== 0 ? (day.stats.settlements.get(def.underlyingId)?.value ?? null) : null;
      const quote = day.quotes.quotes.get(id) ?? null;
      const strike = Number(def.strikeRaw) / 1e9;
      const { iv, ivReason } = settlementIv({ settlement, underlyingSettlement, strike, right: def.right, expirationNs: def.expirationNs, session: day.session, rate });
      rows.push({
        tradeDate,
        instrumentId: id,
        symbol: def.rawSymbol,
        canonicalSymbol: canonicalSymbol(def.rawSymbol, new Date(`${tradeDate}T12:00:00Z`)),
        root: def.asset,
        underlying: def.underlying,
        underlyingId: def.underlyingId,
        expirationNs: def.expirationNs,
        strikeRaw: def.strikeRaw,
        right: def.right,
        settlement,
        openInterest: day.stats.openInterest.get(id)?.value ?? null,
        clearedVolume: day.stats.clearedVolume.get(id)?.value ?? null,
        closeBid: quote?.bid ?? null,
        closeAsk: quote?.ask ?? null,
        closeBidSize: quote?.bidSize ?? null,
        closeAskSize: quote?.askSize ?? null,
        closeQuoteNs: quote?.ts ?? null,
        underlyingSettlement,
        iv,
        ivReason,
      });
    }
  }
  return rows.sort(
    (a, b) =>
      cmp(a.tradeDate, b.tradeDate) || cmp(a.underlying, b.underlying) || cmp(a.expirationNs ?? 0n, b.expirationNs ?? 0n) || cmp(a.strikeRaw, b.strikeRaw) || cmp(a.right, b.right),
  );
}

function settlementIv(input: {
  settlement: number | null;
  underlyingSettlement: number | null;
  strike: number;
  right: "C" | "P";
  expirationNs: bigint | null;
  session: Session | null;
  rate: number;
}): { iv: number | null; ivReason: DailyChainIvReason | null } {
  if (input.settlement === null) return { iv: null, ivReason: "no-price" };
  if (input.underlyingSettlement === null || !(input.underlyingSettlement > 0)) return { iv: null, ivReason: "no-underlying-price" };
  if (input.expirationNs === null) return { iv: null, ivReason: "no-expiration" };
  if (input.session === null) return { iv: null, ivReason: "no-session" };
  const years = (Number(input.expirationNs / NS_PER_MS) - input.session.closesAt.getTime()) / MS_PER_YEAR_ACT_365;
  if (!(years > 0)) return { iv: null, ivReason: "expired" };
  const result = impliedVolatility({ price: input.settlement, future: input.underlyingSettlement, strike: input.strike, years, rate: input.rate, right: input.right });
  return result.ok ? { iv: result.volatility, ivReason: null } : { iv: null, ivReason: result.reason };
}

/** The session of `date`, found from an instant of it (or from midday UTC, inside every CME session). */
function sessionOf(date: string, sampleMs: number): Session | null {
  for (const at of [new Date(sampleMs), new Date(`${date}T18:00:00Z`)]) {
    const session = cmeSessionFor(at);
    if (session.tradeDate === date) return { opensAt: session.opensAt, closesAt: session.closesAt };
  }
  return null;
}

function utcDate(ns: bigint): string {
  return new Date(Number(ns / NS_PER_MS)).toISOString().slice(0, 10);
}

function cmp<T extends string | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Text of a price for a DECIMAL(18,9) column: exact for the 1e-9 grid the values come from. */
export function decimalText(value: number | null): string | null {
  return value === null ? null : formatPrice(BigInt(Math.round(value * 1e9)));
}
