/**
 * The SQLite history's config: the `history` object of a profile, minus the `enabled` and `plugin` fields
 * the runner reads. Every field has a default, so `{ "history": { "plugin": "@nq/cache-sqlite" } }` keeps
 * every chain in outputs/history.db, beside the cache's outputs/cache.db.
 */
import { z } from "zod";
import type { HistoryRetention } from "@nq/core";

const retentionSchema = z
  .object({
    /** Snapshots whose as-of is older than this many days are deleted with their contracts. */
    max_age_days: z.number().positive("expected a number of days above 0").optional(),
    /** Keep at most this many snapshots per profile (the newest). */
    max_snapshots_per_profile: z.number().int("expected a whole number").min(1, "expected at least 1").optional(),
  })
  .strict();

export const sqliteHistoryConfigSchema = z
  .object({
    /** Read by the runner, not by the history; accepted so the whole `history` object may be passed. */
    enabled: z.boolean().optional(),
    plugin: z.string().optional(),
    /** The database file, relative to the profile's folder (or absolute). */
    path: z.string().min(1, "expected a file path").default("outputs/history.db"),
    /** What to delete, and when: applied by the runner after each append. Default: keep everything. */
    retention: retentionSchema.default({}),
    /** How long a write waits for another process's write to finish before failing, in ms. */
    busy_timeout_ms: z.number().int().min(0).max(600_000).default(5_000),
    /** Inspection (`history list`, `history show`): open for reading only; never create, migrate or write. */
    read_only: z.boolean().default(false),
  })
  .strict();

export type SqliteHistoryConfig = z.infer<typeof sqliteHistoryConfigSchema>;
export type SqliteHistoryConfigInput = z.input<typeof sqliteHistoryConfigSchema>;

/** The config's retention in the contract's terms; undefined when it keeps everything. */
export function historyRetentionOf(config: SqliteHistoryConfig): HistoryRetention | undefined {
  const { max_age_days, max_snapshots_per_profile } = config.retention;
  if (max_age_days === undefined && max_snapshots_per_profile === undefined) return undefined;
  return {
    ...(max_age_days !== undefined ? { maxAgeDays: max_age_days } : {}),
    ...(max_snapshots_per_profile !== undefined ? { maxSnapshotsPerProfile: max_snapshots_per_profile } : {}),
  };
}
