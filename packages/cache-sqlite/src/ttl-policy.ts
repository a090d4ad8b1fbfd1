/**
 * When a cached chain stops being fresh. A fixed duration suits sources whose data does not follow the
 * market (a saved file); "market-hours" suits live feeds: while Globex trades, quotes move, so an entry
 * lives `open_ttl` and never past the moment trading stops (a session's close, an early close or a holiday
 * halt: the closing numbers must be fetched again); while Globex is closed nothing changes, so an entry lives
 * until the next open. Sessions come from @nq/core's CME calendar — its built-in 2024–2027 holidays, halts
 * and early closes, with the config's `market_hours.holidays` and `early_closes` laid over them.
 */
import { globexSessionAt, mergeGlobexCalendars, type GlobexCalendar } from "@nq/core";
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
