import { FIXED_PRICE_SCALE, UNDEF_PRICE, UNDEF_TIMESTAMP } from "../constants.js";

/** A fixed-point price as Databento prints it: sign, integer part, exactly 9 decimals. */
export function formatPrice(raw: bigint): string {
  const negative = raw < 0n;
  const abs = negative ? -raw : raw;
  const whole = abs / FIXED_PRICE_SCALE;
  const fraction = (abs % FIXED_PRICE_SCALE).toString().padStart(9, "0");
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** ns since the epoch as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (Databento's pretty timestamp). */
export function formatTimestamp(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const nanos = (ns % 1_000_000_000n).toString().padStart(9, "0");
  const iso = new Date(Number(seconds) * 1000).toISOString(); // 1970-01-01T00:00:00.000Z
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

/** A `YYYYMMDD` integer as `YYYY-MM-DD`. */
export function formatDate(yyyymmdd: number): string {
  const year = Math.floor(yyyymmdd / 10000);
  const month = Math.floor(yyyymmdd / 100) % 100;
  const day = yyyymmdd % 100;
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** True for the timestamps Databento prints as empty/null in pretty mode. */
export function isNullTimestamp(ns: bigint): boolean {
  return ns === 0n || ns === UNDEF_TIMESTAMP;
}

export function isNullPrice(raw: bigint): boolean {
  return raw === UNDEF_PRICE;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A decoded C string as Databento's text encoders print it: the bytes read as UTF-8, or empty
 * when they are not valid UTF-8 (Rust's `c_chars_to_str(..).unwrap_or_default()`). Decoded
 * records keep one character per byte so that re-encoding is exact.
 */
export function cStringText(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value)) return value;
  try {
    return utf8.decode(Uint8Array.from(value, (c) => c.charCodeAt(0)));
  } catch {
    return "";
  }
}
