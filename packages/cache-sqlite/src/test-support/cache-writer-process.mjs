/**
 * A separate process that writes entries through the built package, for the crash and concurrency tests.
 * Argument: JSON { file, prefix, count, contracts, hangBeforeCommitAt?, hangContracts?, waitForGo?, holdOpen? }.
 * Prints "ready" once the cache is open, "committed <i> <epoch ms>" after each write returns, and
 * "in-transaction <i>" when it stops inside the transaction of entry `hangBeforeCommitAt` (to be killed).
 * With `holdOpen`, it prints "holding <pid>" after its writes and keeps the cache open (having read from
 * it, so SQLite holds its locks) until a line arrives on stdin.
 * Warnings from the cache go to stderr, so the parent can prove none was about a busy database.
 */
import { createInterface } from "node:readline";
import { cacheKeyFor, createLogger } from "@nq/core";
import { openSqliteCache } from "../../dist/index.js";
import { generatedChain } from "./generated-chain.mjs";

const options = JSON.parse(process.argv[2] ?? "{}");
const say = (line) => process.stdout.write(`${line}\n`);
const log = createLogger((entry) => process.stderr.write(`${entry.level}: ${entry.message}\n`));

let writing = -1;
const cache = await openSqliteCache({
  path: options.file,
  busy_timeout_ms: 20_000,
  log,
  beforeCommit: async () => {
    if (writing !== options.hangBeforeCommitAt) return;
    say(`in-transaction ${writing}`);
    setInterval(() => {}, 60_000); // stay alive, mid-transaction, until killed
    await new Promise(() => {});
  },
});
say("ready");
const stdinLines = options.waitForGo || options.holdOpen ? createInterface({ input: process.stdin }) : null;
if (options.waitForGo) await new Promise((resolve) => stdinLines.once("line", resolve));

for (let i = 0; i < options.count; i += 1) {
  writing = i;
  const request = { product: "NQ", asOf: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() };
  // The entry it hangs in can be made larger than SQLite's page cache, so its uncommitted pages spill into the WAL.
  const contracts = i === options.hangBeforeCommitAt ? (options.hangContracts ?? options.contracts) : options.contracts;
  const chain = generatedChain(contracts, { source: options.prefix, seed: i, request });
  await cache.set(cacheKeyFor(options.prefix, request), { chain, fetchedAt: new Date(), costUsd: 0.01 });
  say(`committed ${i} ${Date.now()}`);
}
if (options.holdOpen) {
  await cache.stats(new Date());
  say(`holding ${process.pid}`);
  await new Promise((resolve) => stdinLines.once("line", resolve));
}
stdinLines?.close();
await cache.close();
say("done");
