/**
 * Issue 18, the entries themselves: a checksum verified on every read (item 6), the migration that
 * introduces it, the entry size limit (item 8), core's ttlCapMs, and the file mode of new cache files.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { cacheKeyFor, createLogger, type LogEntry, type OptionsChain } from "@nq/core";
import { Migrator, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { serializeChainWithin } from "./entry-bytes.js";
import { openSqliteCache } from "./index.js";
import { cacheMigrationProvider } from "./migrations.js";
import { generatedChain } from "./test-support/generated-chain.mjs";
import { openRawDatabase } from "./test-support/raw-database.js";
import { useTempFolders } from "./test-support/temp-folder.js";

const tempFolder = useTempFolders();
const request = { product: "NQ" };
const fetchedAt = new Date("2026-11-17T16:00:00Z");

function collectingLogger() {
  const entries: LogEntry[] = [];
  return { entries, log: createLogger((entry) => entries.push(entry)), warnings: () => entries.filter((e) => e.level === "warn").map((e) => e.message) };
}

describe("a checksum per entry (issue 18, item 6)", () => {
  it("does not serve a chain in which one digit was changed after it was written: a miss, a warning, the entry dropped", async () => {
    const dir = tempFolder();
    const { log, warnings } = collectingLogger();
    const cache = await openSqliteCache({ baseDir: dir, log });
    const key = cacheKeyFor("databento", request);
    await cache.set(key, { chain: generatedChain(200), fetchedAt, costUsd: 1.5 });

    // One digit: the first bid 10.xx becomes 19.xx — still valid JSON, now a crossed quote (bid > ask).
    const raw = await openRawDatabase(join(dir, "outputs/cache.db"));
    await sql`update cache_entries set chain_json = substr(chain_json, 1, instr(chain_json, '"bid":10') + 6) || '9' || substr(chain_json, instr(chain_json, '"bid":10') + 8)`.execute(raw);
    const tampered = JSON.parse((await sql<{ chain_json: string }>`select chain_json from cache_entries`.execute(raw)).rows[0]!.chain_json) as OptionsChain;
    await raw.destroy();
    const crossed = tampered.contracts.find((contract) => contract.bid !== null && contract.ask !== null && contract.bid > contract.ask);
    expect(crossed?.bid).toBeGreaterThanOrEqual(19);
    expect(tampered.qualityMetrics.crossedQuotes).toBe(0); // the metrics still claim all is well

    expect(await cache.get(key, fetchedAt)).toBeNull();
    expect(warnings()).toEqual([expect.stringMatching(/cached chain for databento .* fails its checksum .*: it changed after it was written; dropping it/)]);
    expect(await cache.stats(fetchedAt)).toMatchObject({ entries: 0, hits: 0, misses: 1 });
    await cache.close();
  });

  it("checks the raw payload too", async () => {
    const dir = tempFolder();
    const { log, warnings } = collectingLogger();
    const cache = await openSqliteCache({ baseDir: dir, log, store_raw: true });
    const key = cacheKeyFor("databento", request);
    await cache.set(key, { chain: generatedChain(10), fetchedAt, costUsd: 0, raw: "x".repeat(10_000) });
    const raw = await openRawDatabase(join(dir, "outputs/cache.db"));
    // Another valid gzip stream: it would decompress fine, to other bytes.
    await sql`update cache_entries set raw = ${(await import("node:zlib")).gzipSync("y".repeat(10_000))}`.execute(raw);
    await raw.destroy();
    expect(await cache.get(key, fetchedAt)).toBeNull();
    expect(warnings()).toEqual([expect.stringMatching(/fails its checksum \(raw payload sha256/)]);
    await cache.close();
  });

  it("upgrades a file written before checksums: its unverifiable entries are dropped, its counters kept", async () => {
    const dir = tempFolder();
    const file = join(dir, "cache.db");
    const raw = await openRawDatabase(file);
    // The file as version 0.1.0 left it: migration 0001 only, one entry, some history.
    const all = await cacheMigrationProvider.getMigrations();
    const first = Object.fromEntries(Object.entries(all).slice(0, 1));
    const migrated = await new Migrator({ db: raw, provider: { getMigrations: async () => first } }).migrateToLatest();
    expect(migrated.error).toBeUndefined();
    const chain = generatedChain(10);
    await raw
      .insertInto("cache_entries")
      .values({
        source: "databento",
        request_hash: cacheKeyFor("databento", request).requestHash,
        request_json: "{}",
        chain_json: JSON.stringify(chain),
        fetched_at: fetchedAt.toISOString(),
        expires_at: "2030-01-01T00:00:00.000Z",
        cost_usd: 2,
        product: "NQ",
        as_of: chain.metadata.asOf,
        delayed: 0,
        sample: 0,
        contracts: 10,
        written_at: fetchedAt.toISOString(),
      })
      .execute();
    await raw.insertInto("cache_counters").values({ source: "databento", hits: 3, misses: 4, spend_saved_usd: 6 }).execute();
    await raw.destroy();

    const { log, warnings } = collectingLogger();
    const cache = await openSqliteCache({ path: file, log });
    expect(await cache.stats(fetchedAt)).toMatchObject({ entries: 0, hits: 3, misses: 4, spendSavedUsd: 6 });
    const key = cacheKeyFor("databento", request);
    expect(await cache.get(key, fetchedAt)).toBeNull();
    await cache.set(key, { chain, fetchedAt, costUsd: 2 });
    expect(JSON.stringify((await cache.get(key, fetchedAt))?.chain)).toBe(JSON.stringify(chain));
    expect(await cache.integrityCheck()).toEqual([]);
    expect(warnings()).toEqual([]);
    await cache.close();
  });
});

describe("an entry size limit (issue 18, item 8)", () => {
  it("does not cache a chain over max_entry_bytes: set resolves, a warning says why, later lookups miss", async () => {
    const { log, warnings } = collectingLogger();
    const cache = await openSqliteCache({ baseDir: tempFolder(), log, max_entry_bytes: 64 * 1024 });
    const key = cacheKeyFor("databento", request);
    const big = generatedChain(2000); // about 1 MB of JSON
    await expect(cache.set(key, { chain: big, fetchedAt, costUsd: 3 })).resolves.toBeUndefined();
    expect(warnings()).toEqual([
      expect.stringMatching(/^databento's chain \(2000 contracts\) was not cached: it is larger than max_entry_bytes \(64 KiB; measured over 6[45](\.\d)? KiB before stopping\).*next run loads it from the source again/),
    ]);
    expect(await cache.get(key, fetchedAt)).toBeNull();
    expect((await cache.stats(fetchedAt)).entries).toBe(0);
    // A chain within the limit is cached as usual.
    const small = generatedChain(20);
    await cache.set(key, { chain: small, fetchedAt, costUsd: 3 });
    expect(JSON.stringify((await cache.get(key, fetchedAt))?.chain)).toBe(JSON.stringify(small));
    await cache.close();
  });

  it("does not serve an entry stored before the limit was lowered", async () => {
    const dir = tempFolder();
    const key = cacheKeyFor("databento", request);
    const roomy = await openSqliteCache({ baseDir: dir });
    await roomy.set(key, { chain: generatedChain(2000), fetchedAt, costUsd: 0 });
    await roomy.close();
    const strict = await openSqliteCache({ baseDir: dir, max_entry_bytes: 64 * 1024 });
    expect(await strict.get(key, fetchedAt)).toBeNull();
    await strict.close();
  });

  it("stops serializing at the limit, and otherwise writes exactly what JSON.stringify writes", () => {
    const chain = generatedChain(3000);
    const full = JSON.stringify(chain);
    const within = serializeChainWithin(chain, Buffer.byteLength(full));
    expect(within).toEqual({ fits: true, json: full, bytes: Buffer.byteLength(full) });
    const over = serializeChainWithin(chain, 100_000);
    expect(over.fits).toBe(false);
    if (!over.fits) expect(over.measuredBytes).toBeLessThan(100_000 + 2_000); // one contract past the limit, not 1.5 MB
    // Non-ASCII text and values JSON writes as null inside an array.
    const odd = { ...chain, metadata: { ...chain.metadata, source: "dätà ✓" }, contracts: [chain.contracts[0], undefined, chain.contracts[1]] } as unknown as OptionsChain;
    expect(serializeChainWithin(odd, 1e9)).toMatchObject({ fits: true, json: JSON.stringify(odd), bytes: Buffer.byteLength(JSON.stringify(odd)) });
  });

  it("rejects a limit out of range, naming the field", async () => {
    await expect(openSqliteCache({ max_entry_bytes: 10 })).rejects.toThrow(/max_entry_bytes: expected at least 1024 bytes/);
    await expect(openSqliteCache({ max_entry_bytes: 2 ** 40 })).rejects.toThrow(/max_entry_bytes: expected at most/);
  });
});

describe("core's ttlCapMs", () => {
  it("caps expires-at at fetchedAt + ttlCapMs, never extends the policy's, and refuses a nonsense cap", async () => {
    const cache = await openSqliteCache({ baseDir: tempFolder(), ttl: "1h" });
    const chain = generatedChain(10);
    const expiryOf = async (source: string, ttlCapMs: number | undefined) => {
      await cache.set(cacheKeyFor(source, request), { chain, fetchedAt, costUsd: 0, ...(ttlCapMs === undefined ? {} : { ttlCapMs }) });
      const raw = await openRawDatabase(cache.location);
      const row = await raw.selectFrom("cache_entries").select("expires_at").where("source", "=", source).executeTakeFirstOrThrow();
      await raw.destroy();
      return row.expires_at as string;
    };
    expect(await expiryOf("none", undefined)).toBe("2026-11-17T17:00:00.000Z");
    expect(await expiryOf("shorter", 60_000)).toBe("2026-11-17T16:01:00.000Z");
    expect(await expiryOf("longer", 86_400_000)).toBe("2026-11-17T17:00:00.000Z");
    expect(await expiryOf("zero", 0)).toBe("2026-11-17T16:00:00.000Z");
    expect(await cache.get(cacheKeyFor("zero", request), fetchedAt)).toBeNull();
    expect((await cache.get(cacheKeyFor("shorter", request), new Date(fetchedAt.getTime() + 59_999)))?.expiresAt).toBe("2026-11-17T16:01:00.000Z");
    expect(await cache.get(cacheKeyFor("shorter", request), new Date(fetchedAt.getTime() + 60_000))).toBeNull();
    await expect(cache.set(cacheKeyFor("bad", request), { chain, fetchedAt, costUsd: 0, ttlCapMs: -1 })).rejects.toThrow(/ttlCapMs must be a non-negative number/);
    await cache.close();
  });
});

describe("file mode", () => {
  it("creates the cache file, its -wal and its -shm as 0600 whatever the umask", async () => {
    const previous = process.umask(0o000);
    try {
      const dir = tempFolder();
      const cache = await openSqliteCache({ baseDir: dir, path: "cache.db" });
      await cache.set(cacheKeyFor("databento", request), { chain: generatedChain(10), fetchedAt, costUsd: 0 });
      const file = join(dir, "cache.db");
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect((statSync(path).mode & 0o777).toString(8), path).toBe("600");
      await cache.close();
    } finally {
      process.umask(previous);
    }
  });
});
