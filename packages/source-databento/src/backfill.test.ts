/**
 * runBackfill against the local server: one job per schema, files verified on disk, the manifest after
 * every step; a rerun (or another folder) neither pays nor downloads again; limits refuse before buying.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, CostLimitError, NoDataError, silentLogger, SpendLedger } from "@nq/core";
import { type BackfillOptions, type BackfillPayment, type BackfillProgress, runBackfill } from "./backfill.js";
import type { BackfillManifest } from "./backfill-manifest.js";
import { configSchema } from "./config.js";
import { sha256Of } from "./historical/batch-download.js";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, failureOf } from "./test-support/source-harness.js";

let server: LocalDatabentoServer;
const dirs: string[] = [];
beforeAll(async () => {
  server = await startLocalDatabentoServer({ contracts: 8, fixturesDir: null });
});
afterAll(async () => {
  await server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => server.batch.setFault(null));

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-backfill-"));
  dirs.push(dir);
  return dir;
}

const config = () => configSchema.parse({ api_key: CANARY_KEY, base_url: server.url });

function options(outDir: string, overrides: Partial<BackfillOptions> = {}): BackfillOptions {
  return {
    from: "2026-11-16",
    to: "2026-11-19",
    schemas: ["definition", "statistics"],
    outDir,
    maxCostUsd: 10,
    limitName: "--max-cost",
    signal: new AbortController().signal,
    log: silentLogger,
    spend: new SpendLedger(null),
    poll: { pollMs: 5, maxPollMs: 20 },
    download: { retryDelayMs: 5 },
    ...overrides,
  };
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "backfill-manifest.json"), "utf8")) as BackfillManifest;
const count = (path: string) => server.requests.filter((r) => r.path === path).length;
const fileDownloads = () => server.requests.filter((r) => r.path.startsWith("/v0/batch/download/"));

describe("backfill", () => {
  it("buys one job per schema, downloads every file verified, converts once, and a rerun does nothing again", async () => {
    const dir = folder();
    const spend = new SpendLedger(null);
    const progress: BackfillProgress[] = [];
    const conversions: string[][] = [];
    const convert: BackfillOptions["convert"] = async (input) => {
      conversions.push(input.files.map((f) => f.path));
      const out = join(input.outDir, "converted.txt");
      return { outputs: [{ path: out, rows: input.files.length }] };
    };
    const submitsBefore = count("/v0/batch.submit_job");
    const first = await runBackfill(config(), options(dir, { spend, convert, onProgress: (p) => progress.push(p) }));
    expect(first).toMatchObject({ submitted: 2, reused: 0, filesSkipped: 0, converted: true });
    expect(count("/v0/batch.submit_job") - submitsBefore).toBe(2);
    expect(first.paidUsd).toBeGreaterThan(0);
    expect(first.paidUsd).toBeCloseTo(server.spend().costUsd - 0, 10);
    expect(spend.entries.map((e) => e.schema)).toEqual(["definition", "statistics"]);
    expect(spend.totalUsd).toBeCloseTo(first.paidUsd, 10);

    const manifest = manifestOf(dir);
    expect(manifest.status).toBe("complete");
    expect(manifest.request).toMatchObject({ dataset: "GLBX.MDP3", symbols: ["NQ.OPT"], stypeIn: "parent", start: "2026-11-16T00:00:00.000Z", end: "2026-11-19T00:00:00.000Z" });
    for (const job of manifest.jobs) {
      expect(job.jobId).toMatch(/^GLBX\.MDP3-/);
      expect(job.state).toBe("done");
      // The end is exclusive: days 16, 17 and 18, never the 19th.
      const days = job.files!.filter((f) => f.filename.endsWith(".dbn.zst")).map((f) => f.filename.slice(10, 18));
      expect(days.every((d) => d >= "20261116" && d <= "20261118")).toBe(true);
      for (const file of job.files!) {
        expect(file.downloadedAt).not.toBeNull();
        expect(await sha256Of(join(dir, file.path))).toBe(file.sha256);
        expect(existsSync(join(dir, `${file.path}.part`))).toBe(false);
      }
    }
    expect(first.filesDownloaded).toBe(manifest.jobs.reduce((n, j) => n + j.files!.length, 0));
    expect(manifest.converted?.outputs).toEqual([{ path: join("parquet", "converted.txt"), rows: conversions[0]!.length }]);
    expect(conversions[0]!.every((p) => /\.dbn\.zst$/.test(p))).toBe(true);
    const last = progress.filter((p) => p.phase === "download").at(-1);
    expect(last).toMatchObject({ filesDone: first.filesDownloaded, filesTotal: first.filesDownloaded });

    const downloadsBefore = fileDownloads().length;
    const spentBefore = server.spend().costUsd;
    const again = await runBackfill(config(), options(dir, { convert }));
    expect(again).toMatchObject({ submitted: 0, reused: 0, paidUsd: 0, filesDownloaded: 0, filesSkipped: first.filesDownloaded, converted: false });
    expect(fileDownloads().length).toBe(downloadsBefore);
    expect(server.spend().costUsd).toBe(spentBefore);
    expect(conversions).toHaveLength(1);
  });

  it("in a new folder reuses the jobs already submitted for the same request: not paid again", async () => {
    const request = { from: "2026-11-09", to: "2026-11-11", schemas: ["trades"] };
    await runBackfill(config(), options(folder(), request));
    const spent = server.spend().costUsd;
    const result = await runBackfill(config(), options(folder(), request));
    expect(result).toMatchObject({ submitted: 0, reused: 1, paidUsd: 0 });
    expect(server.spend().costUsd).toBe(spent);
    expect(manifestOf(dirs.at(-1)!).jobs[0]).toMatchObject({ reused: true, paidUsd: 0, state: "done" });
  });

  it("reports each payment before saving the manifest, so a run that dies right after paying is reported by the next one, once per job", async () => {
    const request = { from: "2026-11-05", to: "2026-11-07", schemas: ["definition", "trades"] };
    const dir = folder();
    const paid: BackfillPayment[] = [];
    // The first run dies right after its first job is bought, before the ledger or the manifest has it.
    const crash = new Error("test: the process died here");
    await expect(
      runBackfill(config(), options(dir, { ...request, onPaid: async () => Promise.reject(crash) })),
    ).rejects.toBe(crash);
    expect(manifestOf(dir).jobs.map((job) => job.jobId)).toEqual([null, null]);
    const bought = server.batch.jobs.at(-1)!;
    const spentAfterCrash = server.spend().costUsd;

    // The rerun finds that job on Databento (not paid again), reports it as found, buys the other one.
    const second = await runBackfill(config(), options(dir, { ...request, onPaid: async (payment) => void paid.push(payment) }));
    expect(second).toMatchObject({ submitted: 1, reused: 1 });
    expect(paid.map((p) => [p.schema, p.how])).toEqual([
      [bought.request.schema, "found"],
      [request.schemas.find((s) => s !== bought.request.schema), "submitted"],
    ]);
    expect(paid[0]).toMatchObject({ jobId: bought.id, usd: bought.costUsd });
    expect(paid[0]!.what).toMatch(new RegExp(`^batch job ${bought.id}: `));
    expect(server.spend().costUsd).toBeCloseTo(spentAfterCrash + paid[1]!.usd, 10);
    expect(manifestOf(dir).jobs.map((job) => job.jobId).sort()).toEqual(paid.map((p) => p.jobId).sort());

    // Once in the manifest, a job is not reported again.
    paid.length = 0;
    await runBackfill(config(), options(dir, { ...request, onPaid: async (payment) => void paid.push(payment) }));
    expect(paid).toEqual([]);
  });

  it("refuses the whole plan over the limit before submitting anything, listing each price", async () => {
    const dir = folder();
    const before = count("/v0/batch.submit_job");
    const error = await failureOf(runBackfill(config(), options(dir, { from: "2026-11-02", to: "2026-11-07", schemas: ["trades", "bbo-1m"], maxCostUsd: 0.000001, limitName: "run_cost_limit_usd" })));
    expect(error).toBeInstanceOf(CostLimitError);
    expect(error.message).toMatch(/nothing was submitted: the batch jobs would cost \$[\d.]+ together \(metadata\.get_cost\), over the limit of \$0\.00 \(run_cost_limit_usd\)/);
    expect(error.message).toMatch(/- trades: \$/);
    expect(error.message).toMatch(/- bbo-1m: \$/);
    expect(count("/v0/batch.submit_job")).toBe(before);
    expect(manifestOf(dir)).toMatchObject({ status: "failed" });
  });

  it("a job of the manifest that expired before its files came down is a clear error (or bought again when asked)", async () => {
    const dir = folder();
    const request = { from: "2026-11-03", to: "2026-11-04", schemas: ["definition"] };
    server.batch.setFault({ kind: "stay-queued" });
    const queued = await failureOf(runBackfill(config(), options(dir, { ...request, poll: { pollMs: 5, maxPollMs: 5, maxQueuedMs: 30 } })));
    expect(queued.message).toMatch(/is still queued after .* run again later/);
    const jobId = manifestOf(dir).jobs[0]!.jobId!;
    server.batch.setFault(null);
    server.batch.expire(jobId);
    const expired = await failureOf(runBackfill(config(), options(dir, request)));
    expect(expired).toBeInstanceOf(NoDataError);
    expect(expired.message).toMatch(new RegExp(`batch job ${jobId} has expired`));
    expect(manifestOf(dir).jobs[0]!.state).toBe("expired");
    const again = await runBackfill(config(), options(dir, { ...request, resubmitExpired: true }));
    expect(again.submitted).toBe(1);
    expect(manifestOf(dir).jobs[0]!.jobId).not.toBe(jobId);
  });

  it("refuses a folder holding another backfill's manifest, bad dates and unknown schemas", async () => {
    const dir = folder();
    writeFileSync(join(dir, "backfill-manifest.json"), JSON.stringify({ version: 1, jobs: [], request: { dataset: "GLBX.MDP3", symbols: ["NQ.OPT"], stypeIn: "parent", start: "2020-01-01T00:00:00.000Z", end: "2020-02-01T00:00:00.000Z", compression: "zstd", splitDuration: "day" } }));
    const other = await failureOf(runBackfill(config(), options(dir)));
    expect(other).toBeInstanceOf(ConfigError);
    expect(other.message).toMatch(/belongs to another backfill \(start: "2020-01-01T00:00:00.000Z" there, "2026-11-16T00:00:00.000Z" now; end: .*\)/);
    expect((await failureOf(runBackfill(config(), options(folder(), { to: "2026-11-16" })))).message).toMatch(/--to .* must be after --from .*the end is exclusive/);
    expect((await failureOf(runBackfill(config(), options(folder(), { from: "16/11/2026" })))).message).toMatch(/--from "16\/11\/2026" is not a date: expected YYYY-MM-DD/);
    expect((await failureOf(runBackfill(config(), options(folder(), { schemas: ["trades", "quotes"] })))).message).toMatch(/--schemas: unknown schema "quotes"; expected some of definition, statistics/);
  });
});
