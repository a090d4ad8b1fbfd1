/**
 * The profile sections this package reads: `budget` (monthly USD per source), `alerts` (rules and sinks)
 * and `compare` (tolerances). Until @nq/core's profile schema names them, a runner reads them from the
 * raw profile JSON with `splitOpsSections` and hands core the rest.
 */
import { z } from "@nq/core";
import { COMPARE_FIELDS } from "./compare.js";

const severity = z.enum(["warn", "fail"]);
const share = z.number().min(0).max(1);

export const budgetSchema = z
  .object({
    /** USD per calendar month (UTC) per source key of `data_sources`: { "databento": 100 }. */
    monthly_usd: z.record(z.string().min(1), z.number().nonnegative()).default({}),
  })
  .strict();

export const webhookSchema = z
  .object({
    /** Where alerts are POSTed as JSON. */
    url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
    /** The whole delivery (every try) must finish within this; the run never waits longer. */
    timeout_ms: z.number().int().min(50).max(30_000).default(3_000),
    /** Extra tries after a network error, a 5xx or a 429, within `timeout_ms`. */
    retries: z.number().int().min(0).max(5).default(2),
    /** Extra request headers (e.g. an authorization token: `"${ALERT_TOKEN}"`). */
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export const alertRulesSchema = z
  .object({
    /** Spend of the month so far above `share` of the source's monthly budget. One per source per month. */
    budget: z
      .object({ enabled: z.boolean().default(true), share: z.number().positive().max(10).default(0.8), severity: severity.default("warn") })
      .strict()
      .default({ enabled: true, share: 0.8, severity: "warn" }),
    /**
     * A source failing `consecutive` times in a row (one alert per streak), or more than `rate` of its last
     * `window_runs` tries (once at least `min_runs` were made; one alert per source per UTC day).
     */
    source_failures: z
      .object({
        enabled: z.boolean().default(true),
        consecutive: z.number().int().min(1).max(1000).default(3),
        rate: share.default(0.5),
        window_runs: z.number().int().min(1).max(1000).default(10),
        min_runs: z.number().int().min(1).max(1000).default(4),
        severity: severity.default("warn"),
      })
      .strict()
      .default({ enabled: true, consecutive: 3, rate: 0.5, window_runs: 10, min_runs: 4, severity: "warn" }),
    /**
     * This run's chain against the previous chain of the same profile from the same source: the
     * missing bid/ask share or the zero-OI share up by more than the threshold (absolute, 0..1), or the
     * contract count down by more than `contracts_drop_share`. One per metric per UTC day.
     */
    quality: z
      .object({
        enabled: z.boolean().default(true),
        missing_bid_ask_share_increase: share.default(0.2),
        zero_oi_share_increase: share.default(0.2),
        contracts_drop_share: share.default(0.25),
        severity: severity.default("warn"),
      })
      .strict()
      .default({ enabled: true, missing_bid_ask_share_increase: 0.2, zero_oi_share_increase: 0.2, contracts_drop_share: 0.25, severity: "warn" }),
  })
  .strict();

export const alertsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Append every alert to `alerts.jsonl` in the output folder. */
    log: z.boolean().default(true),
    webhook: webhookSchema.optional(),
    rules: alertRulesSchema.default(alertRulesSchema.parse({})),
  })
  .strict();

const toleranceSchema = z.object({ abs: z.number().nonnegative().optional(), rel: z.number().nonnegative().optional() }).strict();

export const compareSettingsSchema = z
  .object({
    /** Per field: { "abs": points or contracts, "rel": a fraction }. Fields: settlement, openInterest, volume, clearedVolume, bid, ask, mid, last. */
    tolerances: z.partialRecord(z.enum(COMPARE_FIELDS), toleranceSchema).default({}),
    /** How many of the worst differences to list per field. */
    worst: z.number().int().min(0).max(1000).default(5),
  })
  .strict();

export const opsSectionsSchema = z
  .object({
    budget: budgetSchema.optional(),
    alerts: alertsSchema.optional(),
    compare: compareSettingsSchema.optional(),
  })
  .strict();

export type BudgetSettings = z.infer<typeof budgetSchema>;
export type AlertSettings = z.infer<typeof alertsSchema>;
export type AlertRules = z.infer<typeof alertRulesSchema>;
export type WebhookSettings = z.infer<typeof webhookSchema>;
export type CompareSettings = z.infer<typeof compareSettingsSchema>;
export type OpsSections = z.infer<typeof opsSectionsSchema>;

export const OPS_SECTION_KEYS = ["budget", "alerts", "compare"] as const;

/** Splits a raw profile object into what core validates and the sections this package reads. */
export function splitOpsSections(json: unknown): { rest: unknown; sections: Record<string, unknown> } {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return { rest: json, sections: {} };
  const rest: Record<string, unknown> = {};
  const sections: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if ((OPS_SECTION_KEYS as readonly string[]).includes(key)) sections[key] = value;
    else rest[key] = value;
  }
  return { rest, sections };
}

/** The default alert settings (every rule on, no webhook, a log). */
export function defaultAlertSettings(): AlertSettings {
  return alertsSchema.parse({});
}
