import { existsSync } from "node:fs";
import { join } from "node:path";
import { cacheKeyFor, createLogger, type LogEntry } from "@nq/core";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { openSqliteCache } from "./index.js";
import { generatedChain } from "./test-support/generated-chain.mjs";
import { openRawDatabase } from "./test-support/raw-database.js";
import { useTempFolders } from "./test-support/temp-folder.js";

const tempFolder = useTempFolders();
const request = { product: "NQ", expirations: ["2026-12-18"] };
const fetchedAt = new Date("2026-11-17T16:00:00Z");

describe("SqliteChainCache: reads and writes", () => {
  it("returns, after set, a chain that serializes byte-identically to the one stored — also after reopening", async () => {
    const dir = tempFolder();
    const chain = generatedChain(500, { source: "databento" });
    const key = cacheKeyFor("databento", request);
    const cache = await openSqliteCache({ baseDir: dir });
    await cache.set(key, { chain, fetchedAt, costUsd: 0.42 });
    const first = await cache.get(key, fetchedAt);
    const second = await cache.get(key, fetchedAt);
    expect(JSON.stringify(first?.chain)).toBe(JSON.stringify(chain));
    expect(JSON.stringify(second?.chain)).toBe(JSON.stringify(chain));
    expect(first).toMatchObject({ fetchedAt: fetchedAt.toISOString(), expiresAt: "2026-11-18T16:00:00.000Z", costUsd: 0.42, raw: null });
    await cache.close();
    expect(existsSync(join(dir, "outputs/cache.db"))).toBe(true);

    const reopened = await openSqliteCache({ baseDir: dir });
    expect(JSON.stringify((await reopened.get(key, fetchedAt))?.chain)).toBe(JSON.stringify(chain));
    await reopened.close();
  });

  it("keys entries by source and request", async () => {
    const cache = await openSqliteCache({ baseDir: tempFolder() });
    const chain = generatedChain(10);
    await cache.set(cacheKeyFor("databento", request), { chain, fetchedAt, costUsd: 0 });
    expect(await cache.get(cacheKeyFor("barchart", request), fetchedAt)).toBeNull();
    expect(await cache.get(cacheKeyFor("databento", { ...request, strikeMin: 20000 }), fetchedAt)).toBeNull();
    // Order and duplicates in the request do not change the key.
    expect(await cache.get(cacheKeyFor("databento", { product: "nq", expirations: ["2026-12-18", "2026-12-18"] }), fetchedAt)).not.toBeNull();
    await cache.close();
  });

  it("replaces an entry written again for the same key", async () => {
    const cache = await openSqliteCache({ baseDir: tempFolder() });
    const key = cacheKeyFor("databento", request);
    await cache.set(key, { chain: generatedChain(10, { seed: 1 }), fetchedAt, costUsd: 1 });
    const newer = generatedChain(12, { seed: 2 });
    await cache.set(key, { chain: newer, fetchedAt: new Date(fetchedAt.getTime() + 1000), costUsd: 2 });
    const entry = await cache.get(key, fetchedAt);
    expect(JSON.stringify(entry?.chain)).toBe(JSON.stringify(newer));
    expect(entry?.costUsd).toBe(2);
    expect((await cache.stats(fetchedAt)).entries).toBe(1);
    await cache.close();
  });

  it("stores the raw payload compressed only when store_raw is on, and gives back its type", async () => {
    const chain = generatedChain(10);
    const text = "definition,NQ.OPT\n".repeat(1000);
    const bytes = new Uint8Array(4096).map((_, i) => i % 251);
    const keep = await openSqliteCache({ baseDir: tempFolder(), store_raw: true });
    await keep.set(cacheKeyFor("a", request), { chain, fetchedAt, costUsd: 0, raw: text });
    await keep.set(cacheKeyFor("b", request), { chain, fetchedAt, costUsd: 0, raw: bytes });
    expect((await keep.get(cacheKeyFor("a", request), fetchedAt))?.raw).toBe(text);
    const back = (await keep.get(cacheKeyFor("b", request), fetchedAt))?.raw;
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    await keep.close();

    const drop = await openSqliteCache({ baseDir: tempFolder() });
    await drop.set(cacheKeyFor("a", request), { chain, fetchedAt, costUsd: 0, raw: text });
    expect((await drop.get(cacheKeyFor("a", request), fetchedAt))?.raw).toBeNull();
    await drop.close();
  });

  it("refuses to store a partial chain, so it can never be served as fresh", async () => {
    const cache = await openSqliteCache({ baseDir: tempFolder() });
    const chain = generatedChain(10);
    chain.metadata.complete = false;
    await expect(cache.set(cacheKeyFor("barchart", request), { chain, fetchedAt, costUsd: 0 })).rejects.toThrow(/partial chain from barchart/);
    expect(await cache.get(cacheKeyFor("barchart", request), fetchedAt)).toBeNull();
    await cache.close();
  });

  it("rejects bad options with the field and what was expected", async () => {
    await expect(openSqliteCache({ ttl: "soon" })).rejects.toThrow(/ttl: expected a duration like "24h"/);
    await expect(openSqliteCache({ busy_timeout_ms: 1.5 })).rejects.toThrow(/busy_timeout_ms/);
  });

  it("says it is closed instead of failing obscurely, and closes twice", async () => {
    const cache = await openSqliteCache({ baseDir: tempFolder() });
    await cache.close();
    await cache.close();
    await expect(cache.get(cacheKeyFor("a", request), fetchedAt)).rejects.toThrow(/closed/);
  });
});

describe("SqliteChainCache: expiry", () => {
  it("never serves an entry at or after its expiry", async () => {
    const cache = await openSqliteCache({ baseDir: tempFolder(), ttl: "1h" });
    const key = cacheKeyFor("databento", request);
    await cache.set(key, { chain: generatedChain(10), fetchedAt, costUsd: 0 });
    const expiry = new Date(fetchedAt.getTime() + 3_600_000);
    expect(await cache.get(key, new Date(expiry.getTime() - 1))).not.toBeNull();
    expect(await cache.get(key, expiry)).toBeNull();
    expect(await cache.get(key, new Date(expiry.getTime() + 86_400_000))).toBeNull();
    await cache.close();
  });

  it("applies the market-hours policy per source: a Friday-evening fetch lasts until Sunday 17:00 CT", async () => {
    const cache = await openSqliteCache({ baseDir: tempFolder(), ttl: "24h", ttl_by_source: { databento: "market-hours" } });
    const friday = new Date("2026-11-20T22:30:00Z"); // 16:30 CT, closed for the weekend
    await cache.set(cacheKeyFor("databento", request), { chain: generatedChain(10), fetchedAt: friday, costUsd: 0 });
    await cache.set(cacheKeyFor("saved", request), { chain: generatedChain(10), fetchedAt: friday, costUsd: 0 });
    expect((await cache.get(cacheKeyFor("databento", request), friday))?.expiresAt).toBe("2026-11-22T23:00:00.000Z");
    expect((await cache.get(cacheKeyFor("saved", request), friday))?.expiresAt).toBe("2026-11-21T22:30:00.000Z");
    expect(await cache.get(cacheKeyFor("databento", request), new Date("2026-11-22T23:00:00Z"))).toBeNull();
    await cache.close();
  });

  it("counts expired entries in stats and purges exactly those", async () => {
    const cache = await openSqliteCache({ baseDir: tempFolder(), ttl: "1h", ttl_by_source: { saved: "48h" } });
    await cache.set(cacheKeyFor("databento", request), { chain: generatedChain(10), fetchedAt, costUsd: 0 });
    await cache.set(cacheKeyFor("saved", request), { chain: generatedChain(10), fetchedAt, costUsd: 0 });
    const later = new Date(fetchedAt.getTime() + 2 * 3_600_000);
    expect(await cache.stats(later)).toMatchObject({ entries: 2, expiredEntries: 1 });
    expect(await cache.purgeExpired(later)).toBe(1);
    expect(await cache.stats(later)).toMatchObject({ entries: 1, expiredEntries: 0 });
    expect(await cache.get(cacheKeyFor("saved", request), later)).not.toBeNull();
    expect(await cache.clear()).toBe(1);
    expect((await cache.stats(later)).entries).toBe(0);
    await cache.close();
  });

  it("gives the space of cleared entries back to the file system", async () => {
    const cache = await openSqliteCache({ baseDir: tempFolder() });
    for (let i = 0; i < 5; i += 1) {
      await cache.set(cacheKeyFor(`source-${i}`, request), { chain: generatedChain(1000, { seed: i }), fetchedAt, costUsd: 0 });
    }
    const full = (await cache.stats(fetchedAt)).sizeBytes;
    expect(await cache.clear()).toBe(5);
    const emptied = (await cache.stats(fetchedAt)).sizeBytes;
    expect(emptied).toBeLessThan(full / 4);
    await cache.close();
  });
});

describe("SqliteChainCache: stats", () => {
  it("counts hits, misses and the spend hits saved, across reopenings", async () => {
    const dir = tempFolder();
    const cache = await openSqliteCache({ baseDir: dir });
    const empty = await cache.stats(fetchedAt);
    expect(empty).toMatchObject({ entries: 0, hits: 0, misses: 0, hitRate: null, spendSavedUsd: 0 });
    expect(empty.location).toBe(join(dir, "outputs/cache.db"));
    const key = cacheKeyFor("databento", request);
    expect(await cache.get(key, fetchedAt)).toBeNull();
    await cache.set(key, { chain: generatedChain(100), fetchedAt, costUsd: 0.25 });
    await cache.get(key, fetchedAt);
    await cache.close();

    const again = await openSqliteCache({ baseDir: dir });
    await again.get(key, fetchedAt);
    const stats = await again.stats(fetchedAt);
    expect(stats).toMatchObject({ entries: 1, hits: 2, misses: 1, spendSavedUsd: 0.5 });
    expect(stats.hitRate).toBeCloseTo(2 / 3);
    expect(stats.sizeBytes).toBeGreaterThan(0);
    expect(await again.integrityCheck()).toEqual([]);
    await again.close();
  });
});

describe("SqliteChainCache: an entry it cannot decode", () => {
  it("drops a truncated entry (its checksum no longer matches), with a warning, and misses", async () => {
    const dir = tempFolder();
    const logs: LogEntry[] = [];
    const cache = await openSqliteCache({ baseDir: dir, log: createLogger((entry) => logs.push(entry)) });
    const key = cacheKeyFor("databento", request);
    await cache.set(key, { chain: generatedChain(10), fetchedAt, costUsd: 0 });
    const raw = await openRawDatabase(join(dir, "outputs/cache.db"));
    await sql`update cache_entries set chain_json = substr(chain_json, 1, 100)`.execute(raw);
    await raw.destroy();

    expect(await cache.get(key, fetchedAt)).toBeNull();
    expect(logs.find((entry) => entry.level === "warn")?.message).toMatch(/cached chain for databento .* fails its checksum/);
    expect(await cache.stats(fetchedAt)).toMatchObject({ entries: 0, misses: 1, hits: 0 });
    await cache.close();
  });

  it("drops an entry whose checksummed bytes do not decode (an unknown raw encoding), with a warning, and misses", async () => {
    const dir = tempFolder();
    const logs: LogEntry[] = [];
    const cache = await openSqliteCache({ baseDir: dir, store_raw: true, log: createLogger((entry) => logs.push(entry)) });
    const key = cacheKeyFor("databento", request);
    await cache.set(key, { chain: generatedChain(10), fetchedAt, costUsd: 0, raw: "payload" });
    const raw = await openRawDatabase(join(dir, "outputs/cache.db"));
    await sql`update cache_entries set raw_encoding = 'zstd/bytes'`.execute(raw);
    await raw.destroy();

    expect(await cache.get(key, fetchedAt)).toBeNull();
    expect(logs.find((entry) => entry.level === "warn")?.message).toMatch(/cached chain for databento .* cannot be decoded .*unknown raw payload encoding/);
    expect(await cache.stats(fetchedAt)).toMatchObject({ entries: 0, misses: 1, hits: 0 });
    await cache.close();
  });
});
