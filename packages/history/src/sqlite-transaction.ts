/**
 * How every SQLite writer of a shared file (history, cache, spend ledger) writes: BEGIN IMMEDIATE, so the
 * write lock is taken up front — a deferred transaction that reads and then writes fails at once with
 * SQLITE_BUSY when another process wrote in between, because the busy timeout does not apply to a lock
 * upgrade — and in turn with the same process's other writers of the file (see inProcessWriteTurn).
 */
import { type Kysely, sql } from "kysely";

/** Runs `run` inside BEGIN IMMEDIATE … COMMIT on one connection of `db`; rolls back when it throws. */
export async function sqliteImmediateTransaction<DB, T>(db: Kysely<DB>, run: (connection: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await run(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => {});
      throw error;
    }
  });
}

/**
 * SQLite drivers such as better-sqlite3 wait for a lock synchronously (the busy timeout blocks the thread),
 * so two handles on one file in one process would deadlock: the waiter blocks the event loop the holder
 * needs to finish. Writers in one process therefore take turns here; other processes wait on SQLite's lock.
 */
const writeTurns = new Map<string, Promise<unknown>>();

/**
 * Runs `run` when every earlier writer under `key` (a database file's absolute path) in this process has
 * finished. Exported so the other SQLite stores of a file (the cache in @nq/cache-sqlite) take the same turns.
 */
export async function inProcessWriteTurn<T>(key: string, run: () => Promise<T>): Promise<T> {
  const previous = writeTurns.get(key) ?? Promise.resolve();
  const mine = previous.then(run, run);
  const settled = mine.catch(() => {});
  writeTurns.set(key, settled);
  try {
    return await mine;
  } finally {
    if (writeTurns.get(key) === settled) writeTurns.delete(key);
  }
}
