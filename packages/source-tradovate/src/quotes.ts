/**
 * Quote events (reference §7): `{"e":"md","d":{"quotes":[{timestamp, contractId, entries:{Bid, Offer,
 * Trade, TotalTradeVolume, OpenInterest, SettlementPrice, …}}]}}`. Any entry may be missing, and within
 * one `price` or `size`; each event is merged into the last known state, never replacing it.
 */
import type { SourceRow } from "@nq/core";
import type { FutureInfo, OptionInfo } from "./discovery.js";

export interface Entry {
  price?: number;
  size?: number;
}

export interface QuoteState {
  entries: Record<string, Entry>;
  /** The server's timestamp of the latest event merged. */
  timestamp: string | null;
  /** When the first event arrived here (ms). */
  receivedAt: number;
}

/** Merges a `d.quotes[]` element into the states; returns the contract id it was for, or null. */
export function mergeQuote(states: Map<number, QuoteState>, quote: unknown, wanted: (id: number) => boolean, now: number): number | null {
  if (typeof quote !== "object" || quote === null) return null;
  const q = quote as { contractId?: unknown; timestamp?: unknown; entries?: unknown };
  const id = typeof q.contractId === "number" ? q.contractId : typeof q.contractId === "string" ? Number(q.contractId) : Number.NaN;
  if (!Number.isFinite(id) || !wanted(id)) return null;
  let state = states.get(id);
  if (!state) {
    state = { entries: {}, timestamp: null, receivedAt: now };
    states.set(id, state);
  }
  if (typeof q.timestamp === "string" && !Number.isNaN(Date.parse(q.timestamp))) {
    if (state.timestamp === null || q.timestamp >= state.timestamp) state.timestamp = q.timestamp;
  }
  if (typeof q.entries === "object" && q.entries !== null) {
    for (const [name, raw] of Object.entries(q.entries as Record<string, unknown>)) {
      if (typeof raw !== "object" || raw === null) continue;
      const entry = (state.entries[name] ??= {});
      const { price, size } = raw as { price?: unknown; size?: unknown };
      if (typeof price === "number" && Number.isFinite(price)) entry.price = price;
      if (typeof size === "number" && Number.isFinite(size)) entry.size = size;
    }
  }
  return id;
}

export interface UnderlyingPrice {
  price: number;
  basis: "mid" | "last" | "settlement";
  time: string | null;
}

/** A future's price from its quote: the mid of a two-sided book, else the last trade, else the settlement. */
export function underlyingPriceOf(state: QuoteState | undefined): UnderlyingPrice | null {
  if (!state) return null;
  const bid = state.entries.Bid?.price;
  const ask = state.entries.Offer?.price;
  if (bid !== undefined && ask !== undefined && bid > 0 && ask >= bid) return { price: (bid + ask) / 2, basis: "mid", time: state.timestamp };
  const last = state.entries.Trade?.price;
  if (last !== undefined && last > 0) return { price: last, basis: "last", time: state.timestamp };
  const settle = state.entries.SettlementPrice?.price;
  if (settle !== undefined && settle > 0) return { price: settle, basis: "settlement", time: state.timestamp };
  return null;
}

export function optionRow(option: OptionInfo, state: QuoteState | undefined, future: UnderlyingPrice | null, product: string): SourceRow {
  const e = state?.entries ?? {};
  const value = (v: number | undefined) => (v === undefined ? null : v);
  return {
    symbol: option.name,
    product,
    root: option.root ?? product,
    underlying: option.future?.name ?? null,
    underlyingPrice: future?.price ?? null,
    underlyingPriceBasis: future?.basis ?? null,
    underlyingPriceTime: future?.time ?? null,
    expiration: option.expiration,
    expirationTime: option.expirationTime,
    strike: option.strike,
    rawStrike: option.rawStrike,
    right: option.right,
    bid: value(e.Bid?.price),
    bidSize: e.Bid?.price === undefined ? null : value(e.Bid?.size),
    ask: value(e.Offer?.price),
    askSize: e.Offer?.price === undefined ? null : value(e.Offer?.size),
    last: value(e.Trade?.price),
    volume: value(e.TotalTradeVolume?.size),
    openInterest: value(e.OpenInterest?.size),
    settlement: value(e.SettlementPrice?.price),
    multiplier: option.multiplier,
    quoteTime: state?.timestamp ?? null,
  };
}

export type { FutureInfo };
