import { describe, expect, it } from "vitest";
import { z } from "zod";
import { cacheKeyFor, type ChainCache, type ChainCacheEntry, type ChainCacheKey, type FetchClaim, type FetchClaimOptions } from "./cache.js";
import { AuthError } from "./errors.js";
import { createLogger, type LogEntry } from "./logger.js";
import { fetchClaimTimings, runSources, type RegistryEntry, type RunOptions } from "./registry.js";
import { defineSource, type SourceCapabilities, type SourceResult } from "./source.js";

const capabilities: SourceCapabilities = {
  chain: true, quotes: true, openInterest: true, settlement: true, volume: true, greeks: false,
  impliedVolatility: false, streaming: false, needsCredentials: false, costsMoney: true, delayed: false,
};
const rows: SourceResult = {
  rows: [
    { expiration: "2026-12-18", strike: 25000, right: "C", bid: 1, ask: 2 },
    { expiration: "2026-12-18", strike: 25000, right: "P", bid: 1, ask: 2 },
  ],
  asOf: "2026-11-20T21:00:00Z",
};
const hollow: SourceResult = { ...rows, rows: rows.rows.map((r) => ({ ...r, bid: null, ask: null })) };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A paid source shared by every "process" of a test: each load takes the next outcome from the script,
 * after `delayMs`, and spends `spendUsd` when it answers.
 */
function paidSource(script: (Error | SourceResult)[], calls: { loads: number; closes: number }, options: { delayMs?: number; spendUsd?: number; hang?: boolean } = {}): RegistryEntry {
  const definition = defineSource({
    name: "databento",
    capabilities,
    configSchema: z.object({}),
    create: (_config, context) => ({
      async load(_request, { signal }) {
        const next = script[Math.min(calls.loads, script.length - 1)]!;
        calls.loads += 1;
        if (options.hang) {
          await new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }));
        }
        await pause(options.delayMs ?? 20);
        if (next instanceof Error) throw next;
        context.spend.record("databento", "data", options.spendUsd ?? 0.5);
        return next;
      },
      async close() {
        calls.closes += 1;
      },
    }),
  });
  return { name: "databento", definition, config: {} };
}

/**
 * A cache with single flight as the contract describes it, in one process: a lease per key with an
 * expiry that its holder's renewal timer pushes on; waiters poll for the entry, take over a lease that
 * lapsed or was released, and give up after `waitMs`. It counts what the registry did with it.
 */
function sharedCache() {
  const entries = new Map<string, ChainCacheEntry>();
  const leases = new Map<string, { holder: number; expiresAt: number }>();
  const seen = { claims: 0, grants: 0, releases: 0, options: [] as FetchClaimOptions[] };
  let nextHolder = 0;
  const id = (key: ChainCacheKey) => `${key.source}:${key.requestHash}`;
  const cache: ChainCache = {
    async get(key) {
      return entries.get(id(key)) ?? null;
    },
    async set(key, write) {
      entries.set(id(key), { chain: write.chain, fetchedAt: write.fetchedAt.toISOString(), expiresAt: "2099-01-01T00:00:00Z", costUsd: write.costUsd, raw: null });
    },
    async close() {},
    async claimFetch(key, options): Promise<FetchClaim> {
      seen.claims += 1;
      seen.options.push(options);
      const started = Date.now();
      for (;;) {
        if (options.signal?.aborted) throw new Error("claim abandoned: the caller's signal aborted");
        const entry = entries.get(id(key));
        if (entry) return { kind: "entry", entry };
        const lease = leases.get(id(key));
        if (!lease || lease.expiresAt <= Date.now()) {
          const holder = ++nextHolder;
          leases.set(id(key), { holder, expiresAt: Date.now() + options.leaseMs });
          seen.grants += 1;
          const renewal = setInterval(() => {
            const held = leases.get(id(key));
            if (held?.holder === holder) held.expiresAt = Date.now() + options.leaseMs;
          }, options.leaseMs / 3);
          return {
            kind: "fetch",
            async release() {
              clearInterval(renewal);
              seen.releases += 1;
              if (leases.get(id(key))?.holder === holder) leases.delete(id(key));
            },
          };
        }
        if (Date.now() - started >= options.waitMs) return { kind: "timeout" };
        await pause(2);
      }
    },
  };
  return { cache, entries, leases, seen };
}

function runOptions(cache: ChainCache, extra: Partial<RunOptions> = {}): RunOptions & { logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  return { request: { product: "NQ" }, policy: "fallback", log: createLogger((e) => logs.push(e)), maxRetryDelayMs: 5, retries: 0, cache, logs, ...extra };
}

describe("single flight across processes sharing a cache (claimFetch)", () => {
  it("N runs missing the same key at once: one loads and pays, the others are served its entry as hits", async () => {
    const { cache, seen } = sharedCache();
    const calls = { loads: 0, closes: 0 };
    const runs = Array.from({ length: 6 }, () => runOptions(cache));
    const results = await Promise.all(runs.map((options) => runSources([paidSource([rows], calls, { delayMs: 40, spendUsd: 0.75 })], options)));

    expect(calls.loads).toBe(1);
    expect(seen).toMatchObject({ claims: 6, grants: 1, releases: 1 });
    const fetched = results.filter((r) => r.attempts[0]!.cache === "miss");
    const served = results.filter((r) => r.attempts[0]!.cache === "hit");
    expect(fetched).toHaveLength(1);
    expect(served).toHaveLength(5);
    expect(fetched[0]!.attempts[0]).toMatchObject({ outcome: "success", tries: 1, spendUsd: 0.75, savedUsd: 0 });
    expect(fetched[0]!.spendUsd).toBe(0.75);
    for (const result of served) {
      expect(result.attempts[0]).toMatchObject({ outcome: "success", cache: "hit", tries: 0, spendUsd: 0, estimatedUsd: 0, savedUsd: 0.75 });
      expect(result.spendUsd).toBe(0);
      expect(result.chain!.metadata).toMatchObject({ cache: "hit", spendUsd: 0 });
      expect(JSON.stringify(result.chain!.contracts)).toBe(JSON.stringify(fetched[0]!.chain!.contracts));
    }
    const waiterLogs = runs.filter((r) => r.logs.some((e) => /another process fetched this chain while this one waited/.test(e.message)));
    expect(waiterLogs).toHaveLength(5);
  });

  it("asks for a lease and a wait derived from the source's deadline, and passes the run's signal", async () => {
    const { cache, seen } = sharedCache();
    const controller = new AbortController();
    await runSources([{ ...paidSource([rows], { loads: 0, closes: 0 }), deadlineMs: 8_000 }], runOptions(cache, { signal: controller.signal }));
    expect(seen.options[0]).toMatchObject({ leaseMs: 8_000, waitMs: 13_000, signal: controller.signal });
    expect(seen.options[0]!.now()).toBeInstanceOf(Date);
    expect(fetchClaimTimings(60_000)).toEqual({ leaseMs: 15_000, waitMs: 65_000 });
    expect(fetchClaimTimings(50)).toEqual({ leaseMs: 1_000, waitMs: 5_050 });
  });

  it("releases after a failed load, and a waiting run takes over and fetches", async () => {
    const { cache, seen } = sharedCache();
    const calls = { loads: 0, closes: 0 };
    const entry = () => paidSource([new AuthError("databento", "key refused"), rows], calls, { delayMs: 30 });
    const [first, second] = await Promise.all([runSources([entry()], runOptions(cache)), runSources([entry()], runOptions(cache))]);
    expect(calls.loads).toBe(2);
    expect(seen).toMatchObject({ grants: 2, releases: 2 });
    const outcomes = [first, second].map((r) => [r.attempts[0]!.outcome, r.attempts[0]!.cache]).sort();
    expect(outcomes).toEqual([["failed", "miss"], ["success", "miss"]]);
  });

  it("releases after an incomplete chain it does not cache, so a waiter loads its own", async () => {
    const { cache, seen, entries } = sharedCache();
    const calls = { loads: 0, closes: 0 };
    const entry = () => paidSource([hollow, rows], calls, { delayMs: 30 });
    const results = await Promise.all([runSources([entry()], runOptions(cache)), runSources([entry()], runOptions(cache))]);
    expect(calls.loads).toBe(2);
    expect(seen.releases).toBe(2);
    expect(results.map((r) => r.chain!.metadata.complete).sort()).toEqual([false, true]);
    expect(entries.size).toBe(1);
  });

  it("releases when the source's deadline passes, and when the run is aborted during the load", async () => {
    const { cache, seen } = sharedCache();
    const timedOut = await runSources([{ ...paidSource([rows], { loads: 0, closes: 0 }, { hang: true }), deadlineMs: 40 }], runOptions(cache));
    expect(timedOut.attempts[0]).toMatchObject({ outcome: "failed", cache: "miss" });
    expect(seen.releases).toBe(1);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await expect(runSources([paidSource([rows], { loads: 0, closes: 0 }, { hang: true })], runOptions(cache, { signal: controller.signal, sourceDeadlineMs: 600_000 }))).rejects.toThrow(/aborted/);
    expect(seen.releases).toBe(2);
  });

  it("fetches anyway, with a warning, when the wait for another process's entry times out", async () => {
    const calls = { loads: 0, closes: 0 };
    const cache: ChainCache = { get: async () => null, set: async () => {}, close: async () => {}, claimFetch: async () => ({ kind: "timeout" }) };
    const options = runOptions(cache, { sourceDeadlineMs: 2_000 });
    const result = await runSources([paidSource([rows], calls, { spendUsd: 0.25 })], options);
    expect(calls.loads).toBe(1);
    expect(result.attempts[0]).toMatchObject({ outcome: "success", cache: "miss", tries: 1, spendUsd: 0.25, savedUsd: 0 });
    expect(options.logs.find((e) => e.level === "warn")!.message).toBe("the wait for another process to fetch this chain ran out without an entry; fetching it here");
  });

  it("treats a claim that throws like a failed cache read: warns and fetches", async () => {
    const calls = { loads: 0, closes: 0 };
    const cache: ChainCache = {
      get: async () => null,
      set: async () => {},
      close: async () => {},
      claimFetch: async () => {
        throw new Error("connection to the store was lost");
      },
    };
    const options = runOptions(cache);
    const result = await runSources([paidSource([rows], calls)], options);
    expect(calls.loads).toBe(1);
    expect(result.attempts[0]).toMatchObject({ outcome: "success", cache: "miss" });
    expect(options.logs.some((e) => e.level === "warn" && e.message === "the cache's fetch claim failed, loading from the source instead: connection to the store was lost")).toBe(true);
  });

  it("stops waiting at once when the run is aborted, even if the store ignores the signal, and hands back a claim granted late", async () => {
    let grantLate: ((claim: FetchClaim) => void) | undefined;
    let released = 0;
    const calls = { loads: 0, closes: 0 };
    const cache: ChainCache = {
      get: async () => null,
      set: async () => {},
      close: async () => {},
      claimFetch: () => new Promise<FetchClaim>((resolve) => (grantLate = resolve)),
    };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    await expect(runSources([paidSource([rows], calls)], runOptions(cache, { signal: controller.signal }))).rejects.toThrow(/aborted while waiting for another process/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(calls.loads).toBe(0);
    grantLate!({ kind: "fetch", release: async () => void (released += 1) });
    await pause(5);
    expect(released).toBe(1);
  });

  it("a waiter whose store honours the signal ends with the run's abort, not the store's error", async () => {
    const { cache, leases } = sharedCache();
    const calls = { loads: 0, closes: 0 };
    // Another process holds the lease and never finishes.
    const key = cacheKeyFor("databento", { product: "NQ" }, {});
    leases.set(`${key.source}:${key.requestHash}`, { holder: -1, expiresAt: Number.MAX_SAFE_INTEGER });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    await expect(runSources([paidSource([rows], calls)], runOptions(cache, { signal: controller.signal }))).rejects.toMatchObject({ name: "AbortedError" });
    expect(calls.loads).toBe(0);
  });

  it("a refresh skips the claim as it skips the read", async () => {
    const { cache, seen } = sharedCache();
    await runSources([paidSource([rows], { loads: 0, closes: 0 })], runOptions(cache, { refresh: true }));
    expect(seen.claims).toBe(0);
  });
});
