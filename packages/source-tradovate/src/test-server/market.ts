/**
 * The local server's generated contract library and quotes: an NQ futures product with quarterly
 * maturities, two NQ option products (quarterly, on the futures' expirations, and weekly Fridays), and a
 * Micro NQ options product (worth $2 a point, which discovery must leave out). Contracts are named the
 * CME way ("NQZ6 C21000", "QN2F7 P20800"). Prices are Black-76 values around each future: deterministic
 * for a given `today`, so tests can compute what a row should hold.
 */
import { black76Price } from "@nq/core";

export interface ServerProduct {
  id: number;
  name: string;
  productType: "Futures" | "Options";
  description: string;
  valuePerPoint: number;
  tickSize: number;
  currencyId: number;
  exchangeId: number;
  contractGroupId: number;
  status: string;
  priceFormatType: string;
  priceFormat: number;
}
export interface ServerMaturity {
  id: number;
  productId: number;
  expirationMonth: number;
  expirationDate: string;
  underlyingId?: number;
  isFront: boolean;
}
export interface ServerContract {
  id: number;
  name: string;
  contractMaturityId: number;
  status: string;
  providerTickSize: number;
}
export interface QuoteEntries {
  Bid?: { price: number; size: number };
  Offer?: { price: number; size: number };
  Trade?: { price: number; size: number };
  TotalTradeVolume?: { size: number };
  OpenInterest?: { size: number };
  SettlementPrice?: { price: number };
}

export interface MarketOptions {
  today: Date;
  futures: number;
  quarterlies: number;
  weeklies: number;
  strikesEachSide: number;
  strikeStep: number;
  omitUnderlyingId: boolean;
}

const MONTH_CODES = "FGHJKMNQUVXZ";

export interface Market {
  products: ServerProduct[];
  maturities: ServerMaturity[];
  contracts: ServerContract[];
  /** What every contract quotes: its entries; a future's price. */
  quotes: Map<number, QuoteEntries>;
  futurePrice: Map<number, number>;
  /** Option contract id → the future contract id it is on. */
  underlyingOf: Map<number, number>;
}

export function generateMarket(options: MarketOptions): Market {
  const product = (id: number, name: string, productType: "Futures" | "Options", description: string, valuePerPoint: number): ServerProduct => ({
    id,
    name,
    productType,
    description,
    valuePerPoint,
    tickSize: 0.25,
    currencyId: 1,
    exchangeId: 2,
    contractGroupId: 3,
    status: "Verified",
    priceFormatType: "Decimal",
    priceFormat: -2,
  });
  const products = [
    product(1, "NQ", "Futures", "E-Mini NASDAQ 100 (NQ futures)", 20),
    product(2, "ONQ", "Options", "NQ quarterly options (E-Mini NASDAQ 100)", 20),
    product(3, "QNE", "Options", "NQ weekly Friday options (E-Mini NASDAQ 100)", 20),
    product(4, "MQN", "Options", "Micro E-Mini NASDAQ 100 options (MNQ)", 2),
  ];
  const maturities: ServerMaturity[] = [];
  const contracts: ServerContract[] = [];
  const quotes = new Map<number, QuoteEntries>();
  const futurePrice = new Map<number, number>();
  const underlyingOf = new Map<number, number>();
  const today = options.today;
  const contract = (id: number, name: string, maturityId: number) => contracts.push({ id, name, contractMaturityId: maturityId, status: "DefinitionChecked", providerTickSize: 0.25 });

  // Futures: the next quarterly months whose third Friday is after today.
  const futures: { id: number; maturityId: number; expiry: Date; price: number; name: string }[] = [];
  for (let y = today.getUTCFullYear(), m = 0; futures.length < options.futures; m += 1) {
    const month = m % 12;
    const year = y + Math.floor(m / 12);
    if (month % 3 !== 2) continue;
    const expiry = thirdFriday(year, month, 13, 30);
    if (expiry <= today) continue;
    const k = futures.length;
    const maturityId = 500 + k;
    const id = 1000 + k;
    const name = `NQ${MONTH_CODES[month]}${year % 10}`;
    maturities.push({ id: maturityId, productId: 1, expirationMonth: (year % 100) * 100 + month + 1, expirationDate: expiry.toISOString(), isFront: k === 0 });
    contract(id, name, maturityId);
    const price = 21_000 + 150 * k;
    futurePrice.set(id, price);
    quotes.set(id, {
      Bid: { price: price - 0.25, size: 12 + k },
      Offer: { price: price + 0.25, size: 9 + k },
      Trade: { price, size: 2 },
      TotalTradeVolume: { size: 150_000 - 20_000 * k },
      OpenInterest: { size: 240_000 - 30_000 * k },
      SettlementPrice: { price: price - 10 },
    });
    futures.push({ id, maturityId, expiry, price, name });
  }
  const futureFor = (expiry: Date) => futures.find((f) => f.expiry.toISOString().slice(0, 10) >= expiry.toISOString().slice(0, 10)) ?? futures[futures.length - 1]!;

  let nextMaturity = 700;
  let nextContract = 100_000;
  const series = (productId: number, expiry: Date, namePrefix: (month: number, year: number) => string) => {
    const future = futureFor(expiry);
    const maturityId = nextMaturity++;
    const month = expiry.getUTCMonth();
    const year = expiry.getUTCFullYear();
    maturities.push({
      id: maturityId,
      productId,
      expirationMonth: (year % 100) * 100 + month + 1,
      expirationDate: expiry.toISOString(),
      ...(options.omitUnderlyingId ? {} : { underlyingId: future.id }),
      isFront: false,
    });
    const years = Math.max(1 / 365, (expiry.getTime() - today.getTime()) / (365 * 86_400_000));
    const atm = Math.round(future.price / options.strikeStep) * options.strikeStep;
    for (let i = -options.strikesEachSide; i <= options.strikesEachSide; i += 1) {
      const strike = atm + i * options.strikeStep;
      for (const right of ["C", "P"] as const) {
        const id = nextContract++;
        contract(id, `${namePrefix(month, year)} ${right}${strike}`, maturityId);
        underlyingOf.set(id, future.id);
        quotes.set(id, optionQuote(id, future.price, strike, years, right));
      }
    }
  };
  for (const future of futures.slice(0, options.quarterlies)) {
    series(2, future.expiry, (month, year) => `NQ${MONTH_CODES[month]}${year % 10}`);
  }
  // Weekly Fridays (not the third: that is the quarterly's or the monthly's), 15:00 Chicago ≈ 21:00 UTC.
  let friday = nextFriday(today);
  for (let made = 0; made < options.weeklies; friday = new Date(friday.getTime() + 7 * 86_400_000)) {
    const week = Math.ceil(friday.getUTCDate() / 7);
    if (week === 3) continue;
    series(3, friday, (month, year) => `QN${week}${MONTH_CODES[month]}${year % 10}`);
    made += 1;
  }
  // A micro series, which discovery must not take for NQ.
  const first = futures[0]!;
  const microMaturity = nextMaturity++;
  maturities.push({ id: microMaturity, productId: 4, expirationMonth: 0, expirationDate: first.expiry.toISOString(), underlyingId: first.id, isFront: false });
  contract(nextContract++, `MNQ${MONTH_CODES[first.expiry.getUTCMonth()]}${first.expiry.getUTCFullYear() % 10} C${Math.round(first.price / 100) * 100}`, microMaturity);
  return { products, maturities, contracts, quotes, futurePrice, underlyingOf };
}

function optionQuote(id: number, future: number, strike: number, years: number, right: "C" | "P"): QuoteEntries {
  const value = black76Price({ future, strike, years, volatility: 0.2, rate: 0.04, right });
  const tick = (x: number) => Math.round(x * 4) / 4;
  const half = Math.max(0.25, tick(value * 0.01));
  const bid = tick(value - half);
  const ask = tick(value + half);
  const spread = (id * 7919) % 97;
  const entries: QuoteEntries = {
    Offer: { price: Math.max(ask, 0.5), size: 1 + (spread % 25) },
    TotalTradeVolume: { size: (id * 31) % 900 },
    OpenInterest: { size: 50 + ((id * 131) % 6000) },
    SettlementPrice: { price: Math.max(0.25, tick(value)) },
  };
  // Far out of the money: no bid (an entry Tradovate leaves out when there is none).
  if (bid >= 0.25) entries.Bid = { price: bid, size: 1 + ((spread * 3) % 30) };
  if (id % 3 !== 0) entries.Trade = { price: Math.max(0.25, tick(value)), size: 1 + (id % 5) };
  return entries;
}

function thirdFriday(year: number, month: number, hourUtc: number, minuteUtc: number): Date {
  const first = new Date(Date.UTC(year, month, 1));
  const offset = (5 - first.getUTCDay() + 7) % 7;
  return new Date(Date.UTC(year, month, 1 + offset + 14, hourUtc, minuteUtc));
}

function nextFriday(after: Date): Date {
  const day = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate(), 21, 0));
  const offset = (5 - day.getUTCDay() + 7) % 7;
  const friday = new Date(day.getTime() + offset * 86_400_000);
  return friday <= after ? new Date(friday.getTime() + 7 * 86_400_000) : friday;
}
