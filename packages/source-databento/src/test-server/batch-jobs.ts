/**
 * The local server's batch family: `batch.submit_job` (form POST, billed when accepted),
 * `batch.get_job_details` / `batch.list_jobs` (the job JSON as databento-cpp parses it), `batch.list_files`
 * (`filename`, `size`, `hash: "sha256:<hex>"`, `urls: {https, ftp}`) and the files themselves at
 * `/v0/batch/download/<job_id>/<filename>`, with `Range` (206 + Content-Range, 416 past the end).
 *
 * A job moves one state per look at it (details or list): queued → processing → done. Its files are made
 * when it is done, one per UTC day with data (split_duration "day") or one for the whole range ("none"):
 * zstd DBN from @nq/dbn's encoder over the generated market, plus `metadata.json` (the job JSON).
 *
 * Faults (`setFault`): a job that stays queued, a download cut after some bytes, a slow download, served
 * bytes that do not match the listed hash; `expire(jobId?)` expires jobs (their files are gone).
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createMetadata, DbnEncoder, schemaFromName, SType, stypeFromName } from "@nq/dbn";
import { errorBody } from "./error-bodies.js";
import type { GeneratedDataset, ServedSchema } from "./generated-dataset.js";
import { RECORD_BYTES, SERVED_SCHEMAS } from "./generated-dataset.js";
import { splitSymbols, yyyymmdd } from "./request-params.js";
import { parseTimeParam, type TimeParam } from "./time-params.js";

export type BatchFault = (
  /** New looks at jobs keep them queued. */
  | { kind: "stay-queued" }
  /** A download's connection is destroyed after this many body bytes (default half the body). */
  | { kind: "cut"; afterBytes?: number }
  /** A download's body in small pieces with pauses. */
  | { kind: "slow"; bytesPerChunk?: number; delayMs?: number }
  /** A download's bytes differ (one byte flipped) from what list_files hashes. */
  | { kind: "corrupt" }
) & {
  /** How many looks/downloads it affects before clearing itself; default until replaced. */
  times?: number;
  /** Only downloads of these file names (download faults). */
  files?: string[];
};

export interface LocalBatchJob {
  id: string;
  state: "queued" | "processing" | "done" | "expired";
  request: Record<string, string>;
  costUsd: number;
  recordCount: number;
  billableBytes: number;
  /** Made when the job is done. */
  files: { filename: string; bytes: Uint8Array; sha256: string }[] | null;
}

export interface LocalBatchControl {
  jobs: LocalBatchJob[];
  setFault(fault: BatchFault | null): void;
  /** Expires one job (or every job): its state becomes "expired" and its files are deleted. */
  expire(jobId?: string): void;
}

/** What index.ts gives the batch family: the same dataset, prices, bounds, log entry and JSON writer. */
export interface BatchDeps {
  dataset: GeneratedDataset;
  prices: Record<ServedSchema, number>;
  availableStart: TimeParam;
  availableEnd: TimeParam;
  entitled: Set<string>;
  datasetName: string;
  send(res: ServerResponse, status: number, body: unknown): void;
}

export interface BatchLogFields {
  schema?: string;
  recordCount?: number;
  billableBytes?: number;
  costUsd?: number;
  billed?: boolean;
  range?: string;
  bytesSent?: number;
  status?: number;
}

export const BATCH_DOWNLOAD_PREFIX = "/v0/batch/download/";
const SPLITS = new Set(["day", "none"]);
const DAY_NS = 86_400_000_000_000n;
const JOB_LIFETIME_MS = 30 * 86_400_000;

export function createBatchJobs(deps: BatchDeps) {
  const jobs: LocalBatchJob[] = [];
  const looks = new Map<string, number>();
  const received = new Map<string, Date>();
  let fault: (BatchFault & { remaining: number }) | null = null;
  let counter = 0;

  const takeFault = (kinds: BatchFault["kind"][], filename?: string): BatchFault | null => {
    if (!fault || !kinds.includes(fault.kind)) return null;
    if (filename && fault.files && !fault.files.includes(filename)) return null;
    const taken = fault;
    if (--fault.remaining <= 0) fault = null;
    return taken;
  };

  /** One look at a job: it advances one state unless held queued. */
  const look = (job: LocalBatchJob): void => {
    if (job.state === "expired" || job.state === "done") return;
    if (takeFault(["stay-queued"])) {
      job.state = "queued";
      return;
    }
    const seen = (looks.get(job.id) ?? 0) + 1;
    looks.set(job.id, seen);
    job.state = seen >= 2 ? "done" : seen >= 1 ? "processing" : "queued";
    if (job.state === "done" && job.files === null) job.files = makeFiles(job);
  };

  function jobJson(job: LocalBatchJob): Record<string, unknown> {
    const r = job.request;
    const start = parseTimeParam(r.start)!;
    const end = parseTimeParam(r.end)!;
    const at = received.get(job.id)!;
    return {
      id: job.id,
      user_id: "LOCAL",
      cost_usd: job.costUsd,
      dataset: r.dataset,
      symbols: r.symbols,
      stype_in: r.stype_in ?? "raw_symbol",
      stype_out: r.stype_out ?? "instrument_id",
      schema: r.schema,
      start: start.iso,
      end: end.iso,
      limit: r.limit === undefined ? null : Number(r.limit),
      encoding: r.encoding ?? "dbn",
      compression: r.compression ?? "zstd",
      pretty_px: r.pretty_px === "true",
      pretty_ts: r.pretty_ts === "true",
      map_symbols: r.map_symbols === "true",
      split_duration: r.split_duration ?? "day",
      split_size: r.split_size === undefined ? null : Number(r.split_size),
      split_symbols: r.split_symbols === "true",
      delivery: r.delivery ?? "download",
      record_count: job.recordCount,
      billed_size: job.billableBytes,
      actual_size: job.files ? job.files.reduce((n, f) => n + f.bytes.length, 0) : null,
      package_size: null,
      state: job.state,
      ts_received: at.toISOString(),
      ts_queued: at.toISOString(),
      ts_process_start: job.state === "queued" ? null : at.toISOString(),
      ts_process_done: job.files ? at.toISOString() : null,
      ts_expiration: new Date(at.getTime() + JOB_LIFETIME_MS).toISOString(),
      progress: job.state === "done" ? 100 : job.state === "processing" ? 50 : 0,
    };
  }

  /** The windows a job's files cover: one per UTC day (split "day"), or the whole range. */
  function windows(job: LocalBatchJob): { startNs: bigint; endNs: bigint; label: string }[] {
    const start = parseTimeParam(job.request.start)!.ns;
    const end = parseTimeParam(job.request.end)!.ns;
    const date = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 10).replaceAll("-", "");
    if ((job.request.split_duration ?? "day") === "none") return [{ startNs: start, endNs: end, label: `${date(start)}-${date(end - 1n)}` }];
    const out: { startNs: bigint; endNs: bigint; label: string }[] = [];
    for (let day = (start / DAY_NS) * DAY_NS; day < end; day += DAY_NS) {
      out.push({ startNs: day > start ? day : start, endNs: day + DAY_NS < end ? day + DAY_NS : end, label: date(day) });
    }
    return out;
  }

  function count(request: Record<string, string>, startNs: bigint, endNs: bigint) {
    return deps.dataset.query({
      schema: request.schema as ServedSchema,
      symbols: splitSymbols(request.symbols),
      stypeIn: request.stype_in ?? "raw_symbol",
      startNs,
      endNs,
      limit: null,
    });
  }

  function makeFiles(job: LocalBatchJob): LocalBatchJob["files"] {
    const r = job.request;
    const zstd = (r.compression ?? "zstd") === "zstd";
    const files: NonNullable<LocalBatchJob["files"]> = [];
    const prefix = deps.datasetName.toLowerCase().replace(".", "-");
    for (const w of windows(job)) {
      const result = count(r, w.startNs, w.endNs);
      if (result.records.length === 0) continue;
      const chunks: Uint8Array[] = [];
      const metadata = createMetadata({
        dataset: deps.datasetName,
        schema: schemaFromName(r.schema!)!,
        start: w.startNs,
        end: w.endNs,
        limit: 0n,
        stype_in: stypeFromName(r.stype_in ?? "raw_symbol") ?? null,
        stype_out: SType.InstrumentId,
        symbols: splitSymbols(r.symbols),
        partial: [],
        not_found: result.resolution.notFound,
        mappings: [...result.resolution.rawSymbols.entries()].map(([raw, id]) => ({
          raw_symbol: raw,
          intervals: [{ start_date: yyyymmdd(w.startNs), end_date: yyyymmdd(w.endNs + DAY_NS - 1n), symbol: String(id) }],
        })),
      });
      const encoder = new DbnEncoder(metadata, (chunk: Uint8Array) => chunks.push(chunk), { zstd, chunkBytes: 256 * 1024 });
      for (const record of result.records) encoder.write(record);
      encoder.end();
      files.push(fileOf(`${prefix}-${w.label}.${r.schema}.dbn${zstd ? ".zst" : ""}`, Buffer.concat(chunks)));
    }
    files.push(fileOf("metadata.json", Buffer.from(JSON.stringify({ job: { ...jobJson(job), state: "done" } }, null, 2))));
    return files;
  }

  function submit(res: ServerResponse, form: Record<string, string>, log: BatchLogFields): void {
    const bad = (status: number, c: Parameters<typeof errorBody>[0], message: string, payload: Record<string, unknown> = {}) => deps.send(res, status, errorBody(c, status, message, payload));
    if (!form.dataset) return bad(400, "validation_failed", "Missing required parameter `dataset`.");
    if (!deps.entitled.has(form.dataset)) return bad(403, "auth_no_dataset_entitlement", `No entitlement for dataset ${form.dataset}.`, { dataset: form.dataset });
    if (form.dataset !== deps.datasetName) return bad(404, "dataset_not_found", `Dataset ${form.dataset} was not found.`);
    if (!SERVED_SCHEMAS.includes(form.schema as ServedSchema)) return bad(422, "data_schema_not_fully_available", `Schema \`${form.schema ?? ""}\` is not available here; the local server serves ${SERVED_SCHEMAS.join(", ")}.`);
    const start = parseTimeParam(form.start);
    const end = parseTimeParam(form.end);
    if (!start || !end) return bad(400, "validation_failed", "`start` and `end` must be ISO 8601 times, YYYY-MM-DD dates or UNIX nanoseconds.");
    if (end.ns <= start.ns) return bad(422, "data_end_before_start", "`end` must be after `start`.");
    if (start.ns < deps.availableStart.ns) return bad(422, "data_start_before_available_start", "`start` was before the available start.", { available_start: deps.availableStart.iso });
    if (start.ns >= deps.availableEnd.ns) return bad(422, "data_start_after_available_end", "`start` was after the available end.", { available_end: deps.availableEnd.iso });
    if (end.ns > deps.availableEnd.ns) return bad(422, "data_end_after_available_end", "`end` was after the available end.", { available_end: deps.availableEnd.iso });
    if ((form.encoding ?? "dbn") !== "dbn") return bad(400, "validation_failed", "The local server makes `encoding=dbn` batch files only.");
    if (!["zstd", "none"].includes(form.compression ?? "zstd")) return bad(400, "validation_failed", "`compression` must be `zstd` or `none`.");
    if (!SPLITS.has(form.split_duration ?? "day")) return bad(400, "validation_failed", "The local server splits batch files by `day` or `none`.");
    if (form.split_symbols === "true") return bad(400, "validation_failed", "The local server does not split files by symbol.");
    if ((form.delivery ?? "download") !== "download") return bad(400, "validation_failed", "`delivery` must be `download`.");
    const stypeIn = form.stype_in ?? "raw_symbol";
    if (stypeFromName(stypeIn) === undefined) return bad(400, "validation_failed", `Unknown \`stype_in\` ${stypeIn}.`);
    const request: Record<string, string> = { ...form, symbols: splitSymbols(form.symbols ?? "ALL_SYMBOLS").join(","), stype_in: stypeIn, start: start.iso, end: end.iso };
    const job: LocalBatchJob = { id: "", state: "queued", request, costUsd: 0, recordCount: 0, billableBytes: 0, files: null };
    let resolved = false;
    for (const w of windows(job)) {
      const result = count(request, w.startNs, w.endNs);
      job.recordCount += result.records.length;
      if (result.resolution.ids.size > 0) resolved = true;
    }
    if (!resolved) return bad(422, "symbology_invalid_request", "None of the symbols could be resolved.", { symbols: request.symbols, stype_in: stypeIn });
    const schema = request.schema as ServedSchema;
    job.billableBytes = job.recordCount * RECORD_BYTES[schema];
    job.costUsd = Math.round((job.billableBytes / 1e9) * deps.prices[schema] * 1e10) / 1e10;
    job.id = `${deps.datasetName}-${new Date().toISOString().slice(0, 10).replaceAll("-", "")}-${String(++counter).padStart(6, "0")}${randomTail()}`;
    received.set(job.id, new Date());
    jobs.push(job);
    Object.assign(log, { schema, recordCount: job.recordCount, billableBytes: job.billableBytes, costUsd: job.costUsd, billed: true });
    deps.send(res, 200, jobJson(job));
  }

  async function download(req: IncomingMessage, res: ServerResponse, path: string, log: BatchLogFields): Promise<void> {
    const [jobId, filename, ...rest] = path.slice(BATCH_DOWNLOAD_PREFIX.length).split("/").map(decodeURIComponent);
    const job = jobs.find((j) => j.id === jobId);
    if (!job || !filename || rest.length > 0) return deps.send(res, 404, errorBody("not_found", 404, `No batch file ${path}.`));
    if (job.state === "expired") return deps.send(res, 404, errorBody("not_found", 404, `Batch job ${job.id} has expired; its files were deleted.`));
    const file = job.files?.find((f) => f.filename === filename);
    if (!file) return deps.send(res, 404, errorBody("not_found", 404, `Batch job ${job.id} has no file ${filename}.`));
    const size = file.bytes.length;
    let first = 0;
    let last = size - 1;
    const range = req.headers.range;
    if (range !== undefined) {
      log.range = range;
      const m = /^bytes=(\d+)-(\d*)$/.exec(range.trim());
      if (!m || Number(m[1]) >= size || (m[2] !== "" && Number(m[2]) < Number(m[1]))) {
        res.setHeader("content-range", `bytes */${size}`);
        return deps.send(res, 416, errorBody("validation_failed", 416, `Range ${range} is not satisfiable for ${size} bytes.`));
      }
      first = Number(m[1]);
      last = m[2] === "" ? size - 1 : Math.min(size - 1, Number(m[2]));
    }
    let body = file.bytes.subarray(first, last + 1);
    const f = takeFault(["cut", "slow", "corrupt"], filename);
    if (f?.kind === "corrupt") {
      body = Uint8Array.from(body);
      body[Math.floor(body.length / 2)]! ^= 0xff;
    }
    res.statusCode = range === undefined ? 200 : 206;
    log.status = res.statusCode;
    res.setHeader("content-type", "application/octet-stream");
    res.setHeader("accept-ranges", "bytes");
    res.setHeader("content-length", String(body.length));
    if (range !== undefined) res.setHeader("content-range", `bytes ${first}-${last}/${size}`);
    log.bytesSent = 0;
    if (f?.kind === "cut") {
      const keep = Math.min(body.length - 1, f.afterBytes ?? Math.floor(body.length / 2));
      res.write(body.subarray(0, keep));
      log.bytesSent = keep;
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.socket?.destroy();
      return;
    }
    if (f?.kind === "slow") {
      const step = f.bytesPerChunk ?? 1024;
      for (let offset = 0; offset < body.length; offset += step) {
        if (res.destroyed) return;
        res.write(body.subarray(offset, offset + step));
        log.bytesSent += Math.min(step, body.length - offset);
        await new Promise((resolve) => setTimeout(resolve, f.delayMs ?? 50));
      }
      res.end();
      return;
    }
    res.end(body);
    log.bytesSent = body.length;
  }

  /** Routes one batch request (auth already checked). */
  async function handle(endpoint: string, req: IncomingMessage, res: ServerResponse, form: Record<string, string>, path: string, log: BatchLogFields): Promise<void> {
    if (endpoint === "batch.download") return download(req, res, path, log);
    if (endpoint === "batch.submit_job") {
      if (req.method !== "POST") return deps.send(res, 405, errorBody("validation_failed", 405, "batch.submit_job takes a form POST."));
      return submit(res, form, log);
    }
    if (endpoint === "batch.list_jobs") {
      const states = new Set((form.states ?? "queued,processing,done").split(",").map((s) => s.trim()));
      const since = form.since ? parseTimeParam(form.since) : null;
      if (form.since && !since) return deps.send(res, 400, errorBody("validation_failed", 400, "`since` must be a time."));
      const listed = jobs.filter((job) => !since || BigInt(received.get(job.id)!.getTime()) * 1_000_000n >= since.ns);
      for (const job of listed) look(job);
      return deps.send(res, 200, listed.filter((job) => states.has(job.state)).map(jobJson));
    }
    const job = jobs.find((j) => j.id === form.job_id);
    if (!form.job_id) return deps.send(res, 400, errorBody("validation_failed", 400, "Missing required parameter `job_id`."));
    if (!job) return deps.send(res, 404, errorBody("not_found", 404, `No batch job ${form.job_id}.`));
    if (endpoint === "batch.get_job_details") {
      look(job);
      return deps.send(res, 200, jobJson(job));
    }
    if (endpoint === "batch.list_files") {
      if (job.state === "expired") return deps.send(res, 404, errorBody("not_found", 404, `Batch job ${job.id} has expired; its files were deleted.`));
      if (job.state !== "done" || !job.files) return deps.send(res, 409, errorBody("validation_failed", 409, `Batch job ${job.id} is ${job.state}, not done: it has no files yet.`));
      const host = req.headers.host ?? "127.0.0.1";
      return deps.send(
        res,
        200,
        job.files.map((f) => ({
          filename: f.filename,
          size: f.bytes.length,
          hash: `sha256:${f.sha256}`,
          urls: { https: `http://${host}${BATCH_DOWNLOAD_PREFIX}${encodeURIComponent(job.id)}/${encodeURIComponent(f.filename)}`, ftp: `ftp://${host}/${job.id}/${f.filename}` },
        })),
      );
    }
    return deps.send(res, 404, errorBody("not_found", 404, `the local server does not implement ${endpoint}`));
  }

  const control: LocalBatchControl = {
    jobs,
    setFault(next) {
      fault = next ? { ...next, remaining: next.times ?? Number.POSITIVE_INFINITY } : null;
    },
    expire(jobId) {
      for (const job of jobs) {
        if (jobId !== undefined && job.id !== jobId) continue;
        job.state = "expired";
        job.files = null;
      }
    },
  };
  return { handle, control };
}

function fileOf(filename: string, bytes: Uint8Array) {
  return { filename, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

function randomTail(): string {
  return `-${Math.random().toString(36).slice(2, 7).toUpperCase()}`;
}
