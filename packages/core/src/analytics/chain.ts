/**
 * Implied volatility and greeks for every contract of a chain, applied by the normalizer.
 *
 * For each contract whose feed gave none of impliedVolatility, delta, gamma, theta, vega:
 * - the price: the mid (bid + ask) / 2 when both sides are quoted and bid ≤ ask, else the settlement
 *   price (`ivBasis` says which); a mid that is no valid price is not replaced by the settlement;
 * - the future: the contract's own `underlyingPrice` (NQ options on one date hang off several futures);
 * - the time: ACT/365 calendar years from the chain's as-of time to `expirationTime`, or to the close
 *   of the expiration date's CME session (16:00 CT) when the feed gives no time (`timeToExpiryYears`);
 * - the rate: `analytics.rate` from the profile (default `DEFAULT_ANALYTICS_RATE`).
 * Where any of that is missing, or the price is outside Black-76's range, all five stay null and the
 * reason is counted — never NaN, never a guess. A feed's own values are kept as they are and marked
 * "feed"; nothing computed is mixed into them (a feed's volatility may rest on another price, clock or
 * rate, and greeks from ours beside its volatility would not hang together).
 */
import { DEFAULT_CME_CALENDAR, timeToExpiryYears, type GlobexCalendar } from "../cme-calendar.js";
import type { IvBasis, OptionContract } from "../contract.js";
import { greeksAt, IMPLIED_VOLATILITY_FAILURES, solveVolatility, type ImpliedVolatilityFailure } from "./black76.js";

/** The rate used when a profile sets none: 0, i.e. no discounting (a stated choice, not a market rate). */
export const DEFAULT_ANALYTICS_RATE = 0;

export interface AnalyticsOptions {
  /** Continuously compounded risk-free rate as a fraction (0.043 = 4.3%); default 0. */
  rate: number;
  /** The CME calendar for expiration dates without a time (its early closes); default: core's. */
  calendar?: GlobexCalendar | readonly string[];
}

export type AnalyticsUnavailableReason = "no-price" | "no-underlying-price" | "expired" | ImpliedVolatilityFailure;

export interface ContractAnalyticsInput {
  right: "C" | "P";
  strike: number;
  bid: number | null;
  ask: number | null;
  settlement: number | null;
  underlyingPrice: number | null;
  /** ACT/365 years to expiry (see `timeToExpiryYears`). */
  years: number | null;
}

export type ContractAnalytics =
  | { ok: true; ivBasis: IvBasis; impliedVolatility: number; delta: number; gamma: number; theta: number; vega: number }
  | { ok: false; reason: AnalyticsUnavailableReason };

/** The price IV is solved from: a two-sided, uncrossed mid, else the settlement; null when neither. */
export function analyticsPrice(c: Pick<ContractAnalyticsInput, "bid" | "ask" | "settlement">): { basis: IvBasis; price: number } | null {
  if (c.bid !== null && c.ask !== null && c.bid <= c.ask) return { basis: "mid", price: 0.5 * (c.bid + c.ask) };
  if (c.settlement !== null) return { basis: "settlement", price: c.settlement };
  return null;
}

/** Implied volatility and greeks of one contract, or why there are none. */
export function contractAnalytics(c: ContractAnalyticsInput, rate: number): ContractAnalytics {
  if (!Number.isFinite(rate)) throw new RangeError(`analytics: the rate must be a finite number, got ${rate}`);
  const chosen = analyticsPrice(c);
  if (chosen === null || !Number.isFinite(chosen.price)) return { ok: false, reason: "no-price" };
  const future = c.underlyingPrice;
  if (future === null || !(future > 0) || !Number.isFinite(future)) return { ok: false, reason: "no-underlying-price" };
  const years = c.years;
  if (years === null || !(years > 0) || !Number.isFinite(years)) return { ok: false, reason: "expired" };
  if (!(c.strike > 0) || !Number.isFinite(c.strike)) throw new RangeError(`analytics: the strike must be a positive number, got ${c.strike}`);
  const put = c.right === "P";
  const volatility = solveVolatility(chosen.price, future, c.strike, years, rate, put);
  if (!(volatility > 0)) return { ok: false, reason: IMPLIED_VOLATILITY_FAILURES[-volatility - 1] as ImpliedVolatilityFailure };
  const g = greeksAt(future, c.strike, years, volatility, rate, put);
  return { ok: true, ivBasis: chosen.basis, impliedVolatility: volatility, delta: g.delta, gamma: g.gamma, theta: g.theta, vega: g.vega };
}

/**
 * Fills implied volatility and greeks into the contracts (in place) whose feed gave none, marking them
 * "computed", and returns the count of contracts left without them, by reason. Contracts with the
 * feed's values are left as they are.
 */
export function applyAnalytics(contracts: OptionContract[], asOf: Date, options: AnalyticsOptions): Record<string, number> {
  const rate = options.rate;
  if (!Number.isFinite(rate)) throw new RangeError(`analytics: the rate must be a finite number, got ${rate}`);
  const calendar = options.calendar ?? DEFAULT_CME_CALENDAR;
  const unavailable: Record<string, number> = {};
  // A chain has a handful of expirations, in order: the calendar is asked once per (date, time).
  const yearsByExpiry = new Map<string, number>();
  let lastExpiration = "";
  let lastExpirationTime: string | null = null;
  let lastYears = Number.NaN;
  const input: ContractAnalyticsInput = { right: "C", strike: 0, bid: null, ask: null, settlement: null, underlyingPrice: null, years: null };
  for (const c of contracts) {
    if (c.greeksSource === "feed") continue;
    let years = lastYears;
    if (c.expiration !== lastExpiration || c.expirationTime !== lastExpirationTime) {
      const key = c.expirationTime === null ? c.expiration : `${c.expiration}|${c.expirationTime}`;
      const known = yearsByExpiry.get(key);
      years = known ?? timeToExpiryYears(asOf, c.expiration, c.expirationTime, calendar);
      if (known === undefined) yearsByExpiry.set(key, years);
      lastExpiration = c.expiration;
      lastExpirationTime = c.expirationTime;
      lastYears = years;
    }
    input.right = c.right;
    input.strike = c.strike;
    input.bid = c.bid;
    input.ask = c.ask;
    input.settlement = c.settlement;
    input.underlyingPrice = c.underlyingPrice;
    input.years = years;
    const result = contractAnalytics(input, rate);
    if (result.ok) {
      c.impliedVolatility = result.impliedVolatility;
      c.ivBasis = result.ivBasis;
      c.delta = result.delta;
      c.gamma = result.gamma;
      c.theta = result.theta;
      c.vega = result.vega;
      c.greeksSource = "computed";
    } else {
      c.impliedVolatility = null;
      c.ivBasis = null;
      c.delta = null;
      c.gamma = null;
      c.theta = null;
      c.vega = null;
      c.greeksSource = null;
      unavailable[result.reason] = (unavailable[result.reason] ?? 0) + 1;
    }
  }
  return unavailable;
}
