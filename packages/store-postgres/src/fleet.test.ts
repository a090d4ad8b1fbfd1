/**
 * The fleet end to end: runner processes (the built `apps/runner/dist/cli.js`, as a user runs it) started
 * at once with one profile whose cache is this store, all missing the same key, against the project's
 * local Databento-compatible server on 127.0.0.1. Exactly one set of paid requests reaches the server
 * (as many as one run alone makes, counted in the server's request log), one process fetches and the
 * others are served its entry, and every process writes the same chain. The benchmark with 8 processes
 * and a no-cache baseline is bench/fleet-single-flight.mjs. Runs the built packages (pnpm build).
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithPostgres } from "./test-support/with-postgres.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const CLI = join(repo, "apps/runner/dist/cli.js");
const STORE = join(repo, "packages/store-postgres/dist/index.js");
// The Databento source's own test server, from its build: this package does not depend on the source.
const DATABENTO_SERVER = join(repo, "packages/source-databento/dist/test-server/index.js");
const KEY = "db-FLEETtestFLEETtestFLEETtestFL";
const PROCESSES = 4;

interface LocalDatabentoServer {
  url: string;
  requests: { path: string; billed?: boolean }[];
  close(): Promise<void>;
}
interface RunnerSummary {
  ok: boolean;
  attempts: { source: string; cache: string; tries: number; spendUsd: number; savedUsd: number }[];
  spendUsd: number;
  outputs: { json: string } | null;
}

function runner(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function summaryOf(run: { code: number | null; stdout: string; stderr: string }): RunnerSummary {
  expect(run.code, `the runner exited ${run.code}; stderr: ${run.stderr.slice(-2_000)}`).toBe(0);
  return JSON.parse(run.stdout) as RunnerSummary;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describeWithPostgres("runner processes sharing the PostgreSQL cache", (server) => {
  let databento: LocalDatabentoServer;
  let dir: string;
  beforeAll(async () => {
    for (const file of [CLI, STORE, DATABENTO_SERVER]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: build the workspace first (pnpm build)`);
    }
    const { startLocalDatabentoServer } = (await import(pathToFileURL(DATABENTO_SERVER).href)) as {
      startLocalDatabentoServer(options: { apiKeys: string[]; fixturesDir: null }): Promise<LocalDatabentoServer>;
    };
    databento = await startLocalDatabentoServer({ apiKeys: [KEY], fixturesDir: null });
    dir = mkdtempSync(join(tmpdir(), "nq-fleet-test-"));
  });
  afterAll(async () => {
    await databento?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`${PROCESSES} runners missing the same key at once: exactly one set of paid requests, one fetch, the same chain in every output`, { timeout: 240_000 }, async () => {
    const profilePath = join(dir, "fleet.json");
    writeFileSync(
      profilePath,
      JSON.stringify({
        profile_name: "fleet_test",
        data_source_priority: ["databento"],
        fallback: "strict",
        data_sources: {
          databento: {
            enabled: true,
            plugin: "@nq/source-databento",
            deadline_ms: 120_000,
            config: { api_key: "${DATABENTO_API_KEY}", base_url: "${DATABENTO_BASE_URL}", sample: true, cost_limits: { definition: 1, trades: 5 } },
          },
        },
        request: { product: "NQ", max_expirations: 2 },
        run_cost_limit_usd: 10,
        cache: { plugin: STORE, url: "${NQ_PG_URL}", schema: `fleet_${randomBytes(4).toString("hex")}`, ttl: "24h", pool_size: 2 },
        output: { dir: "out" },
      }),
    );
    const env = { ...process.env, DATABENTO_API_KEY: KEY, DATABENTO_BASE_URL: databento.url, NQ_PG_URL: server().url };
    const billedSince = (start: number) => databento.requests.slice(start).filter((request) => request.billed).length;
    const args = (out: string, ...extra: string[]) => ["--config", profilePath, "--json", "--no-html", "--no-history", "--out", join(dir, out), ...extra];

    // What one run pays on its own: the set of billed requests a chain costs.
    const alone = databento.requests.length;
    summaryOf(await runner(args("alone", "--no-cache"), env));
    const oneSet = billedSince(alone);
    expect(oneSet).toBeGreaterThan(0);

    const before = databento.requests.length;
    const runs = await Promise.all(Array.from({ length: PROCESSES }, (_, i) => runner(args(`fleet-${i}`), env)));
    const summaries = runs.map(summaryOf);

    expect(billedSince(before)).toBe(oneSet);
    const fetchers = summaries.filter((s) => s.attempts[0]!.cache === "miss");
    const served = summaries.filter((s) => s.attempts[0]!.cache === "hit");
    expect(fetchers).toHaveLength(1);
    expect(served).toHaveLength(PROCESSES - 1);
    expect(fetchers[0]!.spendUsd).toBeGreaterThan(0);
    for (const summary of served) {
      expect(summary.attempts[0]).toMatchObject({ cache: "hit", tries: 0, spendUsd: 0 });
      expect(summary.attempts[0]!.savedUsd).toBeCloseTo(fetchers[0]!.spendUsd, 9);
    }
    // The contracts carry the fetch time in their provenance: equal hashes mean one fetch served to all.
    const chains = summaries.map((s) => (JSON.parse(readFileSync(s.outputs!.json, "utf8")) as { contracts: unknown[] }).contracts);
    expect(chains[0]!.length).toBeGreaterThan(0);
    expect(new Set(chains.map((contracts) => sha256(JSON.stringify(contracts)))).size).toBe(1);
  });
});
