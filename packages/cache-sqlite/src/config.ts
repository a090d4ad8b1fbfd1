/**
 * The cache's config: the `cache` object of a profile, minus the `enabled` and `plugin` fields the runner
 * reads. Every field has a default, so `{ "cache": { "plugin": "@nq/cache-sqlite" } }` is a working setup.
 */
import { z } from "zod";
import { parseDuration } from "./duration.js";

/** 64 MiB: a full NQ chain from Databento (~20 000 contracts) is about 10 MB of JSON. */
export const DEFAULT_MAX_ENTRY_BYTES = 64 * 1024 * 1024;
const MIN_ENTRY_BYTES = 1024;
const MAX_ENTRY_BYTES = 512 * 1024 * 1024;

function checkDuration(value: string | number, ctx: z.RefinementCtx): void {
  try {
    parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
}

/** "24h", "5m", "1h30m", "90s", "2d", or a positive number of seconds. */
const durationSchema = z.union([z.string(), z.number()]).superRefine(checkDuration);

/** A duration, or "market-hours": short while Globex trades, until the next open while it is closed. */
const ttlSchema = z.union([z.literal("market-hours"), durationSchema]);

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

const marketHoursSchema = z
  .object({
    /** How long an entry fetched while Globex trades stays fresh (never past that session's close). */
    open_ttl: durationSchema.default("5m"),
    /** CME holidays as trade dates (YYYY-MM-DD): no session ends on them; closed from 16:00 CT the day before to 17:00 CT. */
    holidays: z.array(calendarDate).default([]),
    /** Sessions that end before 16:00 CT, e.g. { "date": "2026-11-27", "close": "12:15" }. */
    early_closes: z.array(earlyCloseSchema).default([]),
  })
  .strict();

export const sqliteCacheConfigSchema = z
  .object({
    /** Read by the runner, not by the cache; accepted so the whole `cache` object may be passed. */
    enabled: z.boolean().optional(),
    plugin: z.string().optional(),
    /** The database file, relative to the profile's folder (or absolute). */
    path: z.string().min(1, "expected a file path").default("outputs/cache.db"),
    /** How long an entry stays fresh: a duration ("24h"), seconds (86400) or "market-hours". */
    ttl: ttlSchema.default("24h"),
    /** Per-source overrides of `ttl`, keyed by source name. */
    ttl_by_source: z.record(z.string().min(1), ttlSchema).default({}),
    /** Settings of the "market-hours" TTL. */
    market_hours: marketHoursSchema.default({ open_ttl: "5m", holidays: [], early_closes: [] }),
    /** Also keep each source's raw payload (gzip-compressed), for debugging and re-normalizing. */
    store_raw: z.boolean().default(false),
    /** How long a write waits for another process's write to finish before failing, in ms. */
    busy_timeout_ms: z.number().int().min(0).max(600_000).default(5_000),
    /**
     * The largest entry (chain JSON plus compressed raw payload, in bytes) that is cached; a larger chain is
     * served to the run but not cached (a warning says so), and a larger stored entry is not served.
     */
    max_entry_bytes: z
      .number()
      .int()
      .min(MIN_ENTRY_BYTES, `expected at least ${MIN_ENTRY_BYTES} bytes`)
      .max(MAX_ENTRY_BYTES, `expected at most ${MAX_ENTRY_BYTES} bytes (512 MiB: a JavaScript string cannot hold much more)`)
      .default(DEFAULT_MAX_ENTRY_BYTES),
    /** Inspection (`cache stats`): open for reading only; never create, migrate, count, drop or set aside. */
    read_only: z.boolean().default(false),
  })
  .strict();

export type SqliteCacheConfig = z.infer<typeof sqliteCacheConfigSchema>;
export type SqliteCacheConfigInput = z.input<typeof sqliteCacheConfigSchema>;
export type TtlSetting = z.infer<typeof ttlSchema>;
