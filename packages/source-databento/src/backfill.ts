/**
 * `backfill`: months or years of NQ options history through Databento's batch jobs, onto disk as
 * verified DBN files, then (through the caller's converter) Parquet. One batch job per schema over the
 * whole range, split into one file per day. The order of a run, each step saved in the manifest:
 *
 *   1. jobs already in the manifest are kept; for the others an existing job for the same request is
 *      looked up (`batch.list_jobs`) and reused — nothing paid again;
 *   2. the rest are priced (`metadata.get_cost`) and, when together they cross the limit, refused before
 *      anything is submitted; otherwise submitted, and what was paid goes into the spend ledger;
 *   3. each job is polled until done, its files listed and downloaded (resumed, SHA-256 verified);
 *   4. the DBN files are handed to `convert`, unless exactly those files were converted before.
 *
 * The runner calls it through the plugin's `backfill` export and knows nothing of Databento.
 */
import { mkdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import {
  AbortedError,
  type BackfillConvertInput,
  type BackfillConvertOutput,
  type BackfillRunOptions,
  type BackfillRunResult,
  ConfigError,
  CostLimitError,
  isSourceError,
} from "@nq/core";
import { type BackfillManifest, type ManifestJob, MANIFEST_FILE, newManifest, readManifest, writeManifest, type ManifestRequest } from "./backfill-manifest.js";
import { resolveApiKey, type ResolvedConfig, SOURCE_NAME } from "./config.js";
import { BatchClient, type BatchJob, type BatchJobRequest, describeRequest, expiredError, type WaitOptions } from "./historical/batch-client.js";
import { downloadBatchFile } from "./historical/batch-download.js";
import type { HistoricalClient } from "./historical/client.js";
import { historicalClientFromConfig } from "./historical/from-config.js";

/** Schemas a backfill can fetch (the ones the chain is built from). */
export const BACKFILL_SCHEMAS = ["definition", "statistics", "trades", "mbp-1", "bbo-1s", "bbo-1m", "ohlcv-1d"] as const;
export const DEFAULT_BACKFILL_SCHEMAS = ["definition", "statistics"];

/** The progress, convert and payment types are core's backfill contract (`BackfillRunOptions`). */
export type { BackfillPayment, BackfillProgress } from "@nq/core";
export type ConvertInput = BackfillConvertInput;
export type ConvertOutput = BackfillConvertOutput;

export interface BackfillOptions extends BackfillRunOptions {
  poll?: WaitOptions;
  download?: { maxRetries?: number; retryDelayMs?: number };
  now?: () => Date;
}

export interface BackfillResult extends BackfillRunResult {
  manifest: BackfillManifest;
}

export async function runBackfill(config: ResolvedConfig, options: BackfillOptions): Promise<BackfillResult> {
  const now = options.now ?? (() => new Date());
  const { log, signal } = options;
  const schemas = validateSchemas(options.schemas);
  const start = parseBound(options.from, "--from");
  const end = parseBound(options.to, "--to");
  if (end.getTime() <= start.getTime()) {
    throw new ConfigError(SOURCE_NAME, `--to (${end.toISOString()}) must be after --from (${start.toISOString()}); the end is exclusive: --from 2024-01-02 --to 2024-01-03 is one day`, { path: "--to" });
  }
  if (!Number.isFinite(options.maxCostUsd) || options.maxCostUsd < 0) throw new ConfigError(SOURCE_NAME, `the cost limit must be a non-negative number of USD, got ${options.maxCostUsd}`, { path: "--max-cost" });
  const apiKey = resolveApiKey(config);
  // Batch calls are not under the registry's retries: the client retries 429/5xx itself.
  const client = historicalClientFromConfig(config, apiKey, log, { maxRetries: Math.max(config.max_retries, 3) });
  const batch = new BatchClient(client, SOURCE_NAME, log);
  const request: ManifestRequest = {
    dataset: config.dataset,
    symbols: [...config.parent_symbols],
    stypeIn: "parent",
    start: start.toISOString(),
    end: end.toISOString(),
    compression: "zstd",
    splitDuration: "day",
  };
  await mkdir(options.outDir, { recursive: true });
  const manifest = (await readManifest(options.outDir, request, SOURCE_NAME)) ?? newManifest(request, now());
  manifest.status = "running";
  manifest.lastError = null;
  const save = () => writeManifest(options.outDir, manifest, now());
  await save();
  const result: BackfillResult = {
    manifestPath: join(options.outDir, MANIFEST_FILE),
    manifest,
    paidUsd: 0,
    submitted: 0,
    reused: 0,
    filesDownloaded: 0,
    filesSkipped: 0,
    bytesFetched: 0,
    converted: false,
  };
  const jobRequest = (schema: string): BatchJobRequest => ({
    dataset: request.dataset,
    schema,
    symbols: request.symbols,
    stypeIn: "parent",
    stypeOut: "instrument_id",
    start,
    end,
    encoding: "dbn",
    compression: request.compression,
    splitDuration: request.splitDuration,
    splitSymbols: false,
  });

  try {
    await settleJobs(schemas, manifest, jobRequest, batch, options, result, save);
    for (const schema of schemas) {
      const entry = manifest.jobs.find((j) => j.schema === schema)!;
      await downloadJob(entry, batch, client, config, options, manifest, result, save);
    }
    if (options.convert) await convert(schemas, manifest, options, result, save, now);
    manifest.status = "complete";
    await save();
    return result;
  } catch (error) {
    manifest.status = error instanceof AbortedError || signal.aborted ? "interrupted" : "failed";
    manifest.lastError = error instanceof Error ? error.message : String(error);
    await save().catch((saveError: unknown) => log.error(`the manifest could not be saved: ${(saveError as Error).message}`));
    throw error;
  }
}

/** Every schema gets a job: kept from the manifest, reused from Databento's list, or bought within the limit. */
async function settleJobs(
  schemas: string[],
  manifest: BackfillManifest,
  jobRequest: (schema: string) => BatchJobRequest,
  batch: BatchClient,
  options: BackfillOptions,
  result: BackfillResult,
  save: () => Promise<void>,
): Promise<void> {
  const { signal, log } = options;
  const toBuy: { schema: string; request: BatchJobRequest; usd: number }[] = [];
  for (const schema of schemas) {
    let entry = manifest.jobs.find((j) => j.schema === schema);
    if (entry?.jobId) {
      const complete = entry.files !== null && entry.files.every((f) => f.downloadedAt !== null);
      if (entry.state !== "expired" || complete) continue;
      if (!options.resubmitExpired) throw expiredError(SOURCE_NAME, { id: entry.jobId, tsExpiration: null });
      log.warn(`batch job ${entry.jobId} (${schema}) expired before its files were downloaded: submitting it again (--resubmit-expired)`);
      entry.jobId = null;
      entry.files = null;
    }
    const request = jobRequest(schema);
    const existing = await batch.findReusable(request, signal);
    if (!entry) {
      entry = { schema, jobId: null, state: "new", reused: false, pricedUsd: null, paidUsd: 0, submittedAt: null, files: null };
      manifest.jobs.push(entry);
    }
    if (existing) {
      // Reported before the manifest holds the job (even one saved on the way out of a failure): a job the
      // manifest holds is never reported again.
      if (options.onPaid) {
        const usd = existing.costUsd ?? (await batch.price(request, signal));
        await options.onPaid({ source: SOURCE_NAME, jobId: existing.id, schema, usd, what: `batch job ${existing.id}: ${describeRequest(request)}`, at: paidAt(existing.tsReceived, options), how: "found" });
      }
      Object.assign(entry, { jobId: existing.id, state: existing.state, reused: true, submittedAt: existing.tsReceived });
      result.reused += 1;
      log.info(`reusing batch job ${existing.id} for ${describeRequest(request)} (${existing.state}): not paid again`);
      options.onProgress?.({ phase: "job", schema, jobId: existing.id, state: `${existing.state} (reused)` });
      await save();
      continue;
    }
    const usd = await batch.price(request, signal);
    entry.pricedUsd = usd;
    toBuy.push({ schema, request, usd });
  }
  if (toBuy.length === 0) return;
  const total = toBuy.reduce((sum, b) => sum + b.usd, 0);
  const listing = toBuy.map((b) => `  - ${b.schema}: $${b.usd.toFixed(4)} (${describeRequest(b.request)})`).join("\n");
  if (total > options.maxCostUsd) {
    await save();
    throw new CostLimitError(
      SOURCE_NAME,
      `nothing was submitted: the batch jobs would cost $${total.toFixed(4)} together (metadata.get_cost), over the limit of $${options.maxCostUsd.toFixed(2)} (${options.limitName}):\n${listing}\nRaise the limit, or narrow --from/--to or --schemas`,
      { estimatedUsd: total, limitUsd: options.maxCostUsd, details: { plan: toBuy.map((b) => ({ schema: b.schema, usd: b.usd })) } },
    );
  }
  options.onProgress?.({ phase: "plan", message: `submitting ${toBuy.length} batch job(s) for $${total.toFixed(4)} (limit $${options.maxCostUsd.toFixed(2)}, ${options.limitName})` });
  let committed = 0;
  for (const buy of toBuy) {
    const entry = manifest.jobs.find((j) => j.schema === buy.schema)!;
    // Priced again inside submit: the price could have moved since the plan.
    const { job, pricedUsd } = await batch.submit(buy.request, { usd: options.maxCostUsd - committed, name: options.limitName }, signal);
    const paid = job.costUsd ?? pricedUsd;
    committed += paid;
    const what = `batch job ${job.id}: ${describeRequest(buy.request)}`;
    options.spend.record(SOURCE_NAME, what, paid, { schema: buy.schema });
    result.paidUsd += paid;
    result.submitted += 1;
    // Reported before the manifest holds the job: if reporting fails, the next run finds the job on
    // Databento (not in the manifest) and reports it then.
    await options.onPaid?.({ source: SOURCE_NAME, jobId: job.id, schema: buy.schema, usd: paid, what, at: paidAt(job.tsReceived, options), how: "submitted" });
    Object.assign(entry, { jobId: job.id, state: job.state, reused: false, pricedUsd, paidUsd: paid, submittedAt: job.tsReceived ?? new Date().toISOString() });
    options.onProgress?.({ phase: "job", schema: buy.schema, jobId: job.id, state: job.state });
    await save();
  }
}

/** A job's submission time as an ISO string (Databento's form varies; see BatchJob), else now. */
function paidAt(tsReceived: string | null | undefined, options: BackfillOptions): string {
  const ms = tsReceived ? Date.parse(tsReceived) : Number.NaN;
  return Number.isNaN(ms) ? (options.now ?? (() => new Date()))().toISOString() : new Date(ms).toISOString();
}

async function downloadJob(
  entry: ManifestJob,
  batch: BatchClient,
  client: HistoricalClient,
  config: ResolvedConfig,
  options: BackfillOptions,
  manifest: BackfillManifest,
  result: BackfillResult,
  save: () => Promise<void>,
): Promise<void> {
  const { signal, log } = options;
  const jobId = entry.jobId!;
  const dir = join(options.outDir, "dbn", entry.schema);
  await mkdir(dir, { recursive: true });
  if (entry.files === null || entry.state !== "done") {
    let job: BatchJob;
    try {
      job = await batch.waitUntilDone(jobId, signal, {
        ...options.poll,
        onState: (state) => {
          if (state.state !== entry.state) {
            entry.state = state.state;
            options.onProgress?.({ phase: "job", schema: entry.schema, jobId, state: state.state });
          }
        },
      });
    } catch (error) {
      if (isSourceError(error) && error.kind === "no_data") entry.state = "expired";
      throw error;
    }
    entry.state = job.state;
    const listed = await batch.listFiles(jobId, signal);
    entry.files = listed.map((f) => ({
      filename: f.filename,
      path: relative(options.outDir, join(dir, f.filename)),
      size: f.size,
      sha256: f.sha256,
      downloadedAt: entry.files?.find((old) => old.filename === f.filename && old.sha256 === f.sha256)?.downloadedAt ?? null,
    }));
    await save();
  }
  const files = entry.files!;
  let listed: Map<string, { url: string }> | null = null;
  for (const file of files) {
    if (file.downloadedAt !== null && (await sizeOf(join(options.outDir, file.path))) === file.size) {
      result.filesSkipped += 1;
      report(options, manifest, file.filename);
      continue;
    }
    // URLs are fetched fresh (they may be signed or moved); the hash and size stay the manifest's.
    listed ??= new Map((await batch.listFiles(jobId, signal)).map((f) => [f.filename, f]));
    const url = listed.get(file.filename)?.url;
    if (!url) throw expiredError(SOURCE_NAME, { id: jobId, tsExpiration: null });
    const got = await downloadBatchFile(client, { filename: file.filename, size: file.size, sha256: file.sha256, url }, dir, signal, {
      log,
      source: SOURCE_NAME,
      baseUrl: config.base_url,
      ...options.download,
      onBytes: (have) => report(options, manifest, file.filename, have),
    });
    file.downloadedAt = new Date().toISOString();
    result.bytesFetched += got.fetchedBytes;
    if (got.alreadyThere) result.filesSkipped += 1;
    else result.filesDownloaded += 1;
    await save();
    report(options, manifest, file.filename);
  }
}

async function convert(schemas: string[], manifest: BackfillManifest, options: BackfillOptions, result: BackfillResult, save: () => Promise<void>, now: () => Date): Promise<void> {
  const inputs = manifest.jobs
    .filter((j) => schemas.includes(j.schema))
    .flatMap((j) => (j.files ?? []).filter((f) => /\.dbn(\.zst)?$/.test(f.filename)).map((f) => ({ schema: j.schema, path: f.path, sha256: f.sha256 })));
  const key = (list: { path: string; sha256: string }[]) => JSON.stringify(list.map((f) => [f.path, f.sha256]).sort());
  if (manifest.converted && key(manifest.converted.inputs) === key(inputs)) {
    options.onProgress?.({ phase: "convert", message: `already converted (${manifest.converted.outputs.length} output file(s))` });
    return;
  }
  options.onProgress?.({ phase: "convert", message: `converting ${inputs.length} DBN file(s) to Parquet` });
  const output = await options.convert!({
    files: inputs.map((f) => ({ schema: f.schema, path: join(options.outDir, f.path) })),
    outDir: join(options.outDir, "parquet"),
    signal: options.signal,
  });
  manifest.converted = {
    at: now().toISOString(),
    inputs: inputs.map((f) => ({ path: f.path, sha256: f.sha256 })),
    outputs: output.outputs.map((o) => ({ ...o, path: relative(options.outDir, o.path) })),
  };
  result.converted = true;
  await save();
}

function report(options: BackfillOptions, manifest: BackfillManifest, file: string, haveOfCurrent?: number): void {
  if (!options.onProgress) return;
  let bytesDone = 0;
  let bytesTotal = 0;
  let filesDone = 0;
  let filesTotal = 0;
  for (const job of manifest.jobs) {
    for (const f of job.files ?? []) {
      filesTotal += 1;
      bytesTotal += f.size;
      if (f.downloadedAt !== null) {
        filesDone += 1;
        bytesDone += f.size;
      } else if (f.filename === file && haveOfCurrent !== undefined) bytesDone += haveOfCurrent;
    }
  }
  options.onProgress({ phase: "download", file, bytesDone, bytesTotal, filesDone, filesTotal });
}

function validateSchemas(schemas: string[]): string[] {
  const unique = [...new Set(schemas.map((s) => s.trim()).filter(Boolean))];
  if (unique.length === 0) throw new ConfigError(SOURCE_NAME, `--schemas is empty; expected a comma-separated list of ${BACKFILL_SCHEMAS.join(", ")}`, { path: "--schemas" });
  const unknown = unique.filter((s) => !(BACKFILL_SCHEMAS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new ConfigError(SOURCE_NAME, `--schemas: unknown schema ${unknown.map((s) => `"${s}"`).join(", ")}; expected some of ${BACKFILL_SCHEMAS.join(", ")}`, { path: "--schemas" });
  return unique;
}

function parseBound(value: string, flag: string): Date {
  const text = value.trim();
  const ok = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/.test(text);
  const ms = ok ? Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text) : Number.NaN;
  if (Number.isNaN(ms)) throw new ConfigError(SOURCE_NAME, `${flag} "${value}" is not a date: expected YYYY-MM-DD (midnight UTC) or an ISO time with a zone such as 2024-01-02T00:00:00Z`, { path: flag });
  return new Date(ms);
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}
