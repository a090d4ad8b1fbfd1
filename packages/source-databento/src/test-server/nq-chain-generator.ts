/**
 * A deterministic, generated NQ options market for the local server: the same inputs give the same
 * records, so tests can derive expected values from the parameters below instead of from output.
 *
 * Per UTC day: a definition snapshot at 00:00; open interest (stat 9, for the previous business date)
 * at 11:00; settlement (stat 3, for the day) at 21:30; trades 15:00–16:30; quotes on a 5-minute grid.
 * Prices do not drift between days, so values are the same whichever day's record a window catches.
 *
 * Series per day: quarterly NQ options (underlying: that quarter's future), a serial monthly NQ option
 * (underlying: the next quarterly), Friday weeklies QN1–QN5, Wednesday weeklies Q1C–Q5C and the
 * end-of-month QNE series (underlying: the nearest quarterly). Expiry dates never coincide between series.
 */
import {
  type BboMsg,
  type InstrumentDefMsg,
  type Mbp1Msg,
  RType,
  type StatMsg,
  type TradeMsg,
  UNDEF_PRICE,
  UNDEF_STAT_QUANTITY,
  UNDEF_TIMESTAMP,
} from "@nq/dbn";

/** The generator's parameters: tests compute expected values from these. */
export const NQ_GENERATOR = {
  /** The front quarterly future's price; each later quarter adds `quarterlyCarry`. */
  frontFuturePrice: 21_000,
  quarterlyCarry: 150,
  /** Annualized volatility of the normal (Bachelier) model: sigma in points = F × vol × √(days/365). */
  volatility: 0.2,
  tick: 0.25,
  /** Open interest: round(base + peak × e^(−|K−F| / decay)); puts × putFactor. */
  openInterestBase: 20,
  openInterestPeak: 3000,
  openInterestDecay: 1000,
  putOpenInterestFactor: 1.1,
  /** Trades: n = max(0, 4 − floor(|K−F| / 250)) trades of sizes 1..n, at theo + tick × (i − 1) for i = 0..n−1. */
  maxTradesPerContract: 4,
  tradeDistanceStep: 250,
  /** Quotes: half-spread = max(tick, roundTick(theo × 1%)); bid = max(0, theo − half), ask = theo + half. */
  halfSpreadShare: 0.01,
  bidSizeBase: 10,
  askSizeBase: 12,
  multiplier: 20,
  /** Strikes: every 25 within ±500 of the money, every 50 within ±1500, every 100 beyond. */
  strikeTiers: [
    { within: 500, step: 25 },
    { within: 1500, step: 50 },
    { within: Infinity, step: 100 },
  ],
  /** No expiry carries more strikes per right than this; more contracts mean more expiries. */
  maxStrikesPerExpiry: 300,
  publisherId: 1,
  /** Hours (UTC) of the day's records. */
  definitionHour: 0,
  openInterestHour: 11,
  settlementHour: 21.5,
  firstTradeHour: 15,
  tradeIntervalMinutes: 30,
  quoteGridMinutes: 5,
  optionExpiryHourUtc: 20, // 14:00 CT in winter; quarterlies expire 14:30 UTC
  quarterlyExpiryHourUtc: 14.5,
} as const;

export interface GeneratedOption {
  instrumentId: number;
  rawSymbol: string;
  asset: string;
  underlying: string;
  underlyingId: number;
  underlyingPrice: number;
  expiration: string;
  expirationNs: bigint;
  strike: number;
  right: "C" | "P";
  theo: number;
  settlement: number;
  openInterest: number;
  trades: { price: number; size: number }[];
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
}

export interface GeneratedDay {
  date: string;
  options: GeneratedOption[];
  /** Calendar spreads under the NQ parent: the chain must leave them out. */
  spreads: { instrumentId: number; rawSymbol: string }[];
}

const MONTH_CODES = "FGHJKMNQUVXZ";
const QUARTER_MONTHS = [3, 6, 9, 12];
const DAY_MS = 86_400_000;

export function roundTick(value: number): number {
  return Math.round(value / NQ_GENERATOR.tick) * NQ_GENERATOR.tick;
}

/** The normal-model price of an option, in points. */
export function theoreticalPrice(future: number, strike: number, days: number, right: "C" | "P"): number {
  const sigma = future * NQ_GENERATOR.volatility * Math.sqrt(Math.max(days, 1) / 365);
  const d = (future - strike) / sigma;
  const intrinsicPart = right === "C" ? (future - strike) * normalCdf(d) : (strike - future) * normalCdf(-d);
  return intrinsicPart + sigma * normalPdf(d);
}

export function openInterestFor(future: number, strike: number, right: "C" | "P"): number {
  const g = NQ_GENERATOR;
  const call = g.openInterestBase + g.openInterestPeak * Math.exp(-Math.abs(strike - future) / g.openInterestDecay);
  return Math.round(right === "C" ? call : call * g.putOpenInterestFactor);
}

/** The day's instruments, cached: every schema of a day is generated from the same universe. */
const dayCache = new Map<string, GeneratedDay>();

export function generateDay(date: string, targetContracts: number): GeneratedDay {
  const key = `${date}|${targetContracts}`;
  const cached = dayCache.get(key);
  if (cached) return cached;
  if (dayCache.size > 64) dayCache.clear();
  const day = buildDay(date, targetContracts);
  dayCache.set(key, day);
  return day;
}

interface Expiry {
  date: string;
  asset: string;
  future: { symbol: string; id: number; price: number };
  hourUtc: number;
}

function buildDay(date: string, targetContracts: number): GeneratedDay {
  const today = Date.parse(`${date}T00:00:00Z`);
  const quarterlies = futureQuarterlies(today, 12);
  const expiries = chooseExpiries(today, quarterlies, targetContracts);
  const strikesPerExpiry = Math.max(2, Math.min(NQ_GENERATOR.maxStrikesPerExpiry, Math.round(targetContracts / (2 * expiries.length))));
  const options: GeneratedOption[] = [];
  for (const expiry of expiries) {
    const expiryMs = Date.parse(`${expiry.date}T00:00:00Z`) + expiry.hourUtc * 3_600_000;
    const days = Math.max(1, Math.round((Date.parse(`${expiry.date}T00:00:00Z`) - today) / DAY_MS));
    for (const [strikeIndex, strike] of strikeLadder(expiry.future.price, strikesPerExpiry).entries()) {
      for (const right of ["C", "P"] as const) {
        const theo = theoreticalPrice(expiry.future.price, strike, days, right);
        const distance = Math.abs(strike - expiry.future.price);
        const tradeCount = Math.max(0, NQ_GENERATOR.maxTradesPerContract - Math.floor(distance / NQ_GENERATOR.tradeDistanceStep));
        const price = Math.max(NQ_GENERATOR.tick, roundTick(theo));
        const half = Math.max(NQ_GENERATOR.tick, roundTick(theo * NQ_GENERATOR.halfSpreadShare));
        options.push({
          instrumentId: instrumentIdFor(expiry.date, strike, right),
          rawSymbol: `${optionSeriesCode(expiry)} ${right}${strike}`,
          asset: expiry.asset,
          underlying: expiry.future.symbol,
          underlyingId: expiry.future.id,
          underlyingPrice: expiry.future.price,
          expiration: expiry.date,
          expirationNs: BigInt(expiryMs) * 1_000_000n,
          strike,
          right,
          theo,
          settlement: price,
          openInterest: openInterestFor(expiry.future.price, strike, right),
          trades: Array.from({ length: tradeCount }, (_, i) => ({ price: Math.max(NQ_GENERATOR.tick, price + NQ_GENERATOR.tick * (i - 1)), size: i + 1 })),
          bid: Math.max(0, price - half),
          ask: price + half,
          bidSize: NQ_GENERATOR.bidSizeBase + (strikeIndex % 7),
          askSize: NQ_GENERATOR.askSizeBase + (strikeIndex % 5),
        });
      }
    }
  }
  const front = quarterlies[0]!;
  const second = quarterlies[1]!;
  const spreads = [0, 1].map((i) => ({ instrumentId: 900_000_000 + (Math.floor(today / DAY_MS) % 1000) * 10 + i, rawSymbol: `UD:1V: VT ${front.symbol}-${second.symbol} ${i}` }));
  return { date, options, spreads };
}

/** CME-style series code: product code + the option's own expiry month and year digit (NQX6, QN3X6). */
function optionSeriesCode(expiry: Expiry): string {
  const month = Number(expiry.date.slice(5, 7));
  const year = Number(expiry.date.slice(0, 4)) % 10;
  return `${expiry.asset}${MONTH_CODES[month - 1]}${year}`;
}

/** A stable id from the contract's identity, so a contract keeps its id across days (as Databento's do). */
export function instrumentIdFor(expiration: string, strike: number, right: "C" | "P"): number {
  const dayIndex = Math.floor(Date.parse(`${expiration}T00:00:00Z`) / DAY_MS) & 0x1fff;
  return ((dayIndex << 17) | ((Math.round(strike / 5) & 0xffff) << 1) | (right === "P" ? 1 : 0)) >>> 0;
}

/** Strikes nearest the money first, tiered steps outward, returned ascending. */
export function strikeLadder(future: number, count: number): number[] {
  const atm = Math.round(future / 25) * 25;
  const stepAt = (distance: number) => NQ_GENERATOR.strikeTiers.find((tier) => distance < tier.within)!.step;
  const strikes = [atm];
  let up = atm;
  let down = atm;
  while (strikes.length < count) {
    up += stepAt(up - atm);
    strikes.push(up);
    if (strikes.length >= count) break;
    const next = down - stepAt(atm - down);
    if (next <= 0) continue;
    down = next;
    strikes.push(down);
  }
  return strikes.sort((a, b) => a - b);
}

function futureQuarterlies(today: number, count: number): { symbol: string; id: number; price: number; expiry: string }[] {
  const out: { symbol: string; id: number; price: number; expiry: string }[] = [];
  const d = new Date(today);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth() + 1;
  while (out.length < count) {
    if (QUARTER_MONTHS.includes(month)) {
      const expiry = thirdFriday(year, month);
      if (Date.parse(`${expiry}T00:00:00Z`) >= today) {
        out.push({
          symbol: `NQ${MONTH_CODES[month - 1]}${year % 10}`,
          id: 100_000 + year * 12 + month,
          price: NQ_GENERATOR.frontFuturePrice + NQ_GENERATOR.quarterlyCarry * out.length,
          expiry,
        });
      }
    }
    month += 1;
    if (month > 12) [month, year] = [1, year + 1];
  }
  return out;
}

/** Enough expiries that no expiry exceeds `maxStrikesPerExpiry` per right; at least the base set. */
function chooseExpiries(today: number, quarterlies: ReturnType<typeof futureQuarterlies>, targetContracts: number): Expiry[] {
  const wanted = Math.max(6, Math.ceil(targetContracts / (2 * NQ_GENERATOR.maxStrikesPerExpiry)));
  const taken = new Set<string>();
  const expiries: Expiry[] = [];
  const quarterFor = (date: string) => quarterlies.find((q) => q.expiry >= date) ?? quarterlies[quarterlies.length - 1]!;
  const add = (date: string, asset: string, future: ReturnType<typeof futureQuarterlies>[number], hourUtc: number = NQ_GENERATOR.optionExpiryHourUtc) => {
    if (taken.has(date) || Date.parse(`${date}T00:00:00Z`) < today) return;
    taken.add(date);
    expiries.push({ date, asset, future, hourUtc });
  };
  // Quarterly NQ options: the first two quarters.
  for (const q of quarterlies.slice(0, 2)) add(q.expiry, "NQ", q, NQ_GENERATOR.quarterlyExpiryHourUtc);
  // Serial monthly NQ option: the next non-quarterly month's third Friday, on the next quarterly future.
  for (let m = 0; m < 3; m++) {
    const d = new Date(today);
    const month = ((d.getUTCMonth() + m) % 12) + 1;
    const year = d.getUTCFullYear() + Math.floor((d.getUTCMonth() + m) / 12);
    if (QUARTER_MONTHS.includes(month)) continue;
    const date = thirdFriday(year, month);
    if (Date.parse(`${date}T00:00:00Z`) < today) continue;
    add(date, "NQ", quarterFor(date));
    break;
  }
  // End of month: the last business day of this month (or next, if today is past it).
  for (let m = 0; m < 2; m++) {
    const d = new Date(today);
    const date = lastBusinessDay(d.getUTCFullYear(), d.getUTCMonth() + 1 + m);
    if (Date.parse(`${date}T00:00:00Z`) >= today) {
      add(date, "QNE", quarterFor(date));
      break;
    }
  }
  // Weeklies until there are enough expiries: Wednesdays and Fridays, nearest first.
  for (let offset = 0; expiries.length < wanted && offset < 7 * 104; offset++) {
    const ms = today + offset * DAY_MS;
    const day = new Date(ms);
    const weekday = day.getUTCDay();
    if (weekday !== 3 && weekday !== 5) continue;
    const date = day.toISOString().slice(0, 10);
    const week = Math.ceil(day.getUTCDate() / 7);
    add(date, weekday === 5 ? `QN${week}` : `Q${week}C`, quarterFor(date));
  }
  return expiries.sort((a, b) => (a.date < b.date ? -1 : 1));
}

function thirdFriday(year: number, month: number): string {
  const first = new Date(Date.UTC(year, month - 1, 1));
  const firstFriday = 1 + ((5 - first.getUTCDay() + 7) % 7);
  return new Date(Date.UTC(year, month - 1, firstFriday + 14)).toISOString().slice(0, 10);
}

function lastBusinessDay(year: number, month: number): string {
  let d = new Date(Date.UTC(year, month, 0));
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6) d = new Date(d.getTime() - DAY_MS);
  return d.toISOString().slice(0, 10);
}

function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): ample for generated prices rounded to a 0.25 tick. */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

// ---- the day's records, per schema ----

const px = (points: number): bigint => BigInt(Math.round(points * 1e9));
const ns = (ms: number): bigint => BigInt(Math.round(ms)) * 1_000_000n;

function header(rtype: number, instrumentId: number, tsEvent: bigint) {
  return { length: 0, rtype, publisher_id: NQ_GENERATOR.publisherId, instrument_id: instrumentId, ts_event: tsEvent };
}

export function definitionRecords(day: GeneratedDay): InstrumentDefMsg[] {
  const ts = ns(Date.parse(`${day.date}T00:00:00Z`) + NQ_GENERATOR.definitionHour * 3_600_000);
  const records: InstrumentDefMsg[] = day.options.map((o) =>
    definition(ts, o.instrumentId, {
      raw_symbol: o.rawSymbol,
      asset: o.asset,
      underlying: o.underlying,
      underlying_id: o.underlyingId,
      instrument_class: o.right,
      strike_price: px(o.strike),
      expiration: o.expirationNs,
      security_type: "OOF",
      cfi: o.right === "C" ? "OCAFPS" : "OPAFPS",
    }),
  );
  for (const spread of day.spreads) {
    records.push(
      definition(ts, spread.instrumentId, {
        raw_symbol: spread.rawSymbol,
        asset: "NQ",
        underlying: "",
        underlying_id: 0,
        instrument_class: "T",
        strike_price: UNDEF_PRICE,
        expiration: UNDEF_TIMESTAMP,
        security_type: "OOF",
        cfi: "OMXXXX",
      }),
    );
  }
  return records;
}

function definition(
  ts: bigint,
  instrumentId: number,
  f: Pick<InstrumentDefMsg, "raw_symbol" | "asset" | "underlying" | "underlying_id" | "instrument_class" | "strike_price" | "expiration" | "security_type" | "cfi">,
): InstrumentDefMsg {
  return {
    hd: header(RType.InstrumentDef, instrumentId, ts),
    ts_recv: ts,
    min_price_increment: px(NQ_GENERATOR.tick),
    display_factor: px(1),
    expiration: f.expiration,
    activation: ts - ns(90 * DAY_MS),
    high_limit_price: UNDEF_PRICE,
    low_limit_price: UNDEF_PRICE,
    max_price_variation: UNDEF_PRICE,
    unit_of_measure_qty: px(NQ_GENERATOR.multiplier),
    min_price_increment_amount: px(NQ_GENERATOR.tick * NQ_GENERATOR.multiplier),
    price_ratio: UNDEF_PRICE,
    strike_price: f.strike_price,
    raw_instrument_id: BigInt(instrumentId),
    leg_price: UNDEF_PRICE,
    leg_delta: UNDEF_PRICE,
    inst_attrib_value: 0,
    underlying_id: f.underlying_id,
    market_depth_implied: 2,
    market_depth: 10,
    market_segment_id: 0,
    max_trade_vol: 2000,
    min_lot_size: 1,
    min_lot_size_block: 1,
    min_lot_size_round_lot: 1,
    min_trade_vol: 1,
    contract_multiplier: 1,
    decay_quantity: 0,
    original_contract_size: 0,
    leg_instrument_id: 0,
    leg_ratio_price_numerator: 0,
    leg_ratio_price_denominator: 0,
    leg_ratio_qty_numerator: 0,
    leg_ratio_qty_denominator: 0,
    leg_underlying_id: 0,
    appl_id: 0,
    maturity_year: 0,
    decay_start_date: 0,
    channel_id: 0,
    leg_count: 0,
    leg_index: 0,
    currency: "USD",
    settl_currency: "USD",
    secsubtype: "",
    raw_symbol: f.raw_symbol,
    group: "NQ",
    exchange: "XCME",
    asset: f.asset,
    cfi: f.cfi,
    security_type: f.security_type,
    unit_of_measure: "IPNT",
    underlying: f.underlying,
    strike_price_currency: "USD",
    leg_raw_symbol: "",
    instrument_class: f.instrument_class,
    match_algorithm: "F",
    main_fraction: 0,
    price_display_format: 0,
    sub_fraction: 0,
    underlying_product: 0,
    security_update_action: "A",
    maturity_month: 0,
    maturity_day: 0,
    maturity_week: 0,
    user_defined_instrument: "N",
    contract_multiplier_unit: 0,
    flow_schedule_type: 0,
    tick_rule: 0,
    leg_instrument_class: "\0",
    leg_side: "\0",
  } as InstrumentDefMsg;
}

/** The previous business day (the trading date the morning's open interest belongs to). */
export function previousBusinessDay(date: string): string {
  let d = Date.parse(`${date}T00:00:00Z`) - DAY_MS;
  while ([0, 6].includes(new Date(d).getUTCDay())) d -= DAY_MS;
  return new Date(d).toISOString().slice(0, 10);
}

function isWeekend(date: string): boolean {
  return [0, 6].includes(new Date(`${date}T00:00:00Z`).getUTCDay());
}

export function statisticsRecords(day: GeneratedDay): StatMsg[] {
  if (isWeekend(day.date)) return [];
  const dayMs = Date.parse(`${day.date}T00:00:00Z`);
  const oiTs = ns(dayMs + NQ_GENERATOR.openInterestHour * 3_600_000);
  const oiRef = ns(Date.parse(`${previousBusinessDay(day.date)}T00:00:00Z`));
  const settleTs = ns(dayMs + NQ_GENERATOR.settlementHour * 3_600_000);
  const out: StatMsg[] = [];
  for (const o of day.options) out.push(stat(o.instrumentId, oiTs, oiRef, UNDEF_PRICE, BigInt(o.openInterest), 9));
  for (const o of day.options) out.push(stat(o.instrumentId, settleTs, ns(dayMs), px(o.settlement), UNDEF_STAT_QUANTITY, 3));
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

export function tradeRecords(day: GeneratedDay): TradeMsg[] {
  if (isWeekend(day.date)) return [];
  const dayMs = Date.parse(`${day.date}T00:00:00Z`);
  const out: TradeMsg[] = [];
  for (const o of day.options) {
    o.trades.forEach((trade, i) => {
      const ts = ns(dayMs + NQ_GENERATOR.firstTradeHour * 3_600_000 + i * NQ_GENERATOR.tradeIntervalMinutes * 60_000);
      out.push({
        hd: header(RType.Mbp0, o.instrumentId, ts),
        price: px(trade.price),
        size: trade.size,
        action: "T",
        side: i % 2 === 0 ? "B" : "A",
        flags: 0x80,
        depth: 0,
        ts_recv: ts,
        ts_in_delta: 0,
        sequence: i,
      });
    });
  }
  return out.sort((a, b) => (a.ts_recv < b.ts_recv ? -1 : a.ts_recv > b.ts_recv ? 1 : 0));
}

/** Quote times on the grid within [startMs, endMs) of a weekday, or none on weekends. */
export function quoteTimes(date: string, startMs: number, endMs: number): number[] {
  if (isWeekend(date)) return [];
  const dayMs = Date.parse(`${date}T00:00:00Z`);
  const grid = NQ_GENERATOR.quoteGridMinutes * 60_000;
  const times: number[] = [];
  for (let t = Math.max(dayMs, Math.ceil(startMs / grid) * grid); t < Math.min(dayMs + DAY_MS, endMs); t += grid) times.push(t);
  return times;
}

export function quoteRecords(day: GeneratedDay, schema: "mbp-1" | "bbo-1m", startMs: number, endMs: number): (Mbp1Msg | BboMsg)[] {
  const out: (Mbp1Msg | BboMsg)[] = [];
  for (const t of quoteTimes(day.date, startMs, endMs)) {
    const ts = ns(t);
    for (const o of day.options) {
      const levels: [Mbp1Msg["levels"][0]] = [{ bid_px: px(o.bid), ask_px: px(o.ask), bid_sz: o.bidSize, ask_sz: o.askSize, bid_ct: 1, ask_ct: 1 }];
      if (schema === "mbp-1") {
        out.push({ hd: header(RType.Mbp1, o.instrumentId, ts), price: px(o.bid), size: o.bidSize, action: "A", side: "B", flags: 0x80, depth: 0, ts_recv: ts, ts_in_delta: 0, sequence: 0, levels });
      } else {
        const last = o.trades.at(-1);
        out.push({ hd: header(RType.Bbo1M, o.instrumentId, ts), price: last ? px(last.price) : UNDEF_PRICE, size: last?.size ?? 0, side: "N", flags: 0, ts_recv: ts, sequence: 0, levels });
      }
    }
  }
  return out;
}
