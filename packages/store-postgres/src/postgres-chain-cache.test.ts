import { randomBytes } from "node:crypto";
import { cacheKeyFor, createLogger, type LogEntry } from "@nq/core";
import { describeChainCacheConformance, historyTestChain } from "@nq/core/testing";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { openPostgresCache, type OpenPostgresCacheOptions } from "./index.js";
import { describeWithPostgres } from "./test-support/with-postgres.js";

function uniqueSchema(): string {
  return `t_${randomBytes(6).toString("hex")}`;
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

describeWithPostgres("the PostgreSQL cache", (server) => {
  describeChainCacheConformance("postgres", {
    timeoutMs: 60_000,
    open: async ({ ttlMs }) => {
      const schema = uniqueSchema();
      const options: OpenPostgresCacheOptions = { url: server().url, schema, ttl: ttlMs / 1000 };
      const cache = await openPostgresCache(options);
      const others: Awaited<ReturnType<typeof openPostgresCache>>[] = [];
      return {
        cache,
        openAnother: async () => {
          const other = await openPostgresCache(options);
          others.push(other);
          return other;
        },
        cleanup: async () => {
          await Promise.all([cache, ...others].map((handle) => handle.close()));
          await dropSchema(server().url, schema);
        },
      };
    },
  });

  describe("beyond the shared suite", () => {
    const request = { product: "NQ", expirations: ["2026-12-18"] };
    const fetchedAt = new Date("2026-11-20T21:00:05.000Z");
    const chain = historyTestChain({ asOf: "2026-11-20T21:00:00.000Z", seed: 5 });

    it("treats a row whose bytes changed after writing as a miss with a warning, and drops it", async () => {
      const logs: LogEntry[] = [];
      const schema = uniqueSchema();
      const cache = await openPostgresCache({ url: server().url, schema, log: createLogger((entry) => logs.push(entry)) });
      try {
        const key = cacheKeyFor("databento", request);
        await cache.set(key, { chain, fetchedAt, costUsd: 1.25 });
        const client = new pg.Client({ connectionString: server().url });
        await client.connect();
        // One strike gains a leading digit in place: still valid JSON, no longer what was written.
        await client.query(`update ${schema}.cache_entries set chain_json = regexp_replace(chain_json, '"strike":(\\d)', '"strike":1\\1')`);
        await client.end();
        expect(await cache.get(key, fetchedAt)).toBeNull();
        expect(logs.some((entry) => entry.level === "warn" && /fails its checksum/.test(entry.message))).toBe(true);
        expect((await cache.stats(fetchedAt)).entries).toBe(0);
        expect((await cache.stats(fetchedAt)).misses).toBe(1);
      } finally {
        await cache.close();
        await dropSchema(server().url, schema);
      }
    });

    it("keeps the raw payload (gzipped) when store_raw is on, and gives it back as the type it went in", async () => {
      const schema = uniqueSchema();
      const cache = await openPostgresCache({ url: server().url, schema, store_raw: true });
      try {
        const text = cacheKeyFor("barchart", request);
        const bytes = cacheKeyFor("databento", request);
        await cache.set(text, { chain, fetchedAt, costUsd: 0, raw: "<html>page</html>" });
        await cache.set(bytes, { chain, fetchedAt, costUsd: 0, raw: new Uint8Array([0x44, 0x42, 0x4e, 1, 2, 3]) });
        expect((await cache.get(text, fetchedAt))?.raw).toBe("<html>page</html>");
        expect(Array.from((await cache.get(bytes, fetchedAt))?.raw as Uint8Array)).toEqual([0x44, 0x42, 0x4e, 1, 2, 3]);
      } finally {
        await cache.close();
        await dropSchema(server().url, schema);
      }
    });

    it("does not cache a chain over max_entry_bytes, and says so", async () => {
      const logs: LogEntry[] = [];
      const schema = uniqueSchema();
      const cache = await openPostgresCache({ url: server().url, schema, max_entry_bytes: 2048, log: createLogger((entry) => logs.push(entry)) });
      try {
        const key = cacheKeyFor("databento", request);
        await cache.set(key, { chain, fetchedAt, costUsd: 0 });
        expect(await cache.get(key, fetchedAt)).toBeNull();
        expect(logs.find((entry) => entry.level === "warn")?.message).toMatch(/was not cached: it is larger than max_entry_bytes \(2 KiB\)/);
      } finally {
        await cache.close();
        await dropSchema(server().url, schema);
      }
    });

    it("uses the market-hours TTL from @nq/core", async () => {
      const schema = uniqueSchema();
      const cache = await openPostgresCache({ url: server().url, schema, ttl: "market-hours", market_hours: { open_ttl: "5m" } });
      try {
        const key = cacheKeyFor("databento", request);
        // Tuesday 15:58 CT: the entry ends at the 16:00 CT close, not five minutes later.
        const fetched = new Date("2026-11-17T21:58:00Z");
        await cache.set(key, { chain, fetchedAt: fetched, costUsd: 0 });
        expect((await cache.get(key, fetched))?.expiresAt).toBe("2026-11-17T22:00:00.000Z");
      } finally {
        await cache.close();
        await dropSchema(server().url, schema);
      }
    });
  });
});
