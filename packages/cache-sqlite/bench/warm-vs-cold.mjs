/**
 * pnpm --filter @nq/cache-sqlite bench
 *
 * A 20 000-contract NQ chain, two ways, in one run:
 *   cold — what a cache miss costs: @nq/source-databento loading from the local Databento-compatible
 *          server (every HTTP request, zstd DBN decoding, joining definitions/statistics/trades/quotes)
 *          plus core's normalizeChain;
 *   warm — what a hit costs: opening the cache file, `get` (read, JSON parse, hit counter), closing.
 * Prints medians and the ratio cold / warm. The target is warm ≥ 20× faster.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheKeyFor, normalizeChain, silentLogger, SpendLedger } from "@nq/core";
import { databento } from "@nq/source-databento";
import { startLocalDatabentoServer } from "@nq/source-databento/test-server";
import { openSqliteCache } from "../dist/index.js";

const CONTRACTS = 20_000;
const COLD_RUNS = 3;
const WARM_RUNS = 20;
const request = { product: "NQ" };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const ms = (value) => `${value.toFixed(1)} ms`;
// Both paths start each sample from a collected heap (node --expose-gc), so one path's garbage is not
// billed to the other; without the flag the numbers are noisier, not different in kind.
const collect = () => globalThis.gc?.();

const server = await startLocalDatabentoServer({ contracts: CONTRACTS });
const dir = mkdtempSync(join(tmpdir(), "nq-cache-bench-"));
const file = join(dir, "cache.db");
try {
  const config = databento.configSchema.parse({ api_key: `db-${"Bench".padEnd(29, "0")}`, base_url: server.url });

  // Cold: the work a miss does, each time with a fresh source instance.
  const cold = [];
  let chain = null;
  let spentUsd = 0;
  for (let run = 0; run < COLD_RUNS; run += 1) {
    const spend = new SpendLedger(null);
    collect();
    const started = performance.now();
    const source = await databento.create(config, { log: silentLogger, spend, now: () => new Date() });
    const fetchedAt = new Date();
    const result = await source.load(request, { signal: new AbortController().signal });
    chain = normalizeChain(result, { source: "databento", capabilities: databento.capabilities, request, fetchedAt, cache: "miss", spendUsd: spend.totalUsd });
    await source.close();
    cold.push(performance.now() - started);
    spentUsd = spend.totalUsd;
  }
  const requestsPerLoad = server.requests.length / COLD_RUNS;

  // The write a miss adds.
  const key = cacheKeyFor("databento", request);
  const writes = [];
  for (let run = 0; run < 3; run += 1) {
    const cache = await openSqliteCache({ path: file, ttl: "24h" });
    collect();
    const started = performance.now();
    await cache.set(key, { chain, fetchedAt: new Date(), costUsd: spentUsd });
    writes.push(performance.now() - started);
    await cache.close();
  }

  // Warm: a new process's hit (open + get + close), and a get on an open cache.
  const requestsBefore = server.requests.length;
  const stored = JSON.stringify(chain);
  const warmOpen = [];
  const warmGet = [];
  for (let run = 0; run < WARM_RUNS; run += 1) {
    collect();
    const started = performance.now();
    const cache = await openSqliteCache({ path: file, ttl: "24h" });
    const entry = await cache.get(key, new Date());
    await cache.close();
    warmOpen.push(performance.now() - started);
    if (run === 0 && (!entry || JSON.stringify(entry.chain) !== stored)) throw new Error("the warm read did not return the stored chain");
  }
  const cache = await openSqliteCache({ path: file, ttl: "24h" });
  for (let run = 0; run < WARM_RUNS; run += 1) {
    collect();
    const started = performance.now();
    await cache.get(key, new Date());
    warmGet.push(performance.now() - started);
  }
  await cache.close();
  if (server.requests.length !== requestsBefore) throw new Error("a warm read reached the server");

  const coldMedian = median(cold);
  const warmMedian = median(warmOpen);
  const ratio = coldMedian / warmMedian;
  console.log(`@nq/cache-sqlite bench — ${chain.contracts.length} contracts, chain JSON ${(stored.length / 1e6).toFixed(1)} MB, cache file ${(statSync(file).size / 1e6).toFixed(1)} MB, Node ${process.version}`);
  console.log("");
  console.log("| path | runs | median | min | max |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  const line = (name, values) => console.log(`| ${name} | ${values.length} | ${ms(median(values))} | ${ms(Math.min(...values))} | ${ms(Math.max(...values))} |`);
  line(`cold: @nq/source-databento via local server (${requestsPerLoad} HTTP requests, $${spentUsd.toFixed(4)} at the server's rates) + normalizeChain`, cold);
  line("miss write: set (one IMMEDIATE transaction)", writes);
  line("warm: open cache + get + close (a new run's hit)", warmOpen);
  line("warm: get on an open cache", warmGet);
  console.log("");
  console.log(`ratio cold / warm (open + get + close): ${ratio.toFixed(1)}× (target ≥ 20×: ${ratio >= 20 ? "met" : "NOT met"})`);
  console.log(`ratio cold / warm (get only): ${(coldMedian / median(warmGet)).toFixed(1)}×`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
