/**
 * Databento's Historical HTTP API, as its official clients call it: `<base>/v0/<family>.<method>`, HTTP
 * basic auth with the key as user and an empty password, form-encoded POSTs (GET with a query string for
 * the read-only metadata endpoints), JSON answers, and `timeseries.get_range` streamed as zstd DBN.
 *
 * Built on Node's global fetch (undici): it streams response bodies as web streams, takes an AbortSignal
 * natively, and needs no dependency. Its errors are wrapped here so that what leaves this file is always
 * one of @nq/core's typed errors.
 */
import {
  AbortedError,
  IncompleteDataError,
  NetworkError,
  type Logger,
  type SourceError,
  TimeoutError,
} from "@nq/core";
import { abortableSleep } from "./abortable-sleep.js";
import { parseErrorBody, parseRetryAfter, toApiError } from "./api-error.js";
import { parseWarningHeader } from "./warnings.js";

export interface HistoricalClientOptions {
  source: string;
  baseUrl: string;
  apiKey: string;
  /** Time allowed until the response headers arrive. */
  timeoutMs: number;
  /** Longest silence allowed between two chunks of a streamed body. */
  readTimeoutMs: number;
  /** Extra tries for 429, 5xx and connection failures that happen before any body was read. */
  maxRetries: number;
  /** A Retry-After longer than this is not waited for: the RateLimitError goes to the caller. */
  maxRetryDelayMs: number;
  log: Logger;
}

export type SType = "parent" | "instrument_id" | "raw_symbol" | "continuous";

/** The parameters shared by `get_range`, `get_cost` and `get_record_count`. */
export interface RangeQuery {
  dataset: string;
  schema: string;
  symbols: string[];
  stypeIn: SType;
  /** Inclusive start and exclusive end. */
  start: Date;
  end: Date;
  limit?: number;
}

export interface DatasetRange {
  start: Date;
  /** Exclusive: the bound the `data_*_after_available_end` errors check. */
  end: Date;
  schemas: Record<string, { start: Date; end: Date }>;
}

export interface SymbologyResolution {
  result: Record<string, { d0: string; d1: string; s: string }[]>;
  partial: string[];
  notFound: string[];
  warnings: string[];
}

/** A `get_range` answer whose body has not been read yet. */
export interface RangeStream {
  status: number;
  /** 206: only some symbols resolved. The data is real but not the whole request. */
  partial: boolean;
  warnings: string[];
  requestId: string | null;
  /** The zstd-compressed DBN body, chunk by chunk, as it arrives. Read once. */
  chunks: AsyncIterable<Uint8Array>;
}

interface CallOptions {
  method: "GET" | "POST";
  params: Record<string, string>;
  accept: string;
  dataset: string | null;
  signal: AbortSignal;
}

const USER_AGENT = "nq-source-databento/0.1.0";
const DEFAULT_RETRY_AFTER_MS = 1000;

export class HistoricalClient {
  private readonly base: string;
  private readonly authorization: string;

  constructor(private readonly options: HistoricalClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, "");
    this.authorization = `Basic ${Buffer.from(`${options.apiKey}:`).toString("base64")}`;
  }

  async getDatasetRange(dataset: string, signal: AbortSignal): Promise<DatasetRange> {
    const json = await this.callJson("metadata.get_dataset_range", { method: "GET", params: { dataset }, dataset, signal });
    const body = json.value as { start?: unknown; end?: unknown; schema?: unknown };
    const start = parseTime(body.start);
    const end = parseTime(body.end);
    if (!start || !end) throw this.malformed("metadata.get_dataset_range", `expected {"start","end"} times, got ${json.text.slice(0, 200)}`);
    const schemas: DatasetRange["schemas"] = {};
    if (typeof body.schema === "object" && body.schema !== null) {
      for (const [name, range] of Object.entries(body.schema as Record<string, { start?: unknown; end?: unknown }>)) {
        const s = parseTime(range?.start);
        const e = parseTime(range?.end);
        if (s && e) schemas[name] = { start: s, end: e };
      }
    }
    return { start, end, schemas };
  }

  /** The USD cost of the `get_range` with the same parameters. */
  async getCost(query: RangeQuery, signal: AbortSignal): Promise<number> {
    const json = await this.callJson("metadata.get_cost", { method: "POST", params: { ...rangeParams(query), stype_out: "instrument_id" }, dataset: query.dataset, signal });
    const usd = Number(json.value);
    if (typeof json.value !== "number" || !Number.isFinite(usd) || usd < 0) {
      throw this.malformed("metadata.get_cost", `expected a non-negative number of USD, got ${json.text.slice(0, 100)}`);
    }
    return usd;
  }

  async getRecordCount(query: RangeQuery, signal: AbortSignal): Promise<number> {
    const json = await this.callJson("metadata.get_record_count", { method: "POST", params: rangeParams(query), dataset: query.dataset, signal });
    if (typeof json.value !== "number" || !Number.isInteger(json.value) || json.value < 0) {
      throw this.malformed("metadata.get_record_count", `expected a non-negative integer, got ${json.text.slice(0, 100)}`);
    }
    return json.value;
  }

  async resolveSymbology(
    query: { dataset: string; symbols: string[]; stypeIn: SType; stypeOut: SType; startDate: string; endDate?: string },
    signal: AbortSignal,
  ): Promise<SymbologyResolution> {
    const params: Record<string, string> = {
      dataset: query.dataset,
      symbols: query.symbols.join(","),
      stype_in: query.stypeIn,
      stype_out: query.stypeOut,
      start_date: query.startDate,
    };
    if (query.endDate) params.end_date = query.endDate;
    const json = await this.callJson("symbology.resolve", { method: "POST", params, dataset: query.dataset, signal });
    const body = json.value as { result?: unknown; partial?: unknown; not_found?: unknown };
    if (typeof body?.result !== "object" || body.result === null) {
      throw this.malformed("symbology.resolve", `expected an object with "result", got ${json.text.slice(0, 200)}`);
    }
    return {
      result: body.result as SymbologyResolution["result"],
      partial: stringList(body.partial),
      notFound: stringList(body.not_found),
      warnings: json.warnings,
    };
  }

  /** Sends `timeseries.get_range` (DBN, zstd) and returns the body unread, for a streaming decoder. */
  async getRange(query: RangeQuery, signal: AbortSignal): Promise<RangeStream> {
    const endpoint = "timeseries.get_range";
    const params = { ...rangeParams(query), stype_out: "instrument_id", encoding: "dbn", compression: "zstd" };
    const response = await this.call(endpoint, { method: "POST", params, accept: "application/octet-stream", dataset: query.dataset, signal });
    const warnings = this.warningsOf(endpoint, response);
    const requestId = response.headers.get("request-id");
    if (response.status === 206) {
      const warning = `Databento answered 206 to ${endpoint} (${query.schema}): only some of the symbols ${query.symbols.slice(0, 5).join(",")}${query.symbols.length > 5 ? ",…" : ""} resolved, so this data is partial`;
      this.options.log.warn(warning, { requestId });
      warnings.push(warning);
    }
    if (!response.body) throw this.malformed(endpoint, "the response has no body");
    return {
      status: response.status,
      partial: response.status === 206,
      warnings,
      requestId,
      chunks: this.readBody(endpoint, response.body, signal),
    };
  }

  /**
   * Any JSON endpoint (the batch family uses it), with the same auth, retries and error mapping as the
   * methods above. `dataset` only names the dataset in error messages.
   */
  async requestJson(endpoint: string, request: { method: "GET" | "POST"; params: Record<string, string>; dataset?: string }, signal: AbortSignal): Promise<{ value: unknown; text: string; warnings: string[] }> {
    return this.callJson(endpoint, { method: request.method, params: request.params, dataset: request.dataset ?? null, signal });
  }

  /**
   * GET of a file URL Databento handed out (a batch job's `urls.https`), with optional extra headers such
   * as `Range`. One exchange, no retries: the caller resumes. A non-2xx answer is the typed error (a 429
   * carries `retryAfterMs`); the body comes back unread, with the same read timeout as a data body.
   */
  async getFile(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ status: number; headers: Headers; chunks: AsyncIterable<Uint8Array> }> {
    const endpoint = "batch file download";
    const response = await this.send(endpoint, { method: "GET", params: {}, accept: "application/octet-stream", dataset: null, signal }, { url, headers });
    if (!response.ok) {
      const text = await this.readText(endpoint, response, signal).catch((error: unknown) => {
        if (error instanceof AbortedError) throw error;
        return "";
      });
      throw toApiError({
        source: this.options.source,
        endpoint,
        status: response.status,
        body: parseErrorBody(text),
        dataset: null,
        requestId: response.headers.get("request-id"),
        retryAfterMs: response.status === 429 ? (parseRetryAfter(response.headers.get("retry-after")) ?? DEFAULT_RETRY_AFTER_MS) : null,
      });
    }
    if (!response.body) throw this.malformed(endpoint, "the response has no body");
    return { status: response.status, headers: response.headers, chunks: this.readBody(endpoint, response.body, signal) };
  }

  private async callJson(endpoint: string, options: Omit<CallOptions, "accept">): Promise<{ value: unknown; text: string; warnings: string[] }> {
    const response = await this.call(endpoint, { ...options, accept: "application/json" });
    const warnings = this.warningsOf(endpoint, response);
    const text = await this.readText(endpoint, response, options.signal);
    try {
      return { value: JSON.parse(text) as unknown, text, warnings };
    } catch {
      throw this.malformed(endpoint, `expected JSON, got ${text.slice(0, 200)}`);
    }
  }

  /** One request with bounded retries for what a later try may fix (429, 5xx, connection failures). */
  private async call(endpoint: string, options: CallOptions): Promise<Response> {
    const { log, maxRetries, maxRetryDelayMs, source } = this.options;
    for (let attempt = 0; ; attempt++) {
      let failure: SourceError;
      let delayMs = 250 * 2 ** attempt;
      try {
        const response = await this.send(endpoint, options);
        if (response.ok) return response;
        const text = await this.readText(endpoint, response, options.signal).catch((error: unknown) => {
          if (error instanceof AbortedError) throw error;
          return "";
        });
        const retryAfterMs = response.status === 429 ? (parseRetryAfter(response.headers.get("retry-after")) ?? DEFAULT_RETRY_AFTER_MS) : null;
        failure = toApiError({
          source,
          endpoint,
          status: response.status,
          body: parseErrorBody(text),
          dataset: options.dataset,
          requestId: response.headers.get("request-id"),
          retryAfterMs,
        });
        if (retryAfterMs !== null) delayMs = retryAfterMs;
        log.warn(failure.message, { requestId: response.headers.get("request-id"), attempt: attempt + 1 });
      } catch (error) {
        if (error instanceof AbortedError || !(error instanceof NetworkError)) throw error;
        failure = error;
      }
      if (!failure.retryable || attempt >= maxRetries) throw failure;
      if (delayMs > maxRetryDelayMs) {
        log.warn(`not retrying ${endpoint}: the wait of ${delayMs} ms exceeds max_retry_delay_ms (${maxRetryDelayMs})`);
        throw failure;
      }
      log.info(`retrying ${endpoint} in ${delayMs} ms (try ${attempt + 2} of ${maxRetries + 1})`);
      await abortableSleep(delayMs, options.signal, source);
    }
  }

  /** One HTTP exchange up to the response headers, under the caller's signal and the header timeout. */
  private async send(endpoint: string, options: CallOptions, file?: { url: string; headers: Record<string, string> }): Promise<Response> {
    const { source, timeoutMs, log } = this.options;
    if (options.signal.aborted) throw new AbortedError(source, "the load was aborted", { cause: options.signal.reason });
    const body = new URLSearchParams(options.params).toString();
    const url = file ? file.url : `${this.base}/v0/${endpoint}${options.method === "GET" ? `?${body}` : ""}`;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error("header timeout")), timeoutMs);
    const signal = AbortSignal.any([options.signal, timeout.signal]);
    log.debug(`${options.method} ${endpoint}`, { params: describeParams(options.params) });
    try {
      return await fetch(url, {
        method: options.method,
        headers: {
          authorization: this.authorization,
          accept: options.accept,
          "user-agent": USER_AGENT,
          ...(options.method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {}),
          ...file?.headers,
        },
        body: options.method === "POST" ? body : undefined,
        signal,
      });
    } catch (error) {
      if (options.signal.aborted) throw new AbortedError(source, "the load was aborted", { cause: options.signal.reason });
      if (timeout.signal.aborted) {
        throw new TimeoutError(source, `${endpoint} did not answer within ${timeoutMs} ms (timeout_ms); try again or raise timeout_ms`, {
          timeoutMs,
          details: { endpoint },
        });
      }
      const code = errorCode(error);
      throw new NetworkError(source, `could not reach Databento at ${this.base} for ${endpoint}${code ? ` (${code})` : ""}: ${describeError(error)}. Check the network or base_url`, {
        cause: error,
        details: { endpoint, code },
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The body chunk by chunk, with a per-chunk read timeout; a cut-off body is IncompleteDataError. */
  private async *readBody(endpoint: string, body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
    const { readTimeoutMs, source } = this.options;
    const reader = body.getReader();
    let received = 0;
    let done = false;
    try {
      for (;;) {
        if (signal.aborted) throw new AbortedError(source, "the load was aborted", { cause: signal.reason });
        let timer: NodeJS.Timeout | undefined;
        let onAbort: (() => void) | undefined;
        const stalled = new Promise<"timeout" | "aborted">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), readTimeoutMs);
          onAbort = () => resolve("aborted");
          signal.addEventListener("abort", onAbort, { once: true });
        });
        let next: ReadableStreamReadResult<Uint8Array> | "timeout" | "aborted";
        try {
          next = await Promise.race([reader.read(), stalled]);
        } catch (error) {
          throw this.bodyFailure(endpoint, error, signal, received);
        } finally {
          clearTimeout(timer);
          if (onAbort) signal.removeEventListener("abort", onAbort);
        }
        if (next === "aborted") throw new AbortedError(source, "the load was aborted", { cause: signal.reason });
        if (next === "timeout") {
          throw new TimeoutError(
            source,
            `${endpoint} stalled: no data for ${readTimeoutMs} ms (read_timeout_ms) after ${received} bytes; the data is incomplete. Try again later`,
            { timeoutMs: readTimeoutMs, details: { endpoint, receivedBytes: received } },
          );
        }
        if (next.done) {
          done = true;
          return;
        }
        received += next.value.byteLength;
        yield next.value;
      }
    } finally {
      if (!done) await reader.cancel().catch(() => {});
    }
  }

  /** A whole (JSON or error) body, read like a data body: same read timeout, same cut-off handling. */
  private async readText(endpoint: string, response: Response, signal: AbortSignal): Promise<string> {
    if (!response.body) return "";
    const parts: Uint8Array[] = [];
    for await (const part of this.readBody(endpoint, response.body, signal)) parts.push(part);
    return Buffer.concat(parts).toString("utf8");
  }

  private bodyFailure(endpoint: string, error: unknown, signal: AbortSignal, received: number): SourceError {
    if (signal.aborted) return new AbortedError(this.options.source, "the load was aborted", { cause: signal.reason });
    return new IncompleteDataError(
      this.options.source,
      `the connection broke while reading ${endpoint} after ${received} bytes (${describeError(error)}); the data is incomplete. Try again`,
      { cause: error, details: { endpoint, receivedBytes: received, code: errorCode(error) } },
    );
  }

  private warningsOf(endpoint: string, response: Response): string[] {
    const warnings = parseWarningHeader(response.headers.get("x-warning"));
    for (const warning of warnings) this.options.log.warn(`Databento warning on ${endpoint}: ${warning}`, { requestId: response.headers.get("request-id") });
    return warnings.map((warning) => `Databento (${endpoint}): ${warning}`);
  }

  private malformed(endpoint: string, what: string): SourceError {
    return new NetworkError(this.options.source, `${endpoint} answered something unexpected: ${what}. Check base_url points at Databento's Historical API`, {
      details: { endpoint },
    });
  }
}

function rangeParams(query: RangeQuery): Record<string, string> {
  const params: Record<string, string> = {
    dataset: query.dataset,
    schema: query.schema,
    symbols: query.symbols.join(","),
    stype_in: query.stypeIn,
    start: toNanos(query.start),
    end: toNanos(query.end),
  };
  if (query.limit !== undefined) params.limit = String(query.limit);
  return params;
}

/** Integer UNIX nanoseconds, as Databento's Rust client sends them: exact and zone-free. */
export function toNanos(date: Date): string {
  return (BigInt(date.getTime()) * 1_000_000n).toString();
}

function parseTime(value: unknown): Date | null {
  if (typeof value !== "string") return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** For debug logs: long symbol lists are summarized; nothing here is a credential. */
function describeParams(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) out[key] = value.length > 120 ? `${value.slice(0, 120)}… (${value.length} chars)` : value;
  return out;
}

function errorCode(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return null;
}

function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error) parts.push(e.message);
  }
  return parts.join(": ") || String(error);
}
