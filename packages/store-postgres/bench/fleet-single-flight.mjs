// Fleet single flight: N runner processes (`node apps/runner/dist/cli.js --config … --json`) started at
// once, all missing the same key, against the project's local Databento-compatible server on 127.0.0.1.
//
//   baseline   the cache disabled (--no-cache): every process pays for the chain
//   postgres   @nq/store-postgres on a throwaway PostgreSQL server: one process pays, the others wait
//              for its entry
//   sqlite     @nq/cache-sqlite, one file shared by every process (same machine): the same, through
//              the file's fetch_claims lease rows
//
// For each: the billed requests in the server's request log (get_range that streamed data), how many
// processes fetched and how many were served another's entry, how many different chains the processes
// wrote (sha256 of the contracts in each chain JSON, whose provenance carries the fetch time: one fetch
// served to all is 1 chain, the baseline's own fetches are N) and whether their market data is the same
// (the same hash without the fetch time), and the wall time from the first spawn to the last exit. Exits 1 when a store paid for more than one set of requests or the chains differ.
//
//   node packages/store-postgres/bench/fleet-single-flight.mjs [--processes 8] [--contracts 200]
//   pnpm --filter @nq/store-postgres bench:fleet
//
// Needs the built runner, store and Databento test server (`pnpm build`) and PostgreSQL's server programs
// (Debian's postgresql package, or NQ_PG_BIN).
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { processes: { type: "string", default: "8" }, contracts: { type: "string", default: "200" }, help: { type: "boolean", short: "h" } },
});
if (args.help) {
  console.log("usage: node bench/fleet-single-flight.mjs [--processes 8] [--contracts 200]");
  process.exit(0);
}
const processes = wholeNumber("--processes", args.processes);
const contracts = wholeNumber("--contracts", args.contracts);

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const CLI = join(repo, "apps/runner/dist/cli.js");
const STORE = join(repo, "packages/store-postgres/dist/index.js");
const TEST_SUPPORT = join(repo, "packages/store-postgres/dist/test-support/index.js");
const DATABENTO_SERVER = join(repo, "packages/source-databento/dist/test-server/index.js");
for (const file of [CLI, STORE, TEST_SUPPORT, DATABENTO_SERVER]) {
  if (!existsSync(file)) fail(`${file} is missing: build first (pnpm build)`);
}
const { startPostgresServer, findPostgresBinaries } = await import(TEST_SUPPORT);
const { startLocalDatabentoServer } = await import(DATABENTO_SERVER);
const found = findPostgresBinaries();
if (!found.available) fail(found.reason);

const KEY = "db-FLEETbenchFLEETbenchFLEETbenc";
const dir = mkdtempSync(join(tmpdir(), "nq-fleet-bench-"));
const databento = await startLocalDatabentoServer({ apiKeys: [KEY], fixturesDir: null, contracts });
let postgres = null;
try {
  postgres = await startPostgresServer();
  const scenarios = [
    { name: "baseline", label: "no cache (--no-cache)", cache: null, flags: ["--no-cache"] },
    { name: "postgres", label: "@nq/store-postgres", cache: { plugin: STORE, url: "${NQ_PG_URL}", schema: `fleet_${randomBytes(4).toString("hex")}`, ttl: "24h", pool_size: 2 }, flags: [] },
    { name: "sqlite", label: "@nq/cache-sqlite, one shared file", cache: { plugin: "@nq/cache-sqlite", path: "shared-cache.db", ttl: "24h" }, flags: [] },
  ];
  const results = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario));

  const baseline = results[0];
  const perRun = baseline.billed.length / processes;
  console.log(`\nFleet single flight: ${processes} runner processes at once, one NQ chain (~${contracts} contracts per day on the local server), ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
  const rows = results.map((r) => ({
    store: r.label,
    "billed requests": r.billed.length,
    "sets paid": Number((r.billed.length / perRun).toFixed(2)),
    "billed USD": r.billedUsd.toFixed(4),
    "fetched / served": `${r.fetched} / ${r.served}`,
    "distinct chains": r.hashes.size,
    "same data": r.dataHashes.size === 1 && [...r.dataHashes][0] === [...baseline.dataHashes][0] ? "yes" : "NO",
    contracts: [...r.counts].join(","),
    "slowest fetch s": seconds(Math.max(0, ...r.fetchMs)),
    "slowest served s": r.waitMs.length ? seconds(Math.max(...r.waitMs)) : "-",
    "wall s": seconds(r.wallMs),
    "wall vs baseline": (r.wallMs / baseline.wallMs).toFixed(2),
  }));
  console.table(rows);

  const problems = [];
  if (!Number.isInteger(perRun) || perRun < 1) problems.push(`the baseline's ${baseline.billed.length} billed requests are not ${processes} equal sets`);
  for (const r of results) {
    if (r.failures.length > 0) problems.push(`${r.label}: ${r.failures.join("; ")}`);
    if (r.dataHashes.size !== 1) problems.push(`${r.label}: ${r.dataHashes.size} different sets of contracts among ${processes} processes`);
    if (r.name !== "baseline" && r.hashes.size !== 1) problems.push(`${r.label}: ${r.hashes.size} different chains (fetch times) among ${processes} processes, expected one fetch served to all`);
    if (r.name !== "baseline" && r.billed.length !== perRun) problems.push(`${r.label}: ${r.billed.length} billed requests, expected exactly one set (${perRun})`);
    if (r.name !== "baseline" && (r.fetched !== 1 || r.served !== processes - 1)) problems.push(`${r.label}: ${r.fetched} processes fetched and ${r.served} were served, expected 1 and ${processes - 1}`);
  }
  for (const r of results) if ([...r.dataHashes][0] !== [...baseline.dataHashes][0]) problems.push(`${r.label}: its contracts differ from the baseline's`);
  if (problems.length > 0) {
    console.error(`\nFAILED:\n  - ${problems.join("\n  - ")}`);
    process.exitCode = 1;
  } else {
    console.log(`\nOK: each store paid for exactly one set of ${perRun} billed requests (the baseline paid ${processes}); in each store run all ${processes} processes wrote the one fetched chain (${[...baseline.counts][0]} contracts), whose data equals the baseline's.`);
  }
} finally {
  await databento.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function runScenario(scenario) {
  const profile = {
    profile_name: `fleet_${scenario.name}`,
    data_source_priority: ["databento"],
    fallback: "strict",
    data_sources: {
      databento: {
        enabled: true,
        plugin: "@nq/source-databento",
        deadline_ms: 300_000,
        config: { api_key: "${DATABENTO_API_KEY}", base_url: "${DATABENTO_BASE_URL}", sample: true, cost_limits: { definition: 1, trades: 5 } },
      },
    },
    request: { product: "NQ", max_expirations: 4 },
    run_cost_limit_usd: 10,
    ...(scenario.cache ? { cache: scenario.cache } : {}),
    output: { dir: "out" },
  };
  const profilePath = join(dir, `${scenario.name}.json`);
  writeFileSync(profilePath, JSON.stringify(profile, null, 2));
  const env = { ...process.env, DATABENTO_API_KEY: KEY, DATABENTO_BASE_URL: databento.url, NQ_PG_URL: postgres.url };
  const before = databento.requests.length;
  console.error(`[fleet] ${scenario.label}: starting ${processes} runner processes`);
  const started = performance.now();
  const runs = await Promise.all(
    Array.from({ length: processes }, (_, i) =>
      runner([CLI, "--config", profilePath, "--json", "--no-html", "--no-history", "--out", join(dir, `${scenario.name}-out-${i}`), ...scenario.flags], env),
    ),
  );
  const wallMs = performance.now() - started;
  const billed = databento.requests.slice(before).filter((request) => request.billed);
  const hashes = new Set();
  const dataHashes = new Set();
  const counts = new Set();
  const failures = [];
  let fetched = 0;
  let served = 0;
  const fetchMs = [];
  const waitMs = [];
  for (const [i, run] of runs.entries()) {
    let summary;
    try {
      summary = JSON.parse(run.stdout);
    } catch {
      failures.push(`process ${i} exited ${run.code} without a JSON summary: ${run.stderr.trim().split("\n").slice(-3).join(" | ")}`);
      continue;
    }
    if (run.code !== 0 || !summary.outputs) {
      failures.push(`process ${i} exited ${run.code}: ${summary.attempts?.map((a) => a.reason).join("; ")}`);
      continue;
    }
    const attempt = summary.attempts[0];
    if (attempt.cache === "hit") {
      served += 1;
      waitMs.push(attempt.durationMs);
    } else {
      fetched += 1;
      fetchMs.push(attempt.durationMs);
    }
    const chain = JSON.parse(readFileSync(summary.outputs.json, "utf8"));
    hashes.add(sha256(JSON.stringify(chain.contracts)));
    // Each fetch stamps its own time in every contract's provenance; the market data is the rest.
    const withoutFetchTime = chain.contracts.map((contract) => ({ ...contract, provenance: { ...contract.provenance, fetchedAt: null } }));
    dataHashes.add(sha256(JSON.stringify(withoutFetchTime)));
    counts.add(chain.contracts.length);
  }
  const billedUsd = billed.reduce((sum, request) => sum + (request.costUsd ?? 0), 0);
  console.error(`[fleet] ${scenario.label}: ${billed.length} billed requests, ${(wallMs / 1000).toFixed(2)} s`);
  return { ...scenario, wallMs, billed, billedUsd, hashes, dataHashes, counts, fetched, served, failures, fetchMs, waitMs };
}

function seconds(ms) {
  return (ms / 1000).toFixed(2);
}

function sha256(text) {
  return createHash("sha256").update(text).digest("hex");
}

function runner(argv, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function wholeNumber(flag, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) fail(`${flag} expects a whole number of at least 1, got ${JSON.stringify(text)}`);
  return value;
}

function fail(message) {
  console.error(`fleet-single-flight: ${message}`);
  process.exit(2);
}
