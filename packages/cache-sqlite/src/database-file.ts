/**
 * Opening the cache file: WAL mode (readers never wait for a writer, and a write is atomic even when the
 * process dies mid-way), a busy timeout (a second process waits its turn instead of failing), and the
 * schema brought up to date. A file SQLite cannot read — random bytes, a truncated header, a damaged page —
 * is renamed aside with a timestamp suffix (kept for a post-mortem, never deleted) and a fresh file is
 * created: a broken cache must cost a re-fetch, not the run.
 */
import { existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, SqliteDialect, sql } from "kysely";
import type { Logger } from "@nq/core";
import type { CacheDatabase } from "./database-schema.js";
import { migrateToLatest } from "./migrations.js";
import type { NativeSqliteDatabase, OpenNativeDatabase } from "./native-driver.js";

export interface DatabaseFileOptions {
  /** Absolute path of the database file. */
  file: string;
  busyTimeoutMs: number;
  openNative: OpenNativeDatabase;
  log: Logger;
  now: () => Date;
}

/** The open file: kysely for every query, and the native handle for the maintenance kysely cannot run. */
export interface OpenCacheDatabase {
  db: Kysely<CacheDatabase>;
  native: NativeSqliteDatabase;
  /** Which file was opened (its inode), so a file another process already replaced is not set aside. */
  fileIdentity: number | null;
}

export async function openCacheDatabase(options: DatabaseFileOptions): Promise<OpenCacheDatabase> {
  try {
    mkdirSync(dirname(options.file), { recursive: true });
  } catch (error) {
    throw openFailure(options.file, error);
  }
  let setAside = false;
  const identity = fileIdentityOf(options.file);
  try {
    // The file is renamed while SQLite still holds it: on close, SQLite deletes a WAL it could not use, and
    // that WAL belongs with the file that is kept for a post-mortem.
    return await openAndMigrate(options, (error) => {
      if (isUnreadableDatabaseError(error) && isRegularFile(options.file)) {
        setAsideUnreadableDatabase(options, error, identity);
        setAside = true;
      }
    });
  } catch (error) {
    if (!setAside) throw openFailure(options.file, error);
  }
  try {
    return await openAndMigrate(options);
  } catch (second) {
    throw openFailure(options.file, second);
  }
}

/**
 * Renames the file (and its WAL and shared-memory files) aside and says so through the logger. When the
 * file at the path is no longer the one that failed (another process found the damage first and made a
 * fresh one), it is left alone; null then.
 */
export function setAsideUnreadableDatabase(
  options: Pick<DatabaseFileOptions, "file" | "log" | "now">,
  reason: unknown,
  failedIdentity: number | null,
): string | null {
  if (failedIdentity !== null && fileIdentityOf(options.file) !== failedIdentity) {
    options.log.debug(`the cache database ${options.file} was already replaced by another process after it could not be read`);
    return null;
  }
  const movedTo = setAsideDatabaseFile(options.file, options.now());
  options.log.warn(
    `the cache database ${options.file} cannot be read (${describeError(reason)}); it was moved to ${movedTo} and a fresh cache was created. ` +
      `Cached chains are lost, so the next loads go to the sources`,
    { file: options.file, movedTo },
  );
  return movedTo;
}

/** SQLite's verdicts that mean "this file is not a usable database", as opposed to "try again later". */
export function isUnreadableDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_CANTOPEN" || code === "SQLITE_IOERR_SHORT_READ";
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
    return { db, native, fileIdentity: fileIdentityOf(options.file) };
  } catch (error) {
    try {
      beforeClosingOnError?.(error);
    } finally {
      await db.destroy().catch(() => {});
    }
    throw error;
  }
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

function fileIdentityOf(file: string): number | null {
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

function openFailure(file: string, error: unknown): Error {
  const text = describeError(error);
  if (/migration .* is missing|previously executed migration/i.test(text)) {
    return new Error(
      `the cache database ${file} was written by a newer @nq/cache-sqlite (${text}); upgrade @nq/cache-sqlite, or point the cache "path" at another file`,
      { cause: error },
    );
  }
  return new Error(`cannot open the cache database ${file}: ${text}. Check the cache "path" and the folder's permissions, or run with --no-cache`, {
    cause: error,
  });
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}
