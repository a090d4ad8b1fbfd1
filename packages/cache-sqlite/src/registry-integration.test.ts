/**
 * The cache as the registry uses it: core's runSources with a test source that counts its loads. The
 * counting source is a test double that lives only here; nothing shipped fakes a source.
 */
import { createLogger, defineSource, runSources, type LogEntry, type RegistryEntry } from "@nq/core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import sqliteCache from "./index.js";
import { generatedSourceResult } from "./test-support/generated-chain.mjs";
import { useTempFolders } from "./test-support/temp-folder.js";

const tempFolder = useTempFolders();

function countingSource(costUsd: number) {
  const counter = { loads: 0 };
  const definition = defineSource({
    name: "counting",
    capabilities: {
      chain: true,
      quotes: true,
      openInterest: true,
      settlement: true,
      volume: true,
      greeks: false,
      impliedVolatility: false,
      streaming: false,
      needsCredentials: false,
      costsMoney: costUsd > 0,
      delayed: false,
    },
    configSchema: z.object({}),
    create: (_config, context) => ({
      async load() {
        counter.loads += 1;
        if (costUsd > 0) context.spend.record("counting", "one chain", costUsd);
        return generatedSourceResult(300);
      },
    }),
  });
  const entry: RegistryEntry = { name: "counting", definition, config: {} };
  return { counter, entry };
}

describe("runSources with the SQLite cache", () => {
  it("calls the source once: the second run is a cache hit with a byte-identical chain and no spend", async () => {
    const dir = tempFolder();
    const logs: LogEntry[] = [];
    const log = createLogger((entry) => logs.push(entry));
    const clock = () => new Date("2026-11-17T16:00:00Z");
    const { counter, entry } = countingSource(0.37);
    const request = { product: "NQ", strikeMin: 15000, strikeMax: 16000 };

    const runOnce = async () => {
      // A new cache per run, as a new process would open it.
      const cache = await sqliteCache.create(sqliteCache.configSchema.parse({ path: "cache.db" }), { log, baseDir: dir, now: clock });
      try {
        return await runSources([entry], { request, policy: "fallback", log, cache, now: clock });
      } finally {
        await cache.close();
      }
    };
    const first = await runOnce();
    const second = await runOnce();

    expect(counter.loads).toBe(1);
    expect(first.attempts[0]).toMatchObject({ outcome: "success", cache: "miss", spendUsd: 0.37 });
    expect(second.attempts[0]).toMatchObject({ outcome: "success", cache: "hit", spendUsd: 0 });
    expect(second.spendUsd).toBe(0);
    const plain = (chain: typeof first.chain) => JSON.stringify({ ...chain!, metadata: { ...chain!.metadata, cache: null, spendUsd: null } });
    expect(plain(second.chain)).toBe(plain(first.chain));
    expect(logs.some((line) => /cache hit .* saved \$0\.3700/.test(line.message))).toBe(true);

    const cache = await sqliteCache.create(sqliteCache.configSchema.parse({ path: "cache.db" }), { log, baseDir: dir, now: clock });
    expect(await cache.stats(clock())).toMatchObject({ entries: 1, hits: 1, misses: 1, spendSavedUsd: 0.37 });
    await cache.close();
  });

  it("loads again with refresh, and after the entry expires", async () => {
    const dir = tempFolder();
    const log = createLogger(() => {});
    const { counter, entry } = countingSource(0);
    const cache = await sqliteCache.create(sqliteCache.configSchema.parse({ ttl: "10m" }), { log, baseDir: dir, now: () => new Date() });
    const at = (iso: string) => () => new Date(iso);
    await runSources([entry], { request: { product: "NQ" }, policy: "strict", log, cache, now: at("2026-11-17T16:00:00Z") });
    await runSources([entry], { request: { product: "NQ" }, policy: "strict", log, cache, now: at("2026-11-17T16:09:59Z") });
    expect(counter.loads).toBe(1);
    await runSources([entry], { request: { product: "NQ" }, policy: "strict", log, cache, refresh: true, now: at("2026-11-17T16:09:59Z") });
    expect(counter.loads).toBe(2);
    // The refresh rewrote the entry (fetched 16:09:59, fresh until 16:19:59).
    await runSources([entry], { request: { product: "NQ" }, policy: "strict", log, cache, now: at("2026-11-17T16:19:00Z") });
    expect(counter.loads).toBe(2);
    const late = await runSources([entry], { request: { product: "NQ" }, policy: "strict", log, cache, now: at("2026-11-17T16:20:00Z") });
    expect(counter.loads).toBe(3);
    expect(late.attempts[0]?.cache).toBe("miss");
    await cache.close();
  });
});
