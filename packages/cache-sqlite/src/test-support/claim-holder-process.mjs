/**
 * Claims a key in a cache file through the built package, prints "claimed <kind>", and then keeps the
 * claim (renewing its lease) until it is killed — the fetch-claims test kills it with SIGKILL to prove a
 * crashed holder's lease lapses and a waiting process takes over. Argument: JSON { file, leaseMs }.
 */
import { cacheKeyFor } from "@nq/core";
import { openSqliteCache } from "../../dist/index.js";

const options = JSON.parse(process.argv[2] ?? "{}");
const cache = await openSqliteCache({ path: options.file });
const claim = await cache.claimFetch(cacheKeyFor("counting", { product: "NQ" }), { now: () => new Date(), leaseMs: options.leaseMs, waitMs: 10_000 });
process.stdout.write(`claimed ${claim.kind}\n`);
// Holds the claim as a loading process would, until killed.
setInterval(() => {}, 1_000);
