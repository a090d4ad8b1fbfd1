/**
 * The error vocabulary every source speaks. The registry decides what to do next from the class alone:
 * a retryable error may be tried again after a pause, anything else moves on to the next source (or
 * stops the run under the `strict` policy). Messages are written for the person running the tool: what
 * went wrong, and what to do about it. They never carry a credential: every message passes through the
 * secret redactor when the error is built.
 */
import { redactSecrets } from "./secrets.js";

export type SourceErrorKind =
  | "network"
  | "timeout"
  | "rate_limit"
  | "unavailable"
  | "incomplete"
  | "auth"
  | "entitlement"
  | "blocked"
  | "cost_limit"
  | "no_data"
  | "invalid_request"
  | "config"
  | "aborted";

export interface SourceErrorOptions {
  /** The underlying error or response that explains this one (kept for debugging, also redacted). */
  cause?: unknown;
  /** Extra, structured facts (HTTP status, provider error case, docs link…). Never a credential. */
  details?: Record<string, unknown>;
}

export abstract class SourceError extends Error {
  abstract readonly kind: SourceErrorKind;
  abstract readonly retryable: boolean;
  readonly source: string;
  readonly details: Record<string, unknown>;

  constructor(source: string, message: string, options: SourceErrorOptions = {}) {
    super(redactSecrets(`${source}: ${message}`), options.cause === undefined ? undefined : { cause: redactCause(options.cause) });
    this.name = new.target.name;
    this.source = source;
    this.details = options.details ? (JSON.parse(redactSecrets(JSON.stringify(options.details))) as Record<string, unknown>) : {};
  }

  /** A plain object for summaries, logs and `--json` output. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, kind: this.kind, source: this.source, retryable: this.retryable, message: this.message, details: this.details };
  }
}

function redactCause(cause: unknown): unknown {
  if (cause instanceof Error) {
    const copy = new Error(redactSecrets(cause.message));
    copy.name = cause.name;
    if (cause.stack) copy.stack = redactSecrets(cause.stack);
    const code = (cause as { code?: unknown }).code;
    if (code !== undefined) (copy as { code?: unknown }).code = code;
    return copy;
  }
  if (typeof cause === "string") return redactSecrets(cause);
  return cause;
}

// ---- Retryable: the same request may succeed a little later. ----

/** The connection failed, was reset, or the server answered 5xx. */
export class NetworkError extends SourceError {
  readonly kind: SourceErrorKind = "network";
  readonly retryable = true;
}

/** No answer within the configured time. */
export class TimeoutError extends NetworkError {
  override readonly kind: SourceErrorKind = "timeout";
  readonly timeoutMs: number | null;
  constructor(source: string, message: string, options: SourceErrorOptions & { timeoutMs?: number } = {}) {
    super(source, message, options);
    this.timeoutMs = options.timeoutMs ?? null;
  }
}

/** The service is down for maintenance or overloaded (HTTP 503 and the like). */
export class ServiceUnavailableError extends NetworkError {
  override readonly kind: SourceErrorKind = "unavailable";
}

/** Too many requests: wait `retryAfterMs` (when the server said) before trying again. */
export class RateLimitError extends NetworkError {
  override readonly kind: SourceErrorKind = "rate_limit";
  readonly retryAfterMs: number | null;
  constructor(source: string, message: string, options: SourceErrorOptions & { retryAfterMs?: number | null } = {}) {
    super(source, message, options);
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/** The data arrived cut short (a truncated or reset stream, a partial result): never a complete chain. */
export class IncompleteDataError extends NetworkError {
  override readonly kind: SourceErrorKind = "incomplete";
}

// ---- Not retryable: the same request will fail the same way until something changes. ----

/** The credentials were refused or are missing. */
export class AuthError extends SourceError {
  readonly kind: SourceErrorKind = "auth";
  readonly retryable = false;
}

/** The credentials are valid but not licensed for this data (e.g. a dataset entitlement). */
export class EntitlementError extends SourceError {
  readonly kind: SourceErrorKind = "entitlement";
  readonly retryable = false;
}

/** The site refused us as a bot (a 403 block page or a challenge). Politeness says: do not hammer it. */
export class BlockedError extends SourceError {
  readonly kind: SourceErrorKind = "blocked";
  readonly retryable = false;
}

/** A paid request would cost more than the configured limit; it was not sent. */
export class CostLimitError extends SourceError {
  readonly kind: SourceErrorKind = "cost_limit";
  readonly retryable = false;
  readonly estimatedUsd: number;
  readonly limitUsd: number;
  constructor(source: string, message: string, options: SourceErrorOptions & { estimatedUsd: number; limitUsd: number }) {
    super(source, message, options);
    this.estimatedUsd = options.estimatedUsd;
    this.limitUsd = options.limitUsd;
  }
}

/** The source answered, but has nothing for this request. */
export class NoDataError extends SourceError {
  readonly kind: SourceErrorKind = "no_data";
  readonly retryable = false;
}

/** The request itself is wrong (a bad date range, an unknown symbol). */
export class InvalidRequestError extends SourceError {
  readonly kind: SourceErrorKind = "invalid_request";
  readonly retryable = false;
}

/** The configuration is wrong; `path` names the field (e.g. `data_sources.databento.config.api_key`). */
export class ConfigError extends SourceError {
  readonly kind: SourceErrorKind = "config";
  readonly retryable = false;
  readonly path: string;
  constructor(source: string, message: string, options: SourceErrorOptions & { path?: string } = {}) {
    super(source, message, options);
    this.path = options.path ?? "";
  }
}

/** The caller aborted the load through its AbortSignal. */
export class AbortedError extends SourceError {
  readonly kind: SourceErrorKind = "aborted";
  readonly retryable = false;
}

export function isSourceError(value: unknown): value is SourceError {
  return value instanceof SourceError;
}

/**
 * Turns anything a source threw into a SourceError, so the registry and the summary deal with one type.
 * An error that is already typed passes through; an abort becomes AbortedError; anything else is a
 * NetworkError only when it looks like one (a Node socket error code), otherwise it is reported as a bug
 * in the source through InvalidRequestError — never silently retried.
 */
export function toSourceError(source: string, error: unknown): SourceError {
  if (error instanceof SourceError) return error;
  if (isAbortError(error)) return new AbortedError(source, "the load was aborted", { cause: error });
  // fetch reports a reset as TypeError("terminated") with the socket's code on its cause.
  const code = (error as { code?: unknown } | null)?.code ?? ((error as { cause?: { code?: unknown } } | null)?.cause?.code);
  if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) {
    return new NetworkError(source, `network failure (${code}); check the connection or the service's status, then try again`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new UnexpectedSourceError(source, `unexpected failure: ${message}. This is likely a bug in the source plugin; please report it with this message`, { cause: error });
}

/** Thrown by plugins for reasons they did not classify; treated as not retryable. */
export class UnexpectedSourceError extends SourceError {
  readonly kind: SourceErrorKind = "invalid_request";
  readonly retryable = false;
}

export function isAbortError(error: unknown): boolean {
  if (error instanceof AbortedError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === "AbortError";
}

const NETWORK_ERROR_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
