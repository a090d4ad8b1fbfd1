/**
 * The configs, as a profile writes them: the `cache` object (plugin "@nq/store-postgres") and the
 * `history` object. Both name a server the same way — `url`, `pool_size`, `tls`, `schema` — so one
 * database and schema can hold a fleet's cache and its history side by side.
 */
import { ttlConfigShape } from "@nq/core";
import { z } from "zod";

/** A SQL identifier we create and quote ourselves: lower case, so a person can type it unquoted in psql. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

const tlsSchema = z
  .object({
    /** Connect over TLS. */
    enabled: z.boolean().default(false),
    /** A PEM file of the certificate authorities to trust (relative to the profile's folder or absolute). */
    ca_file: z.string().min(1, "expected a file path").optional(),
    /** Refuse a server whose certificate does not verify (against `ca_file` or the system's CAs). */
    reject_unauthorized: z.boolean().default(true),
  })
  .strict()
  .superRefine((tls, ctx) => {
    if (tls.enabled) return;
    if (tls.ca_file !== undefined) ctx.addIssue({ code: "custom", path: ["ca_file"], message: "is set but tls.enabled is false: set enabled: true to connect over TLS, or remove ca_file" });
    if (!tls.reject_unauthorized) ctx.addIssue({ code: "custom", path: ["reject_unauthorized"], message: "is false but tls.enabled is false: it only applies to TLS connections" });
  });

/** How a store reaches its server. */
export const connectionConfigShape = {
  /** Read by the runner, not by the store; accepted so the whole profile section may be passed. */
  enabled: z.boolean().optional(),
  plugin: z.string().optional(),
  /**
   * postgres://user:password@host:port/database. `${VARIABLE}` and `${VARIABLE:-default}` are replaced from
   * the environment when the store opens (keep the password out of the profile: "${NQ_PG_PASSWORD}").
   */
  url: z.string().min(1, 'expected a connection URL like "postgres://nq:${NQ_PG_PASSWORD}@db:5432/nq"'),
  /** Connections this process keeps open at most. */
  pool_size: z.number().int().min(1, "expected at least 1 connection").max(100, "expected at most 100 connections per process").default(4),
  tls: tlsSchema.default({ enabled: false, reject_unauthorized: true }),
  /** The schema holding the tables (created when missing). */
  schema: z.string().regex(IDENTIFIER, "expected a lower-case SQL identifier (a-z, 0-9, _; at most 63 characters, not starting with a digit)").default("nq"),
  /** How long opening a connection may take before the store reports the server unreachable, in ms. */
  connect_timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
};

/** The connection fields alone (what both stores share). */
export const connectionConfigSchema = z.object(connectionConfigShape).strict();
/** The connection fields of either config, parsed. */
export type ConnectionConfig = z.infer<typeof connectionConfigSchema>;

/** 64 MiB, as for the SQLite cache: a full NQ chain from Databento (~20 000 contracts) is about 10 MB of JSON. */
export const DEFAULT_MAX_ENTRY_BYTES = 64 * 1024 * 1024;

export const postgresCacheConfigSchema = z
  .object({
    ...connectionConfigShape,
    /** `ttl`, `ttl_by_source`, `market_hours`: the TTL policy every @nq cache store shares (see @nq/core). */
    ...ttlConfigShape,
    /** Also keep each source's raw payload (gzip-compressed), for debugging and re-normalizing. */
    store_raw: z.boolean().default(false),
    /** The largest entry (chain JSON plus compressed raw payload, bytes) that is cached or served. */
    max_entry_bytes: z
      .number()
      .int()
      .min(1024, "expected at least 1024 bytes")
      .max(512 * 1024 * 1024, "expected at most 536870912 bytes (512 MiB: a JavaScript string cannot hold much more)")
      .default(DEFAULT_MAX_ENTRY_BYTES),
    /**
     * Single flight: how long a fetch claim holds without renewal (the holder renews it every third of
     * this while it loads; a crashed holder's claim passes to a waiter after it). Unset: the runner's
     * value, derived from the source's deadline.
     */
    lease_ms: z.number().int().min(100).max(3_600_000).optional(),
    /** Single flight: how long a waiter waits for another runner's entry before it fetches itself. Unset: the runner's value. */
    wait_ms: z.number().int().min(0).max(3_600_000).optional(),
  })
  .strict();

export type PostgresCacheConfig = z.infer<typeof postgresCacheConfigSchema>;
export type PostgresCacheConfigInput = z.input<typeof postgresCacheConfigSchema>;

export const postgresHistoryConfigSchema = z
  .object({
    ...connectionConfigShape,
    /** What to delete, and when: applied by the runner after each append. Default: keep everything. */
    retention: z
      .object({
        /** Snapshots whose as-of is older than this many days are deleted with their contracts. */
        max_age_days: z.number().positive("expected a number of days above 0").optional(),
        /** Keep at most this many snapshots per profile (the newest). */
        max_snapshots_per_profile: z.number().int("expected a whole number").min(1, "expected at least 1").optional(),
      })
      .strict()
      .default({}),
    /** Inspection (`history list`, `history show`): never create, migrate or write. */
    read_only: z.boolean().default(false),
  })
  .strict();

export type PostgresHistoryConfig = z.infer<typeof postgresHistoryConfigSchema>;
export type PostgresHistoryConfigInput = z.input<typeof postgresHistoryConfigSchema>;
