/**
 * Black-76: the price and greeks of a European option on a future, and the implied volatility that
 * reproduces a price. One home for this model in @nq: the normalizer's chain analytics and the sample
 * generator both use it.
 *
 * Conventions (every number a contract carries uses them):
 * - `future`, `strike` and prices in index points; `years` is calendar time to expiry, ACT/365;
 * - `volatility` annualized, as a fraction (0.2 = 20%); `rate` continuously compounded, as a fraction;
 * - delta: change in the option's price per 1 point of the future (calls 0…e^(−rT), puts −e^(−rT)…0);
 * - gamma: change in delta per 1 point of the future;
 * - theta: change in the price per calendar day that passes (−∂V/∂T ÷ 365), usually negative;
 * - vega: change in the price per volatility point, i.e. for volatility moving by 0.01 (20% → 21%).
 *
 * c = e^(−rT)·(F·N(d1) − K·N(d2)),  p = e^(−rT)·(K·N(−d2) − F·N(−d1)),
 * d1 = (ln(F/K) + σ²T/2) / (σ√T),  d2 = d1 − σ√T.
 */
import { normalCdf, normalPdf } from "./normal.js";

export type OptionKind = "C" | "P";

/** Days in the ACT/365 year that `years` and theta's "per calendar day" use. */
export const DAYS_PER_YEAR = 365;

export interface Black76Inputs {
  future: number;
  strike: number;
  /** Years to expiry (ACT/365 calendar time). */
  years: number;
  /** Annualized volatility (0.2 = 20%). */
  volatility: number;
  /** Continuously compounded risk-free rate (0.043 = 4.3%). */
  rate: number;
  right: OptionKind;
}

export interface Black76Result {
  price: number;
  delta: number;
  gamma: number;
  /** Per calendar day. */
  theta: number;
  /** Per volatility point (0.01). */
  vega: number;
}

/**
 * The Black-76 price and greeks. Inputs must be finite, with future, strike, years and volatility > 0;
 * anything else is a RangeError (the analytics never call it with such inputs: they report a reason).
 */
export function black76(inputs: Black76Inputs): Black76Result {
  const { future, strike, years, volatility, rate, right } = inputs;
  assertInputs(future, strike, years, rate);
  if (!(volatility > 0) || !Number.isFinite(volatility)) throw new RangeError(`black76: volatility must be a positive number, got ${volatility}`);
  return greeksAt(future, strike, years, volatility, rate, right === "P");
}

/** The Black-76 price alone (same conventions and checks as `black76`). */
export function black76Price(inputs: Black76Inputs): number {
  const { future, strike, years, volatility, rate, right } = inputs;
  assertInputs(future, strike, years, rate);
  if (!(volatility > 0) || !Number.isFinite(volatility)) throw new RangeError(`black76Price: volatility must be a positive number, got ${volatility}`);
  return priceAt(future, strike, years, volatility, rate, right === "P");
}

/** Why no implied volatility exists for a price (see `impliedVolatility`). */
export type ImpliedVolatilityFailure =
  /** The price is below the discounted intrinsic value e^(−rT)·max(±(F − K), 0): no volatility gives it. */
  | "price-below-intrinsic"
  /**
   * The price equals the discounted intrinsic value (to within rounding, 8 units in the last place of
   * the bound): no time value, the volatility would be 0.
   */
  | "price-at-intrinsic"
  /** The price is at or above the upper bound e^(−rT)·F (call) or e^(−rT)·K (put). */
  | "price-above-upper-bound"
  /** The solver did not converge (not seen in testing; reported rather than guessed). */
  | "no-convergence";

export interface ImpliedVolatilityInputs {
  price: number;
  future: number;
  strike: number;
  years: number;
  rate: number;
  right: OptionKind;
}

export type ImpliedVolatilityResult = { ok: true; volatility: number } | { ok: false; reason: ImpliedVolatilityFailure };

/** Price tolerance the solver converges to, in index points. */
export const IMPLIED_VOLATILITY_PRICE_TOLERANCE = 1e-10;

/**
 * The volatility at which Black-76 gives `price`, to within 1e-10 in price (or to the last bit of the
 * volatility where double precision cannot resolve the price that finely).
 *
 * The solver works on the out-of-the-money equivalent (an in-the-money option's time value is the
 * other right's price, by put–call parity), normalized by √(F·K), in total volatility s = σ√T. That price
 * is convex in s below s* = √(2·|ln(F/K)|) and concave above it. Newton's method is started at s*:
 * above it, on the price itself; below it, on the price's logarithm (concave there), which steps
 * monotonically onto the root instead of crawling down an exponential tail. Every step is kept inside
 * a bracket that the iterates narrow, and bisected when Newton would leave it — so the solver always
 * converges, in 2–6 iterations for ordinary inputs.
 */
export function impliedVolatility(inputs: ImpliedVolatilityInputs): ImpliedVolatilityResult {
  const { price, future, strike, years, rate, right } = inputs;
  assertInputs(future, strike, years, rate);
  if (!Number.isFinite(price)) throw new RangeError(`impliedVolatility: price must be a finite number, got ${price}`);
  const v = solveVolatility(price, future, strike, years, rate, right === "P");
  if (v > 0) return { ok: true, volatility: v };
  return { ok: false, reason: FAILURES[-v - 1] as ImpliedVolatilityFailure };
}

// ---- internals: positional, allocation-free, for the chain loop ----

const FAILURES: readonly ImpliedVolatilityFailure[] = ["price-below-intrinsic", "price-at-intrinsic", "price-above-upper-bound", "no-convergence"];
/** Codes `solveVolatility` returns for each failure (the negated 1-based index in FAILURES). */
export const IV_BELOW_INTRINSIC = -1;
export const IV_AT_INTRINSIC = -2;
export const IV_ABOVE_BOUND = -3;
export const IV_NO_CONVERGENCE = -4;
export { FAILURES as IMPLIED_VOLATILITY_FAILURES };

const SQRT_2PI = Math.sqrt(2 * Math.PI);
const LOG_SQRT_2PI = Math.log(SQRT_2PI);
const MAX_ITERATIONS = 100;
/** σ√T beyond this is numerically the upper bound: the normalized price differs from it by < 1e-80. */
const MAX_TOTAL_VOL = 40;

function assertInputs(future: number, strike: number, years: number, rate: number): void {
  if (!(future > 0) || !Number.isFinite(future)) throw new RangeError(`Black-76: the future's price must be a positive number, got ${future}`);
  if (!(strike > 0) || !Number.isFinite(strike)) throw new RangeError(`Black-76: the strike must be a positive number, got ${strike}`);
  if (!(years > 0) || !Number.isFinite(years)) throw new RangeError(`Black-76: the time to expiry must be a positive number of years, got ${years}`);
  if (!Number.isFinite(rate)) throw new RangeError(`Black-76: the rate must be a finite number, got ${rate}`);
}

/** Price; inputs already checked. */
export function priceAt(future: number, strike: number, years: number, volatility: number, rate: number, put: boolean): number {
  const discount = Math.exp(-rate * years);
  const s = volatility * Math.sqrt(years);
  const d1 = Math.log(future / strike) / s + 0.5 * s;
  const d2 = d1 - s;
  return put ? discount * (strike * normalCdf(-d2) - future * normalCdf(-d1)) : discount * (future * normalCdf(d1) - strike * normalCdf(d2));
}

/** Price and greeks; inputs already checked. */
export function greeksAt(future: number, strike: number, years: number, volatility: number, rate: number, put: boolean): Black76Result {
  const discount = Math.exp(-rate * years);
  const sqrtT = Math.sqrt(years);
  const s = volatility * sqrtT;
  const d1 = Math.log(future / strike) / s + 0.5 * s;
  const d2 = d1 - s;
  const density = normalPdf(d1);
  const price = put ? discount * (strike * normalCdf(-d2) - future * normalCdf(-d1)) : discount * (future * normalCdf(d1) - strike * normalCdf(d2));
  const delta = put ? -discount * normalCdf(-d1) : discount * normalCdf(d1);
  const gamma = (discount * density) / (future * s);
  // −∂V/∂T = r·V − e^(−rT)·F·φ(d1)·σ / (2√T), per year; ÷ 365 per calendar day.
  const thetaYear = rate * price - (discount * future * density * volatility) / (2 * sqrtT);
  const vegaUnit = discount * future * density * sqrtT;
  return { price, delta, gamma, theta: thetaYear / DAYS_PER_YEAR, vega: vegaUnit / 100 };
}

/**
 * Normalized out-of-the-money call price b(x, s) = e^(x/2)·N(x/s + s/2) − e^(−x/2)·N(x/s − s/2) for
 * x = ln(F/K) ≤ 0 and total volatility s > 0; `up` = e^(x/2), `down` = e^(−x/2), computed once per solve.
 */
function normalizedPrice(x: number, up: number, down: number, s: number): number {
  const d1 = x / s + 0.5 * s;
  return up * normalCdf(d1) - down * normalCdf(d1 - s);
}

/** ∂b/∂s = e^(x/2)·φ(x/s + s/2) = exp(−(x²/s² + s²/4)/2) / √(2π). */
function normalizedVega(x: number, s: number): number {
  const a = x / s;
  return Math.exp(-0.5 * (a * a + 0.25 * s * s)) / SQRT_2PI;
}

/**
 * A first guess below the inflection point; any value in (0, inflection] is safe, a good one is fast:
 * the larger of Corrado–Miller's closed-form estimate (good near the money) and the deep-tail asymptote.
 */
function firstGuess(x: number, up: number, target: number, inflection: number): number {
  // Corrado–Miller on the normalized out-of-the-money call (forward e^(x/2), strike e^(−x/2)).
  const f = up;
  const k = 1 / up;
  const half = target - 0.5 * (f - k);
  const disc = half * half - ((f - k) * (f - k)) / Math.PI;
  const cm = disc > 0 ? (SQRT_2PI / (f + k)) * (half + Math.sqrt(disc)) : 0;
  // The deep-tail asymptote: ln b ≈ −x²/(2s²) + 3·ln s − 2·ln|x| − ln√(2π), two fixed-point steps.
  const logTarget = Math.log(target);
  const constant = -2 * Math.log(-x) - LOG_SQRT_2PI - logTarget;
  let asym = -x / Math.sqrt(-2 * logTarget);
  for (let i = 0; i < 2; i += 1) {
    const rhs = 3 * Math.log(asym) + constant;
    if (rhs > 0) asym = -x / Math.sqrt(2 * rhs);
  }
  const guess = Math.max(cm, asym);
  return guess > 0 && guess < inflection ? guess : inflection;
}

/**
 * The implied volatility (> 0), or a failure code (IV_*, < 0). Inputs already checked: future, strike,
 * years > 0 and finite; price and rate finite.
 */
export function solveVolatility(price: number, future: number, strike: number, years: number, rate: number, put: boolean): number {
  const discount = Math.exp(-rate * years);
  const undiscounted = price / discount;
  const intrinsic = put ? Math.max(strike - future, 0) : Math.max(future - strike, 0);
  const bound = put ? strike : future;
  if (undiscounted >= bound) return IV_ABOVE_BOUND;
  const timeValue = undiscounted - intrinsic;
  // A few units in the last place of the prices involved: rounding, not a price below or above intrinsic.
  const noise = 8 * Number.EPSILON * bound;
  if (timeValue < -noise) return IV_BELOW_INTRINSIC;
  if (timeValue <= noise) return IV_AT_INTRINSIC;

  // The out-of-the-money equivalent, normalized: x ≤ 0, 0 < target < e^(x/2).
  const scale = Math.sqrt(future * strike);
  const x = -Math.abs(Math.log(future / strike));
  const target = timeValue / scale;
  const up = Math.exp(0.5 * x);
  const down = 1 / up;
  if (target >= up) return IV_ABOVE_BOUND;
  // Converged when the (discounted) price is within the tolerance.
  const tolerance = IMPLIED_VOLATILITY_PRICE_TOLERANCE / (scale * discount);
  const sqrtT = Math.sqrt(years);

  const inflection = Math.sqrt(-2 * x);
  const atInflection = inflection > 0 ? normalizedPrice(x, up, down, inflection) : 0;
  let lo: number;
  let hi: number;
  let s: number;
  const logarithmic = target < atInflection;
  if (logarithmic) {
    lo = 0;
    hi = inflection;
    s = firstGuess(x, up, target, inflection);
  } else {
    lo = inflection;
    hi = MAX_TOTAL_VOL;
    s = inflection > 0 ? inflection : SQRT_2PI * target;
    if (normalizedPrice(x, up, down, MAX_TOTAL_VOL) < target) return IV_ABOVE_BOUND;
  }
  const logTarget = logarithmic ? Math.log(target) : 0;

  for (let i = 0; i < MAX_ITERATIONS; i += 1) {
    const b = normalizedPrice(x, up, down, s);
    const error = b - target;
    if (Math.abs(error) <= tolerance) return s / sqrtT;
    if (error > 0) hi = s;
    else lo = s;
    if (hi - lo <= 4 * Number.EPSILON * hi) return s / sqrtT; // the last bit of s: no finer answer exists
    const vega = normalizedVega(x, s);
    // Halley's step (third order): f − f/f'·1/(1 − f·f''/(2f'²)), on b or ln b; Newton's if that misbehaves.
    const curvature = vega * ((x * x) / (s * s * s) - 0.25 * s); // ∂²b/∂s²
    let next: number;
    if (logarithmic) {
      if (b > 0) {
        const f = Math.log(b) - logTarget;
        const f1 = vega / b;
        const f2 = curvature / b - f1 * f1;
        const newton = f / f1;
        const halley = 1 - (newton * f2) / (2 * f1);
        next = halley > 0.5 ? s - newton / halley : s - newton;
      } else {
        next = Number.NaN;
      }
    } else {
      const newton = error / vega;
      const halley = 1 - (newton * curvature) / (2 * vega);
      next = halley > 0.5 ? s - newton / halley : s - newton;
    }
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    s = next;
  }
  return IV_NO_CONVERGENCE;
}
