/**
 * Month arithmetic for a spend budget, in UTC: the month's bounds, how much of it has passed, and a
 * straight-line projection of the month's spend from what was spent so far.
 */

export interface MonthWindow {
  /** "2026-11" */
  month: string;
  start: Date;
  /** Exclusive. */
  end: Date;
  /** Share of the month passed at `now` (0..1). */
  elapsed: number;
}

export function monthWindow(now: Date): MonthWindow {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  const elapsed = Math.min(1, Math.max(0, (now.getTime() - start.getTime()) / (end.getTime() - start.getTime())));
  return { month: start.toISOString().slice(0, 7), start, end, elapsed };
}

/**
 * The month's spend if it goes on at the pace so far. In the first hours of a month the pace is noise, so
 * at least one day counts as passed.
 */
export function projectMonthSpend(spentSoFar: number, now: Date): number {
  const window = monthWindow(now);
  const monthMs = window.end.getTime() - window.start.getTime();
  const passed = Math.max(window.elapsed, Math.min(1, 86_400_000 / monthMs));
  return spentSoFar / passed;
}
