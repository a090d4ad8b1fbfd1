/**
 * The cache's config: the `cache` object of a profile, minus the `enabled` and `plugin` fields the runner
 * reads. Every field has a default, so `{ "cache": { "plugin": "@nq/cache-sqlite" } }` is a working setup.
 */
import { ttlConfigShape, type TtlSetting } from "@nq/core";
import { z } from "zod";

/** 64 MiB: a full NQ chain from Databento (~20 000 contracts) is about 10 MB of JSON. */
export const DEFAULT_MAX_ENTRY_BYTES = 64 * 1024 * 1024;
const MIN_ENTRY_BYTES = 1024;
const MAX_ENTRY_BYTES = 512 * 1024 * 1024;

export const sqliteCacheConfigSchema = z
  .object({
    /** Read by the runner, not by the cache; accepted so the whole `cache` object may be passed. */
    enabled: z.boolean().optional(),
    plugin: z.string().optional(),
    /** The database file, relative to the profile's folder (or absolute). */
    path: z.string().min(1, "expected a file path").default("outputs/cache.db"),
    /** `ttl`, `ttl_by_source`, `market_hours`: the TTL policy every @nq cache store shares (in @nq/core). */
    ...ttlConfigShape,
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
/** Re-exported from @nq/core, where the TTL policy now lives. */
export type { TtlSetting };
