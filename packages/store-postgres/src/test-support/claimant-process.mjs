/**
 * One runner of the fleet, for the single-flight tests: a separate process with its own pool that claims
 * one key through the built package. Argument: JSON { url, schema, leaseMs, waitMs, chainFile, source }.
 * Prints "ready" once open; on the stdin line "go" it claims. Given the fetch, it prints "fetching <pid>"
 * and waits for "finish" (then writes the chain from chainFile, releases, prints "fetched") — or for the
 * parent to kill it mid-fetch. Given another process's entry, it prints "entry <sha256 of the chain>";
 * after waitMs without one, "timeout".
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { cacheKeyFor, createLogger } from "@nq/core";
import { openPostgresCache } from "../../dist/index.js";

const options = JSON.parse(process.argv[2] ?? "{}");
const say = (line) => process.stdout.write(`${line}\n`);
const lines = createInterface({ input: process.stdin });
const next = () => new Promise((resolve) => lines.once("line", resolve));
const log = createLogger((entry) => process.stderr.write(`${entry.level}: ${entry.message}\n`));

const cache = await openPostgresCache({ url: options.url, schema: options.schema, pool_size: 2, log });
const key = cacheKeyFor(options.source, { product: "NQ", expirations: ["2026-12-18"] });
say("ready");
await next();
const claim = await cache.claimFetch(key, { now: () => new Date(), leaseMs: options.leaseMs, waitMs: options.waitMs });
if (claim.kind === "fetch") {
  say(`fetching ${process.pid}`);
  await next();
  const chain = JSON.parse(readFileSync(options.chainFile, "utf8"));
  try {
    await cache.set(key, { chain, fetchedAt: new Date(), costUsd: 0.42 });
  } finally {
    await claim.release();
  }
  say("fetched");
} else if (claim.kind === "entry") {
  say(`entry ${createHash("sha256").update(JSON.stringify(claim.entry.chain)).digest("hex")}`);
} else {
  say("timeout");
}
lines.close();
await cache.close();
