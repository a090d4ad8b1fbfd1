/**
 * When a cached chain stops being fresh. A fixed duration suits sources whose data does not follow the
 * market (a saved file); "market-hours" suits live feeds: while Globex trades, quotes move, so an entry
 * lives `open_ttl` and never past the moment trading stops (a session's close, an early close or a holiday
 * halt: the closing numbers must be fetched again); while Globex is closed nothing changes, so an entry lives
 * until the next open. Sessions come from @nq/core's CME calendar — its built-in 2024–2027 holidays, halts
 * and early closes, with the config's `market_hours.holidays` and `early_closes` laid over them.
 *
 * Every cache store shares it (SQLite, PostgreSQL), with the config fields below, so a profile's TTL
 * settings mean the same whichever store holds the entries.
 */
import { z } from "zod";
import { globexSessionAt, mergeGlobexCalendars, type GlobexCalendar } from "./cme-calendar.js";
import { parseDuration } from "./duration.js";

export type TtlRule = { kind: "fixed"; ms: number } | { kind: "market-hours"; openTtlMs: number; calendar: GlobexCalendar };

export interface TtlPolicySettings {
  ttl: string | number;
  ttl_by_source?: Record<string, string | number>;
  market_hours?: {
    open_ttl?: string | number;
    holidays?: string[];
    early_closes?: { date: string; close: string }[];
  };
}

export interface TtlPolicy {
  /** When an entry of `source` fetched at `fetchedAt` expires. */
  expiresAt(source: string, fetchedAt: Date): Date;
  ruleFor(source: string): TtlRule;
}

export function createTtlPolicy(settings: TtlPolicySettings): TtlPolicy {
  // The config's dates replace the built-in rows for those dates (a listed holiday is a full closure).
  const calendar: GlobexCalendar = mergeGlobexCalendars({
    holidays: settings.market_hours?.holidays ?? [],
    earlyCloses: settings.market_hours?.early_closes ?? [],
  });
  const openTtlMs = parseDuration(settings.market_hours?.open_ttl ?? "5m");
  const toRule = (setting: string | number): TtlRule =>
    setting === "market-hours" ? { kind: "market-hours", openTtlMs, calendar } : { kind: "fixed", ms: parseDuration(setting) };
  const defaultRule = toRule(settings.ttl);
  const bySource = new Map(Object.entries(settings.ttl_by_source ?? {}).map(([source, setting]) => [source, toRule(setting)]));

  const ruleFor = (source: string): TtlRule => bySource.get(source) ?? defaultRule;
  return {
    ruleFor,
    expiresAt: (source, fetchedAt) => expiresAtUnder(ruleFor(source), fetchedAt),
  };
}

export function expiresAtUnder(rule: TtlRule, fetchedAt: Date): Date {
  if (rule.kind === "fixed") return new Date(fetchedAt.getTime() + rule.ms);
  const session = globexSessionAt(fetchedAt, rule.calendar);
  if (!session.open) return session.nextOpen;
  return new Date(Math.min(fetchedAt.getTime() + rule.openTtlMs, session.closesAt.getTime()));
}

function checkDuration(value: string | number, ctx: z.RefinementCtx): void {
  try {
    parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
}

/** "24h", "5m", "1h30m", "90s", "2d", or a positive number of seconds. */
export const durationSchema = z.union([z.string(), z.number()]).superRefine(checkDuration);

/** A duration, or "market-hours": short while Globex trades, until the next open while it is closed. */
export const ttlSettingSchema = z.union([z.literal("market-hours"), durationSchema]);
export type TtlSetting = z.infer<typeof ttlSettingSchema>;

const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as YYYY-MM-DD")
  .refine((value) => new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), "expected a real calendar date");

const earlyCloseSchema = z
  .object({
    /** The trade date that closes early (YYYY-MM-DD). */
    date: calendarDate,
    /** The early close in Chicago time, HH:MM (24-hour), before 16:00. */
    close: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected a time as HH:MM (24-hour, Chicago)")
      .refine((value) => value < "16:00", "expected a time before the regular 16:00 close"),
  })
  .strict();

export const marketHoursSchema = z
  .object({
    /** How long an entry fetched while Globex trades stays fresh (never past that session's close). */
    open_ttl: durationSchema.default("5m"),
    /** CME holidays as trade dates (YYYY-MM-DD): no session ends on them; closed from 16:00 CT the day before to 17:00 CT. */
    holidays: z.array(calendarDate).default([]),
    /** Sessions that end before 16:00 CT, e.g. { "date": "2026-11-27", "close": "12:15" }. */
    early_closes: z.array(earlyCloseSchema).default([]),
  })
  .strict();

/**
 * The TTL fields of a cache store's config, spread into its zod object: `z.object({ ...ttlConfigShape, … })`.
 * Parsed, they are `TtlPolicySettings` for `createTtlPolicy`.
 */
export const ttlConfigShape = {
  /** How long an entry stays fresh: a duration ("24h"), seconds (86400) or "market-hours". */
  ttl: ttlSettingSchema.default("24h"),
  /** Per-source overrides of `ttl`, keyed by source name. */
  ttl_by_source: z.record(z.string().min(1), ttlSettingSchema).default({}),
  /** Settings of the "market-hours" TTL. */
  market_hours: marketHoursSchema.default({ open_ttl: "5m", holidays: [], early_closes: [] }),
};
