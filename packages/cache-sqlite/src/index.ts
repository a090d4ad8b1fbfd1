/**
 * @nq/cache-sqlite — a crash-safe SQLite cache for @nq options chains, so that every paid request happens
 * once. The runner loads it by the name in a profile's `cache.plugin`; library users call
 * `openSqliteCache`. Read in this order: the plugin definition, the library entry point, the config, the
 * TTL policy and the Globex calendar it uses; the store itself is in ./sqlite-chain-cache.ts.
 */
import { isAbsolute, resolve } from "node:path";
import { defineCache, silentLogger, type Logger } from "@nq/core";
import { sqliteCacheConfigSchema, type SqliteCacheConfig, type SqliteCacheConfigInput } from "./config.js";
import { loadBetterSqlite3, type OpenNativeDatabase } from "./native-driver.js";
import { SqliteChainCache, type SqliteChainCacheOptions } from "./sqlite-chain-cache.js";
import { createTtlPolicy } from "./ttl-policy.js";

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
  return SqliteChainCache.open({
    file,
    busyTimeoutMs: config.busy_timeout_ms,
    openNative: context.openDatabase ?? (await loadBetterSqlite3()),
    log: context.log,
    now: context.now,
    ttl: createTtlPolicy(config),
    storeRaw: config.store_raw,
    ...(context.beforeCommit ? { beforeCommit: context.beforeCommit } : {}),
  });
}

export { SqliteChainCache, type SqliteChainCacheOptions };
export { sqliteCacheConfigSchema, type SqliteCacheConfig, type SqliteCacheConfigInput, type TtlSetting } from "./config.js";
export { createTtlPolicy, expiresAtUnder, type TtlPolicy, type TtlPolicySettings, type TtlRule } from "./ttl-policy.js";
export {
  globexSessionAt,
  nextGlobexOpen,
  type EarlyClose,
  type GlobexCalendar,
  type GlobexClosedReason,
  type GlobexSession,
} from "./globex-calendar.js";
export { parseDuration } from "./duration.js";
export { cacheMigrationProvider } from "./migrations.js";
export type { NativeOpenOptions, NativeSqliteDatabase, OpenNativeDatabase } from "./native-driver.js";
