/**
 * Stage 3 of 3 — transform to rows: one SourceRow per selected option, joined by instrument_id. A field
 * whose schema was not read is null; a schema that was read but had nothing for an instrument gives a
 * real zero only where zero is a fact (no trades in the session → volume 0), otherwise null.
 */
import type { SourceRow } from "@nq/core";
import type { ChainRecords, OptionDefinition, ReferencedValue } from "./chain-records.js";
import { expirationDate } from "./instrument-selection.js";

export function toSourceRows(selected: OptionDefinition[], records: ChainRecords): SourceRow[] {
  const tradesRead = records.schemasRead.has("trades");
  return selected.map((definition) => {
    const id = definition.instrumentId;
    const trades = records.trades.get(id);
    const quote = records.quotes.get(id);
    return {
      symbol: definition.rawSymbol,
      underlying: definition.underlying,
      product: "NQ",
      root: definition.asset || "NQ",
      expiration: expirationDate(definition),
      expirationTime: definition.expirationNs === null ? null : nsToIso(definition.expirationNs),
      strike: Number(definition.strikeRaw) / 1e9,
      right: definition.right,
      bid: quote?.bid ?? null,
      ask: quote?.ask ?? null,
      bidSize: quote?.bidSize ?? null,
      askSize: quote?.askSize ?? null,
      last: trades?.last ?? null,
      volume: trades ? trades.volume : tradesRead ? 0 : null,
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
