/**
 * Durations as people write them in a profile: "24h", "5m", "1h30m", "90s", "2d", or a plain number of
 * seconds. Parsed once, at config time, so a typo fails the profile instead of a run hours later.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** Milliseconds for a duration string or a number of seconds; throws a RangeError saying what was expected. */
export function parseDuration(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`expected a positive number of seconds, got ${value}`);
    return Math.round(value * 1000);
  }
  const text = value.trim().toLowerCase();
  if (!WHOLE.test(text)) {
    throw new RangeError(`expected a duration like "24h", "5m", "1h30m" or "90s" (units ms, s, m, h, d, w), got ${JSON.stringify(value)}`);
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  if (total <= 0) throw new RangeError(`expected a positive duration, got ${JSON.stringify(value)}`);
  return Math.round(total);
}
