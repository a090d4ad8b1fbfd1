/**
 * Databento's batch jobs: `batch.submit_job` (form POST) → `batch.get_job_details` until the job is
 * `done` → `batch.list_files` → one download per file (batch-download.ts). A job is paid when it is
 * submitted, so before that the whole job is priced with `metadata.get_cost` and refused over the limit,
 * and a job already submitted for the same request (`batch.list_jobs`) is reused instead of bought again.
 *
 * The HTTP, auth, retry and error mapping are HistoricalClient's; this file only knows the batch family.
 */
import { CostLimitError, NoDataError, TimeoutError, type Logger, NetworkError } from "@nq/core";
import { abortableSleep } from "./abortable-sleep.js";
import { type HistoricalClient, type RangeQuery, toNanos } from "./client.js";

/**
 * Job states as read: `expired` jobs' files are deleted. `received` (before `queued`) is accepted when
 * read but never sent as a filter: databento-python's JobState knows only the other four.
 */
export const JOB_STATES = ["received", "queued", "processing", "done", "expired"] as const;
export type JobState = (typeof JOB_STATES)[number];
const FILTER_STATES: readonly JobState[] = ["queued", "processing", "done", "expired"];

export type SplitDuration = "day" | "week" | "month" | "none";

/** What is asked of a batch job: a range query plus how the files are cut and packed. */
export interface BatchJobRequest extends RangeQuery {
  stypeOut: "instrument_id";
  encoding: "dbn";
  compression: "zstd" | "none";
  splitDuration: SplitDuration;
  splitSymbols: boolean;
}

export interface BatchJob {
  id: string;
  state: JobState;
  costUsd: number | null;
  dataset: string;
  schema: string;
  symbols: string[];
  stypeIn: string;
  stypeOut: string;
  /** UNIX ns as decimal strings: exact whatever form Databento writes the times in. */
  startNs: string;
  endNs: string;
  encoding: string;
  compression: string;
  splitDuration: string;
  splitSymbols: boolean;
  limit: number | null;
  tsReceived: string | null;
  tsExpiration: string | null;
  /** The job JSON as Databento sent it. */
  raw: Record<string, unknown>;
}

export interface BatchFile {
  filename: string;
  size: number;
  /** Lower-case hex. */
  sha256: string;
  url: string;
}

export interface WaitOptions {
  /** First pause between two looks at the job; it grows ×1.5 up to `maxPollMs`. */
  pollMs?: number;
  maxPollMs?: number;
  /** A job still `received`/`queued` after this long is given up on (TimeoutError; it may still run). */
  maxQueuedMs?: number;
  /** A job not `done` after this long is given up on. */
  maxWaitMs?: number;
  onState?: (job: BatchJob) => void;
}

export class BatchClient {
  constructor(
    private readonly client: HistoricalClient,
    private readonly source: string,
    private readonly log: Logger,
  ) {}

  /** The free price of the whole job: `metadata.get_cost` with the job's range parameters. */
  price(request: BatchJobRequest, signal: AbortSignal): Promise<number> {
    return this.client.getCost(request, signal);
  }

  /**
   * Submits the job after pricing it: over `limitUsd` nothing is submitted and CostLimitError names the
   * price and the limit (`limitName` says where the limit comes from).
   */
  async submit(request: BatchJobRequest, limit: { usd: number; name: string }, signal: AbortSignal): Promise<{ job: BatchJob; pricedUsd: number }> {
    const pricedUsd = await this.price(request, signal);
    if (pricedUsd > limit.usd) {
      throw new CostLimitError(
        this.source,
        `the batch job ${describeRequest(request)} would cost $${pricedUsd.toFixed(4)} (metadata.get_cost), over the limit of $${limit.usd.toFixed(2)} (${limit.name}); nothing was submitted. Raise the limit or narrow the request`,
        { estimatedUsd: pricedUsd, limitUsd: limit.usd },
      );
    }
    const json = await this.client.requestJson("batch.submit_job", { method: "POST", params: submitParams(request), dataset: request.dataset }, signal);
    const job = parseJob(json.value, this.source);
    this.log.info(`submitted batch job ${job.id} (${describeRequest(request)}), priced at $${pricedUsd.toFixed(4)}`);
    return { job, pricedUsd };
  }

  async listJobs(options: { states?: readonly JobState[]; since?: Date }, signal: AbortSignal): Promise<BatchJob[]> {
    const params: Record<string, string> = { states: (options.states ?? FILTER_STATES).join(",") };
    if (options.since) params.since = toNanos(options.since);
    const json = await this.client.requestJson("batch.list_jobs", { method: "GET", params }, signal);
    if (!Array.isArray(json.value)) throw malformed(this.source, "batch.list_jobs", `expected a list of jobs, got ${json.text.slice(0, 200)}`);
    return json.value.map((job) => parseJob(job, this.source));
  }

  /** A job not yet expired that asked for exactly this: reusing it costs nothing. */
  async findReusable(request: BatchJobRequest, signal: AbortSignal): Promise<BatchJob | null> {
    const jobs = await this.listJobs({ states: ["queued", "processing", "done"] }, signal);
    const wanted = requestKey(request);
    // The newest first: it expires last.
    const matches = jobs.filter((job) => job.state !== "expired" && jobKey(job) === wanted).sort((a, b) => (b.tsReceived ?? "").localeCompare(a.tsReceived ?? ""));
    return matches[0] ?? null;
  }

  async jobDetails(id: string, signal: AbortSignal): Promise<BatchJob> {
    const json = await this.client.requestJson("batch.get_job_details", { method: "GET", params: { job_id: id } }, signal);
    return parseJob(json.value, this.source);
  }

  /**
   * Polls the job with a growing pause until it is `done`. Expired → NoDataError (its files are gone);
   * queued longer than `maxQueuedMs` or not done within `maxWaitMs` → TimeoutError naming the job, which
   * a later run picks up again (nothing is paid twice).
   */
  async waitUntilDone(id: string, signal: AbortSignal, options: WaitOptions = {}): Promise<BatchJob> {
    const maxPollMs = options.maxPollMs ?? 60_000;
    const maxQueuedMs = options.maxQueuedMs ?? 6 * 3_600_000;
    const maxWaitMs = options.maxWaitMs ?? 24 * 3_600_000;
    let pauseMs = options.pollMs ?? 2_000;
    const started = Date.now();
    for (;;) {
      const job = await this.jobDetails(id, signal);
      options.onState?.(job);
      if (job.state === "done") return job;
      if (job.state === "expired") throw expiredError(this.source, job);
      const waited = Date.now() - started;
      if ((job.state === "queued" || job.state === "received") && waited >= maxQueuedMs) {
        throw new TimeoutError(
          this.source,
          `batch job ${id} is still ${job.state} after ${Math.round(waited / 1000)} s (max queued ${Math.round(maxQueuedMs / 1000)} s); it was not cancelled and is not paid again: run again later to pick it up`,
          { timeoutMs: maxQueuedMs, details: { jobId: id, state: job.state } },
        );
      }
      if (waited >= maxWaitMs) {
        throw new TimeoutError(this.source, `batch job ${id} is not done after ${Math.round(waited / 1000)} s (state ${job.state}); run again later to pick it up`, {
          timeoutMs: maxWaitMs,
          details: { jobId: id, state: job.state },
        });
      }
      await abortableSleep(pauseMs, signal, this.source);
      pauseMs = Math.min(maxPollMs, Math.round(pauseMs * 1.5));
    }
  }

  async listFiles(id: string, signal: AbortSignal): Promise<BatchFile[]> {
    const json = await this.client.requestJson("batch.list_files", { method: "GET", params: { job_id: id } }, signal);
    if (!Array.isArray(json.value)) throw malformed(this.source, "batch.list_files", `expected a list of files, got ${json.text.slice(0, 200)}`);
    return json.value.map((entry) => parseFile(entry, this.source, id));
  }
}

export function expiredError(source: string, job: Pick<BatchJob, "id" | "tsExpiration">): NoDataError {
  return new NoDataError(
    source,
    `batch job ${job.id} has expired${job.tsExpiration ? ` (at ${job.tsExpiration})` : ""}: Databento deleted its files, so they cannot be downloaded. Submitting it again buys the data again`,
    { details: { jobId: job.id } },
  );
}

export function describeRequest(request: BatchJobRequest): string {
  const symbols = request.symbols.length > 3 ? `${request.symbols.slice(0, 3).join(",")},…` : request.symbols.join(",");
  return `${request.schema} ${request.dataset} ${symbols} ${request.start.toISOString()}–${request.end.toISOString()}`;
}

function submitParams(request: BatchJobRequest): Record<string, string> {
  const params: Record<string, string> = {
    dataset: request.dataset,
    start: toNanos(request.start),
    end: toNanos(request.end),
    symbols: request.symbols.join(","),
    schema: request.schema,
    stype_in: request.stypeIn,
    stype_out: request.stypeOut,
    encoding: request.encoding,
    compression: request.compression,
    split_duration: request.splitDuration,
    split_symbols: String(request.splitSymbols),
    delivery: "download",
  };
  if (request.limit !== undefined) params.limit = String(request.limit);
  return params;
}

/** The identity of a request, for matching it against the jobs already submitted. */
export function requestKey(request: BatchJobRequest): string {
  return JSON.stringify([
    request.dataset,
    request.schema,
    [...request.symbols].map((s) => s.toUpperCase()).sort(),
    request.stypeIn,
    request.stypeOut,
    toNanos(request.start),
    toNanos(request.end),
    request.encoding,
    request.compression,
    request.splitDuration,
    request.splitSymbols,
    request.limit ?? null,
  ]);
}

function jobKey(job: BatchJob): string {
  return JSON.stringify([
    job.dataset,
    job.schema,
    [...job.symbols].map((s) => s.toUpperCase()).sort(),
    job.stypeIn,
    job.stypeOut,
    job.startNs,
    job.endNs,
    job.encoding,
    job.compression,
    job.splitDuration,
    job.splitSymbols,
    job.limit,
  ]);
}

export function parseJob(value: unknown, source: string): BatchJob {
  const job = value as Record<string, unknown> | null;
  if (typeof job !== "object" || job === null || typeof job.id !== "string" || !job.id) {
    throw malformed(source, "batch job", `expected a job object with an "id", got ${JSON.stringify(value)?.slice(0, 200)}`);
  }
  const state = String(job.state ?? "");
  if (!(JOB_STATES as readonly string[]).includes(state)) {
    throw malformed(source, "batch job", `job ${job.id} has state ${JSON.stringify(job.state)}, expected one of ${JOB_STATES.join(", ")}`);
  }
  const startNs = timeToNanos(job.start);
  const endNs = timeToNanos(job.end);
  if (startNs === null || endNs === null) throw malformed(source, "batch job", `job ${job.id} has no readable start/end (${String(job.start)}, ${String(job.end)})`);
  const symbols = Array.isArray(job.symbols) ? job.symbols.map(String) : typeof job.symbols === "string" ? job.symbols.split(",").map((s) => s.trim()).filter(Boolean) : [];
  const limit = job.limit === null || job.limit === undefined || job.limit === 0 ? null : Number(job.limit);
  return {
    id: job.id,
    state: state as JobState,
    costUsd: typeof job.cost_usd === "number" ? job.cost_usd : null,
    dataset: String(job.dataset ?? ""),
    schema: String(job.schema ?? ""),
    symbols,
    stypeIn: String(job.stype_in ?? ""),
    stypeOut: String(job.stype_out ?? ""),
    startNs,
    endNs,
    encoding: String(job.encoding ?? ""),
    compression: String(job.compression ?? "none"),
    splitDuration: String(job.split_duration ?? ""),
    splitSymbols: job.split_symbols === true || job.split_symbols === "true",
    limit,
    tsReceived: typeof job.ts_received === "string" ? job.ts_received : null,
    tsExpiration: typeof job.ts_expiration === "string" ? job.ts_expiration : null,
    raw: job,
  };
}

function parseFile(value: unknown, source: string, jobId: string): BatchFile {
  const entry = value as { filename?: unknown; size?: unknown; hash?: unknown; urls?: { https?: unknown } } | null;
  const filename = entry?.filename;
  if (typeof filename !== "string" || !/^[A-Za-z0-9._-]+$/.test(filename) || filename.startsWith(".")) {
    throw malformed(source, "batch.list_files", `job ${jobId} lists a file named ${JSON.stringify(filename)}; expected a plain file name (letters, digits, ".", "_", "-")`);
  }
  const size = entry?.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw malformed(source, "batch.list_files", `${filename}: expected a size in bytes, got ${JSON.stringify(size)}`);
  const hash = typeof entry?.hash === "string" ? /^sha256:([0-9a-fA-F]{64})$/.exec(entry.hash) : null;
  if (!hash) throw malformed(source, "batch.list_files", `${filename}: expected a hash "sha256:<64 hex digits>", got ${JSON.stringify(entry?.hash)}`);
  const url = entry?.urls?.https;
  if (typeof url !== "string" || !/^https?:\/\//.test(url)) throw malformed(source, "batch.list_files", `${filename}: expected urls.https, got ${JSON.stringify(entry?.urls)}`);
  return { filename, size, sha256: hash[1]!.toLowerCase(), url };
}

/** Databento writes job times as ISO strings with nanoseconds ("2024-01-02T00:00:00.000000000Z"). */
export function timeToNanos(value: unknown): string | null {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value !== "string" || value === "") return null;
  if (/^\d+$/.test(value)) return value;
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value);
  if (!match) return null;
  const ms = Date.parse(`${match[1]}T${match[2] ?? "00:00:00"}${match[4] ?? "Z"}`);
  if (Number.isNaN(ms)) return null;
  const fraction = BigInt((match[3] ?? "").padEnd(9, "0") || "0");
  return (BigInt(ms) * 1_000_000n + fraction).toString();
}

function malformed(source: string, what: string, message: string): NetworkError {
  return new NetworkError(source, `${what} answered something unexpected: ${message}. Check base_url points at Databento's Historical API`, { details: { endpoint: what } });
}
