/**
 * `backfill` in a child process (the built CLI) against the local Databento server: interrupted with
 * SIGINT mid-download (exit 130, manifest saved), killed outright mid-download (a crash), then run again
 * to the end — one job bought per schema, every file verified, and nothing downloaded twice: the server's
 * log shows each file fetched once from byte 0 and resumed with Range from exactly what was on disk.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSpendLedger } from "@nq/cache-sqlite";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "@nq/source-databento/test-server";
import { createBackfillProgress, describeDownload } from "./backfill.js";
import { writeFakeProfile } from "../test-plugin.js";

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const KEY = "db-BackfillTestKey00000000000000";
const root = mkdtempSync(join(tmpdir(), "nq-backfill-cli-"));
let server: LocalDatabentoServer;
let counter = 0;

beforeAll(async () => {
  server = await startLocalDatabentoServer({ contracts: 8, fixturesDir: null });
});
afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

function workspace(): string {
  const dir = join(root, String(++counter));
  mkdirSync(dir);
  return dir;
}

function profile(dir: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, "profile.json");
  writeFileSync(
    file,
    JSON.stringify({
      profile_name: "backfill-test",
      data_source_priority: ["primary"],
      data_sources: { primary: { plugin: "@nq/source-databento", config: { api_key: KEY, base_url: server.url } } },
      output: { dir: "out" },
      ...extra,
    }),
  );
  return file;
}

function env(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("DATABENTO") && key !== "INIT_CWD" && !key.startsWith("npm_")));
}

/** Asynchronous: the local server answers from this process, so it must not be blocked (no spawnSync). */
function cli(args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: env() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("exit", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs the CLI until `until` holds, then sends `signal`; resolves with the exit and the output. */
function runUntil(args: string[], cwd: string, until: () => boolean, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: env() });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const started = Date.now();
    const timer = setInterval(() => {
      if (until()) {
        clearInterval(timer);
        child.kill(signal);
      } else if (Date.now() - started > 60_000) {
        clearInterval(timer);
        child.kill("SIGKILL");
        reject(new Error(`the condition never held; stderr: ${stderr}`));
      }
    }, 10);
    child.on("exit", (code, sig) => {
      clearInterval(timer);
      resolve({ code, signal: sig, stderr, stdout });
    });
  });
}

/** Part files with bytes in them under DIR/dbn. */
function partsIn(out: string): Map<string, number> {
  const parts = new Map<string, number>();
  const dbn = join(out, "dbn");
  if (!existsSync(dbn)) return parts;
  for (const schema of readdirSync(dbn)) {
    for (const name of readdirSync(join(dbn, schema))) {
      if (!name.endsWith(".part")) continue;
      const size = statSync(join(dbn, schema, name)).size;
      if (size > 0) parts.set(name.slice(0, -".part".length), size);
    }
  }
  return parts;
}

const downloadsOf = (filename: string) => server.requests.filter((r) => r.path.startsWith("/v0/batch/download/") && r.path.endsWith(`/${filename}`));
const submits = () => server.requests.filter((r) => r.path === "/v0/batch.submit_job" && r.status === 200);

describe.skipIf(!existsSync(CLI))("backfill (built CLI, local Databento server)", () => {
  it("interrupted by SIGINT and then killed mid-download, resumes to the end with nothing bought or downloaded twice", async () => {
    const dir = workspace();
    const file = profile(dir, { cache: { plugin: "@nq/cache-sqlite", path: "cache.db" } });
    const out = join(dir, "history");
    const args = ["backfill", "-c", file, "--from", "2026-11-16", "--to", "2026-11-19", "--schemas", "definition,bbo-1m", "--out", out, "--max-cost", "5", "--json"];
    const submitsBefore = submits().length;
    server.batch.setFault({ kind: "slow", bytesPerChunk: 64, delayMs: 20 });

    const first = await runUntil(args, dir, () => partsIn(out).size > 0, "SIGINT");
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toMatch(/interrupted by SIGINT: partial run, the manifest is saved/);
    expect(first.stderr).not.toMatch(/no chain was written/);
    expect(first.stderr).toMatch(/backfill interrupted: partial run — the manifest .*backfill-manifest\.json says what is done; run the same command again to continue/);
    expect(first.stdout).toBe("");
    const afterInterrupt = JSON.parse(readFileSync(join(out, "backfill-manifest.json"), "utf8")) as { status: string; jobs: { jobId: string }[] };
    expect(afterInterrupt.status).toBe("interrupted");
    const cutFirst = partsIn(out);
    expect(cutFirst.size).toBeGreaterThan(0);

    // A crash: no handler runs, the manifest still says "running", the .part stays.
    const downloadsBefore = server.requests.length;
    const second = await runUntil(args, dir, () => server.requests.slice(downloadsBefore).some((r) => r.path.startsWith("/v0/batch/download/") && (r.bytesSent ?? 0) > 0) && partsIn(out).size > 0, "SIGKILL");
    expect(second.signal).toBe("SIGKILL");
    const cutSecond = partsIn(out);

    server.batch.setFault(null);
    const third = await cli(args, dir);
    expect(third.status, third.stderr).toBe(0);
    const summary = JSON.parse(third.stdout) as { status: string; submitted: number; reused: number; files: number; filesDownloaded: number; filesSkipped: number };
    expect(summary).toMatchObject({ status: "complete", submitted: 0, reused: 0, converted: true });
    expect(third.stderr).toMatch(/\[backfill\] \d+\/\d+ files · .* of .* · .*\/s · (ETA|done)/);

    // One job per schema, bought once across the three runs.
    expect(submits().length - submitsBefore).toBe(2);
    const manifest = JSON.parse(readFileSync(join(out, "backfill-manifest.json"), "utf8")) as { status: string; jobs: { schema: string; jobId: string; paidUsd: number; files: { filename: string; path: string; size: number; sha256: string; downloadedAt: string }[] }[] };
    expect(manifest.status).toBe("complete");
    expect(manifest.jobs.map((j) => j.jobId)).toEqual(afterInterrupt.jobs.map((j) => j.jobId));
    for (const job of manifest.jobs) {
      for (const f of job.files) {
        expect(f.downloadedAt).toBeTruthy();
        expect(statSync(join(out, f.path)).size).toBe(f.size);
        const requests = downloadsOf(f.filename).filter((r) => r.path.includes(job.jobId));
        // Fetched from byte 0 exactly once; every other request resumed with Range.
        expect(requests.filter((r) => r.range === undefined), f.filename).toHaveLength(1);
        expect(requests.slice(1).every((r) => /^bytes=[1-9]\d*-\d+$/.test(r.range ?? "")), f.filename).toBe(true);
      }
    }
    const totalOf = (name: string) => manifest.jobs.flatMap((j) => j.files).find((f) => f.filename === name)!.size;
    expect([...cutFirst, ...cutSecond].filter(([name, size]) => size < totalOf(name)).length).toBeGreaterThan(0);
    for (const [name, size] of [...cutFirst, ...cutSecond]) {
      const job = manifest.jobs.find((j) => j.files.some((f) => f.filename === name))!;
      const total = job.files.find((f) => f.filename === name)!.size;
      // A part cut short resumes from exactly its size; a whole one (killed before the rename) is only verified.
      if (size < total) expect(downloadsOf(name).map((r) => r.range)).toContain(`bytes=${size}-${total - 1}`);
      else expect(downloadsOf(name).filter((r) => r.range?.startsWith(`bytes=${size}-`))).toEqual([]);
    }
    expect(readdirSync(join(out, "dbn", "bbo-1m")).some((n) => n.endsWith(".part"))).toBe(false);

    // Converted last: Parquet per schema and trade date with every record, and the daily chain table.
    const converted = JSON.parse(readFileSync(join(out, "backfill-manifest.json"), "utf8")).converted as { outputs: { path: string; rows: number; schema: string }[] };
    for (const job of manifest.jobs) {
      const rows = converted.outputs.filter((o) => o.schema === job.schema).reduce((n, o) => n + o.rows, 0);
      expect(rows, job.schema).toBe(server.batch.jobs.find((j) => j.id === job.jobId)!.recordCount);
    }
    const chain = converted.outputs.filter((o) => o.schema === "daily_chain");
    expect(chain.length).toBeGreaterThan(0);
    expect(chain.reduce((n, o) => n + o.rows, 0)).toBeGreaterThan(0);
    for (const o of converted.outputs) {
      expect(o.path.startsWith("parquet/")).toBe(true);
      expect(o.path.endsWith(".parquet")).toBe(true);
      expect(statSync(join(out, o.path)).size).toBeGreaterThan(0);
    }

    // What was paid is in the spend ledger `usage` reads, once per job.
    const ledger = await openSpendLedger({ path: join(dir, "cache.db"), readOnly: true });
    const paid = await ledger.entries();
    await ledger.close();
    expect(paid.map((e) => e.schema).sort()).toEqual(["bbo-1m", "definition"]);
    expect(paid.reduce((n, e) => n + e.billedUsd, 0)).toBeCloseTo(manifest.jobs.reduce((n, j) => n + j.paidUsd, 0), 10);
    expect(paid.every((e) => e.source === "databento" && /^batch job GLBX\.MDP3-/.test(e.what))).toBe(true);

    // Once more: everything is verified on disk, nothing is fetched or bought.
    const before = server.requests.length;
    const fourth = await cli(args, dir);
    expect(fourth.status, fourth.stderr).toBe(0);
    expect(JSON.parse(fourth.stdout)).toMatchObject({ submitted: 0, filesDownloaded: 0, paidUsd: 0, converted: false });
    expect(fourth.stderr).toMatch(/\[backfill\] already converted/);
    expect(server.requests.slice(before).filter((r) => r.path.startsWith("/v0/batch/download/") || r.path === "/v0/batch.submit_job")).toEqual([]);
  }, 180_000);

  it("killed as soon as its jobs are bought, leaves every payment in the spend ledger once, whatever the manifest had", async () => {
    const dir = workspace();
    const file = profile(dir, { cache: { plugin: "@nq/cache-sqlite", path: "cache.db" } });
    const out = join(dir, "history");
    const args = ["backfill", "-c", file, "--from", "2026-11-09", "--to", "2026-11-12", "--schemas", "definition,trades", "--out", out, "--max-cost", "5", "--json", "--no-convert"];
    const submitsBefore = submits().length;
    // Slow downloads: the kill lands before the run could end and write anything at its end.
    server.batch.setFault({ kind: "slow", bytesPerChunk: 64, delayMs: 20 });
    const killed = await runUntil(args, dir, () => submits().length - submitsBefore >= 2, "SIGKILL");
    expect(killed.signal).toBe("SIGKILL");
    server.batch.setFault(null);
    const rerun = await cli(args, dir);
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(submits().length - submitsBefore).toBe(2);
    const manifest = JSON.parse(readFileSync(join(out, "backfill-manifest.json"), "utf8")) as { jobs: { schema: string; jobId: string }[] };
    const ledger = await openSpendLedger({ path: join(dir, "cache.db"), readOnly: true });
    const paid = await ledger.entries();
    await ledger.close();
    const jobs = server.batch.jobs.filter((job) => manifest.jobs.some((j) => j.jobId === job.id));
    expect(jobs).toHaveLength(2);
    expect(paid.map((e) => e.what.split(":")[0]).sort()).toEqual(jobs.map((job) => `batch job ${job.id}`).sort());
    expect(paid.reduce((n, e) => n + e.billedUsd, 0)).toBeCloseTo(jobs.reduce((n, job) => n + job.costUsd, 0), 10);
  }, 180_000);

  it("refuses before submitting when the jobs cost more than --max-cost (exit 1), and needs a limit at all (exit 2)", async () => {
    const dir = workspace();
    const file = profile(dir);
    const before = submits().length;
    const over = await cli(["backfill", "-c", file, "--from", "2026-11-02", "--to", "2026-11-05", "--schemas", "trades", "--out", join(dir, "h"), "--max-cost", "0"], dir);
    expect(over.status, over.stderr).toBe(1);
    expect(over.stderr).toMatch(/nothing was submitted: the batch jobs would cost \$[\d.]+ together \(metadata\.get_cost\), over the limit of \$0\.00 \(--max-cost\)/);
    expect(submits().length).toBe(before);

    const none = await cli(["backfill", "-c", file, "--from", "2026-11-02", "--to", "2026-11-05", "--out", join(dir, "h2")], dir);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/a backfill buys data, so it needs a limit: give --max-cost <usd>, or set "run_cost_limit_usd"/);
  });

  it("takes the source from the profile: an error lists the sources found when none offers a backfill", async () => {
    const dir = workspace();
    const file = writeFakeProfile(dir, {});
    const run = await cli(["backfill", "-c", file, "--from", "2026-11-02", "--to", "2026-11-05", "--out", join(dir, "h"), "--max-cost", "1"], dir);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/no source of the profile .* can backfill .*\n {2}- fake \(\.\/fake-plugin\.mjs\): no "backfill" export/);
    const named = await cli(["backfill", "-c", profile(dir), "--source", "nope", "--from", "2026-11-02", "--to", "2026-11-05", "--out", join(dir, "h"), "--max-cost", "1"], dir);
    expect(named.status).toBe(2);
    expect(named.stderr).toMatch(/--source nope: the profile .* has no such source \(it has primary\)/);
  });

  it("explains its flags with --help and exits 2 on a missing one", async () => {
    const help = await cli(["backfill", "--help"], root);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--from <date>[\s\S]*--to <date>[\s\S]*--out <dir>[\s\S]*--schemas <list>[\s\S]*--max-cost <usd>[\s\S]*Exit codes: 0 complete/);
    const missing = await cli(["backfill", "--from", "2026-11-02", "--out", "x"], root);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/required option '--to <date>' not specified/);
  });
});

describe("backfill progress", () => {
  it("shows files, bytes, the rate of this run's bytes and an ETA; plain lines when not a terminal", () => {
    const line = describeDownload({ phase: "download", file: "a.dbn.zst", bytesDone: 3 * 1024 * 1024, bytesTotal: 5 * 1024 * 1024, filesDone: 1, filesTotal: 4 }, { at: 0, bytes: 1024 * 1024 }, 2000);
    expect(line).toBe("[backfill] 1/4 files · 3.0 MiB of 5.0 MiB · 1.0 MiB/s · ETA 2s · a.dbn.zst");
    const written: string[] = [];
    const stream = { write: (text: string) => written.push(text) } as unknown as NodeJS.WritableStream;
    let t = 0;
    const progress = createBackfillProgress(stream, { tty: false, intervalMs: 1000, now: () => t });
    for (let i = 0; i < 5; i++) {
      progress.update({ phase: "download", file: "a", bytesDone: i * 100, bytesTotal: 1000, filesDone: 0, filesTotal: 2 });
      t += 400;
    }
    progress.update({ phase: "download", file: "b", bytesDone: 1000, bytesTotal: 1000, filesDone: 2, filesTotal: 2 });
    expect(written.every((w) => w.endsWith("\n") && !w.includes("\r"))).toBe(true);
    expect(written).toHaveLength(3);
    expect(written.at(-1)).toMatch(/^\[backfill\] 2\/2 files · 1000 B of 1000 B · .* · done · b\n$/);
  });
});
