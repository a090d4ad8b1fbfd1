/**
 * @nq/store-postgres — the @nq cache and chain history on PostgreSQL, for a fleet of runners sharing one
 * store: each paid request is made once across all of them (`claimFetch`), and every chain they produce
 * lands in one queryable history. The runner loads the `cache` and `history` exports by the name in a
 * profile's `cache.plugin` / `history.plugin`; library users call `openPostgresCache` /
 * `openPostgresHistory`.
 *
 * Read in this order: the plugins, the library entry points, the config (./config.ts), the cache store
 * (./postgres-chain-cache.ts) and its single flight (./fetch-claims.ts), the migrations under an advisory
 * lock (./migrations.ts). A throwaway server for tests: `@nq/store-postgres/test-support`.
 */
import { createTtlPolicy, defineCache, defineHistory, silentLogger, type ChainHistory, type Logger } from "@nq/core";
import { cacheMigrations, type CacheDatabase } from "./cache-schema.js";
import {
  postgresCacheConfigSchema,
  postgresHistoryConfigSchema,
  type PostgresCacheConfig,
  type PostgresCacheConfigInput,
  type PostgresHistoryConfig,
  type PostgresHistoryConfigInput,
} from "./config.js";
import type { PgModule } from "./connection.js";
import { openStore } from "./open-store.js";
import { PostgresChainCache } from "./postgres-chain-cache.js";
import { openParsedHistory } from "./postgres-history.js";

/**
 * The cache plugin. `create` connects and migrates; when it cannot (an unset `${VARIABLE}`, no driver,
 * no server, a wrong password) it rejects with a `StoreUnavailableError` (code "NQ_CACHE_UNAVAILABLE"),
 * which a runner catches to run without the cache.
 */
export const cache = defineCache<PostgresCacheConfig>({
  name: "postgres",
  configSchema: postgresCacheConfigSchema,
  create: (config, context) => openParsedCache(config, { baseDir: context.baseDir, log: context.log, now: () => context.now() }),
});

export default cache;

/**
 * The history plugin: every chain the fleet's runs produce, one snapshot row and one row per contract.
 * `create` rejects with a `StoreUnavailableError` (code "NQ_HISTORY_UNAVAILABLE") when it cannot connect.
 */
export const history = defineHistory<PostgresHistoryConfig>({
  name: "postgres",
  configSchema: postgresHistoryConfigSchema,
  create: (config, context) => openParsedHistory(config, { baseDir: context.baseDir, log: context.log }),
});

export interface OpenPostgresCacheOptions extends PostgresCacheConfigInput {
  /** Where a relative `tls.ca_file` resolves; default: the current folder. */
  baseDir?: string;
  /** Receives warnings (a corrupted entry dropped, a connection that broke); default: silent. */
  log?: Logger;
  /** The clock for bookkeeping (written-at); expiry uses the `now` given to each call. */
  now?: () => Date;
  /** Where `${VARIABLE}`s in `url` come from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Another driver with pg's shape; default: pg. */
  pg?: PgModule;
}

/** Connects to the server and creates or upgrades the cache's tables. Options are the profile's fields. */
export async function openPostgresCache(options: OpenPostgresCacheOptions): Promise<PostgresChainCache> {
  const { baseDir = process.cwd(), log = silentLogger, now = () => new Date(), env, pg, ...fields } = options;
  return openParsedCache(parseOptions(postgresCacheConfigSchema, fields, "@nq/store-postgres cache"), { baseDir, log, now, env, pg });
}

async function openParsedCache(
  config: PostgresCacheConfig,
  context: { baseDir: string; log: Logger; now: () => Date; env?: NodeJS.ProcessEnv | undefined; pg?: PgModule | undefined },
): Promise<PostgresChainCache> {
  const opened = await openStore<CacheDatabase>("cache", config, { baseDir: context.baseDir, log: context.log, ...(context.env ? { env: context.env } : {}), ...(context.pg ? { pg: context.pg } : {}) }, { component: "cache", migrations: cacheMigrations });
  return new PostgresChainCache({
    db: opened.db,
    location: opened.connection.location,
    schema: opened.connection.schema,
    secrets: opened.connection.secrets,
    log: context.log,
    now: context.now,
    ttl: createTtlPolicy(config),
    storeRaw: config.store_raw,
    maxEntryBytes: config.max_entry_bytes,
    ...(config.lease_ms !== undefined ? { leaseMs: config.lease_ms } : {}),
    ...(config.wait_ms !== undefined ? { waitMs: config.wait_ms } : {}),
    openListener: opened.openClient,
  });
}

export interface OpenPostgresHistoryOptions extends PostgresHistoryConfigInput {
  /** Where a relative `tls.ca_file` resolves; default: the current folder. */
  baseDir?: string;
  log?: Logger;
  /** Where `${VARIABLE}`s in `url` come from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Another driver with pg's shape; default: pg. */
  pg?: PgModule;
  /** Runs inside each append transaction before COMMIT (crash and rollback tests). */
  beforeCommit?: (snapshotId: string) => Promise<void> | void;
}

/** Connects to the server and creates or upgrades the history's tables (unless read_only). */
export async function openPostgresHistory(options: OpenPostgresHistoryOptions): Promise<ChainHistory> {
  const { baseDir = process.cwd(), log = silentLogger, env, pg, beforeCommit, ...fields } = options;
  const config = parseOptions(postgresHistoryConfigSchema, fields, "@nq/store-postgres history");
  return openParsedHistory(config, { baseDir, log, ...(env ? { env } : {}), ...(pg ? { pg } : {}), ...(beforeCommit ? { beforeCommit } : {}) });
}

function parseOptions<T>(schema: { safeParse(input: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, fields: unknown, what: string): T {
  const parsed = schema.safeParse(fields);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(options)"}: ${issue.message}`);
  throw new TypeError(`invalid ${what} options:\n  - ${problems.join("\n  - ")}`);
}

export { PostgresChainCache, type PostgresChainCacheOptions } from "./postgres-chain-cache.js";
export { historyRetentionOf } from "./postgres-history.js";
export {
  connectionConfigShape,
  DEFAULT_MAX_ENTRY_BYTES,
  postgresCacheConfigSchema,
  postgresHistoryConfigSchema,
  type PostgresCacheConfig,
  type PostgresCacheConfigInput,
  type PostgresHistoryConfig,
  type PostgresHistoryConfigInput,
} from "./config.js";
export {
  CACHE_OPERATION_FAILED,
  CACHE_UNAVAILABLE,
  HISTORY_UNAVAILABLE,
  StoreOperationError,
  StoreUnavailableError,
  type StoreFailureReason,
} from "./errors.js";
export { cacheMigrations } from "./cache-schema.js";
export { migrateUnderLock, type NamedMigrations } from "./migrations.js";
export type { PgClient, PgModule, PgPool } from "./connection.js";
