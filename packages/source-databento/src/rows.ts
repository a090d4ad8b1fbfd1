/**
 * Stage 3 of 3 — transform to rows: one SourceRow per selected option, joined by instrument_id, with its
 * own underlying future's price. A field whose schema was not read is null; a schema that was read but
 * had nothing for an instrument gives a real zero only where zero is a fact (the trades read cover the
 * whole session and none was for this option → volume 0), otherwise null.
 */
import type { SourceRow, UnderlyingPriceBasis } from "@nq/core";
import type { ChainRecords, OptionDefinition, ReferencedValue } from "./chain-records.js";
import { expirationDate, expirationTime } from "./instrument-selection.js";

export interface UnderlyingPrice {
  price: number;
  basis: UnderlyingPriceBasis;
  time: string;
}

/**
 * A future's price at as-of: the mid of its book when both sides are quoted, else its last trade in the
 * recent window, else its latest settlement — and how it was made.
 */
export function underlyingPriceOf(futureId: number, records: ChainRecords): UnderlyingPrice | null {
  const quote = records.quotes.get(futureId);
  if (quote && quote.bid !== null && quote.ask !== null && quote.bid <= quote.ask) {
    return { price: (quote.bid + quote.ask) / 2, basis: "mid", time: nsToIso(quote.ts) };
  }
  const trades = records.trades.get(futureId);
  if (trades && trades.last !== null) return { price: trades.last, basis: "last", time: nsToIso(trades.lastTs) };
  const settlement = records.settlements.get(futureId);
  if (settlement) return { price: settlement.value, basis: "settlement", time: nsToIso(settlement.tsRecv) };
  return null;
}

export function toSourceRows(selected: OptionDefinition[], records: ChainRecords): SourceRow[] {
  const zeroVolumeIsFact = records.schemasRead.has("trades") && records.tradesCoverSession;
  const underlyingPrices = new Map<number, UnderlyingPrice | null>();
  return selected.map((definition) => {
    const id = definition.instrumentId;
    const trades = records.trades.get(id);
    const quote = records.quotes.get(id);
    if (!underlyingPrices.has(definition.underlyingId)) {
      underlyingPrices.set(definition.underlyingId, definition.underlyingId === 0 ? null : underlyingPriceOf(definition.underlyingId, records));
    }
    const underlying = underlyingPrices.get(definition.underlyingId) ?? null;
    return {
      // CME's own spelling ("QN4Z6 C21000"); core checks it against the row and makes symbol/root/underlying canonical.
      rawSymbol: definition.rawSymbol,
      underlying: definition.underlying,
      underlyingPrice: underlying?.price ?? null,
      underlyingPriceBasis: underlying?.basis ?? null,
      underlyingPriceTime: underlying?.time ?? null,
      product: "NQ",
      root: definition.asset || "NQ",
      expiration: expirationDate(definition),
      expirationTime: expirationTime(definition),
      strike: Number(definition.strikeRaw) / 1e9,
      right: definition.right,
      bid: quote?.bid ?? null,
      ask: quote?.ask ?? null,
      bidSize: quote?.bidSize ?? null,
      askSize: quote?.askSize ?? null,
      last: trades?.last ?? null,
      volume: trades ? trades.volume : zeroVolumeIsFact ? 0 : null,
      clearedVolume: records.clearedVolume.get(id)?.value ?? null,
      clearedVolumeDate: referenceDate(records.clearedVolume.get(id)),
      openInterest: records.openInterest.get(id)?.value ?? null,
      openInterestDate: referenceDate(records.openInterest.get(id)),
      settlement: records.settlements.get(id)?.value ?? null,
      settlementDate: referenceDate(records.settlements.get(id)),
      multiplier: definition.multiplier,
      quoteTime: quote ? nsToIso(quote.ts) : null,
      rawStrike: definition.strikeRaw.toString(),
    };
  });
}

/** The trading date a statistic is for (its ts_ref), when it states one. */
function referenceDate(value: ReferencedValue | undefined): string | null {
  return value && value.tsRef !== null ? nsToIso(value.tsRef).slice(0, 10) : null;
}

/** "settlement is for trading date 2026-11-19 (1 240 contracts)": the summary's one-line view of the row dates. */
export function referenceDateNotes(selected: OptionDefinition[], records: ChainRecords): string[] {
  const notes: string[] = [];
  for (const [label, values] of [
    ["settlement", records.settlements],
    ["open interest", records.openInterest],
    ["cleared volume", records.clearedVolume],
  ] as const) {
    const byDate = new Map<string, number>();
    for (const d of selected) {
      const value: ReferencedValue | undefined = values.get(d.instrumentId);
      if (!value) continue;
      const date = value.tsRef === null ? "an unstated date" : nsToIso(value.tsRef).slice(0, 10);
      byDate.set(date, (byDate.get(date) ?? 0) + 1);
    }
    if (byDate.size > 0) {
      notes.push(`${label} is for trading date ${[...byDate.entries()].map(([date, n]) => `${date} (${n} contracts)`).join(", ")}`);
    }
  }
  return notes;
}

function nsToIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}
