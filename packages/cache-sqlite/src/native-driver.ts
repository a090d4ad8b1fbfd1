/**
 * The slice of better-sqlite3 this package touches. Typing it here, instead of importing
 * @types/better-sqlite3, keeps the native driver an optional peer (as kysely does): a library user can
 * hand in any driver with this shape, and our published types never mention better-sqlite3.
 */
import type { SqliteDatabase } from "kysely";

export interface NativeSqliteDatabase extends SqliteDatabase {
  /** better-sqlite3 sets this to false once the connection is closed. */
  readonly open?: boolean;
  /**
   * Runs SQL to completion. Needed for `pragma incremental_vacuum`, which frees one page per step: a
   * prepared statement run once (all kysely can do) frees one page. Optional: without it, purge and
   * clear leave the freed pages in the file for reuse.
   */
  exec?(sql: string): unknown;
}

export interface NativeOpenOptions {
  /** The busy timeout in ms: how long a statement waits for another connection's lock. */
  timeout: number;
  /** Open for reading only (inspection: `read_only: true`). */
  readonly?: boolean;
  /** Fail instead of creating the file when it is absent. */
  fileMustExist?: boolean;
}

/** Opens (creating when absent) the database file at an absolute path. */
export type OpenNativeDatabase = (file: string, options: NativeOpenOptions) => NativeSqliteDatabase;

type BetterSqlite3Module = { default: new (file: string, options: NativeOpenOptions) => NativeSqliteDatabase };

let betterSqlite3: Promise<OpenNativeDatabase> | null = null;

/** better-sqlite3, imported on first use so that a missing install fails with instructions, not at import. */
export function loadBetterSqlite3(): Promise<OpenNativeDatabase> {
  betterSqlite3 ??= importBetterSqlite3();
  return betterSqlite3;
}

async function importBetterSqlite3(): Promise<OpenNativeDatabase> {
  // A variable specifier: the driver is resolved at run time from the user's install, never bundled.
  const specifier = "better-sqlite3";
  let module: BetterSqlite3Module;
  try {
    module = (await import(specifier)) as BetterSqlite3Module;
  } catch (error) {
    betterSqlite3 = null;
    throw driverError(
      `@nq/cache-sqlite needs the native SQLite driver "better-sqlite3" (version 12), which could not be loaded: ${(error as Error).message}. ` +
        `Install it next to @nq/cache-sqlite (npm install better-sqlite3@12), or run the pipeline with --no-cache`,
      { cause: error },
    );
  }
  const Database = module.default;
  return (file, options) => {
    try {
      return new Database(file, options);
    } catch (error) {
      if (/bindings|NODE_MODULE_VERSION|\.node\b/i.test((error as Error).message)) {
        throw driverError(
          `better-sqlite3 is installed but its native binding is missing or was built for another Node version: ${(error as Error).message}. ` +
            `Run "pnpm rebuild better-sqlite3" (or "npm rebuild better-sqlite3")`,
          { cause: error },
        );
      }
      throw error;
    }
  };
}

/** Marked with a code, so the cache can tell "no driver" from a problem with the file. */
function driverError(message: string, options: { cause: unknown }): Error {
  return Object.assign(new Error(message, options), { code: "NQ_SQLITE_DRIVER" });
}
