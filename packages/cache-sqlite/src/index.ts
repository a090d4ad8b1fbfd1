/**
 * @nq/cache-sqlite — a crash-safe SQLite cache for @nq options chains, so that every paid request happens
 * once. The runner loads it by the name in a profile's `cache.plugin`; library users call
 * `openSqliteCache`. Read in this order: the plugin definition, the library entry point, the config, the
 * TTL policy and the Globex calendar it uses; the store itself is in ./sqlite-chain-cache.ts.
 */
import { isAbsolute, resolve } from "node:path";
import { createTtlPolicy, defineCache, silentLogger, type Logger } from "@nq/core";
import { sqliteCacheConfigSchema, type SqliteCacheConfig, type SqliteCacheConfigInput } from "./config.js";
import { unavailable } from "./database-file.js";
import { loadBetterSqlite3, type OpenNativeDatabase } from "./native-driver.js";
import { SqliteChainCache, type SqliteChainCacheOptions } from "./sqlite-chain-cache.js";

/**
 * The plugin. `create` opens the file; when it cannot (a folder at the path, no permission, a read-only
 * file, a full disk, a damaged file another process holds, a newer schema, no driver) it rejects with a
 * `CacheUnavailableError` (one line: the path, the cause, the fix; `code` "NQ_CACHE_UNAVAILABLE"), which a
 * runner catches to run without the cache, with a warning. `read_only: true` opens for inspection.
 */
export const sqliteCache = defineCache<SqliteCacheConfig>({
  name: "sqlite",
  configSchema: sqliteCacheConfigSchema,
  create: (config, context) => openParsed(config, { baseDir: context.baseDir, log: context.log, now: () => context.now() }),
});

export default sqliteCache;

export interface OpenSqliteCacheOptions extends SqliteCacheConfigInput {
  /** Where a relative `path` resolves; default: the current folder. */
  baseDir?: string;
  /** Receives the warnings (a database set aside, WAL refused…); default: silent. */
  log?: Logger;
  /** The clock for bookkeeping (written-at, set-aside suffixes); expiry uses the `now` given to each call. */
  now?: () => Date;
  /** Another driver with better-sqlite3's shape; default: better-sqlite3, loaded on first open. */
  openDatabase?: OpenNativeDatabase;
  /** Runs inside each write transaction just before COMMIT (crash tests kill the process there). */
  beforeCommit?: SqliteChainCacheOptions["beforeCommit"];
}

/** Opens (creating or upgrading) a cache file. Config fields are the profile's, validated the same way. */
export async function openSqliteCache(options: OpenSqliteCacheOptions = {}): Promise<SqliteChainCache> {
  const { baseDir = process.cwd(), log = silentLogger, now = () => new Date(), openDatabase, beforeCommit, ...fields } = options;
  const parsed = sqliteCacheConfigSchema.safeParse(fields);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(options)"}: ${issue.message}`);
    throw new TypeError(`invalid @nq/cache-sqlite options:\n  - ${problems.join("\n  - ")}`);
  }
  return openParsed(parsed.data, { baseDir, log, now, openDatabase, beforeCommit });
}

type OpenContext = Required<Pick<OpenSqliteCacheOptions, "baseDir" | "log" | "now">> & Pick<OpenSqliteCacheOptions, "openDatabase" | "beforeCommit">;

async function openParsed(config: SqliteCacheConfig, context: OpenContext): Promise<SqliteChainCache> {
  const file = isAbsolute(config.path) ? config.path : resolve(context.baseDir, config.path);
  let openNative: OpenNativeDatabase;
  try {
    openNative = context.openDatabase ?? (await loadBetterSqlite3());
  } catch (error) {
    throw unavailable({ file, busyTimeoutMs: config.busy_timeout_ms }, error);
  }
  return SqliteChainCache.open({
    file,
    busyTimeoutMs: config.busy_timeout_ms,
    openNative,
    log: context.log,
    now: context.now,
    ttl: createTtlPolicy(config),
    storeRaw: config.store_raw,
    maxEntryBytes: config.max_entry_bytes,
    readOnly: config.read_only,
    ...(context.beforeCommit ? { beforeCommit: context.beforeCommit } : {}),
  });
}

export { SqliteChainCache, type SqliteChainCacheOptions };
export {
  CACHE_OPERATION_FAILED,
  CACHE_UNAVAILABLE,
  CacheOperationError,
  CacheUnavailableError,
  isCacheUnavailableError,
  type CacheFailureReason,
  type CacheOperation,
} from "./errors.js";
export { CACHE_FILE_MODE } from "./database-file.js";
export { DEFAULT_MAX_ENTRY_BYTES, sqliteCacheConfigSchema, type SqliteCacheConfig, type SqliteCacheConfigInput, type TtlSetting } from "./config.js";
/** The TTL policy and duration parsing live in @nq/core (every cache store shares them); re-exported here. */
export { createTtlPolicy, expiresAtUnder, parseDuration, type TtlPolicy, type TtlPolicySettings, type TtlRule } from "@nq/core";
/** The CME calendar lives in @nq/core; re-exported here for code written against earlier versions. */
export {
  globexSessionAt,
  nextGlobexOpen,
  type EarlyClose,
  type GlobexCalendar,
  type GlobexClosedReason,
  type GlobexSession,
} from "@nq/core";
export { cacheMigrationProvider } from "./migrations.js";
export type { NativeOpenOptions, NativeSqliteDatabase, OpenNativeDatabase } from "./native-driver.js";
export {
  openSpendLedger,
  schemaOf,
  SqliteSpendLedger,
  type LedgerEntry,
  type LedgerFilter,
  type OpenSpendLedgerOptions,
  type RunRecord,
  type RunSpend,
  type SpendTotal,
} from "./spend-ledger.js";
/** Chain history in a SQLite file beside the cache (outputs/history.db): the profile's `history.plugin`. */
export {
  HISTORY_UNAVAILABLE,
  HistoryUnavailableError,
  openSqliteHistory,
  sqliteHistory as history,
  sqliteHistory,
  type OpenSqliteHistoryOptions,
} from "./sqlite-history.js";
export { sqliteHistoryConfigSchema, type SqliteHistoryConfig, type SqliteHistoryConfigInput } from "./history-config.js";
