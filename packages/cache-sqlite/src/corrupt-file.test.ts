import { randomBytes } from "node:crypto";
import { mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, closeSync, writeSync } from "node:fs";
import { join } from "node:path";
import { cacheKeyFor, createLogger, type LogEntry } from "@nq/core";
import { describe, expect, it } from "vitest";
import { setAsideDamagedDatabase } from "./database-file.js";
import sqliteCache, { openSqliteCache } from "./index.js";
import { generatedChain } from "./test-support/generated-chain.mjs";
import { useTempFolders } from "./test-support/temp-folder.js";

const tempFolder = useTempFolders();
const request = { product: "NQ" };
const now = new Date("2026-11-17T16:00:00.123Z");

function collectingLogger() {
  const entries: LogEntry[] = [];
  return { entries, log: createLogger((entry) => entries.push(entry)) };
}

async function provesWorking(cache: Awaited<ReturnType<typeof openSqliteCache>>) {
  const key = cacheKeyFor("databento", request);
  const chain = generatedChain(50);
  await cache.set(key, { chain, fetchedAt: now, costUsd: 0.1 });
  expect(JSON.stringify((await cache.get(key, now))?.chain)).toBe(JSON.stringify(chain));
  expect(await cache.integrityCheck()).toEqual([]);
}

describe("a corrupt or unreadable cache file", () => {
  it("sets a file of random bytes aside with a timestamp suffix and a warning, and works on a fresh file", async () => {
    const dir = tempFolder();
    const file = join(dir, "outputs/cache.db");
    mkdirSync(join(dir, "outputs"));
    const garbage = randomBytes(64 * 1024);
    writeFileSync(file, garbage);
    writeFileSync(`${file}-wal`, randomBytes(8 * 1024));
    const { entries, log } = collectingLogger();

    const cache = await sqliteCache.create(sqliteCache.configSchema.parse({}), { log, baseDir: dir, now: () => now });
    const movedTo = `${file}.corrupt-20261117T160000123Z`;
    expect(entries.filter((entry) => entry.level === "warn").map((entry) => entry.message)).toEqual([
      expect.stringMatching(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is damaged \\(SQLITE_NOTADB.*moved to .*cache\\.db\\.corrupt-20261117T160000123Z`)),
    ]);
    expect(readFileSync(movedTo).equals(garbage)).toBe(true);
    expect(readdirSync(join(dir, "outputs")).sort()).toEqual(
      expect.arrayContaining(["cache.db", "cache.db.corrupt-20261117T160000123Z", "cache.db.corrupt-20261117T160000123Z-wal"]),
    );
    await provesWorking(cache as Awaited<ReturnType<typeof openSqliteCache>>);
    await cache.close();
  });

  it("sets aside a file damaged past its header (found at open or at the first read) and carries on", async () => {
    const dir = tempFolder();
    const first = await openSqliteCache({ baseDir: dir, path: "cache.db" });
    for (let i = 0; i < 20; i += 1) {
      await first.set(cacheKeyFor(`source-${i}`, request), { chain: generatedChain(200, { seed: i }), fetchedAt: now, costUsd: 0 });
    }
    await first.close();
    const file = join(dir, "cache.db");
    const size = statSync(file).size;
    const fd = openSync(file, "r+");
    // Keep page 1 (the header and schema root); overwrite everything after it.
    writeSync(fd, randomBytes(size - 4096), 0, size - 4096, 4096);
    closeSync(fd);

    const { entries, log } = collectingLogger();
    const cache = await openSqliteCache({ baseDir: dir, path: "cache.db", log, now: () => now });
    const lookup = await cache.get(cacheKeyFor("source-3", request), now);
    expect(lookup).toBeNull();
    expect(entries.some((entry) => entry.level === "warn" && /is damaged .*SQLITE_(CORRUPT|NOTADB)/.test(entry.message))).toBe(true);
    expect(readdirSync(dir)).toContain("cache.db.corrupt-20261117T160000123Z");
    await provesWorking(cache);
    await cache.close();
  });

  it("keeps every set-aside file when it happens twice at the same instant", async () => {
    const dir = tempFolder();
    for (let round = 0; round < 2; round += 1) {
      writeFileSync(join(dir, "cache.db"), randomBytes(4096));
      const cache = await openSqliteCache({ baseDir: dir, path: "cache.db", now: () => now });
      await cache.close();
    }
    expect(readdirSync(dir).filter((name) => name.includes(".corrupt-")).sort()).toEqual([
      "cache.db.corrupt-20261117T160000123Z",
      "cache.db.corrupt-20261117T160000123Z-2",
    ]);
  });

  it("does not move a folder that sits where the file should be: it fails, naming the path", async () => {
    const dir = tempFolder();
    mkdirSync(join(dir, "cache.db"));
    await expect(openSqliteCache({ baseDir: dir, path: "cache.db" })).rejects.toThrow(/^cache unavailable: .*cache\.db is a folder, not a cache file\. Fix: .*--no-cache$/);
    expect(statSync(join(dir, "cache.db")).isDirectory()).toBe(true);
  });
});

describe("a path that cannot hold the cache", () => {
  it("fails with the path when its folder cannot be created", async () => {
    const dir = tempFolder();
    writeFileSync(join(dir, "not-a-folder"), "x");
    await expect(openSqliteCache({ baseDir: dir, path: "not-a-folder/cache.db" })).rejects.toThrow(/^cache unavailable: the folder of .*not-a-folder\/cache\.db cannot be created: a file is in the way \((EEXIST|ENOTDIR)/);
  });
});

describe("two processes finding the same damage", () => {
  it("leaves alone a file another process has already replaced with a fresh one", async () => {
    const dir = tempFolder();
    const file = join(dir, "cache.db");
    writeFileSync(file, randomBytes(4096));
    const failedIdentity = statSync(file).ino;
    // Another process got there first: the damaged file is gone, a fresh one is in its place.
    const fresh = await openSqliteCache({ path: file, now: () => now });
    await fresh.set(cacheKeyFor("databento", request), { chain: generatedChain(10), fetchedAt: now, costUsd: 0 });
    expect(statSync(file).ino).not.toBe(failedIdentity);

    const { entries, log } = collectingLogger();
    expect(setAsideDamagedDatabase({ file, log, now: () => now }, new Error("SQLITE_CORRUPT"), failedIdentity)).toEqual({ kind: "replaced" });
    expect(entries.filter((entry) => entry.level === "warn")).toEqual([]);
    expect(await fresh.get(cacheKeyFor("databento", request), now)).not.toBeNull();
    await fresh.close();
  });
});
