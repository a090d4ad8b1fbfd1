/** A SQLite history in a temp folder, opened the way a store package opens it (better-sqlite3, WAL, migrated). */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kysely, SqliteDialect, type SqliteDatabase } from "kysely";
import type { ChainHistoryFixture } from "@nq/core/testing";
import { createKyselyChainHistory, inProcessWriteTurn, migrateHistory, type HistoryDatabase, type KyselyChainHistoryOptions } from "../index.js";

type BetterSqlite3 = new (file: string, options?: { timeout?: number }) => SqliteDatabase & { pragma(source: string): unknown };
const Database = createRequire(import.meta.url)("better-sqlite3") as BetterSqlite3;

/** `native: true` hands the native handle over, so appends take the prepared-statement path. */
export async function openSqliteHistory(file: string, extra: Partial<KyselyChainHistoryOptions> & { native?: boolean } = {}) {
  const { native: useNative, ...options } = extra;
  const native = new Database(file, { timeout: 10_000 });
  const db = new Kysely<HistoryDatabase>({ dialect: new SqliteDialect({ database: native }) });
  // As a store package does: setting up takes locks, so in turn with this process's other writers.
  await inProcessWriteTurn(file, async () => {
    native.pragma("journal_mode = wal");
    native.pragma("synchronous = normal");
    await migrateHistory(db, "sqlite");
  });
  return createKyselyChainHistory({ db, dialect: "sqlite", location: file, ...(useNative ? { sqliteDatabase: native as never } : {}), ...options });
}

export async function sqliteHistoryFixture(extra: Partial<KyselyChainHistoryOptions> & { native?: boolean } = {}): Promise<ChainHistoryFixture> {
  const dir = mkdtempSync(join(tmpdir(), "nq-history-"));
  const file = join(dir, "history.db");
  const handles = [await openSqliteHistory(file, extra)];
  const another = async (options: Partial<KyselyChainHistoryOptions> = {}) => {
    const handle = await openSqliteHistory(file, { ...extra, ...options });
    handles.push(handle);
    return handle;
  };
  return {
    history: handles[0]!,
    openAnother: () => another(),
    openFailingBeforeCommit: () =>
      another({
        beforeCommit: () => {
          throw new Error("test: failing after the rows were written, before COMMIT");
        },
      }),
    cleanup: async () => {
      for (const handle of handles) await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
