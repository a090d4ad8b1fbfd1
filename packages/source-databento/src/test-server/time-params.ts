/**
 * Databento's `start`/`end`: an ISO 8601 time (UTC unless zoned), a YYYY-MM-DD date, or integer UNIX
 * nanoseconds written as a string.
 */
export interface TimeParam {
  ns: bigint;
  iso: string;
  dateOnly: boolean;
}

export function parseTimeParam(value: string | undefined): TimeParam | null {
  if (value === undefined || value.trim() === "") return null;
  const text = value.trim();
  if (/^\d{10,}$/.test(text)) {
    const ns = BigInt(text);
    return { ns, iso: isoOf(ns), dateOnly: false };
  }
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const zoned = dateOnly ? `${text}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`;
  // Keep sub-millisecond digits, which Date.parse drops.
  const fraction = /\.(\d{4,9})/.exec(text)?.[1];
  const ms = Date.parse(zoned.replace(/(\.\d{3})\d+/, "$1"));
  if (Number.isNaN(ms)) return null;
  const extra = fraction ? BigInt(fraction.padEnd(9, "0").slice(3)) : 0n;
  const ns = BigInt(ms) * 1_000_000n + extra;
  return { ns, iso: isoOf(ns), dateOnly };
}

/** "2026-11-20T21:00:00.000000000Z": nanosecond precision, as get_dataset_range answers. */
function isoOf(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0");
  return `${base}.${fraction}Z`;
}
