/**
 * @nq/source-databento/test-server — a local server that speaks Databento's Historical HTTP API as the
 * reference documents it: `/v0/<family>.<method>`, HTTP basic auth (key as user), form-encoded POSTs or
 * query strings, `{"detail": {case, message, status_code, docs, payload}}` error bodies, `X-Warning`
 * headers, `Retry-After` on 429, 206 for partially resolved symbols, and `timeseries.get_range` answered
 * with zstd DBN made by @nq/dbn's encoder from a deterministic generated NQ market. It also serves the
 * real upstream fixtures (ESH1, 2020-12-28) when `fixturesDir` points at them.
 *
 * It listens on 127.0.0.1 only. Faults (401, 403, 422, 429, 503, slow drip, reset mid-body, truncated
 * zstd, 206 partial symbols) are switched with `setFault`. The request log records, per range request,
 * the record count and billable bytes, so `spend()` can total a query plan and `estimate()` can price an
 * alternative without sending it. The runner's demo profile and @nq/cache-sqlite's benchmark use it.
 *
 * The generated market (nq-chain-generator.ts, market-events.ts, chicago-time.ts): definitions per UTC
 * day; per Globex session (17:00 Chicago the evening before → 16:00 Chicago) a list of book events and
 * trades per instrument, from which trades, mbp-1, bbo-1s and bbo-1m are derived; statistics (open
 * interest, settlement, cleared volume) per trade date; the NQ futures under NQ.FUT. `bookAt`,
 * `lastTradeAt`, `bboAt`, `sessionVolume`, `settlementPrice`, `futureBookAt`… give the expected values.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { DbnEncoder, type DbnRecordV3, createMetadata, schemaFromName, SType, stypeFromName } from "@nq/dbn";
import { defaultFixturesDir, type FixtureFile, loadFixtures } from "./fixtures.js";
import { GeneratedDataset, RECORD_BYTES, type Resolution, SERVED_SCHEMAS, type ServedSchema } from "./generated-dataset.js";
import { errorBody, type ErrorCase } from "./error-bodies.js";
import { splitSymbols, yyyymmdd } from "./request-params.js";
import { parseTimeParam } from "./time-params.js";
import { DEFAULT_CONTRACTS } from "./market-events.js";
import { BATCH_DOWNLOAD_PREFIX, createBatchJobs, type LocalBatchControl } from "./batch-jobs.js";

export type LocalServerFault = (
  | { kind: "401" }
  | { kind: "403" }
  | { kind: "422" }
  | { kind: "429"; retryAfterSeconds?: number }
  | { kind: "503" }
  /** The get_range body in small pieces with pauses. */
  | { kind: "slow"; bytesPerChunk?: number; delayMs?: number }
  /** The connection is destroyed after this many body bytes of get_range. */
  | { kind: "reset"; afterBytes?: number }
  /** The get_range body ends cleanly after this share of its zstd bytes. */
  | { kind: "truncate"; keepFraction?: number }
  /**
   * get_range answers 206 with some input symbols listed in the DBN metadata's `not_found` (their records
   * left out) or `partial` (their records from the second half of the window left out). Default: the last
   * requested symbol is not found when several were asked for, else the only one is partial. The record
   * counts of get_record_count / get_billable_size / get_cost agree (they are not consumed by `times`).
   */
  | { kind: "partial"; notFound?: string[]; partial?: string[] }
) & {
  /**
   * Endpoints it applies to ("timeseries.get_range", "metadata.get_cost"…). Default: status faults hit
   * every endpoint, body faults get_range; a body fault naming a JSON endpoint hits that JSON body.
   */
  endpoints?: string[];
  /** How many requests it affects before clearing itself; default: until replaced. */
  times?: number;
};

export interface LocalDatabentoServerOptions {
  /** Roughly how many option contracts the generated NQ chain has per day (default 200). */
  contracts?: number;
  /** Accepted API keys; default: any well-formed key ("db-" + 29 letters/digits). */
  apiKeys?: string[];
  /** Datasets the keys are licensed for (default ["GLBX.MDP3"]); others answer 403 auth_no_dataset_entitlement. */
  entitledDatasets?: string[];
  /**
   * The dataset's available range (get_dataset_range); defaults 2019-07-07 and 2026-11-20T21:00:00Z.
   * The end is exclusive and bounds ts_recv: records stamped at or after it do not exist yet (a start at
   * or after it is 422 data_start_after_available_end, an end after it 422 data_end_after_available_end).
   * The default end is 15:00 Chicago on Friday 2026-11-20, i.e. inside that day's session: its last hour,
   * its closing bbo records (stamped 16:00:00) and its settlement / cleared volume are not published yet;
   * Thursday 2026-11-19 is the last complete session.
   */
  availableStart?: string;
  availableEnd?: string;
  /** USD per GB of uncompressed DBN, per schema; the local server's own rates, not Databento's. */
  pricesUsdPerGb?: Partial<Record<ServedSchema, number>>;
  /** Days (YYYY-MM-DD) whose data is marked degraded: a request touching them gets an X-Warning. */
  degradedDates?: string[];
  /** Requests per second per key and family before 429 (Databento: metadata 20, timeseries 100, symbology 100); off by default. */
  rateLimits?: { metadata?: number; timeseries?: number; symbology?: number };
  /**
   * A folder of real Databento DBN files, served verbatim when a request matches them. Default: the
   * upstream GLBX.MDP3 fixtures in ../shared (or NQ_SHARED_DIR) when present; null turns them off.
   */
  fixturesDir?: string | null;
}

export interface RecordedRequest {
  method: string;
  /** e.g. "/v0/timeseries.get_range". */
  path: string;
  /** The parameters, from the form body or the query string. Never the Authorization header. */
  form: Record<string, string>;
  at: string;
  /** The HTTP status answered (set once known). */
  status?: number;
  /** For get_range / get_cost / get_billable_size / get_record_count that got as far as counting records: */
  schema?: string;
  recordCount?: number;
  /** Uncompressed DBN record bytes (record count × record size), what Databento bills by. */
  billableBytes?: number;
  /** billableBytes at the server's rate for the schema. */
  costUsd?: number;
  /** True for a get_range that streamed data or an accepted batch.submit_job: the only requests that spend. */
  billed?: boolean;
  /** A batch file download's Range header, as sent. */
  range?: string;
  /** Body bytes a batch file download wrote before it ended (or was cut). */
  bytesSent?: number;
}

export interface SpendSummary {
  /** Billed get_range requests counted. */
  requests: number;
  recordCount: number;
  billableBytes: number;
  costUsd: number;
  bySchema: Record<string, { requests: number; recordCount: number; billableBytes: number; costUsd: number }>;
}

export interface RangeQuery {
  schema: ServedSchema;
  symbols: string | string[];
  stype_in?: string;
  /** ISO time, YYYY-MM-DD or integer ns as a string, as get_range takes them. */
  start: string;
  end: string;
  limit?: number;
}

export interface LocalDatabentoServer {
  url: string;
  requests: RecordedRequest[];
  setFault(fault: LocalServerFault | null): void;
  /** Sums the billed get_range requests in `requests` (from index `since`, default 0). */
  spend(since?: number): SpendSummary;
  /** What a get_range would bill, without a request and without logging (e.g. a naive full-session mbp-1 pull). */
  estimate(query: RangeQuery): { recordCount: number; billableBytes: number; costUsd: number };
  /** The batch jobs submitted, their faults, and expiry (batch-jobs.ts). */
  batch: LocalBatchControl;
  close(): Promise<void>;
}

export const DATASET = "GLBX.MDP3";
/** The local server's own USD per GB of uncompressed DBN (not Databento's price list). */
export const DEFAULT_PRICES_USD_PER_GB: Record<ServedSchema, number> = { definition: 2, statistics: 5, trades: 20, "mbp-1": 60, "bbo-1s": 20, "bbo-1m": 10 };
const DEFAULT_PRICES = DEFAULT_PRICES_USD_PER_GB;
const KEY_PATTERN = /^db-[A-Za-z0-9]{29}$/;
const MAX_DAYS_PER_REQUEST = 40;
const STATUS_FAULTS = new Set(["401", "403", "422", "429", "503"]);

export async function startLocalDatabentoServer(options: LocalDatabentoServerOptions = {}): Promise<LocalDatabentoServer> {
  const dataset = new GeneratedDataset(Math.max(4, Math.round(options.contracts ?? DEFAULT_CONTRACTS)));
  const availableStart = parseTimeParam(options.availableStart ?? "2019-07-07T00:00:00Z")!;
  const availableEnd = parseTimeParam(options.availableEnd ?? "2026-11-20T21:00:00Z")!;
  const prices = { ...DEFAULT_PRICES, ...options.pricesUsdPerGb };
  const entitled = new Set(options.entitledDatasets ?? [DATASET]);
  const fixturesDir = options.fixturesDir === undefined ? defaultFixturesDir() : options.fixturesDir;
  const fixtures = fixturesDir ? await loadFixtures(fixturesDir) : [];
  const requests: RecordedRequest[] = [];
  const rateWindows = new Map<string, { second: number; count: number }>();
  const sockets = new Set<Socket>();
  let fault: (LocalServerFault & { remaining: number }) | null = null;
  let requestCounter = 0;
  const batch = createBatchJobs({ dataset, prices, availableStart, availableEnd, entitled, datasetName: DATASET, send });

  const takeFault = (endpoint: string, body: boolean): LocalServerFault | null => {
    if (!fault) return null;
    if (fault.kind === "partial") return null;
    const isBodyFault = !STATUS_FAULTS.has(fault.kind);
    if (isBodyFault !== body) return null;
    const targets = fault.endpoints ?? (isBodyFault ? ["timeseries.get_range"] : null);
    if (targets && !targets.includes(endpoint)) return null;
    const taken = fault;
    if (--fault.remaining <= 0) fault = null;
    return taken;
  };
  /** The partial fault for a range endpoint; consumed (times) by get_range only. */
  const partialFault = (endpoint: string): Extract<LocalServerFault, { kind: "partial" }> | null => {
    if (!fault || fault.kind !== "partial") return null;
    const targets = fault.endpoints ?? ["timeseries.get_range", "metadata.get_record_count", "metadata.get_billable_size", "metadata.get_cost"];
    if (!targets.includes(endpoint)) return null;
    const taken = fault;
    if (endpoint === "timeseries.get_range" && --fault.remaining <= 0) fault = null;
    return taken;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, errorBody("internal_error", 500, `local server failure: ${(error as Error).message}`));
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const form = Object.fromEntries(url.searchParams);
    if (req.method === "POST") {
      const text = await readBody(req);
      const type = req.headers["content-type"] ?? "";
      if (text && !type.startsWith("application/x-www-form-urlencoded")) {
        return send(res, 400, errorBody("validation_failed", 400, `expected a form-urlencoded body, got content-type "${type}"`));
      }
      Object.assign(form, Object.fromEntries(new URLSearchParams(text)));
    }
    res.setHeader("request-id", `local-${++requestCounter}`);
    const match = /^\/v0\/([a-z_]+\.[a-z_]+)$/.exec(url.pathname);
    const entry: RecordedRequest = { method: req.method ?? "GET", path: url.pathname, form, at: new Date().toISOString() };
    requests.push(entry);
    logEntries.set(res, entry);
    const isDownload = url.pathname.startsWith(BATCH_DOWNLOAD_PREFIX);
    if (!match && !isDownload) return send(res, 404, errorBody("not_found", 404, `no such endpoint ${url.pathname}; expected /v0/<family>.<method>`));
    const endpoint = isDownload ? "batch.download" : match![1]!;

    const statusFault = takeFault(endpoint, false);
    if (statusFault) return sendFault(res, statusFault, form.dataset ?? DATASET);

    const key = basicAuthUser(req.headers.authorization);
    if (key === null || (options.apiKeys ? !options.apiKeys.includes(key) : !KEY_PATTERN.test(key))) {
      return send(res, 401, errorBody("auth_authentication_failed", 401, "Authentication failed."));
    }
    const family = endpoint.startsWith("timeseries.") ? "timeseries" : endpoint.startsWith("symbology.") ? "symbology" : "metadata";
    const limit = options.rateLimits?.[family];
    if (limit !== undefined) {
      const second = Math.floor(Date.now() / 1000);
      const window = rateWindows.get(`${key}|${family}`) ?? { second, count: 0 };
      if (window.second !== second) [window.second, window.count] = [second, 0];
      window.count += 1;
      rateWindows.set(`${key}|${family}`, window);
      if (window.count > limit) {
        res.setHeader("retry-after", "1");
        return send(res, 429, errorBody("rate_limit_exceeded", 429, `Rate limit of ${limit} ${family} requests per second exceeded.`));
      }
    }

    if (endpoint.startsWith("batch.")) return batch.handle(endpoint, req, res, form, url.pathname, entry);
    if (endpoint === "metadata.list_datasets") return send(res, 200, [...new Set([DATASET, ...entitled])]);
    const datasetName = form.dataset;
    if (!datasetName) return send(res, 400, errorBody("validation_failed", 400, "Missing required parameter `dataset`."));
    if (!entitled.has(datasetName)) {
      return send(res, 403, errorBody("auth_no_dataset_entitlement", 403, `No entitlement for dataset ${datasetName}.`, { dataset: datasetName }));
    }
    if (datasetName !== DATASET) return send(res, 404, errorBody("dataset_not_found", 404, `Dataset ${datasetName} was not found.`, { dataset: datasetName }));

    if (endpoint !== "timeseries.get_range" && fault?.endpoints?.includes(endpoint)) {
      const bodyFault = takeFault(endpoint, true);
      if (bodyFault) jsonBodyFaults.set(res, bodyFault);
    }
    switch (endpoint) {
      case "metadata.get_dataset_range":
        return send(res, 200, {
          start: availableStart.iso,
          end: availableEnd.iso,
          schema: Object.fromEntries(SERVED_SCHEMAS.map((s) => [s, { start: availableStart.iso, end: availableEnd.iso }])),
        });
      case "metadata.list_schemas":
        return send(res, 200, [...SERVED_SCHEMAS]);
      case "symbology.resolve":
        return resolveSymbols(res, form);
      case "metadata.get_cost":
      case "metadata.get_billable_size":
      case "metadata.get_record_count":
      case "timeseries.get_range":
        return rangeEndpoint(endpoint, res, form);
      default:
        return send(res, 404, errorBody("not_found", 404, `the local server does not implement ${endpoint}`));
    }
  }

  function resolveSymbols(res: ServerResponse, form: Record<string, string>): void {
    const startDate = form.start_date;
    if (!startDate || !/^\d{4}-\d{2}-\d{2}$/.test(startDate)) return send(res, 400, errorBody("validation_failed", 400, "`start_date` must be a YYYY-MM-DD date."));
    const endDate = form.end_date ?? new Date(Date.parse(`${startDate}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const symbols = splitSymbols(form.symbols);
    const stypeIn = form.stype_in ?? "raw_symbol";
    const days = dataset.days(BigInt(Date.parse(`${startDate}T00:00:00Z`)) * 1_000_000n, BigInt(Date.parse(`${endDate}T00:00:00Z`)) * 1_000_000n);
    const result: Record<string, { d0: string; d1: string; s: string }[]> = {};
    const notFound: string[] = [];
    for (const symbol of symbols) {
      const resolution = dataset.resolve([symbol], stypeIn, days);
      if (resolution.ids.size === 0) notFound.push(symbol);
      else result[symbol] = [...resolution.ids].map((id) => ({ d0: startDate, d1: endDate, s: String(id) }));
    }
    if (Object.keys(result).length === 0) {
      return send(res, 422, errorBody("symbology_invalid_request", 422, "None of the symbols could be resolved.", { symbols, stype_in: stypeIn }));
    }
    send(res, 200, {
      result,
      symbols,
      stype_in: stypeIn,
      stype_out: form.stype_out ?? "instrument_id",
      start_date: startDate,
      end_date: endDate,
      partial: [],
      not_found: notFound,
      message: notFound.length ? "Not all symbols could be resolved." : "OK",
      status: notFound.length ? 2 : 0,
    });
  }

  async function rangeEndpoint(endpoint: string, res: ServerResponse, form: Record<string, string>): Promise<void> {
    const schema = form.schema as ServedSchema;
    if (!SERVED_SCHEMAS.includes(schema)) {
      return send(res, 422, errorBody("data_schema_not_fully_available", 422, `Schema \`${form.schema ?? ""}\` is not available here; the local server serves ${SERVED_SCHEMAS.join(", ")}.`));
    }
    const start = parseTimeParam(form.start);
    if (!start) return send(res, 400, errorBody("validation_failed", 400, "`start` must be an ISO 8601 time, a YYYY-MM-DD date or UNIX nanoseconds."));
    const end = form.end === undefined ? (start.dateOnly ? { ...start, ns: start.ns + 86_400_000_000_000n } : availableEnd) : parseTimeParam(form.end);
    if (!end) return send(res, 400, errorBody("validation_failed", 400, "`end` must be an ISO 8601 time, a YYYY-MM-DD date or UNIX nanoseconds."));
    if (end.ns <= start.ns) return send(res, 422, errorBody("data_end_before_start", 422, "`end` must be after `start`.", { start: form.start, end: form.end }));
    if (start.ns < availableStart.ns) {
      return send(res, 422, errorBody("data_start_before_available_start", 422, "`start` was before the available start.", { dataset: DATASET, start: form.start, available_start: availableStart.iso }));
    }
    if (start.ns >= availableEnd.ns) {
      return send(res, 422, errorBody("data_start_after_available_end", 422, "`start` was after the available end.", { dataset: DATASET, start: form.start, available_end: availableEnd.iso }));
    }
    if (end.ns > availableEnd.ns) {
      return send(res, 422, errorBody("data_end_after_available_end", 422, "`end` was after the available end.", { dataset: DATASET, end: form.end, available_end: availableEnd.iso }));
    }
    if (end.ns - start.ns > BigInt(MAX_DAYS_PER_REQUEST) * 86_400_000_000_000n) {
      // A limit of this generator, not of Databento: every day is generated on demand.
      return send(res, 422, errorBody("validation_failed", 422, `The local server generates at most ${MAX_DAYS_PER_REQUEST} days per request.`));
    }
    if (endpoint !== "timeseries.get_range" && (form.stype_out ?? "instrument_id") !== "instrument_id") {
      return send(res, 400, errorBody("validation_failed", 400, "`stype_out` must be `instrument_id` for this endpoint."));
    }
    const symbols = splitSymbols(form.symbols ?? "ALL_SYMBOLS");
    const stypeIn = form.stype_in ?? "raw_symbol";
    if (stypeFromName(stypeIn) === undefined) return send(res, 400, errorBody("validation_failed", 400, `Unknown \`stype_in\` ${stypeIn}.`));
    const limit = form.limit === undefined ? null : Number(form.limit);
    if (limit !== null && (!Number.isInteger(limit) || limit <= 0)) return send(res, 400, errorBody("validation_failed", 400, "`limit` must be a positive integer."));

    const fixture = fixtures.find((f) => f.schema === schema && symbols.every((s) => f.symbols.includes(s)) && start.ns < f.endNs && end.ns > f.startNs);
    const result = fixture ? null : dataset.query({ schema, symbols, stypeIn, startNs: start.ns, endNs: end.ns, limit });
    const notFound = [...(result?.resolution.notFound ?? [])];
    if (result && notFound.length === symbols.length) {
      const hint = stypeIn !== "parent" && symbols.some((s) => s.endsWith(".OPT") || s.endsWith(".FUT")) ? " (parent symbols such as NQ.OPT need stype_in=parent)" : "";
      return send(res, 422, errorBody("symbology_invalid_request", 422, `None of the symbols could be resolved${hint}.`, { symbols, stype_in: stypeIn }));
    }
    let records = result?.records ?? [];
    let rawSymbols = result?.resolution.rawSymbols ?? new Map<string, number>();
    const partial: string[] = [];
    const partialSpec = result ? partialFault(endpoint) : null;
    if (partialSpec && result) {
      const cut = applyPartial(partialSpec, symbols, result.resolution, records, start.ns + (end.ns - start.ns) / 2n);
      records = cut.records;
      partial.push(...cut.partial);
      notFound.push(...cut.notFound.filter((s) => !notFound.includes(s)));
      rawSymbols = new Map([...rawSymbols].filter(([, id]) => !cut.droppedIds.has(id)));
    }
    const recordCount = fixture ? fixture.recordCount : records.length;
    const billableBytes = recordCount * RECORD_BYTES[schema];
    const costUsd = Math.round((billableBytes / 1e9) * prices[schema] * 1e10) / 1e10;
    const entry = logEntries.get(res);
    if (entry) Object.assign(entry, { schema, recordCount, billableBytes, costUsd, billed: endpoint === "timeseries.get_range" });
    const warnings: string[] = [];
    const degraded = (options.degradedDates ?? []).filter((date) => {
      const dayNs = BigInt(Date.parse(`${date}T00:00:00Z`)) * 1_000_000n;
      return dayNs < end.ns && dayNs + 86_400_000_000_000n > start.ns;
    });
    if (degraded.length > 0) {
      warnings.push(`Warning: The streaming request contained one or more days which have reduced quality: ${degraded.map((d) => `${d} (degraded)`).join(", ")}.`);
    }
    if (recordCount === 0) warnings.push("Warning: No data found for the request you submitted.");
    if (warnings.length > 0) res.setHeader("x-warning", JSON.stringify(warnings));

    if (endpoint === "metadata.get_cost") return send(res, 200, costUsd);
    if (endpoint === "metadata.get_billable_size") return send(res, 200, billableBytes);
    if (endpoint === "metadata.get_record_count") return send(res, 200, recordCount);

    if ((form.encoding ?? "dbn") !== "dbn") return send(res, 400, errorBody("validation_failed", 400, "The local server streams `encoding=dbn` only."));
    const compression = form.compression ?? "zstd";
    if (compression !== "zstd" && compression !== "none") return send(res, 400, errorBody("validation_failed", 400, "`compression` must be `zstd` or `none`."));
    const chunks: Uint8Array[] = [];
    if (fixture) {
      chunks.push(fixture.zstdBytes);
    } else {
      const mappings = [...rawSymbols.entries()].map(([raw, id]) => ({
        raw_symbol: raw,
        intervals: [{ start_date: yyyymmdd(start.ns), end_date: yyyymmdd(end.ns + 86_400_000_000_000n - 1n), symbol: String(id) }],
      }));
      const metadata = createMetadata({
        dataset: DATASET,
        schema: schemaFromName(schema)!,
        start: start.ns,
        end: end.ns,
        limit: BigInt(limit ?? 0),
        stype_in: stypeFromName(stypeIn) ?? null,
        stype_out: SType.InstrumentId,
        symbols,
        partial,
        not_found: notFound,
        mappings,
      });
      const encoder = new DbnEncoder(metadata, (chunk: Uint8Array) => chunks.push(chunk), { zstd: compression === "zstd", chunkBytes: 256 * 1024 });
      for (const record of records) encoder.write(record);
      encoder.end();
    }
    res.statusCode = notFound.length > 0 || partial.length > 0 ? 206 : 200;
    if (entry) entry.status = res.statusCode;
    res.setHeader("content-type", "application/octet-stream");
    await streamBody(res, chunks, takeFault(endpoint, true));
  }

  function sendFault(res: ServerResponse, f: LocalServerFault, datasetName: string): void {
    switch (f.kind) {
      case "401":
        return send(res, 401, errorBody("auth_authentication_failed", 401, "Authentication failed."));
      case "403":
        return send(res, 403, errorBody("auth_no_dataset_entitlement", 403, `No entitlement for dataset ${datasetName}.`, { dataset: datasetName }));
      case "422":
        return send(res, 422, errorBody("data_end_after_available_end", 422, "`end` was after the available end.", { dataset: datasetName, available_end: availableEnd.iso }));
      case "429":
        res.setHeader("retry-after", String(f.retryAfterSeconds ?? 1));
        return send(res, 429, errorBody("rate_limit_exceeded", 429, "Too many requests."));
      case "503":
        return send(res, 503, errorBody("gateway_unavailable", 503, "The gateway is offline or overloaded."));
      default:
        return undefined;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setFault(next) {
      fault = next ? { ...next, remaining: next.times ?? Number.POSITIVE_INFINITY } : null;
    },
    spend(since = 0) {
      const summary: SpendSummary = { requests: 0, recordCount: 0, billableBytes: 0, costUsd: 0, bySchema: {} };
      for (const r of requests.slice(since)) {
        if (!r.billed) continue;
        const s = (summary.bySchema[r.schema!] ??= { requests: 0, recordCount: 0, billableBytes: 0, costUsd: 0 });
        for (const target of [summary, s]) {
          target.requests += 1;
          target.recordCount += r.recordCount ?? 0;
          target.billableBytes += r.billableBytes ?? 0;
          target.costUsd += r.costUsd ?? 0;
        }
      }
      return summary;
    },
    batch: batch.control,
    estimate(query) {
      const start = parseTimeParam(query.start);
      const end = parseTimeParam(query.end);
      if (!start || !end || end.ns <= start.ns) throw new RangeError("estimate needs a start before its end");
      const symbols = splitSymbols(Array.isArray(query.symbols) ? query.symbols.join(",") : query.symbols);
      const result = dataset.query({ schema: query.schema, symbols, stypeIn: query.stype_in ?? "raw_symbol", startNs: start.ns, endNs: end.ns, limit: query.limit ?? null });
      const billableBytes = result.records.length * RECORD_BYTES[query.schema];
      return { recordCount: result.records.length, billableBytes, costUsd: Math.round((billableBytes / 1e9) * prices[query.schema] * 1e10) / 1e10 };
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Body faults aimed at a JSON endpoint (by naming it in `endpoints`), set per response. */
const jsonBodyFaults = new WeakMap<ServerResponse, LocalServerFault>();

/** Each response's entry in the request log, so its status and billing can be filled in. */
const logEntries = new WeakMap<ServerResponse, RecordedRequest>();

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  const entry = logEntries.get(res);
  if (entry) entry.status = status;
  res.setHeader("content-type", "application/json");
  const fault = jsonBodyFaults.get(res);
  if (fault && status < 300) {
    void streamBody(res, [Buffer.from(text)], fault);
    return;
  }
  res.setHeader("content-length", String(Buffer.byteLength(text)));
  res.end(text);
}

async function streamBody(res: ServerResponse, chunks: Uint8Array[], f: LocalServerFault | null): Promise<void> {
  const total = chunks.reduce((sum, c) => sum + c.length, 0);
  const body = concat(chunks, total);
  if (!f) {
    res.setHeader("content-length", String(total));
    res.end(body);
    return;
  }
  if (f.kind === "truncate") {
    // Chunked (no Content-Length), ended cleanly: only the zstd/DBN decoder can tell it is short.
    res.end(body.subarray(0, Math.max(1, Math.floor(total * (f.keepFraction ?? 0.5)))));
    return;
  }
  if (f.kind === "reset") {
    res.setHeader("content-length", String(total));
    res.write(body.subarray(0, Math.min(total - 1, f.afterBytes ?? Math.floor(total / 2))));
    await new Promise((resolve) => setTimeout(resolve, 20));
    res.socket?.destroy();
    return;
  }
  if (f.kind === "slow") {
    const step = f.bytesPerChunk ?? 64;
    res.setHeader("content-length", String(total));
    for (let offset = 0; offset < total; offset += step) {
      if (res.destroyed) return;
      res.write(body.subarray(offset, offset + step));
      await new Promise((resolve) => setTimeout(resolve, f.delayMs ?? 200));
    }
    res.end();
  }
}

/**
 * The partial fault applied to a generated result: which input symbols to list as not found / partial,
 * and the records left once theirs are removed (not found: all; partial: those at or after `midNs`).
 * An instrument also reached through an unaffected symbol keeps its records.
 */
function applyPartial(
  spec: Extract<LocalServerFault, { kind: "partial" }>,
  symbols: string[],
  resolution: Resolution,
  records: DbnRecordV3[],
  midNs: bigint,
): { records: DbnRecordV3[]; notFound: string[]; partial: string[]; droppedIds: Set<number> } {
  const upper = (list: string[] | undefined) => list?.map((s) => (/^\d+$/.test(s) ? s : s.toUpperCase()));
  let notFound = upper(spec.notFound);
  let partial = upper(spec.partial);
  if (!notFound && !partial) {
    if (symbols.length > 1) notFound = [symbols.at(-1)!];
    else partial = [symbols[0]!];
  }
  notFound = (notFound ?? []).filter((s) => symbols.includes(s));
  partial = (partial ?? []).filter((s) => symbols.includes(s) && !notFound!.includes(s));
  const idsOf = (list: string[]) => new Set(list.flatMap((s) => resolution.bySymbol.get(s) ?? []));
  const kept = idsOf(symbols.filter((s) => !notFound!.includes(s) && !partial!.includes(s)));
  const droppedIds = new Set([...idsOf(notFound)].filter((id) => !kept.has(id)));
  const halfIds = new Set([...idsOf(partial)].filter((id) => !kept.has(id) && !droppedIds.has(id)));
  const out = records.filter((r) => {
    const id = r.hd.instrument_id;
    if (droppedIds.has(id)) return false;
    return !halfIds.has(id) || (r as { ts_recv: bigint }).ts_recv < midNs;
  });
  return { records: out, notFound, partial, droppedIds };
}

function basicAuthUser(header: string | undefined): string | null {
  const match = /^Basic\s+(.+)$/i.exec(header ?? "");
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? decoded : decoded.slice(0, colon);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

export type { FixtureFile, ErrorCase };
export type { BatchFault, LocalBatchControl, LocalBatchJob } from "./batch-jobs.js";
export { NQ_GENERATOR, generateDay, theoreticalPrice, openInterestFor, roundTick, strikeLadder, instrumentIdFor, previousBusinessDay } from "./nq-chain-generator.js";
export type { GeneratedDay, GeneratedOption, GeneratedFuture, GeneratedInstrument } from "./nq-chain-generator.js";
export {
  bookAt,
  lastTradeAt,
  sessionVolume,
  settlementPrice,
  futuresOn,
  futureBookAt,
  futureLastTradeAt,
  bboAt,
  bboIntervalEnd,
  BBO_INTERVAL_NS,
  instrumentSession,
  bookEventTimes,
  optionTradeTimes,
  futureTradeTimes,
  specialEventTimes,
  phaseNs,
  DEFAULT_CONTRACTS,
} from "./market-events.js";
export type { BookEvent, TradeEvent, TopOfBook, LastTrade, ExpectedBbo, BboSchema, InstrumentSession, MarketOptions } from "./market-events.js";
export { chicagoNs, chicagoToUtcMs, chicagoDate, isChicagoDst, tradeSession, sessionAtOrBefore, sessionsOverlapping, type TradeSession } from "./chicago-time.js";
export { RECORD_BYTES, SERVED_SCHEMAS, type ServedSchema } from "./generated-dataset.js";
export {
  startLocalLiveGateway,
  LOCAL_LIVE_API_KEY,
  DEFAULT_LIVE_NOW,
  type LocalLiveGateway,
  type LocalLiveGatewayOptions,
  type LiveGatewayFault,
  type GatewayConnectionLog,
} from "./live-gateway.js";
