/**
 * Black-76, the standard model for options on futures: enough to give the sample chain prices and deltas
 * that hang together (put-call parity holds, deltas run from ~1 to ~0) the way a real chain's do.
 */

export interface Black76Inputs {
  future: number;
  strike: number;
  /** Years to expiry. */
  years: number;
  /** Annualized volatility (0.2 = 20%). */
  volatility: number;
  /** Continuously compounded risk-free rate. */
  rate: number;
}

export interface Black76Output {
  call: number;
  put: number;
  callDelta: number;
  putDelta: number;
}

export function black76({ future, strike, years, volatility, rate }: Black76Inputs): Black76Output {
  const discount = Math.exp(-rate * years);
  const sd = volatility * Math.sqrt(years);
  const d1 = (Math.log(future / strike) + 0.5 * sd * sd) / sd;
  const d2 = d1 - sd;
  return {
    call: discount * (future * normalCdf(d1) - strike * normalCdf(d2)),
    put: discount * (strike * normalCdf(-d2) - future * normalCdf(-d1)),
    callDelta: discount * normalCdf(d1),
    putDelta: -discount * normalCdf(-d1),
  };
}

/** Standard normal CDF (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const density = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  const tail = density * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - tail : tail;
}
