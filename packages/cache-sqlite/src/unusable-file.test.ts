/**
 * Issue 18, the file: only real damage sets a file aside, and never while another process holds it
 * (item 7); inspection changes nothing; a cache that cannot open, or a disk that fills mid-run, fails
 * with one typed line the runner can turn into "running without the cache" (item 9).
 *
 * What cannot be done as root, and how it is covered: root ignores file permissions, so the permission
 * and read-only cases run the opener in a child process as user "nobody" (skipped, saying so, when this
 * process may not switch users); a read-only file system and a full disk are not available, so SQLITE_READONLY
 * comes from a driver opened read-only and SQLITE_FULL from SQLite's page limit (max_page_count), which
 * SQLite reports with the same code as ENOSPC.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheKeyFor, createLogger, runSources, defineSource, type LogEntry } from "@nq/core";
import { afterEach, describe, expect, it } from "vitest";
import { otherProcessesHolding } from "./file-holders.js";
import sqliteCache, { CacheOperationError, CacheUnavailableError, isCacheUnavailableError, openSqliteCache } from "./index.js";
import { loadBetterSqlite3, type OpenNativeDatabase } from "./native-driver.js";
import { generatedChain, generatedSourceResult } from "./test-support/generated-chain.mjs";
import { useTempFolders } from "./test-support/temp-folder.js";
import { startWriter, type WriterProcess } from "./test-support/writer-process.js";

const tempFolder = useTempFolders();
const request = { product: "NQ" };
const now = new Date("2026-11-17T16:00:00.123Z");
const running: WriterProcess[] = [];
afterEach(() => {
  for (const writer of running.splice(0)) if (writer.child.exitCode === null && writer.child.signalCode === null) writer.child.kill("SIGKILL");
});
const start = (options: Parameters<typeof startWriter>[0]) => {
  const writer = startWriter(options);
  running.push(writer);
  return writer;
};

function collectingLogger() {
  const entries: LogEntry[] = [];
  return { log: createLogger((entry) => entries.push(entry)), warnings: () => entries.filter((e) => e.level === "warn").map((e) => e.message) };
}
const setAside = (dir: string) => readdirSync(dir).filter((name) => name.includes(".corrupt-"));
const digest = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** better-sqlite3 with a twist applied to every connection it opens. */
async function driverWith(twist: (db: ReturnType<OpenNativeDatabase>) => void, readonly = false): Promise<OpenNativeDatabase> {
  const open = await loadBetterSqlite3();
  return (file, options) => {
    const db = open(file, { ...options, ...(readonly ? { readonly: true } : {}) });
    twist(db);
    return db;
  };
}

/** A cache file with `count` entries, closed. */
async function filledFile(dir: string, count = 20): Promise<string> {
  const file = join(dir, "cache.db");
  const cache = await openSqliteCache({ path: file });
  for (let i = 0; i < count; i += 1) await cache.set(cacheKeyFor(`source-${i}`, request), { chain: generatedChain(200, { seed: i }), fetchedAt: now, costUsd: 0 });
  await cache.close();
  return file;
}

/** Overwrites everything after page 1 (the header and schema root stay) with random bytes. */
function damagePastHeader(file: string): void {
  const size = statSync(file).size;
  const fd = openSync(file, "r+");
  writeSync(fd, randomBytes(size - 4096), 0, size - 4096, 4096);
  closeSync(fd);
}

describe("only real damage sets a file aside (issue 18, item 7)", () => {
  for (const code of ["SQLITE_CANTOPEN", "SQLITE_IOERR_SHORT_READ", "SQLITE_IOERR_READ", "SQLITE_PERM", "SQLITE_READONLY"]) {
    it(`${code} leaves the file where it is and fails with a typed, one-line error naming it`, async () => {
      const dir = tempFolder();
      const file = await filledFile(dir, 2);
      const before = digest(file);
      const failing: OpenNativeDatabase = () => {
        throw Object.assign(new Error("simulated"), { code });
      };
      const error = await openSqliteCache({ path: file, openDatabase: failing }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheUnavailableError);
      expect((error as CacheUnavailableError).message).toContain(file);
      expect((error as CacheUnavailableError).message).not.toContain("\n");
      expect((error as CacheUnavailableError).reason).not.toMatch(/damaged/);
      expect(setAside(dir)).toEqual([]);
      expect(digest(file)).toBe(before);
    });
  }

  it("a WAL removed under a live writer (SQLITE_IOERR_SHORT_READ) is reported by the opener, which moves nothing; the writer carries on", async () => {
    const dir = tempFolder();
    const file = join(dir, "cache.db");
    const writer = start({ file, prefix: "live", count: 40, contracts: 1000 });
    await writer.waitFor(/^committed 5 /);
    unlinkSync(`${file}-wal`);
    const { log, warnings } = collectingLogger();
    const outcome = await openSqliteCache({ path: file, log }).then(
      async (cache) => {
        await cache.close();
        return null;
      },
      (error: unknown) => error,
    );
    // Which read fails first depends on where the writer is; what matters: the opener moved nothing while
    // the writer was using the file (the old code renamed it in 4 of 6 runs).
    if (outcome !== null) {
      expect(isCacheUnavailableError(outcome), String(outcome)).toBe(true);
      expect((outcome as CacheUnavailableError).reason).toMatch(/^(io|damaged-in-use)$/);
      expect((outcome as Error).message).toContain(file);
    }
    expect(warnings()).toEqual([]);
    // The writer finishes its run. (Its entries after the removal are lost with the removed WAL: SQLite
    // cannot keep them, and the writer — then alone with the file — may find it damaged and set it aside.)
    expect(await writer.exit).toEqual({ code: 0, signal: null });
    expect(writer.lines.at(-1)).toBe("done");
    const cache = await openSqliteCache({ path: file });
    expect(await cache.integrityCheck()).toEqual([]);
    await cache.close();
  }, 60_000);

  it("a damaged file another process has open is left in place, naming that process; once it has gone, it is set aside", async () => {
    const dir = tempFolder();
    const file = await filledFile(dir);
    const holder = start({ file, prefix: "holder", count: 0, contracts: 0, holdOpen: true });
    const pid = Number((await holder.waitFor(/^holding \d+$/)).split(" ")[1]);
    expect(otherProcessesHolding(file)).toEqual({ known: true, pids: [pid] });
    damagePastHeader(file);

    const { log, warnings } = collectingLogger();
    const refused = await (async () => {
      const cache = await openSqliteCache({ path: file, log, now: () => now });
      try {
        await cache.get(cacheKeyFor("source-3", request), now);
        return null;
      } finally {
        await cache.close();
      }
    })().catch((error: unknown) => error);
    expect(refused, "the damage is found at open or at the first read").toBeInstanceOf(Error);
    expect((refused as CacheUnavailableError | CacheOperationError).reason).toBe("damaged-in-use");
    expect((refused as Error).message).toMatch(new RegExp(`damaged \\(SQLITE_(CORRUPT|NOTADB).*process ${pid} has it open, so it was left in place`));
    expect(setAside(dir)).toEqual([]);
    expect(warnings()).toEqual([]);

    holder.child.stdin!.write("close\n");
    expect(await holder.exit).toEqual({ code: 0, signal: null });
    const cache = await openSqliteCache({ path: file, log, now: () => now });
    expect(await cache.get(cacheKeyFor("source-3", request), now)).toBeNull();
    expect(setAside(dir)).toContain("cache.db.corrupt-20261117T160000123Z");
    expect(warnings()).toEqual([expect.stringMatching(/cache\.db is damaged .*moved to/)]);
    await cache.set(cacheKeyFor("source-3", request), { chain: generatedChain(10), fetchedAt: now, costUsd: 0 });
    expect(await cache.integrityCheck()).toEqual([]);
    await cache.close();
  }, 60_000);

  it("permission: a file this user may not open, or only read, is reported as such and never moved (as another user when run as root)", async (context) => {
    const dir = tempFolder();
    chmodSync(dir, 0o777); // the folder is writable by anyone, so moving the file would be possible
    const closed = await filledFile(dir, 1);
    const readOnlyDir = join(dir, "read-only");
    mkdirSync(readOnlyDir, { mode: 0o777 });
    chmodSync(readOnlyDir, 0o777);
    const readable = await filledFile(readOnlyDir, 1);
    chmodSync(closed, 0o600);
    chmodSync(readable, 0o644);
    const digests = [digest(closed), digest(readable)];
    const script = fileURLToPath(new URL("./test-support/open-cache-process.mjs", import.meta.url));
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) {
      chmodSync(closed, 0o000);
      chmodSync(readable, 0o444);
    }
    const openAs = (file: string) => {
      const result = spawnSync(process.execPath, [script, JSON.stringify({ file })], {
        encoding: "utf8",
        timeout: 30_000,
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      if (result.error) return { spawnError: result.error.message };
      return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null") as { reason?: string; message?: string; name?: string };
    };
    const first = openAs(closed);
    if ("spawnError" in first) return context.skip(`cannot run a process as another user here (${first.spawnError})`);
    expect(first).toMatchObject({ name: "CacheUnavailableError", reason: "permission", message: expect.stringContaining(closed) });
    expect(first.message).toMatch(/SQLITE_CANTOPEN.*Fix: check that this user may read and write/);
    const second = openAs(readable);
    expect(second).toMatchObject({ name: "CacheUnavailableError", reason: "read-only", message: expect.stringContaining(readable) });
    if (!asRoot) {
      chmodSync(closed, 0o600);
      chmodSync(readable, 0o644);
    }
    expect(setAside(dir)).toEqual([]);
    expect(setAside(readOnlyDir)).toEqual([]);
    expect([digest(closed), digest(readable)]).toEqual(digests);
  }, 60_000);
});

describe("inspection changes nothing (issue 18, item 7)", () => {
  it("read_only: stats on a damaged file reports it and leaves it untouched", async () => {
    const dir = tempFolder();
    const file = join(dir, "cache.db");
    writeFileSync(file, randomBytes(64 * 1024));
    const before = digest(file);
    const error = await openSqliteCache({ path: file, read_only: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheUnavailableError);
    expect((error as CacheUnavailableError).reason).toBe("damaged");
    expect((error as Error).message).toMatch(/damaged \(SQLITE_NOTADB.*left untouched.*Fix: a run with the cache enabled sets it aside/);
    expect(readdirSync(dir)).toEqual(["cache.db"]);
    expect(digest(file)).toBe(before);
  });

  it("read_only: stats on a sound file reads it without writing it; writes are refused; a missing file is not created", async () => {
    const dir = tempFolder();
    const file = await filledFile(dir, 3);
    const before = digest(file);
    const cache = await openSqliteCache({ path: file, read_only: true });
    expect(await cache.stats(now)).toMatchObject({ entries: 3, hits: 0, misses: 0 });
    expect(await cache.get(cacheKeyFor("source-1", request), now)).not.toBeNull();
    expect((await cache.stats(now)).hits).toBe(0); // not even the counters move
    await expect(cache.set(cacheKeyFor("x", request), { chain: generatedChain(5), fetchedAt: now, costUsd: 0 })).rejects.toMatchObject({ reason: "opened-read-only" });
    await expect(cache.clear()).rejects.toBeInstanceOf(CacheOperationError);
    await cache.close();
    expect(digest(file)).toBe(before);

    const missing = join(dir, "nothing-here", "cache.db");
    await expect(openSqliteCache({ path: missing, read_only: true })).rejects.toMatchObject({ reason: "missing" });
    expect(existsSync(join(dir, "nothing-here"))).toBe(false);
  });

  it("stats on a cache opened for writing never sets a damaged file aside either", async () => {
    const dir = tempFolder();
    const file = await filledFile(dir);
    const cache = await openSqliteCache({ path: file });
    damagePastHeader(file);
    const error = await cache.stats(now).catch((e: unknown) => e);
    await cache.close();
    // The damage is in the pages stats counts: reported, as damage.
    expect(error).toBeInstanceOf(CacheOperationError);
    expect(error).toMatchObject({ reason: "damaged" });
    expect(setAside(dir)).toEqual([]);
  });
});

describe("a cache that cannot be used does not stop the run (issue 18, item 9)", () => {
  it("the plugin's create rejects with a typed one-line error for a folder at the path, naming the path, the cause and the fix", async () => {
    const dir = tempFolder();
    mkdirSync(join(dir, "outputs", "cache.db"), { recursive: true });
    const error = await Promise.resolve()
      .then(() => sqliteCache.create(sqliteCache.configSchema.parse({}), { log: createLogger(() => {}), baseDir: dir, now: () => now }))
      .catch((e: unknown) => e);
    expect(isCacheUnavailableError(error)).toBe(true);
    expect(error).toMatchObject({ name: "CacheUnavailableError", code: "NQ_CACHE_UNAVAILABLE", reason: "not-a-file", file: join(dir, "outputs", "cache.db") });
    expect((error as Error).message).toBe(
      `cache unavailable: ${join(dir, "outputs", "cache.db")} is a folder, not a cache file. Fix: remove or rename that folder, or point the cache "path" at a file; or run with --no-cache`,
    );
    expect(statSync(join(dir, "outputs", "cache.db")).isDirectory()).toBe(true);
  });

  it("a file that cannot be written (SQLite opens it read-only) fails to open as read-only, not as damaged", async () => {
    const dir = tempFolder();
    const file = await filledFile(dir, 1);
    const error = await openSqliteCache({ path: file, openDatabase: await driverWith(() => {}, true) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "CacheUnavailableError", reason: "read-only" });
    expect((error as Error).message).toMatch(/cannot be written by this process \(SQLITE_READONLY.*Fix: make .*writable/);
    expect(setAside(dir)).toEqual([]);
  });

  it("a full disk at open is a typed error; a disk that fills mid-run makes set reject with one line, and the registry carries on", async () => {
    const dir = tempFolder();
    const full = await openSqliteCache({ baseDir: dir, path: "new.db", openDatabase: await driverWith((db) => db.exec!("pragma max_page_count = 1")) }).catch((e: unknown) => e);
    expect(full).toMatchObject({ name: "CacheUnavailableError", reason: "disk-full" });
    expect((full as Error).message).toMatch(/^cache unavailable: the disk that holds .*new\.db is full \(SQLITE_FULL.*Fix: free space/);

    const cache = await openSqliteCache({ baseDir: dir, path: "filling.db", openDatabase: await driverWith((db) => db.exec!("pragma max_page_count = 40")) });
    const key = cacheKeyFor("databento", request);
    const error = await cache.set(key, { chain: generatedChain(2000), fetchedAt: now, costUsd: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheOperationError);
    expect(error).toMatchObject({ operation: "write", reason: "disk-full" });
    expect((error as Error).message).not.toContain("\n");
    // The file is still sound and still serves and takes what fits.
    await cache.set(key, { chain: generatedChain(5), fetchedAt: now, costUsd: 0 });
    expect(await cache.get(key, now)).not.toBeNull();

    // Through core's registry: the run succeeds, the failed write is one warning line.
    const { log, warnings } = collectingLogger();
    const source = defineSource({
      name: "big",
      capabilities: { chain: true, quotes: true, openInterest: true, settlement: true, volume: true, greeks: false, impliedVolatility: false, streaming: false, needsCredentials: false, costsMoney: false, delayed: false },
      configSchema: (await import("zod")).z.object({}),
      create: () => ({ load: async () => generatedSourceResult(2000) }),
    });
    const result = await runSources([{ name: "big", definition: source, config: {} }], { request, policy: "fallback", log, cache, now: () => now });
    expect(result.ok).toBe(true);
    expect(warnings()).toEqual([expect.stringMatching(/^could not write the cache: the disk that holds .*filling\.db is full \(SQLITE_FULL[^\n]*Fix: free space[^\n]*$/)]);
    await cache.close();
  });
});

describe("the lock table", () => {
  it("reads /proc/locks-style lines: other processes by inode, not this one; unknown when it cannot be read", () => {
    const dir = tempFolder();
    const file = join(dir, "x.db");
    writeFileSync(file, "x");
    const ino = statSync(file).ino;
    const table = [
      `1: POSIX  ADVISORY  READ 4242 fe:00:${ino} 1073741826 1073742335`,
      `2: POSIX  ADVISORY  READ ${process.pid} fe:00:${ino} 1073741826 1073742335`,
      `3: OFDLCK ADVISORY  READ -1 fe:00:${ino} 128 128`,
      `4: -> POSIX  ADVISORY  WRITE 77 fe:00:${ino} 0 EOF`,
      `5: POSIX  ADVISORY  READ 99 fe:00:${ino + 1} 0 EOF`,
    ].join("\n");
    expect(otherProcessesHolding(file, () => table)).toEqual({ known: true, pids: [-1, 77, 4242] });
    expect(
      otherProcessesHolding(file, () => {
        throw new Error("ENOENT");
      }),
    ).toMatchObject({ known: false });
    truncateSync(file, 0);
  });
});
