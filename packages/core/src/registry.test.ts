import { describe, expect, it } from "vitest";
import type { ChainCache, ChainCacheEntry, ChainCacheWrite } from "./cache.js";
import { AbortedError, AuthError, CostLimitError, EntitlementError, NetworkError, RateLimitError, toSourceError } from "./errors.js";
import { createLogger, type LogEntry } from "./logger.js";
import { retryDelayMs, runSources, withTimeout, type RegistryEntry } from "./registry.js";
import { defineSource, type SourceCapabilities, type SourceResult } from "./source.js";
import { z } from "zod";

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

/** A scripted source for registry tests: each load takes the next outcome from the script. */
function scripted(name: string, script: (Error | SourceResult)[], calls: { loads: number; closes: number } = { loads: 0, closes: 0 }, spendUsd = 0): RegistryEntry {
  const definition = defineSource({
    name,
    capabilities,
    configSchema: z.object({}),
    create: (_config, context) => ({
      async load() {
        const next = script[Math.min(calls.loads, script.length - 1)]!;
        calls.loads += 1;
        if (next instanceof Error) throw next;
        if (spendUsd) context.spend.record(name, "data", spendUsd);
        return next;
      },
      async close() {
        calls.closes += 1;
      },
    }),
  });
  return { name, definition, config: {} };
}

const logs: LogEntry[] = [];
const base = { request: { product: "NQ" }, log: createLogger((e) => logs.push(e)), maxRetryDelayMs: 5 };

describe("runSources", () => {
  it("falls back past a failing source, recording each attempt and why", async () => {
    const result = await runSources(
      [
        scripted("databento", [new EntitlementError("databento", "no licence for GLBX.MDP3")]),
        { name: "polygon", definition: null, config: null, skipReason: "disabled" },
        scripted("barchart", [rows]),
        scripted("saved", [rows]),
      ],
      { ...base, policy: "fallback" },
    );
    expect(result.ok).toBe(true);
    expect(result.source).toBe("barchart");
    expect(result.substituted).toBe(true);
    expect(result.attempts.map((a) => [a.source, a.outcome])).toEqual([
      ["databento", "failed"],
      ["polygon", "skipped"],
      ["barchart", "success"],
      ["saved", "skipped"],
    ]);
    expect(result.attempts[0]!.reason).toBe("databento: no licence for GLBX.MDP3");
    expect(result.attempts[0]!.error).toMatchObject({ name: "EntitlementError", retryable: false });
    expect(result.attempts[3]!.reason).toBe("not needed: barchart answered");
  });

  it("under strict uses only the first source and fails loudly", async () => {
    const second = { loads: 0, closes: 0 };
    const result = await runSources(
      [scripted("databento", [new AuthError("databento", "key refused")]), scripted("barchart", [rows], second)],
      { ...base, policy: "strict" },
    );
    expect(result.ok).toBe(false);
    expect(result.chain).toBeNull();
    expect(second.loads).toBe(0);
    expect(result.attempts[1]!.reason).toMatch(/strict/);
  });

  it("retries a retryable error a bounded number of times, honouring Retry-After, and closes the source once", async () => {
    const calls = { loads: 0, closes: 0 };
    const result = await runSources(
      [scripted("databento", [new RateLimitError("databento", "slow down", { retryAfterMs: 1 }), new NetworkError("databento", "reset"), rows], calls)],
      { ...base, policy: "fallback", retries: 2 },
    );
    expect(result.ok).toBe(true);
    expect(result.attempts[0]!.tries).toBe(3);
    expect(calls).toEqual({ loads: 3, closes: 1 });
    const gaveUp = { loads: 0, closes: 0 };
    const failed = await runSources([scripted("databento", [new NetworkError("databento", "reset")], gaveUp)], { ...base, policy: "fallback", retries: 2 });
    expect(failed.ok).toBe(false);
    expect(gaveUp.loads).toBe(3);
  });

  it("falls back instead of retrying early when Retry-After is longer than it is willing to wait", async () => {
    const calls = { loads: 0, closes: 0 };
    const result = await runSources(
      [scripted("barchart", [new RateLimitError("barchart", "HTTP 429", { retryAfterMs: 60_000 }), rows], calls), scripted("saved", [rows])],
      { ...base, policy: "fallback", retries: 2, maxRetryDelayMs: 10_000 },
    );
    expect(calls.loads).toBe(1);
    expect(result.source).toBe("saved");
    expect(result.attempts[0]!.error).toMatchObject({ name: "RateLimitError" });
  });

  it("does not retry what will fail the same way again", async () => {
    const calls = { loads: 0, closes: 0 };
    await runSources([scripted("databento", [new CostLimitError("databento", "too dear", { estimatedUsd: 9, limitUsd: 1 })], calls)], { ...base, policy: "fallback", retries: 3 });
    expect(calls.loads).toBe(1);
  });

  it("treats an empty chain as no data and moves on", async () => {
    const result = await runSources([scripted("a", [{ rows: [], asOf: rows.asOf }]), scripted("b", [rows])], { ...base, policy: "fallback" });
    expect(result.source).toBe("b");
    expect(result.attempts[0]!.reason).toMatch(/returned no usable contracts for NQ \(0 rows received/);
  });

  it("serves a cache hit without calling the source, and writes fresh results (not incomplete ones) to the cache", async () => {
    const store = new Map<string, ChainCacheEntry>();
    const cache: ChainCache = {
      async get(key) {
        return store.get(key.source + key.requestHash) ?? null;
      },
      async set(key, entry: ChainCacheWrite) {
        store.set(key.source + key.requestHash, { chain: entry.chain, fetchedAt: entry.fetchedAt.toISOString(), expiresAt: "2099-01-01T00:00:00Z", costUsd: entry.costUsd, raw: null });
      },
      async close() {},
    };
    const calls = { loads: 0, closes: 0 };
    const first = await runSources([scripted("databento", [rows], calls, 0.25)], { ...base, policy: "fallback", cache });
    expect(first.attempts[0]).toMatchObject({ cache: "miss", spendUsd: 0.25 });
    const second = await runSources([scripted("databento", [rows], calls, 0.25)], { ...base, policy: "fallback", cache });
    expect(calls.loads).toBe(1);
    expect(second.attempts[0]).toMatchObject({ cache: "hit", spendUsd: 0, savedUsd: 0.25 });
    expect(second.chain!.metadata.cache).toBe("hit");
    expect(JSON.stringify(second.chain!.contracts)).toBe(JSON.stringify(first.chain!.contracts));
    await runSources([scripted("databento", [rows], calls)], { ...base, policy: "fallback", cache, refresh: true });
    expect(calls.loads).toBe(2);
    const partial = await runSources([scripted("other", [{ ...rows, complete: false }])], { ...base, policy: "fallback", cache });
    expect(partial.chain!.metadata.complete).toBe(false);
    expect([...store.keys()].some((k) => k.startsWith("other"))).toBe(false);
  });

  it("bypasses the cache for a source whose entry says useCache: false", async () => {
    const touched: string[] = [];
    const cache: ChainCache = {
      async get(key) {
        touched.push(`get ${key.source}`);
        return null;
      },
      async set(key) {
        touched.push(`set ${key.source}`);
      },
      async close() {},
    };
    const result = await runSources([{ ...scripted("saved", [rows]), useCache: false }], { ...base, policy: "fallback", cache });
    expect(result.attempts[0]!.cache).toBe("off");
    expect(touched).toEqual([]);
  });

  it("stops at once when the run is aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(runSources([scripted("a", [rows])], { ...base, policy: "fallback", signal: controller.signal })).rejects.toThrow(/aborted/);
  });

  describe("chains that are not complete", () => {
    const hollow: SourceResult = { ...rows, rows: rows.rows.map((r) => ({ ...r, bid: null, ask: null })) };

    it("fails the run under 'strict' (exit 1 in the runner), with the reason", async () => {
      const result = await runSources([scripted("databento", [hollow]), scripted("saved", [rows])], { ...base, policy: "strict" });
      expect(result.ok).toBe(false);
      expect(result.attempts[0]).toMatchObject({ outcome: "failed" });
      expect(result.attempts[0]!.reason).toMatch(/incomplete chain refused under the "strict" policy: hollow chain/);
    });

    it("fails the run under 'strict' on a partial answer (HTTP 206)", async () => {
      const partial: SourceResult = { ...rows, complete: false, incompleteReasons: ["HTTP 206: some symbols did not resolve"] };
      const result = await runSources([scripted("databento", [partial])], { ...base, policy: "strict" });
      expect(result.ok).toBe(false);
      expect(result.attempts[0]!.reason).toMatch(/HTTP 206/);
    });

    it("under 'fallback' tries the next source, and answers with the incomplete chain only when none is complete", async () => {
      const better = await runSources([scripted("databento", [hollow]), scripted("barchart", [rows])], { ...base, policy: "fallback" });
      expect(better).toMatchObject({ ok: true, source: "barchart", substituted: true });
      expect(better.attempts.map((a) => a.outcome)).toEqual(["incomplete", "success"]);
      const only = await runSources([scripted("databento", [hollow]), scripted("barchart", [new NetworkError("barchart", "down")])], { ...base, policy: "fallback", retries: 0 });
      expect(only).toMatchObject({ ok: true, source: "databento", substituted: false });
      expect(only.chain!.metadata.complete).toBe(false);
      expect(only.chain!.metadata.incompleteReasons[0]).toMatch(/hollow chain/);
    });

    it("is never cached", async () => {
      const writes: string[] = [];
      const cache: ChainCache = { get: async () => null, set: async (key) => void writes.push(key.source), close: async () => {} };
      await runSources([scripted("databento", [hollow])], { ...base, policy: "fallback", cache });
      expect(writes).toEqual([]);
    });
  });

  describe("cache identity", () => {
    function recordingCache() {
      const store = new Map<string, ChainCacheEntry>();
      const writes: ChainCacheWrite[] = [];
      const cache: ChainCache = {
        get: async (key) => store.get(key.source + key.requestHash) ?? null,
        async set(key, entry) {
          writes.push(entry);
          store.set(key.source + key.requestHash, { chain: entry.chain, fetchedAt: entry.fetchedAt.toISOString(), expiresAt: "2099-01-01T00:00:00Z", costUsd: entry.costUsd, raw: null });
        },
        close: async () => {},
      };
      return { cache, writes };
    }
    const withConfig = (config: Record<string, unknown>, calls: { loads: number; closes: number }, extra: Partial<RegistryEntry["definition"] & object> = {}): RegistryEntry => {
      const entry = scripted("databento", [rows], calls);
      return { ...entry, config, definition: { ...entry.definition!, ...extra } };
    };

    it("a changed data-affecting config is a miss, not the old chain", async () => {
      const { cache } = recordingCache();
      const calls = { loads: 0, closes: 0 };
      await runSources([withConfig({ dataset: "GLBX.MDP3", api_key: "db-one" }, calls)], { ...base, policy: "fallback", cache });
      const sameData = await runSources([withConfig({ dataset: "GLBX.MDP3", api_key: "db-two" }, calls)], { ...base, policy: "fallback", cache });
      expect(sameData.attempts[0]!.cache).toBe("hit"); // a different key pays differently, the data is the same
      const otherDataset = await runSources([withConfig({ dataset: "XNAS.ITCH", api_key: "db-one" }, calls)], { ...base, policy: "fallback", cache });
      expect(otherDataset.attempts[0]!.cache).toBe("miss");
      expect(calls.loads).toBe(2);
    });

    it("uses the source's own cacheIdentity when it declares one", async () => {
      const { cache } = recordingCache();
      const calls = { loads: 0, closes: 0 };
      const identity = { cacheIdentity: (config: unknown) => (config as { base_url: string }).base_url };
      await runSources([withConfig({ base_url: "http://127.0.0.1:9/a", timeout_ms: 1 }, calls, identity)], { ...base, policy: "fallback", cache });
      const timeoutOnly = await runSources([withConfig({ base_url: "http://127.0.0.1:9/a", timeout_ms: 2 }, calls, identity)], { ...base, policy: "fallback", cache });
      expect(timeoutOnly.attempts[0]!.cache).toBe("hit");
      const otherUrl = await runSources([withConfig({ base_url: "http://127.0.0.1:9/b", timeout_ms: 1 }, calls, identity)], { ...base, policy: "fallback", cache });
      expect(otherUrl.attempts[0]!.cache).toBe("miss");
    });

    it("caches a chain the feed flagged as degraded only briefly, and says so", async () => {
      const { cache, writes } = recordingCache();
      const degraded: SourceResult = { ...rows, qualityWarnings: ["reduced quality: 2026-11-20 (degraded)"] };
      const result = await runSources([scripted("databento", [degraded])], { ...base, policy: "fallback", cache });
      expect(writes[0]!.ttlCapMs).toBe(5 * 60_000);
      expect(result.chain!.metadata.warnings.join(" ")).toMatch(/cached for 5 minutes only.*degraded/);
    });
  });

  describe("deadlines and the retry policy", () => {
    /** A source whose load never settles (and ignores its signal), as a broken plugin's may. */
    function hanging(name: string, seen: { signal: AbortSignal | null; closes: number } = { signal: null, closes: 0 }): RegistryEntry {
      const definition = defineSource({
        name,
        capabilities,
        configSchema: z.object({}),
        create: () => ({
          load: (_request, { signal }) => {
            seen.signal = signal;
            return new Promise<SourceResult>(() => {});
          },
          async close() {
            seen.closes += 1;
          },
        }),
      });
      return { name, definition, config: {} };
    }

    it("abandons a load that never settles at the source's deadline, aborts its signal, says why, and tries the next source", async () => {
      const seen = { signal: null as AbortSignal | null, closes: 0 };
      const started = Date.now();
      const result = await runSources([hanging("stuck", seen), scripted("saved", [rows])], { ...base, policy: "fallback", sourceDeadlineMs: 60 });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(result).toMatchObject({ ok: true, source: "saved", substituted: true });
      expect(result.attempts[0]).toMatchObject({ outcome: "failed", tries: 1 });
      expect(result.attempts[0]!.reason).toMatch(/^stuck: gave up after 60 ms \(the source's deadline\): waiting for load \(try 1 of 2\); next source tried$/);
      expect(result.attempts[0]!.error).toMatchObject({ name: "TimeoutError", kind: "timeout" });
      expect(seen.signal!.aborted).toBe(true);
      expect(seen.closes).toBe(1);
    });

    it("fails (never exits quietly) when the only source never settles, and a per-source deadline overrides the run's", async () => {
      const result = await runSources([{ ...hanging("stuck"), deadlineMs: 30 }], { ...base, policy: "strict", sourceDeadlineMs: 600_000 });
      expect(result.ok).toBe(false);
      expect(result.attempts[0]!.reason).toMatch(/gave up after 30 ms .*; no other source to try$/);
    });

    it("counts the deadline's pause between tries, and names the last error", async () => {
      const calls = { loads: 0, closes: 0 };
      const result = await runSources([scripted("flaky", [new RateLimitError("flaky", "HTTP 429", { retryAfterMs: 5_000 })], calls)], {
        ...base,
        policy: "fallback",
        retries: 3,
        maxRetryDelayMs: 10_000,
        sourceDeadlineMs: 80,
      });
      expect(calls.loads).toBe(1);
      expect(result.attempts[0]!.tries).toBe(1);
      expect(result.attempts[0]!.reason).toMatch(/gave up after 80 ms .*waiting \d+ ms to retry after: flaky: HTTP 429/);
    });

    it("counts a create() that fails as one try", async () => {
      const entry = scripted("broken", [rows]);
      const definition = { ...entry.definition!, create: () => Promise.reject(new AuthError("broken", "no key")) };
      const result = await runSources([{ ...entry, definition }], { ...base, policy: "fallback" });
      expect(result.attempts[0]).toMatchObject({ outcome: "failed", tries: 1, reason: "broken: no key" });
    });

    it("treats an AbortedError the source threw on its own as that source's failure, not the run's abort", async () => {
      const result = await runSources([scripted("odd", [new AbortedError("odd", "aborted itself")]), scripted("saved", [rows])], { ...base, policy: "fallback" });
      expect(result.source).toBe("saved");
      expect(result.attempts[0]).toMatchObject({ outcome: "failed", reason: "odd: aborted itself" });
    });

    it("stops a pending load at once when the run is aborted", async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      await expect(runSources([hanging("stuck")], { ...base, policy: "fallback", signal: controller.signal, sourceDeadlineMs: 600_000 })).rejects.toThrow(/aborted/);
    });

    it("retryDelayMs: jittered exponential backoff, Retry-After as a floor, null past the cap", () => {
      expect(retryDelayMs(1, null, { random: () => 0 })).toBe(125);
      expect(retryDelayMs(1, null, { random: () => 0.999 })).toBe(249);
      expect(retryDelayMs(3, null, { random: () => 0 })).toBe(500);
      expect(retryDelayMs(30, null, { random: () => 1, maxMs: 10_000 })).toBe(10_000);
      const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(2, null)));
      expect(delays.size).toBeGreaterThan(1);
      expect(retryDelayMs(1, 2_000, { random: () => 0 })).toBe(2_000);
      expect(retryDelayMs(1, 2_000, { random: () => 0.5 })).toBe(2_100);
      expect(retryDelayMs(1, 20_000, { maxMs: 10_000 })).toBeNull();
    });

    it("withTimeout: a signal that aborts with a TimeoutError after ms, or with the caller's reason first", async () => {
      const timed = withTimeout(new AbortController().signal, 10);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(timed.aborted).toBe(true);
      expect((timed.reason as Error).name).toBe("TimeoutError");
      expect(toSourceError("s", timed.reason)).toMatchObject({ kind: "timeout", retryable: true });
      const outer = new AbortController();
      const combined = withTimeout(outer.signal, 60_000);
      outer.abort(new Error("user"));
      expect(combined.aborted).toBe(true);
      expect((combined.reason as Error).message).toBe("user");
    });
  });

  describe("proxy sources", () => {
    const proxyResult: SourceResult = {
      ...rows,
      proxy: { for: "NQ", underlying: "I:NDX", product: "NDX", kind: "index-options", multiplier: 100, settlement: "cash", exercise: "european", label: "PROXY: NDX index options, not NQ futures options" },
    };

    it("are skipped with the reason unless the profile allows them", async () => {
      const entry = scripted("polygon", [proxyResult]);
      const declared = { ...entry, definition: { ...entry.definition!, proxy: true } };
      const result = await runSources([declared], { ...base, policy: "fallback" });
      expect(result.ok).toBe(false);
      expect(result.attempts[0]).toMatchObject({ outcome: "skipped" });
      expect(result.attempts[0]!.reason).toMatch(/proxy source.*allow_proxy/);
    });

    it("answer when allowed, and the chain says PROXY in its metadata", async () => {
      const entry = scripted("polygon", [proxyResult]);
      const result = await runSources([{ ...entry, definition: { ...entry.definition!, proxy: true } }], { ...base, policy: "fallback", allowProxy: true });
      expect(result.ok).toBe(true);
      expect(result.chain!.metadata.proxy!.label).toMatch(/^PROXY: NDX/);
    });

    it("a result that turns out to be a proxy is refused when not allowed", async () => {
      const result = await runSources([scripted("undeclared", [proxyResult]), scripted("saved", [rows])], { ...base, policy: "fallback" });
      expect(result.source).toBe("saved");
      expect(result.attempts[0]).toMatchObject({ outcome: "failed" });
      expect(result.attempts[0]!.reason).toMatch(/answered with a proxy/);
    });
  });
});
