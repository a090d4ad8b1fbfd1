import { UNDEF_PRICE, UNDEF_TIMESTAMP } from "./constants.js";

/**
 * A raw 1e-9 fixed-point price as a JS number, or null for UNDEF_PRICE. Exact to the 1e-9 unit
 * while |price| < ~9,007,199 (2^53 units); beyond that the nearest double.
 */
export function priceToNumber(raw: bigint): number | null {
  if (raw === UNDEF_PRICE) return null;
  const whole = raw / 1_000_000_000n;
  const frac = raw - whole * 1_000_000_000n;
  return Number(whole) + Number(frac) / 1e9;
}

/**
 * Reads an i64 price at `offset` of a DataView as a number (NaN for UNDEF_PRICE) without
 * allocating a bigint: the fast-path counterpart of `priceToNumber`.
 */
export function readPrice(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true);
  const hi = view.getInt32(offset + 4, true);
  if (hi === 0x7fffffff && lo === 0xffffffff) return Number.NaN;
  return (hi * 4294967296 + lo) / 1e9;
}

/** Parses a decimal price string ("4108.5") to raw 1e-9 fixed point; exact. */
export function priceFromString(text: string): bigint {
  const match = /^(-)?(\d+)(?:\.(\d{0,9}))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal price: ${text}`);
  const value = BigInt(match[2]!) * 1_000_000_000n + BigInt((match[3] ?? "").padEnd(9, "0"));
  return match[1] ? -value : value;
}

/** A ns timestamp as a Date (millisecond precision), or null for UNDEF_TIMESTAMP. */
export function timestampToDate(ns: bigint): Date | null {
  if (ns === UNDEF_TIMESTAMP) return null;
  return new Date(Number(ns / 1_000_000n));
}
