import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, type LogEntry } from "@nq/core";
import { historyTestChain } from "@nq/core/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { CACHE_FILE_MODE, history, HistoryUnavailableError, openSqliteCache, openSqliteHistory, sqliteHistoryConfigSchema } from "./index.js";
import { openRawDatabase } from "./test-support/raw-database.js";
import { useTempFolders } from "./test-support/temp-folder.js";

const tempFolder = useTempFolders();
const recordedAt = new Date("2026-11-20T21:00:07.000Z");
const chain = () => historyTestChain({ asOf: "2026-11-20T21:00:00.000Z" });

describe("the SQLite history plugin", () => {
  it("keeps history in outputs/history.db under the profile's folder, WAL, created 0600 like the cache", async () => {
    const dir = tempFolder();
    const logs: LogEntry[] = [];
    const store = await history.create(sqliteHistoryConfigSchema.parse({ plugin: "@nq/cache-sqlite" }), {
      baseDir: dir,
      log: createLogger((entry) => logs.push(entry), "history"),
      now: () => recordedAt,
    });
    const file = join(dir, "outputs/history.db");
    expect(store.location).toBe(file);
    const appended = await store.append({ profile: "desk", chain: chain(), recordedAt });
    await store.close();
    expect(statSync(file).mode & 0o777).toBe(CACHE_FILE_MODE);
    const raw = await openRawDatabase(file);
    expect((await sql<{ journal_mode: string }>`pragma journal_mode`.execute(raw)).rows[0]?.journal_mode).toBe("wal");
    expect((await sql<{ n: number }>`select count(*) as n from nq_history_contracts`.execute(raw)).rows[0]?.n).toBe(12);
    await raw.destroy();
    expect(logs.filter((entry) => entry.level === "warn")).toEqual([]);
    const reopened = await openSqliteHistory({ baseDir: dir });
    expect((await reopened.getSnapshot(appended.id))?.contracts).toEqual(chain().contracts);
    await reopened.close();
  });

  it("offers the configured retention to the runner, and none when the config keeps everything", async () => {
    const dir = tempFolder();
    const kept = await openSqliteHistory({ baseDir: dir });
    expect(kept.retention).toBeUndefined();
    await kept.close();
    const pruned = await openSqliteHistory({ baseDir: dir, retention: { max_age_days: 90, max_snapshots_per_profile: 500 } });
    expect(pruned.retention).toEqual({ maxAgeDays: 90, maxSnapshotsPerProfile: 500 });
    await pruned.close();
  });

  it("rejects an unknown or wrong config field, naming it", () => {
    expect(sqliteHistoryConfigSchema.safeParse({ pathh: "x.db" }).success).toBe(false);
    const bad = sqliteHistoryConfigSchema.safeParse({ retention: { max_age_days: -1 } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain("max_age_days");
    expect(sqliteHistoryConfigSchema.safeParse({ retention: { max_snapshots_per_profile: 2.5 } }).success).toBe(false);
    return expect(openSqliteHistory({ baseDir: tempFolder(), read_only: "yes" as unknown as boolean })).rejects.toThrow(/read_only/);
  });

  it("shares one database file with the cache: each keeps its own tables and migrations", async () => {
    const dir = tempFolder();
    const cache = await openSqliteCache({ baseDir: dir, path: "shared.db" });
    const store = await openSqliteHistory({ baseDir: dir, path: "shared.db" });
    await store.append({ profile: "p", chain: chain(), recordedAt });
    await cache.close();
    await store.close();
    const again = await openSqliteCache({ baseDir: dir, path: "shared.db" });
    expect((await again.stats(recordedAt)).entries).toBe(0);
    await again.close();
    const reopened = await openSqliteHistory({ baseDir: dir, path: "shared.db" });
    expect(await reopened.listSnapshots()).toHaveLength(1);
    await reopened.close();
  });

  it("read_only: reads an existing history, refuses writes, and creates nothing where there is none", async () => {
    const dir = tempFolder();
    const missing = openSqliteHistory({ baseDir: dir, read_only: true });
    await expect(missing).rejects.toBeInstanceOf(HistoryUnavailableError);
    await expect(missing).rejects.toMatchObject({ reason: "missing", code: "NQ_HISTORY_UNAVAILABLE" });
    expect(existsSync(join(dir, "outputs/history.db"))).toBe(false);

    const writer = await openSqliteHistory({ baseDir: dir });
    await writer.append({ profile: "p", chain: chain(), recordedAt });
    await writer.close();
    const reader = await openSqliteHistory({ baseDir: dir, read_only: true });
    expect(await reader.listSnapshots()).toHaveLength(1);
    await expect(reader.append({ profile: "p", chain: chain(), recordedAt })).rejects.toThrow(/read-only/);
    await expect(reader.applyRetention({ maxAgeDays: 0 }, new Date("2030-01-01T00:00:00Z"))).rejects.toThrow(/read-only/);
    await reader.close();
  });

  it("never sets a damaged history aside: opening fails, naming the file and the way out, and the bytes stay", async () => {
    const dir = tempFolder();
    mkdirSync(join(dir, "outputs"));
    const file = join(dir, "outputs/history.db");
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const before = readFileSync(file);
    const opening = openSqliteHistory({ baseDir: dir });
    await expect(opening).rejects.toBeInstanceOf(HistoryUnavailableError);
    await expect(opening).rejects.toThrow(/damaged.*left untouched.*Fix: restore it from a backup/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it("fails with the path and a fix when a folder is where the file should be", async () => {
    const dir = tempFolder();
    mkdirSync(join(dir, "outputs/history.db"), { recursive: true });
    const opening = openSqliteHistory({ baseDir: dir });
    await expect(opening).rejects.toMatchObject({ reason: "not-a-file" });
    await expect(opening).rejects.toThrow(/history\.db/);
  });
});
