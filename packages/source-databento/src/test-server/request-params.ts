/** Request parameters both the timeseries and the batch endpoints of the local server read the same way. */

/** Databento upper-cases symbols, except a continuous roll-rule letter (not needed here); ids stay as given. */
export function splitSymbols(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (/^\d+$/.test(s) ? s : s.toUpperCase()));
}

/** A UTC date as the integer YYYYMMDD, the form symbology intervals use. */
export function yyyymmdd(ns: bigint): number {
  return Number(new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 10).replaceAll("-", ""));
}
