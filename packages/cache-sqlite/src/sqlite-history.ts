/**
 * Chain history in a SQLite file (default outputs/history.db, beside the cache), through @nq/history's
 * kysely store: the same file handling as the cache — WAL, a busy timeout, a new file created 0600,
 * migrations on open in one IMMEDIATE transaction — with one difference: history is data, not a cache, so
 * a file SQLite reports damaged is never set aside or replaced; opening fails and says what to do.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { Kysely, SqliteDialect, sql } from "kysely";
import { defineHistory, silentLogger, type ChainHistory, type Logger } from "@nq/core";
import { createKyselyChainHistory, HISTORY_MIGRATION_TABLE, inProcessWriteTurn, historyMigrations, migrateHistory, type HistoryDatabase } from "@nq/history";
import { ensurePrivateDatabaseFile } from "./database-file.js";
import { diagnose, isDamagedDatabaseError } from "./diagnose.js";
import { describeError, oneLine, type CacheFailureReason } from "./errors.js";
import { historyRetentionOf, sqliteHistoryConfigSchema, type SqliteHistoryConfig, type SqliteHistoryConfigInput } from "./history-config.js";
import { loadBetterSqlite3, type NativeSqliteDatabase, type OpenNativeDatabase } from "./native-driver.js";

export const HISTORY_UNAVAILABLE = "NQ_HISTORY_UNAVAILABLE";

/** The history file cannot be opened. `message` is one line: the file, the cause, the fix. */
export class HistoryUnavailableError extends Error {
  override readonly name = "HistoryUnavailableError";
  readonly code = HISTORY_UNAVAILABLE;
  readonly file: string;
  readonly reason: CacheFailureReason;
  readonly fix: string;

  constructor(problem: string, details: { file: string; reason: CacheFailureReason; fix: string; cause?: unknown }) {
    super(oneLine(`history unavailable: ${problem}. Fix: ${details.fix}`), details.cause === undefined ? undefined : { cause: details.cause });
    this.file = details.file;
    this.reason = details.reason;
    this.fix = details.fix;
  }
}

/**
 * The plugin, named in a profile's `history.plugin` ("@nq/cache-sqlite"; the runner takes the package's
 * `history` export). `create` rejects with a `HistoryUnavailableError` when the file cannot be opened.
 */
export const sqliteHistory = defineHistory<SqliteHistoryConfig>({
  name: "sqlite",
  configSchema: sqliteHistoryConfigSchema,
  create: (config, context) => openParsedHistory(config, { baseDir: context.baseDir, log: context.log }),
});

export interface OpenSqliteHistoryOptions extends SqliteHistoryConfigInput {
  /** Where a relative `path` resolves; default: the current folder. */
  baseDir?: string;
  /** Receives the warnings (WAL refused…); default: silent. */
  log?: Logger;
  /** Another driver with better-sqlite3's shape; default: better-sqlite3, loaded on first open. */
  openDatabase?: OpenNativeDatabase;
  /** Runs inside each append transaction before COMMIT (tests fail it there). */
  beforeCommit?: (snapshotId: string) => Promise<void> | void;
}

/** Opens (creating or upgrading) a history file. Config fields are the profile's, validated the same way. */
export async function openSqliteHistory(options: OpenSqliteHistoryOptions = {}): Promise<ChainHistory> {
  const { baseDir = process.cwd(), log = silentLogger, openDatabase, beforeCommit, ...fields } = options;
  const parsed = sqliteHistoryConfigSchema.safeParse(fields);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(options)"}: ${issue.message}`);
    throw new TypeError(`invalid @nq/cache-sqlite history options:\n  - ${problems.join("\n  - ")}`);
  }
  return openParsedHistory(parsed.data, { baseDir, log, openDatabase, beforeCommit });
}

export async function openParsedHistory(
  config: SqliteHistoryConfig,
  context: { baseDir: string; log: Logger; openDatabase?: OpenNativeDatabase | undefined; beforeCommit?: OpenSqliteHistoryOptions["beforeCommit"] },
): Promise<ChainHistory> {
  const file = isAbsolute(config.path) ? config.path : resolve(context.baseDir, config.path);
  const settings = { file, busyTimeoutMs: config.busy_timeout_ms };
  let openNative: OpenNativeDatabase;
  try {
    openNative = context.openDatabase ?? (await loadBetterSqlite3());
  } catch (error) {
    throw unavailable(settings, error);
  }
  const { db, native } = config.read_only ? await openReadOnly(settings, openNative) : await openWritable(settings, openNative, context.log);
  const retention = historyRetentionOf(config);
  return createKyselyChainHistory({
    db,
    dialect: "sqlite",
    location: file,
    readOnly: config.read_only,
    // The prepared-statement insert path: the same connection kysely holds, so the same transaction.
    sqliteDatabase: native,
    ...(retention ? { retention } : {}),
    ...(context.beforeCommit ? { beforeCommit: context.beforeCommit } : {}),
  });
}

interface FileSettings {
  file: string;
  busyTimeoutMs: number;
}

interface OpenHistoryDatabase {
  db: Kysely<HistoryDatabase>;
  native: NativeSqliteDatabase;
}

async function openWritable(settings: FileSettings, openNative: OpenNativeDatabase, log: Logger): Promise<OpenHistoryDatabase> {
  const { file } = settings;
  prepareFile(settings);
  let native: NativeSqliteDatabase;
  try {
    native = openNative(file, { timeout: settings.busyTimeoutMs });
  } catch (error) {
    throw unavailable(settings, error);
  }
  const db = new Kysely<HistoryDatabase>({ dialect: new SqliteDialect({ database: native }) });
  try {
    await sql.raw(`pragma busy_timeout = ${Math.trunc(settings.busyTimeoutMs)}`).execute(db);
    // In turn with this process's other writers of the file (see inProcessWriteTurn): these take locks.
    await inProcessWriteTurn(file, async () => {
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode = wal`.execute(db);
      if (mode.rows[0]?.journal_mode !== "wal") {
        log.warn(`SQLite refused WAL mode for the history ${file} (got "${mode.rows[0]?.journal_mode}"); concurrent runs may wait on each other`);
      }
      // In WAL mode NORMAL keeps every commit atomic and the file consistent after a crash; a power cut may
      // lose the last appends, never half of one.
      await sql`pragma synchronous = normal`.execute(db);
      await migrateHistory(db, "sqlite");
    });
    return { db, native };
  } catch (error) {
    await db.destroy().catch(() => {});
    throw unavailable(settings, error);
  }
}

/** Inspection: the file must exist, hold the history tables, and not be newer than this version. */
async function openReadOnly(settings: FileSettings, openNative: OpenNativeDatabase): Promise<OpenHistoryDatabase> {
  const { file } = settings;
  const missing = (what: string) =>
    new HistoryUnavailableError(`there is no history at ${file} yet (${what})`, { file, reason: "missing", fix: `run once with history enabled, or check the history "path"` });
  if (!existsSync(file)) throw missing("no such file");
  let native: NativeSqliteDatabase;
  try {
    if (!statSync(file).isFile()) throw Object.assign(new Error("not a regular file"), { code: "SQLITE_CANTOPEN" });
    native = openNative(file, { timeout: settings.busyTimeoutMs, readonly: true, fileMustExist: true });
  } catch (error) {
    throw unavailable(settings, error);
  }
  const db = new Kysely<HistoryDatabase>({ dialect: new SqliteDialect({ database: native }) });
  try {
    const tables = await sql<{ name: string }>`select name from sqlite_schema where type = 'table'`.execute(db);
    if (!tables.rows.some((row) => row.name === HISTORY_MIGRATION_TABLE)) throw missing("the file holds no history tables");
    const applied = (await sql<{ name: string }>`select name from ${sql.table(HISTORY_MIGRATION_TABLE)}`.execute(db)).rows.map((row) => row.name);
    const known = Object.keys(await historyMigrations("sqlite").getMigrations());
    const unknown = applied.filter((name) => !known.includes(name));
    if (unknown.length > 0) throw new Error(`previously executed migration ${unknown[0]} is missing`);
    if (known.some((name) => !applied.includes(name))) {
      throw new HistoryUnavailableError(`${file} holds an older history schema and was opened read-only, so it cannot be upgraded`, {
        file,
        reason: "other",
        fix: "open it once without read_only (a run with history enabled) to upgrade it",
      });
    }
    return { db, native };
  } catch (error) {
    await db.destroy().catch(() => {});
    throw unavailable(settings, error);
  }
}

/** The folder exists, nothing but a file is at the path, and a new file is created with the cache's mode (0600). */
function prepareFile(settings: FileSettings): void {
  try {
    ensurePrivateDatabaseFile(settings.file);
  } catch (error) {
    throw unavailable(settings, error);
  }
}

/** The cache's diagnosis of what SQLite or the file system said, with the fixes a history needs. */
function unavailable(settings: FileSettings, error: unknown): HistoryUnavailableError {
  if (error instanceof HistoryUnavailableError) return error;
  const { file } = settings;
  const { reason, problem } = diagnose(file, error, settings);
  const elsewhere = `or point the history "path" elsewhere`;
  const fixes: Partial<Record<CacheFailureReason, string>> = {
    driver: "install better-sqlite3@12 next to @nq/cache-sqlite and build it (pnpm rebuild better-sqlite3)",
    "newer-version": `upgrade @nq/cache-sqlite, ${elsewhere}`,
    "disk-full": `free space on it, or shorten the history's retention, ${elsewhere}`,
    "read-only": `make ${file}, its -wal and -shm files and their folder writable by this user, ${elsewhere}`,
    "not-a-file": `move what is at that path away, ${elsewhere}`,
    permission: `check that this user may read and write ${file} and create files in ${dirname(file)}, ${elsewhere}`,
    io: `check the disk and the file system that hold ${dirname(file)}, and never delete ${file}-wal while a run uses it`,
    busy: "wait for the other run to finish, or raise the history's busy_timeout_ms",
  };
  if (isDamagedDatabaseError(error)) {
    // Unlike the cache, history is not rebuilt by the next run: nothing is moved or replaced.
    return new HistoryUnavailableError(`SQLite reports ${file} damaged (${describeError(error)}); it was left untouched`, {
      file,
      reason: "damaged",
      fix: `restore it from a backup (sqlite3 ${file} ".recover" may save what is readable), or move it aside to start a new history`,
      cause: error,
    });
  }
  return new HistoryUnavailableError(problem.replace(/a cache file/g, "a history file").replace(/the cache/g, "the history"), {
    file,
    reason,
    fix: fixes[reason] ?? `check the history "path" and its folder, ${elsewhere}`,
    cause: error,
  });
}
