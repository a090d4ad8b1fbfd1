/**
 * The server dies mid-run: every operation of the open cache then fails with a one-line error (no
 * password, the process does not crash on the pool's idle-connection errors), and core's registry reads it
 * as a cache failure — the source is loaded and the run succeeds without the cache. The counting source is
 * a test double that lives only here; nothing shipped fakes a source.
 */
import { cacheKeyFor, createLogger, defineSource, runSources, type LogEntry, type RegistryEntry, type SourceRow } from "@nq/core";
import { historyTestChain } from "@nq/core/testing";
import { afterEach, expect, it } from "vitest";
import { z } from "zod";
import { openPostgresCache, StoreOperationError } from "./index.js";
import { findPostgresBinaries, startPostgresServer, type PostgresServer } from "./test-support/postgres-server.js";
import { describeWithPostgres } from "./test-support/with-postgres.js";

function countingSource() {
  const counter = { loads: 0 };
  const rows: SourceRow[] = [20000, 20100, 20200].flatMap((strike) =>
    (["C", "P"] as const).map((right) => ({
      underlying: "NQZ6",
      product: "NQ",
      root: "NQ",
      expiration: "2026-12-18",
      expirationTime: "2026-12-18T14:30:00.000Z",
      strike,
      right,
      bid: 100,
      ask: 101,
      settlement: 100.5,
      multiplier: 20,
      quoteTime: "2026-11-20T20:59:58.000Z",
    })),
  );
  const definition = defineSource({
    name: "counting",
    capabilities: {
      chain: true,
      quotes: true,
      openInterest: false,
      settlement: true,
      volume: false,
      greeks: false,
      impliedVolatility: false,
      streaming: false,
      needsCredentials: false,
      costsMoney: false,
      delayed: false,
    },
    configSchema: z.object({}),
    create: () => ({
      async load() {
        counter.loads += 1;
        return { rows, asOf: "2026-11-20T21:00:00.000Z", underlyingPrice: 20150 };
      },
    }),
  });
  const entry: RegistryEntry = { name: "counting", definition, config: {} };
  return { counter, entry };
}

const servers: PostgresServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

// describeWithPostgres gives the skip/CI behaviour; these tests start their own server, since they kill it.
describeWithPostgres("connection loss", () => {
  const fresh = async () => {
    const server = await startPostgresServer({ binDir: findPostgresBinaries().binDir });
    servers.push(server);
    return server;
  };

  it("every operation of an open cache fails with a one-line StoreOperationError once the server is gone", async () => {
    const server = await fresh();
    const logs: LogEntry[] = [];
    const cache = await openPostgresCache({ url: server.url, log: createLogger((entry) => logs.push(entry)), connect_timeout_ms: 2_000 });
    const key = cacheKeyFor("databento", { product: "NQ" });
    const fetchedAt = new Date("2026-11-20T21:00:05.000Z");
    const chain = historyTestChain({ asOf: "2026-11-20T21:00:00.000Z", seed: 2 });
    await cache.set(key, { chain, fetchedAt, costUsd: 1 });
    expect(await cache.get(key, fetchedAt)).not.toBeNull();

    server.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const failures = await Promise.all([
      cache.get(key, fetchedAt).then(() => null, (error: unknown) => error),
      cache.set(key, { chain, fetchedAt, costUsd: 1 }).then(() => null, (error: unknown) => error),
      cache.stats(fetchedAt).then(() => null, (error: unknown) => error),
      cache.claimFetch(key, { now: () => fetchedAt, leaseMs: 1000, waitMs: 1000 }).then(() => null, (error: unknown) => error),
    ]);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(StoreOperationError);
      const error = failure as StoreOperationError;
      expect(error.code).toBe("NQ_CACHE_OPERATION_FAILED");
      expect(["connection-lost", "unreachable"]).toContain(error.reason);
      expect(error.message).toMatch(new RegExp(`^could not (read|write|read the statistics of|claim) postgres://nq@127\\.0\\.0\\.1:${server.port}/nq \\(schema nq\\): `));
      expect(error.message).not.toContain(server.password);
      expect(error.message.split("\n")).toHaveLength(1);
    }
    await cache.close();
    expect(logs.map((entry) => entry.message).join("\n")).not.toContain(server.password);
  });

  it("core's registry runs on without the cache when the server dies mid-run: the source is loaded and the run succeeds", async () => {
    const server = await fresh();
    const logs: LogEntry[] = [];
    const log = createLogger((entry) => logs.push(entry));
    const { counter, entry } = countingSource();
    const clock = () => new Date("2026-11-20T21:00:05.000Z");
    const cache = await openPostgresCache({ url: server.url, log, connect_timeout_ms: 2_000 });
    const request = { product: "NQ", expirations: ["2026-12-18"] };

    const first = await runSources([entry], { request, policy: "fallback", log, cache, now: clock });
    expect(first.ok).toBe(true);
    expect(counter.loads).toBe(1);

    server.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await runSources([entry], { request, policy: "fallback", log, cache, now: clock });
    expect(second.ok).toBe(true);
    expect(second.chain?.contracts).toHaveLength(6);
    expect(counter.loads).toBe(2);
    expect(logs.some((line) => line.level === "warn" && /cache read failed|claim/.test(line.message) && /postgres:\/\/nq@127\.0\.0\.1/.test(line.message))).toBe(true);
    expect(logs.map((line) => line.message).join("\n")).not.toContain(server.password);
    await cache.close();
  });
});
