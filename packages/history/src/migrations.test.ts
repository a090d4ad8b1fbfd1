/**
 * Migration 0002 carries a history written under 0001 (one wide contracts table) into instruments, quote
 * contexts and quotes, and nothing is lost: every contract of every snapshot reads back exactly as it was
 * appended, and plain SQL on `nq_history_contracts` (now a view) sees the same rows as before.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { historyTestChain } from "@nq/core/testing";
import { Kysely, Migrator, SqliteDialect, sql, type SqliteDatabase } from "kysely";
import { afterEach, expect, it } from "vitest";
import { HISTORY_MIGRATION_LOCK_TABLE, HISTORY_MIGRATION_TABLE, historyMigrations, migrateHistory, type HistoryDatabase } from "./index.js";
import { openSqliteHistory } from "./test-support/sqlite-history.js";

const Database = createRequire(import.meta.url)("better-sqlite3") as new (file: string) => SqliteDatabase;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it("carries every contract of a history written under migration 0001 into the split tables, exactly", async () => {
  const dir = mkdtempSync(join(tmpdir(), "nq-history-migration-"));
  dirs.push(dir);
  const chains = [1, 2, 3].map((seed) => historyTestChain({ asOf: `2026-11-${String(17 + seed).padStart(2, "0")}T21:00:00.000Z`, seed }));
  // Same symbol, other terms, and the same contract twice: 0001 rows that must become distinct instruments.
  chains[1]!.contracts[0] = { ...chains[1]!.contracts[0]!, multiplier: 5, rawSymbol: null };
  chains[2]!.contracts.push({ ...chains[2]!.contracts[1]! });

  // The rows 0001 held for these chains are what the view gives today: the view has 0001's columns.
  const current = await openSqliteHistory(join(dir, "current.db"));
  const ids: string[] = [];
  for (const chain of chains) ids.push((await current.append({ profile: "p", chain, recordedAt: new Date("2026-11-20T21:00:07Z") })).id);
  await current.close();
  const source = new Kysely<HistoryDatabase>({ dialect: new SqliteDialect({ database: new Database(join(dir, "current.db")) }) });
  const snapshots = await source.selectFrom("nq_history_snapshots").selectAll().orderBy("id").execute();
  const contracts = await source.selectFrom("nq_history_contracts").selectAll().orderBy("snapshot_id").orderBy("ordinal").execute();
  await source.destroy();
  expect(contracts.length).toBe(chains.reduce((n, chain) => n + chain.contracts.length, 0));

  const file = join(dir, "old.db");
  const old = new Kysely<HistoryDatabase>({ dialect: new SqliteDialect({ database: new Database(file) }) });
  const migrator = new Migrator({ db: old, provider: historyMigrations("sqlite"), migrationTableName: HISTORY_MIGRATION_TABLE, migrationLockTableName: HISTORY_MIGRATION_LOCK_TABLE });
  expect((await migrator.migrateTo("0001-history-snapshots-and-contracts")).error).toBeUndefined();
  await old.insertInto("nq_history_snapshots").values(snapshots as never).execute();
  for (const row of contracts) await old.insertInto("nq_history_contracts").values(row as never).execute();
  const before = await sql<Record<string, unknown>>`select * from nq_history_contracts order by snapshot_id, ordinal`.execute(old);

  await migrateHistory(old, "sqlite");
  const after = await sql`select * from nq_history_contracts order by snapshot_id, ordinal`.execute(old);
  expect(after.rows).toEqual(before.rows);
  const instruments = await sql<{ n: number }>`select count(*) as n from nq_history_instruments`.execute(old);
  const distinctBefore = new Set(before.rows.map((row) => JSON.stringify([row.symbol, row.raw_symbol, row.underlying, row.product, row.root, row.expiration, row.expiration_time, row.strike, row.option_right, row.multiplier, row.raw_strike])));
  expect(instruments.rows[0]!.n).toBe(distinctBefore.size);
  await old.destroy();

  const migrated = await openSqliteHistory(file, { native: true });
  for (const [i, chain] of chains.entries()) expect((await migrated.getSnapshot(ids[i]!))?.contracts).toEqual(chain.contracts);
  // And it goes on: an append after the migration finds the carried instruments (no second row for them).
  const next = historyTestChain({ asOf: "2026-11-21T21:00:00.000Z", seed: 4 });
  const appended = await migrated.append({ profile: "p", chain: next, recordedAt: new Date() });
  expect((await migrated.getSnapshot(appended.id))?.contracts).toEqual(next.contracts);
  await migrated.close();
  const check = new Kysely<HistoryDatabase>({ dialect: new SqliteDialect({ database: new Database(file) }) });
  expect((await sql<{ n: number }>`select count(*) as n from nq_history_instruments`.execute(check)).rows[0]!.n).toBe(distinctBefore.size);
  await check.destroy();
});
