/**
 * Opening the cache file: WAL mode (readers never wait for a writer, and a write is atomic even when the
 * process dies mid-way), a busy timeout (a second process waits its turn instead of failing), and the
 * schema brought up to date. A new file is created with mode 0600 (SQLite gives its -wal and -shm files
 * the database file's mode).
 *
 * A file SQLite reports damaged (SQLITE_CORRUPT, SQLITE_NOTADB) is renamed aside with a timestamp suffix
 * (kept for a post-mortem, never deleted) and a fresh file is created — but only when no other process has
 * it open (see ./file-holders.ts). Anything else that stops the file from opening (permission, a read-only
 * file, a folder at the path, a full disk, an I/O error) leaves it alone and fails with a
 * `CacheUnavailableError` that names the file, the cause and the fix.
 *
 * Read-only mode (inspection) creates nothing, migrates nothing and moves nothing.
 */
import { closeSync, existsSync, fchmodSync, mkdirSync, openSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, SqliteDialect, sql } from "kysely";
import type { Logger } from "@nq/core";
import { inProcessWriteTurn } from "@nq/history";
import type { CacheDatabase } from "./database-schema.js";
import { diagnose, isDamagedDatabaseError } from "./diagnose.js";
import { CacheUnavailableError, describeError } from "./errors.js";
import { otherProcessesHolding } from "./file-holders.js";
import { migrateToLatest, unknownAndPendingMigrations } from "./migrations.js";
import type { NativeSqliteDatabase, OpenNativeDatabase } from "./native-driver.js";

export interface DatabaseFileOptions {
  /** Absolute path of the database file. */
  file: string;
  busyTimeoutMs: number;
  openNative: OpenNativeDatabase;
  log: Logger;
  now: () => Date;
  /** Inspection: open for reading only; never create, migrate or set aside. */
  readOnly?: boolean;
}

/** The open file: kysely for every query, and the native handle for the maintenance kysely cannot run. */
export interface OpenCacheDatabase {
  db: Kysely<CacheDatabase>;
  native: NativeSqliteDatabase;
  /** Which file was opened (its inode), so a file another process already replaced is not set aside. */
  fileIdentity: number | null;
  /** Read-only mode only: the file's schema predates this version (its entries cannot be verified). */
  outdated: boolean;
}

/** The mode of a cache file this package creates: owner read/write only, whatever the umask. */
export const CACHE_FILE_MODE = 0o600;

export async function openCacheDatabase(options: DatabaseFileOptions): Promise<OpenCacheDatabase> {
  if (options.readOnly) return openReadOnly(options);
  prepareFile(options);
  const identity = fileIdentityOf(options.file);
  let retry = false;
  let refusal: CacheUnavailableError | null = null;
  try {
    // The file is renamed while SQLite still holds it: on close, SQLite deletes a WAL it could not use, and
    // that WAL belongs with the file that is kept for a post-mortem.
    return await openAndMigrate(options, (error) => {
      if (!isDamagedDatabaseError(error) || !isRegularFile(options.file)) return;
      try {
        const outcome = setAsideDamagedDatabase(options, error, identity);
        if (outcome.kind === "in-use") refusal = inUseError(options.file, error, outcome);
        else retry = true;
      } catch (renameError) {
        refusal = cannotSetAsideError(options, error, renameError);
      }
    });
  } catch (error) {
    if (refusal) throw refusal;
    if (!retry) throw unavailable(options, error);
  }
  prepareFile(options);
  try {
    return await openAndMigrate(options);
  } catch (second) {
    throw unavailable(options, second);
  }
}

export type SetAsideOutcome =
  | { kind: "moved"; movedTo: string }
  /** Another process already replaced the damaged file with a fresh one: nothing to do. */
  | { kind: "replaced" }
  /** Another process has the file open (`pids`; null when that cannot be known but is likely). */
  | { kind: "in-use"; pids: number[] | null; why: string };

/**
 * Renames a damaged file (and its WAL and shared-memory files) aside and says so through the logger —
 * unless another process has it open, or has already replaced it with a fresh one.
 */
export function setAsideDamagedDatabase(
  options: Pick<DatabaseFileOptions, "file" | "log" | "now">,
  reason: unknown,
  failedIdentity: number | null,
  holders: (file: string) => ReturnType<typeof otherProcessesHolding> = otherProcessesHolding,
): SetAsideOutcome {
  const { file, log } = options;
  if (failedIdentity !== null && fileIdentityOf(file) !== failedIdentity) {
    log.debug(`the cache database ${file} was already replaced by another process after it could not be read`);
    return { kind: "replaced" };
  }
  const found = holders(file);
  if (found.known && found.pids.length > 0) {
    return { kind: "in-use", pids: found.pids, why: `process ${found.pids.join(", ")} has it open` };
  }
  if (!found.known && existsSync(`${file}-shm`)) {
    // Every WAL-mode connection keeps the -shm file open; without a lock table to ask, its presence means
    // a live process cannot be ruled out (it may also be left over from a crash).
    return { kind: "in-use", pids: null, why: `${found.why}, and ${file}-shm exists, so another process may have it open` };
  }
  const movedTo = setAsideDatabaseFile(file, options.now());
  log.warn(
    `the cache database ${file} is damaged (${describeError(reason)}); it was moved to ${movedTo} and a fresh cache was created. ` +
      `Cached chains are lost, so the next loads go to the sources`,
    { file, movedTo },
  );
  return { kind: "moved", movedTo };
}

export function inUseError(file: string, cause: unknown, outcome: Extract<SetAsideOutcome, { kind: "in-use" }>): CacheUnavailableError {
  return new CacheUnavailableError(
    `SQLite reports ${file} damaged (${describeError(cause)}), but ${outcome.why}, so it was left in place (that process may be mid-write, or its WAL was removed or truncated under it)`,
    {
      file,
      reason: "damaged-in-use",
      fix: "try again once the other run has finished; a file still damaged then is set aside by the next run",
      cause,
    },
  );
}

export function cannotSetAsideError(options: Pick<DatabaseFileOptions, "file" | "busyTimeoutMs">, damage: unknown, renameError: unknown): CacheUnavailableError {
  const { fix } = diagnose(options.file, renameError, options);
  return new CacheUnavailableError(
    `SQLite reports ${options.file} damaged (${describeError(damage)}) and it could not be moved aside (${describeError(renameError)})`,
    { file: options.file, reason: "damaged", fix: `${fix}; or move the file away yourself (it is only a cache)`, cause: damage },
  );
}

export function unavailable(options: Pick<DatabaseFileOptions, "file" | "busyTimeoutMs">, error: unknown): CacheUnavailableError {
  if (error instanceof CacheUnavailableError) return error;
  const { reason, problem, fix } = diagnose(options.file, error, options);
  return new CacheUnavailableError(problem, { file: options.file, reason, fix, cause: error });
}

/** The folder exists, nothing but a file is at the path, and a new file is created 0600. */
function prepareFile(options: DatabaseFileOptions): void {
  try {
    ensurePrivateDatabaseFile(options.file);
  } catch (error) {
    throw unavailable(options, error);
  }
}

/**
 * Creates the folder and, when missing, the file with CACHE_FILE_MODE (0600), before SQLite opens it
 * (SQLite would create it with the umask's mode). Something other than a regular file at the path is an
 * SQLITE_CANTOPEN error; other failures are the file system's own. Shared by the cache and the history file.
 */
export function ensurePrivateDatabaseFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  if (existsSync(file)) {
    if (!statSync(file).isFile()) throw Object.assign(new Error(`not a regular file`), { code: "SQLITE_CANTOPEN" });
    return;
  }
  let fd: number;
  try {
    fd = openSync(file, "wx", CACHE_FILE_MODE);
  } catch (error) {
    if ((error as { code?: unknown }).code === "EEXIST") return; // another process created it first
    throw error;
  }
  try {
    // openSync's mode passes through the umask; this does not.
    fchmodSync(fd, CACHE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

async function openAndMigrate(options: DatabaseFileOptions, beforeClosingOnError?: (error: unknown) => void): Promise<OpenCacheDatabase> {
  let native: NativeSqliteDatabase;
  try {
    native = options.openNative(options.file, { timeout: options.busyTimeoutMs });
  } catch (error) {
    beforeClosingOnError?.(error);
    throw error;
  }
  const db = new Kysely<CacheDatabase>({ dialect: new SqliteDialect({ database: native }) });
  try {
    await sql.raw(`pragma busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`).execute(db);
    // In turn with this process's other writers of the file: setting auto_vacuum and BEGIN IMMEDIATE take
    // locks, and a driver that waits synchronously would block the thread another handle here needs.
    await inProcessWriteTurn(options.file, async () => {
      // Only takes effect on a new, empty file (SQLite's rule), before WAL mode writes its first page: lets
      // purge and clear give space back. Reading it is also the first read of the header: random bytes fail here.
      await sql`pragma auto_vacuum = incremental`.execute(db);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode = wal`.execute(db);
      if (mode.rows[0]?.journal_mode !== "wal") {
        options.log.warn(`SQLite refused WAL mode for ${options.file} (got "${mode.rows[0]?.journal_mode}"); concurrent runs may wait on each other`);
      }
      // In WAL mode, NORMAL keeps every commit atomic and the file consistent after a crash; it only lets a
      // power cut lose the last commits, which a cache can afford.
      await sql`pragma synchronous = normal`.execute(db);
      await migrateToLatest(db);
    });
    return { db, native, fileIdentity: fileIdentityOf(options.file), outdated: false };
  } catch (error) {
    try {
      beforeClosingOnError?.(error);
    } finally {
      await db.destroy().catch(() => {});
    }
    throw error;
  }
}

/**
 * Inspection: the file must exist and is only read. SQLite may create the empty -wal and -shm files it
 * needs to read a WAL database safely beside a live writer; the database file itself is never written.
 */
async function openReadOnly(options: DatabaseFileOptions): Promise<OpenCacheDatabase> {
  const { file } = options;
  const missing = (what: string) =>
    new CacheUnavailableError(`there is no cache at ${file} yet (${what})`, {
      file,
      reason: "missing",
      fix: `run once with the cache enabled, or check the cache "path"`,
    });
  if (!existsSync(file)) throw missing("no such file");
  let native: NativeSqliteDatabase;
  try {
    if (!statSync(file).isFile()) throw Object.assign(new Error("not a regular file"), { code: "SQLITE_CANTOPEN" });
    native = options.openNative(file, { timeout: options.busyTimeoutMs, readonly: true, fileMustExist: true });
  } catch (error) {
    throw readOnlyUnavailable(options, error);
  }
  const db = new Kysely<CacheDatabase>({ dialect: new SqliteDialect({ database: native }) });
  try {
    await sql.raw(`pragma busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`).execute(db);
    const tables = await sql<{ name: string }>`select name from sqlite_schema where type = 'table'`.execute(db);
    const names = new Set(tables.rows.map((row) => row.name));
    if (!names.has("cache_entries") || !names.has("cache_counters")) throw missing("the file holds no cache tables");
    const { unknown, pending } = await unknownAndPendingMigrations(db, names.has("kysely_migration"));
    if (unknown.length > 0) throw new Error(`previously executed migration ${unknown[0]} is missing`);
    return { db, native, fileIdentity: fileIdentityOf(file), outdated: pending.length > 0 };
  } catch (error) {
    await db.destroy().catch(() => {});
    throw readOnlyUnavailable(options, error);
  }
}

function readOnlyUnavailable(options: DatabaseFileOptions, error: unknown): CacheUnavailableError {
  if (!isDamagedDatabaseError(error)) return unavailable(options, error);
  return new CacheUnavailableError(`SQLite reports ${options.file} damaged (${describeError(error)}); opened read-only, it was left untouched`, {
    file: options.file,
    reason: "damaged",
    fix: "a run with the cache enabled sets it aside and starts a fresh file; or move it away yourself",
    cause: error,
  });
}

function setAsideDatabaseFile(file: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:.]/g, "");
  let target = `${file}.corrupt-${stamp}`;
  for (let n = 2; existsSync(target); n += 1) target = `${file}.corrupt-${stamp}-${n}`;
  renameSync(file, target);
  // A WAL left beside a fresh file would be replayed into it: it belongs to the old file, so it goes too.
  for (const suffix of ["-wal", "-shm", "-journal"]) {
    if (existsSync(file + suffix)) renameSync(file + suffix, target + suffix);
  }
  return target;
}

export function fileIdentityOf(file: string): number | null {
  try {
    return statSync(file).ino;
  } catch {
    return null;
  }
}

function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
