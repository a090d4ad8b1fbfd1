/**
 * The cache store suite, written once and run against every `ManagedChainCache` (SQLite, PostgreSQL, a
 * third party's): what core's registry and the runner's `cache` commands rely on. The fleet single-flight
 * tests run when the store implements `claimFetch`.
 *
 *   describeChainCacheConformance("sqlite", { open: async ({ ttlMs }) => ({ cache, openAnother, cleanup }) });
 *
 * Each test opens a fresh, empty store through `open` and cleans it up after.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cacheKeyFor, type ChainCacheKey, type FetchClaim, type ManagedChainCache } from "../cache.js";
import { historyTestChain } from "./history-chains.js";

export interface ChainCacheFixture {
  /** A handle on a fresh, empty store whose TTL policy keeps every entry `ttlMs` after it was fetched. */
  cache: ManagedChainCache;
  /** Another handle on the same store, as a second process would open it. */
  openAnother(): Promise<ManagedChainCache>;
  /** Closes what is still open and removes the store. */
  cleanup(): Promise<void>;
}

export interface ChainCacheConformanceOptions {
  open(settings: { ttlMs: number }): Promise<ChainCacheFixture>;
  /** Per-test timeout (a server-backed store may need more). */
  timeoutMs?: number;
}

const TTL_MS = 3_600_000;
const request = { product: "NQ", expirations: ["2026-12-18"] };
const fetchedAt = new Date("2026-11-20T21:00:05.000Z");

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function describeChainCacheConformance(name: string, options: ChainCacheConformanceOptions): void {
  const timeout = options.timeoutMs ?? 30_000;
  const opened: ChainCacheFixture[] = [];
  const open = async (): Promise<ChainCacheFixture> => {
    const fixture = await options.open({ ttlMs: TTL_MS });
    opened.push(fixture);
    return fixture;
  };
  const chain = (seed = 1) => historyTestChain({ asOf: "2026-11-20T21:00:00.000Z", seed });
  const key = (source = "databento", extra: Record<string, unknown> = {}): ChainCacheKey => cacheKeyFor(source, { ...request, ...extra });

  describe(`chain cache conformance: ${name}`, () => {
    afterEach(async () => {
      for (const fixture of opened.splice(0)) await fixture.cleanup();
    }, timeout);

    it(
      "gives back a stored chain whole, with its fetch time, expiry under the TTL policy and cost",
      async () => {
        const { cache } = await open();
        const stored = chain();
        await cache.set(key(), { chain: stored, fetchedAt, costUsd: 0.1 + 0.2 });
        const entry = await cache.get(key(), fetchedAt);
        expect(entry?.chain).toEqual(stored);
        expect(entry).toMatchObject({
          fetchedAt: fetchedAt.toISOString(),
          expiresAt: new Date(fetchedAt.getTime() + TTL_MS).toISOString(),
          costUsd: 0.1 + 0.2,
          raw: null,
        });
      },
      timeout,
    );

    it(
      "never serves an entry at or after its expiry, and caps the expiry at ttlCapMs",
      async () => {
        const { cache } = await open();
        await cache.set(key(), { chain: chain(), fetchedAt, costUsd: 0 });
        const expiresAt = fetchedAt.getTime() + TTL_MS;
        expect(await cache.get(key(), new Date(expiresAt - 1))).not.toBeNull();
        expect(await cache.get(key(), new Date(expiresAt))).toBeNull();
        expect(await cache.get(key(), new Date(expiresAt + 86_400_000))).toBeNull();

        await cache.set(key("capped"), { chain: chain(), fetchedAt, costUsd: 0, ttlCapMs: 60_000 });
        const capped = await cache.get(key("capped"), fetchedAt);
        expect(capped?.expiresAt).toBe(new Date(fetchedAt.getTime() + 60_000).toISOString());
        expect(await cache.get(key("capped"), new Date(fetchedAt.getTime() + 60_000))).toBeNull();
        // A cap longer than the policy changes nothing.
        await cache.set(key("long-cap"), { chain: chain(), fetchedAt, costUsd: 0, ttlCapMs: TTL_MS * 10 });
        expect((await cache.get(key("long-cap"), fetchedAt))?.expiresAt).toBe(new Date(expiresAt).toISOString());
      },
      timeout,
    );

    it(
      "keys entries by source and request, and replaces an entry written again",
      async () => {
        const { cache } = await open();
        await cache.set(key(), { chain: chain(1), fetchedAt, costUsd: 1 });
        expect(await cache.get(key("barchart"), fetchedAt)).toBeNull();
        expect(await cache.get(key("databento", { strikeMin: 20000 }), fetchedAt)).toBeNull();
        await cache.set(key(), { chain: chain(2), fetchedAt: new Date(fetchedAt.getTime() + 1000), costUsd: 2 });
        const entry = await cache.get(key(), fetchedAt);
        expect(entry?.chain).toEqual(chain(2));
        expect(entry?.costUsd).toBe(2);
        expect((await cache.stats(fetchedAt)).entries).toBe(1);
      },
      timeout,
    );

    it(
      "counts entries, expired entries, hits, misses and the spend hits saved",
      async () => {
        const { cache } = await open();
        const empty = await cache.stats(fetchedAt);
        expect(empty).toMatchObject({ location: cache.location, entries: 0, expiredEntries: 0, hits: 0, misses: 0, hitRate: null, spendSavedUsd: 0 });
        await cache.set(key(), { chain: chain(), fetchedAt, costUsd: 0.75 });
        await cache.set(key("capped"), { chain: chain(), fetchedAt, costUsd: 0.5, ttlCapMs: 1000 });
        await cache.get(key(), fetchedAt);
        await cache.get(key(), fetchedAt);
        await cache.get(key("absent"), fetchedAt);
        const stats = await cache.stats(new Date(fetchedAt.getTime() + 5000));
        expect(stats).toMatchObject({ entries: 2, expiredEntries: 1, hits: 2, misses: 1, spendSavedUsd: 1.5 });
        expect(stats.hitRate).toBeCloseTo(2 / 3, 12);
        expect(stats.sizeBytes).toBeGreaterThanOrEqual(0);
      },
      timeout,
    );

    it(
      "purges only expired entries and clears all, saying how many went",
      async () => {
        const { cache } = await open();
        await cache.set(key(), { chain: chain(), fetchedAt, costUsd: 0 });
        await cache.set(key("short"), { chain: chain(), fetchedAt, costUsd: 0, ttlCapMs: 1000 });
        await cache.set(key("short2"), { chain: chain(), fetchedAt, costUsd: 0, ttlCapMs: 2000 });
        const later = new Date(fetchedAt.getTime() + 10_000);
        expect(await cache.purgeExpired(later)).toBe(2);
        expect(await cache.purgeExpired(later)).toBe(0);
        expect(await cache.get(key(), later)).not.toBeNull();
        expect(await cache.clear()).toBe(1);
        expect(await cache.get(key(), later)).toBeNull();
        expect((await cache.stats(later)).entries).toBe(0);
      },
      timeout,
    );

    it(
      "shares entries between two handles on one store, and takes concurrent writes from both whole",
      async () => {
        const fixture = await open();
        // The second handle opens (and checks its schema) while the first is writing.
        const [other] = await Promise.all([fixture.openAnother(), fixture.cache.set(key(), { chain: chain(1), fetchedAt, costUsd: 1 })]);
        try {
          expect((await other.get(key(), fetchedAt))?.chain).toEqual(chain(1));
          const keys = Array.from({ length: 10 }, (_, i) => key(`source-${i}`));
          await Promise.all(keys.map((k, i) => (i % 2 === 0 ? fixture.cache : other).set(k, { chain: chain(i), fetchedAt, costUsd: i })));
          for (const [i, k] of keys.entries()) expect((await (i % 2 === 0 ? other : fixture.cache).get(k, fetchedAt))?.chain).toEqual(chain(i));
          // Both write one key at once: a reader sees one of the two entries whole, never a mix.
          await Promise.all([fixture.cache.set(key("race"), { chain: chain(7), fetchedAt, costUsd: 7 }), other.set(key("race"), { chain: chain(8), fetchedAt, costUsd: 8 })]);
          const raced = await other.get(key("race"), fetchedAt);
          expect([7, 8]).toContain(raced?.costUsd);
          expect(raced?.chain).toEqual(chain(raced?.costUsd));
        } finally {
          await other.close();
        }
      },
      timeout,
    );

    it(
      "rejects reads and writes once closed, and closes twice without complaint",
      async () => {
        const fixture = await open();
        const other = await fixture.openAnother();
        await other.close();
        await other.close();
        await expect(other.get(key(), fetchedAt)).rejects.toThrow(/closed/);
        await expect(other.set(key(), { chain: chain(), fetchedAt, costUsd: 0 })).rejects.toThrow(/closed/);
        await fixture.cache.set(key(), { chain: chain(), fetchedAt, costUsd: 0 });
        expect(await fixture.cache.get(key(), fetchedAt)).not.toBeNull();
      },
      timeout,
    );

    describe("single flight across handles (claimFetch)", () => {
      const claimOptions = (overrides: Partial<{ leaseMs: number; waitMs: number; signal: AbortSignal }> = {}) => ({
        now: () => new Date(),
        leaseMs: 5_000,
        waitMs: 15_000,
        ...overrides,
      });
      const withClaims = async (context: { skip(): void }, count: number): Promise<{ handles: ManagedChainCache[]; close(): Promise<void> } | null> => {
        const fixture = await open();
        if (!fixture.cache.claimFetch) {
          context.skip();
          return null;
        }
        const handles = [fixture.cache];
        for (let i = 1; i < count; i += 1) handles.push(await fixture.openAnother());
        return { handles, close: async () => void (await Promise.all(handles.slice(1).map((h) => h.close()))) };
      };

      it(
        "lets exactly one of N concurrent claimants fetch; the others get its entry",
        async (context) => {
          const claims = await withClaims(context, 5);
          if (!claims) return;
          try {
            const stored = chain(3);
            const outcomes = await Promise.all(
              claims.handles.map(async (handle): Promise<FetchClaim["kind"] | "fetched"> => {
                const claim = await handle.claimFetch!(key(), claimOptions());
                if (claim.kind !== "fetch") {
                  if (claim.kind === "entry") expect(claim.entry.chain).toEqual(stored);
                  return claim.kind;
                }
                try {
                  await sleep(300); // the paid request
                  await handle.set(key(), { chain: stored, fetchedAt: new Date(), costUsd: 0.5 });
                } finally {
                  await claim.release();
                }
                return "fetched";
              }),
            );
            expect(outcomes.filter((o) => o === "fetched")).toHaveLength(1);
            expect(outcomes.filter((o) => o === "entry")).toHaveLength(4);
          } finally {
            await claims.close();
          }
        },
        timeout,
      );

      it(
        "answers a claimant with the entry that is already there",
        async (context) => {
          const claims = await withClaims(context, 1);
          if (!claims) return;
          await claims.handles[0]!.set(key(), { chain: chain(4), fetchedAt: new Date(), costUsd: 0 });
          const claim = await claims.handles[0]!.claimFetch!(key(), claimOptions());
          expect(claim.kind).toBe("entry");
          if (claim.kind === "entry") expect(claim.entry.chain).toEqual(chain(4));
          await claims.close();
        },
        timeout,
      );

      it(
        "hands the claim to a waiter at once when the fetcher releases it without an entry (its fetch failed)",
        async (context) => {
          const claims = await withClaims(context, 2);
          if (!claims) return;
          const [a, b] = claims.handles as [ManagedChainCache, ManagedChainCache];
          try {
            const first = await a.claimFetch!(key(), claimOptions());
            expect(first.kind).toBe("fetch");
            const started = Date.now();
            const waiting = b.claimFetch!(key(), claimOptions({ waitMs: 20_000 }));
            await sleep(200);
            if (first.kind === "fetch") await first.release();
            const second = await waiting;
            expect(second.kind).toBe("fetch");
            expect(Date.now() - started).toBeLessThan(5_000);
            if (second.kind === "fetch") await second.release();
          } finally {
            await claims.close();
          }
        },
        timeout,
      );

      it(
        "lets a waiter take over when the fetcher's lease expires (a claimant that died stops renewing)",
        async (context) => {
          const claims = await withClaims(context, 2);
          if (!claims) return;
          const [a, b] = claims.handles as [ManagedChainCache, ManagedChainCache];
          try {
            const first = await a.claimFetch!(key(), claimOptions({ leaseMs: 800 }));
            expect(first.kind).toBe("fetch");
            // Gone without releasing: no more renewals.
            await a.close().catch(() => {});
            const started = Date.now();
            const second = await b.claimFetch!(key(), claimOptions({ leaseMs: 800, waitMs: 20_000 }));
            expect(second.kind).toBe("fetch");
            expect(Date.now() - started).toBeLessThan(10_000);
            if (second.kind === "fetch") await second.release();
          } finally {
            await claims.close();
          }
        },
        timeout,
      );

      it(
        "keeps a live fetcher's claim past its lease (it renews), so a waiter times out after waitMs instead of fetching too",
        async (context) => {
          const claims = await withClaims(context, 2);
          if (!claims) return;
          const [a, b] = claims.handles as [ManagedChainCache, ManagedChainCache];
          try {
            const first = await a.claimFetch!(key(), claimOptions({ leaseMs: 400 }));
            expect(first.kind).toBe("fetch");
            const started = Date.now();
            const second = await b.claimFetch!(key(), claimOptions({ leaseMs: 400, waitMs: 1_500 }));
            expect(second.kind).toBe("timeout");
            expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
            if (first.kind === "fetch") await first.release();
          } finally {
            await claims.close();
          }
        },
        timeout,
      );

      it(
        "stops waiting when the caller aborts",
        async (context) => {
          const claims = await withClaims(context, 2);
          if (!claims) return;
          const [a, b] = claims.handles as [ManagedChainCache, ManagedChainCache];
          try {
            const first = await a.claimFetch!(key(), claimOptions());
            const controller = new AbortController();
            const waiting = b.claimFetch!(key(), claimOptions({ signal: controller.signal }));
            setTimeout(() => controller.abort(), 200);
            const started = Date.now();
            await expect(waiting).rejects.toThrow();
            expect(Date.now() - started).toBeLessThan(5_000);
            if (first.kind === "fetch") await first.release();
          } finally {
            await claims.close();
          }
        },
        timeout,
      );
    });
  });
}
