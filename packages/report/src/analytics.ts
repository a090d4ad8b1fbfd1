/**
 * Per-expiry numbers a trader reads off a chain: the at-the-money strike, max pain and the put/call ratios.
 * Pure functions over strike-aligned arrays (one entry per strike, ascending), shared by the chain page and
 * any later page (compare) that needs them. `null` in an input means unknown and counts as nothing.
 */

/** The strike nearest `underlyingPrice` (the lower one on a tie); null without a price or strikes. */
export function atmStrike(strikes: readonly number[], underlyingPrice: number | null): number | null {
  if (underlyingPrice === null || !Number.isFinite(underlyingPrice) || strikes.length === 0) return null;
  let best: number | null = null;
  let bestDistance = Infinity;
  for (const strike of strikes) {
    const distance = Math.abs(strike - underlyingPrice);
    if (distance < bestDistance || (distance === bestDistance && best !== null && strike < best)) {
      best = strike;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Max pain: the strike at which the options' total intrinsic value at expiry — what the writers would pay
 * the holders, weighted by open interest — is smallest. Every listed strike is a candidate; O(n) with
 * running sums. Null when there is no open interest at all (the number would mean nothing).
 */
export function maxPainStrike(strikes: readonly number[], callOi: readonly (number | null)[], putOi: readonly (number | null)[]): number | null {
  const n = strikes.length;
  if (n === 0) return null;
  const c = (i: number) => Math.max(0, callOi[i] ?? 0);
  const p = (i: number) => Math.max(0, putOi[i] ?? 0);
  let total = 0;
  for (let i = 0; i < n; i++) total += c(i) + p(i);
  if (total === 0) return null;
  // Calls below K pay (K - k)·oi: running sums of oi and oi·k from the left; puts above K from the right.
  const callPay = new Float64Array(n);
  let oiLeft = 0;
  let weightedLeft = 0;
  for (let j = 0; j < n; j++) {
    callPay[j] = strikes[j]! * oiLeft - weightedLeft;
    oiLeft += c(j);
    weightedLeft += c(j) * strikes[j]!;
  }
  let best = strikes[0]!;
  let bestPay = Infinity;
  let oiRight = 0;
  let weightedRight = 0;
  const putPay = new Float64Array(n);
  for (let j = n - 1; j >= 0; j--) {
    putPay[j] = weightedRight - strikes[j]! * oiRight;
    oiRight += p(j);
    weightedRight += p(j) * strikes[j]!;
  }
  for (let j = 0; j < n; j++) {
    const pay = callPay[j]! + putPay[j]!;
    if (pay < bestPay) {
      bestPay = pay;
      best = strikes[j]!;
    }
  }
  return best;
}

export interface SideTotals {
  /** Sum of the known values; null when no contract on this side has one. */
  calls: number | null;
  puts: number | null;
  /** puts / calls; null when either is unknown or calls is 0. */
  ratio: number | null;
}

/** Totals of a column for calls and puts, and their put/call ratio. */
export function putCallRatio(callValues: readonly (number | null)[], putValues: readonly (number | null)[]): SideTotals {
  const sum = (values: readonly (number | null)[]) => {
    let total: number | null = null;
    for (const value of values) if (value !== null && Number.isFinite(value)) total = (total ?? 0) + value;
    return total;
  };
  const calls = sum(callValues);
  const puts = sum(putValues);
  return { calls, puts, ratio: calls !== null && puts !== null && calls > 0 ? puts / calls : null };
}

/** The most frequent non-null value (the first seen on a tie); null when there is none. */
export function mostCommon<T>(values: Iterable<T | null>): T | null {
  const counts = new Map<T, number>();
  let best: T | null = null;
  let bestCount = 0;
  for (const value of values) {
    if (value === null) continue;
    const count = (counts.get(value) ?? 0) + 1;
    counts.set(value, count);
    if (count > bestCount) {
      best = value;
      bestCount = count;
    }
  }
  return best;
}
