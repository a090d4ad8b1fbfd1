/**
 * Single flight on one cache file: several caches opened on the same file (separate connections, as
 * separate processes would hold them) and, for the crash, a real process killed with SIGKILL while it
 * holds the claim (test-support/claim-holder-process.mjs runs the built package).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheKeyFor, createLogger, defineSource, runSources, type LogEntry, type RegistryEntry } from "@nq/core";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { openSqliteCache, type SqliteChainCache } from "./index.js";
import { generatedChain, generatedSourceResult } from "./test-support/generated-chain.mjs";
import { openRawDatabase } from "./test-support/raw-database.js";
import { useTempFolders } from "./test-support/temp-folder.js";

const tempFolder = useTempFolders();
const opened: SqliteChainCache[] = [];
afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close();
});
async function open(file: string, logs: LogEntry[] = [], readOnly = false): Promise<SqliteChainCache> {
  const cache = await openSqliteCache({ path: file, log: createLogger((e) => logs.push(e)), read_only: readOnly });
  opened.push(cache);
  return cache;
}

const key = cacheKeyFor("counting", { product: "NQ" });
const claimOptions = (extra: { leaseMs?: number; waitMs?: number; signal?: AbortSignal } = {}) => ({ now: () => new Date(), leaseMs: 1_000, waitMs: 5_000, ...extra });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function claimRows(file: string): Promise<{ holder: string; expires_at: number }[]> {
  const raw = await openRawDatabase(file);
  try {
    const exists = await raw.selectFrom("sqlite_master").select("name").where("name", "=", "fetch_claims").executeTakeFirst();
    return exists ? await raw.selectFrom("fetch_claims").select(["holder", "expires_at"]).execute() : [];
  } finally {
    await raw.destroy();
  }
}

function countingSource(costUsd: number, delayMs: number) {
  const counter = { loads: 0 };
  const definition = defineSource({
    name: "counting",
    capabilities: {
      chain: true, quotes: true, openInterest: true, settlement: true, volume: true, greeks: false,
      impliedVolatility: false, streaming: false, needsCredentials: false, costsMoney: true, delayed: false,
    },
    configSchema: z.object({}),
    create: (_config, context) => ({
      async load() {
        counter.loads += 1;
        await pause(delayMs);
        context.spend.record("counting", "one chain", costUsd);
        return generatedSourceResult(200);
      },
    }),
  });
  const entry: RegistryEntry = { name: "counting", definition, config: {} };
  return { counter, entry };
}

describe("claimFetch on a shared SQLite file", () => {
  it("four runs on four connections missing the same key at once: one load, three hits served its entry, no claim left", async () => {
    const file = join(tempFolder(), "cache.db");
    const caches = [await open(file), await open(file), await open(file), await open(file)];
    const { counter, entry } = countingSource(0.42, 150);
    const logs: LogEntry[] = [];
    const log = createLogger((e) => logs.push(e));
    const request = { product: "NQ", strikeMin: 15000, strikeMax: 16000 };
    const results = await Promise.all(caches.map((cache) => runSources([entry], { request, policy: "fallback", log, cache })));

    expect(logs.filter((e) => e.level === "warn")).toEqual([]);
    expect(counter.loads).toBe(1);
    expect(results.map((r) => r.attempts[0]!.cache).sort()).toEqual(["hit", "hit", "hit", "miss"]);
    for (const result of results.filter((r) => r.attempts[0]!.cache === "hit")) {
      expect(result.attempts[0]).toMatchObject({ spendUsd: 0, savedUsd: 0.42, tries: 0 });
      expect(result.chain!.contracts.length).toBe(results[0]!.chain!.contracts.length);
    }
    expect(logs.filter((e) => /another process fetched this chain/.test(e.message))).toHaveLength(3);
    expect(await claimRows(file)).toEqual([]);
  });

  it("a claim granted: the others wait and get the entry once it is written; released, the row is gone", async () => {
    const file = join(tempFolder(), "cache.db");
    const [holder, waiter] = [await open(file), await open(file)];
    const claim = await holder.claimFetch(key, claimOptions());
    expect(claim.kind).toBe("fetch");
    const waiting = waiter.claimFetch(key, claimOptions());
    await pause(100);
    const chain = generatedChain(50, { source: "counting" });
    await holder.set(key, { chain, fetchedAt: new Date(), costUsd: 0.1 });
    if (claim.kind === "fetch") await claim.release();
    const served = await waiting;
    expect(served.kind).toBe("entry");
    expect(served.kind === "entry" && served.entry.chain.contracts.length).toBe(50);
    expect(await claimRows(file)).toEqual([]);
  });

  it("a release without an entry (the load failed) hands the claim to the next waiter", async () => {
    const file = join(tempFolder(), "cache.db");
    const [holder, waiter] = [await open(file), await open(file)];
    const claim = await holder.claimFetch(key, claimOptions());
    const waiting = waiter.claimFetch(key, claimOptions());
    await pause(50);
    if (claim.kind === "fetch") await claim.release();
    const next = await waiting;
    expect(next.kind).toBe("fetch");
    if (next.kind === "fetch") await next.release();
  });

  it("the holder's lease is renewed while it loads: a waiter times out rather than taking a live claim", async () => {
    const file = join(tempFolder(), "cache.db");
    const [holder, waiter] = [await open(file), await open(file)];
    const claim = await holder.claimFetch(key, claimOptions({ leaseMs: 150 }));
    const started = Date.now();
    const outcome = await waiter.claimFetch(key, claimOptions({ leaseMs: 150, waitMs: 600 }));
    expect(outcome.kind).toBe("timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
    if (claim.kind === "fetch") await claim.release();
  });

  it("a holder killed with SIGKILL stops renewing: its lease lapses and a waiting process takes over", async () => {
    const file = join(tempFolder(), "cache.db");
    await (await open(file)).close();
    const script = fileURLToPath(new URL("./test-support/claim-holder-process.mjs", import.meta.url));
    const child = spawn(process.execPath, [script, JSON.stringify({ file, leaseMs: 400 })], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      for (let waited = 0; !output.includes("claimed") && waited < 20_000; waited += 20) await pause(20);
      expect(output).toContain("claimed fetch");
      const logs: LogEntry[] = [];
      const waiter = await open(file, logs);
      // Alive, it renews: a short wait times out.
      expect((await waiter.claimFetch(key, claimOptions({ leaseMs: 400, waitMs: 700 }))).kind).toBe("timeout");
      child.kill("SIGKILL");
      const started = Date.now();
      const taken = await waiter.claimFetch(key, claimOptions({ leaseMs: 400, waitMs: 5_000 }));
      expect(taken.kind).toBe("fetch");
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(logs.some((e) => e.level === "warn" && /took over a fetch claim whose holder stopped renewing it/.test(e.message))).toBe(true);
      if (taken.kind === "fetch") await taken.release();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  it("closing the cache releases the claims it holds", async () => {
    const file = join(tempFolder(), "cache.db");
    const [holder, waiter] = [await open(file), await open(file)];
    expect((await holder.claimFetch(key, claimOptions({ leaseMs: 60_000 }))).kind).toBe("fetch");
    await holder.close();
    const started = Date.now();
    expect((await waiter.claimFetch(key, claimOptions({ leaseMs: 60_000 }))).kind).toBe("fetch");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("stops waiting when the caller's signal aborts", async () => {
    const file = join(tempFolder(), "cache.db");
    const [holder, waiter] = [await open(file), await open(file)];
    await holder.claimFetch(key, claimOptions());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(waiter.claimFetch(key, claimOptions({ signal: controller.signal }))).rejects.toThrow(/signal aborted/);
  });

  it("an entry already there is served at once; a read-only cache cannot hold claims and lets its caller load", async () => {
    const file = join(tempFolder(), "cache.db");
    const cache = await open(file);
    await cache.set(key, { chain: generatedChain(20, { source: "counting" }), fetchedAt: new Date(), costUsd: 0.3 });
    const served = await cache.claimFetch(key, claimOptions());
    expect(served).toMatchObject({ kind: "entry", entry: { costUsd: 0.3 } });
    const readOnly = await open(file, [], true);
    const other = cacheKeyFor("counting", { product: "NQ", strikeMin: 1 });
    expect((await readOnly.claimFetch(other, claimOptions())).kind).toBe("fetch");
    expect(await claimRows(file)).toEqual([]);
  });
});
