/**
 * The schedule of `nq-runner watch` (without `--live`): when to run (an interval or a cron expression in
 * America/Chicago, through croner), which sources apply at a given moment (the profile's `watch.windows`,
 * matched against the Chicago wall clock and the CME calendar), the backoff after failed runs, and the
 * clock — injectable, so tests drive a simulated one.
 */
import { Cron } from "croner";
import { ConfigError, chicagoDate, cmeTradeDate, type GlobexCalendar } from "@nq/core";

export const CHICAGO = "America/Chicago";

/** One entry of the profile's `watch.windows`. */
export interface WatchWindow {
  name?: string;
  sources: string[];
  /** HH:MM, America/Chicago, inclusive (default 00:00). */
  from?: string;
  /** HH:MM, America/Chicago, exclusive (default 24:00); before `from`: the window wraps past midnight. */
  to?: string;
  /** "trading": CME trade dates only (weekends and holidays excluded); "weekdays": Monday–Friday; "all" (default). */
  days?: "trading" | "weekdays" | "all";
  /** Matches whenever no other window does. */
  otherwise?: boolean;
}

/** The profile's `watch` section. */
export interface WatchSection {
  interval_seconds?: number;
  cron?: string;
  max_backoff_seconds?: number;
  windows?: WatchWindow[];
}

/** The clock and the sleep a watch runs on; tests pass a simulated one. */
export interface WatchClock {
  now(): Date;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: WatchClock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/** A clock whose time moves only when something sleeps on it: every sleep advances it at once. */
export function simulatedClock(start: Date | string): WatchClock & { set(at: Date | string): void } {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    sleep: async (ms, signal) => {
      if (signal?.aborted) return;
      t += Math.max(0, ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
    set: (at) => {
      t = new Date(at).getTime();
    },
  };
}

const wallClock = new Intl.DateTimeFormat("en-US", { timeZone: CHICAGO, hourCycle: "h23", weekday: "short", hour: "2-digit", minute: "2-digit" });
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** The Chicago calendar date, minute of the day (0–1439) and weekday (0 = Sunday) of an instant. */
export function chicagoWall(at: Date): { date: string; minute: number; weekday: number } {
  const parts = Object.fromEntries(wallClock.formatToParts(at).map((p) => [p.type, p.value]));
  return { date: chicagoDate(at), minute: Number(parts.hour) * 60 + Number(parts.minute), weekday: WEEKDAYS.indexOf(parts.weekday ?? "") };
}

/**
 * Whether the Chicago calendar date of `at` is a CME trade date: the trade date at 10:00 CT that day is the
 * day itself (on a weekend or a full closure it is the day before; on a halt holiday, the day after).
 */
export function isCmeTradeDate(at: Date, calendar?: GlobexCalendar): boolean {
  const wall = chicagoWall(at);
  const tenAm = new Date(at.getTime() + (600 - wall.minute) * 60_000);
  return cmeTradeDate(tenAm, calendar) === wall.date;
}

function minuteOf(hhmm: string | undefined, fallback: number): number {
  if (hhmm === undefined) return fallback;
  const [h, m] = hhmm.split(":").map(Number);
  return h! * 60 + m!;
}

/** Whether a (non-`otherwise`) window applies at `at`. */
export function windowMatches(window: WatchWindow, at: Date, calendar?: GlobexCalendar): boolean {
  const wall = chicagoWall(at);
  const from = minuteOf(window.from, 0);
  const to = minuteOf(window.to, 24 * 60);
  const inTime = from <= to ? wall.minute >= from && wall.minute < to : wall.minute >= from || wall.minute < to;
  if (!inTime) return false;
  if (window.days === "weekdays") return wall.weekday >= 1 && wall.weekday <= 5;
  if (window.days === "trading") return isCmeTradeDate(at, calendar);
  return true;
}

/** The window that applies at `at`: the first matching timed window, else the first `otherwise` one; null when none. */
export function selectWindow(windows: readonly WatchWindow[], at: Date, calendar?: GlobexCalendar): { index: number; window: WatchWindow } | null {
  const timed = windows.findIndex((w) => !w.otherwise && windowMatches(w, at, calendar));
  if (timed >= 0) return { index: timed, window: windows[timed]! };
  const otherwise = windows.findIndex((w) => w.otherwise);
  return otherwise >= 0 ? { index: otherwise, window: windows[otherwise]! } : null;
}

/** A window's name for logs and the history: its `name`, else e.g. `databento 08:30–15:15 trading` or `barchart otherwise`. */
export function describeWindow(window: WatchWindow): string {
  if (window.name) return window.name;
  if (window.otherwise) return `${window.sources.join("+")} otherwise`;
  return `${window.sources.join("+")} ${window.from ?? "00:00"}–${window.to ?? "24:00"}${window.days && window.days !== "all" ? ` ${window.days}` : ""}`;
}

/** A window's sources in the profile's priority order (sources not in the priority list follow, in the window's order). */
export function orderSources(sources: readonly string[], priority: readonly string[]): string[] {
  return [...priority.filter((name) => sources.includes(name)), ...sources.filter((name) => !priority.includes(name))];
}

/** Checks the windows against the profile's sources; a wrong name is a ConfigError (exit 2) before any run. */
export function validateWindows(windows: readonly WatchWindow[], dataSources: Record<string, unknown>, path: string): void {
  windows.forEach((window, index) => {
    for (const name of window.sources) {
      if (!Object.hasOwn(dataSources, name)) {
        throw new ConfigError("config", `${path}: watch.windows.${index}.sources names "${name}", which is not in data_sources (known: ${Object.keys(dataSources).join(", ")})`, {
          path: `watch.windows.${index}.sources`,
        });
      }
    }
    if (window.otherwise && (window.from !== undefined || window.to !== undefined || window.days !== undefined)) {
      throw new ConfigError("config", `${path}: watch.windows.${index}: "otherwise" matches any time; drop from/to/days or "otherwise"`, { path: `watch.windows.${index}` });
    }
  });
}

/** When the ticks come: every `intervalMs` from the start, or at the cron expression's times (America/Chicago). */
export interface Ticker {
  readonly description: string;
  /** The first tick strictly after `after` (interval: on the grid that starts at `origin`). */
  next(after: Date): Date;
  /** The normal gap after the tick at `at` (the base of the backoff). */
  gapAfter(at: Date): number;
}

export function createTicker(spec: { intervalMs?: number; cron?: string }, origin: Date): Ticker {
  if (spec.cron !== undefined) {
    let cron: Cron;
    try {
      cron = new Cron(spec.cron, { timezone: CHICAGO, paused: true });
    } catch (error) {
      throw new ConfigError("config", `--cron "${spec.cron}": ${error instanceof Error ? error.message : String(error)}`, { path: "watch.cron" });
    }
    const next = (after: Date): Date => {
      const at = cron.nextRun(after);
      if (!at) throw new ConfigError("config", `--cron "${spec.cron}" has no time after ${after.toISOString()}`, { path: "watch.cron" });
      return at;
    };
    return { description: `cron "${spec.cron}" (America/Chicago)`, next, gapAfter: (at) => next(at).getTime() - at.getTime() };
  }
  const interval = spec.intervalMs;
  if (interval === undefined || !(interval > 0)) throw new ConfigError("config", "watch needs --interval <seconds>, --cron \"<expr>\", or watch.interval_seconds / watch.cron in the profile", { path: "watch" });
  const start = origin.getTime();
  return {
    description: `every ${interval / 1000} s`,
    next: (after) => new Date(start + (Math.floor((after.getTime() - start) / interval) + 1) * interval),
    gapAfter: () => interval,
  };
}

/** The wait after `failures` failed runs in a row: the normal gap ×2 per failure, at most `capMs` (never below the gap). */
export function backoffMs(gapMs: number, failures: number, capMs: number): number {
  if (failures <= 0) return gapMs;
  return Math.max(gapMs, Math.min(gapMs * 2 ** Math.min(failures, 30), capMs));
}
