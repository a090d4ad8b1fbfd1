/**
 * The error vocabulary every source speaks. The registry decides what to do next from the error alone:
 * a retryable error may be tried again after a pause, anything else moves on to the next source (or
 * stops the run under the `strict` policy). Messages are written for the person running the tool: what
 * went wrong, and what to do about it. They never carry a credential: every message passes through the
 * secret redactor when the error is built.
 */
import { redactSecrets } from "./secrets.js";

/*
 * Identity that survives duplicate copies of @nq/core. A plugin installed outside the runner's folder
 * resolves its own copy of this module, so its AuthError is a different class from the runner's: an
 * `instanceof` check would call it a bug. Every SourceError therefore carries a registered brand
 * (`Symbol.for`, shared by every copy in the process) and plain fields — `kind`, `code`, `retryable`,
 * `source`, `retryAfterMs` — and every check in core reads those. The classes also answer `instanceof`
 * structurally (see `Symbol.hasInstance` below), so `error instanceof RateLimitError` holds for a rate
 * limit thrown by any copy.
 */
const BRAND = Symbol.for("@nq/core/SourceError");
/** Bumped only if the fields the brand promises ever change meaning. */
const BRAND_VERSION = 1;
const CLASS_CODE = Symbol("@nq/core/SourceError.code");

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

/**
 * Which of core's error classes an error is (the nearest one, for a plugin's own subclass). Finer than
 * `kind`: UnexpectedSourceError shares the kind "invalid_request" with InvalidRequestError but not its code.
 */
export type SourceErrorCode = SourceErrorKind | "unexpected";

const KINDS: ReadonlySet<string> = new Set<SourceErrorKind>([
  "network", "timeout", "rate_limit", "unavailable", "incomplete", "auth", "entitlement", "blocked", "cost_limit", "no_data",
  "invalid_request", "config", "aborted",
]);

/** The class hierarchy, by code: TimeoutError, ServiceUnavailableError, RateLimitError and IncompleteDataError are NetworkErrors. */
const PARENT: Partial<Record<SourceErrorCode, SourceErrorCode>> = { timeout: "network", unavailable: "network", rate_limit: "network", incomplete: "network" };

function descendsFrom(code: SourceErrorCode, ancestor: SourceErrorCode | "*"): boolean {
  if (ancestor === "*") return true;
  for (let at: SourceErrorCode | undefined = code; at !== undefined; at = PARENT[at]) if (at === ancestor) return true;
  return false;
}

export interface SourceErrorOptions {
  /** The underlying error or response that explains this one (kept for debugging, also redacted). */
  cause?: unknown;
  /** Extra, structured facts (HTTP status, provider error case, docs link…). Never a credential. */
  details?: Record<string, unknown>;
}

export abstract class SourceError extends Error {
  static readonly [CLASS_CODE]: SourceErrorCode | "*" = "*";

  /**
   * `error instanceof AuthError` is true for an auth error from another copy of @nq/core (by brand and
   * code), not only for one built by this copy's class. For this copy's errors, and for a plugin's own
   * subclass, `instanceof` is the ordinary class check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    const ordinary = Function.prototype[Symbol.hasInstance];
    if (ordinary.call(this, value)) return true;
    // A plugin's own subclass, or an error of this very copy: the class chain decides.
    if (!Object.hasOwn(this, CLASS_CODE) || ordinary.call(SourceError, value)) return false;
    const ancestor = (this as unknown as Record<typeof CLASS_CODE, SourceErrorCode | "*">)[CLASS_CODE];
    return isSourceError(value) && descendsFrom(value.code, ancestor);
  }

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

  /**
   * Which of core's classes this is (see SourceErrorCode): the nearest one up its class chain; for a
   * plugin's class that extends SourceError directly, its `kind`.
   */
  get code(): SourceErrorCode {
    return classCodeOf(this.constructor) ?? this.kind;
  }

  /** A plain object for summaries, logs and `--json` output. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, kind: this.kind, code: this.code, source: this.source, retryable: this.retryable, message: this.message, details: this.details };
  }
}
Object.defineProperty(SourceError.prototype, BRAND, { value: BRAND_VERSION, enumerable: false });

function classCodeOf(target: unknown): SourceErrorCode | null {
  for (let at = target as Record<typeof CLASS_CODE, unknown> | null; at; at = Object.getPrototypeOf(at) as typeof at) {
    const code = Object.hasOwn(at, CLASS_CODE) ? at[CLASS_CODE] : undefined;
    if (typeof code === "string" && code !== "*") return code as SourceErrorCode;
  }
  return null;
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
  static override readonly [CLASS_CODE]: SourceErrorCode = "network";
  readonly kind: SourceErrorKind = "network";
  readonly retryable = true;
}

/** No answer within the configured time. */
export class TimeoutError extends NetworkError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "timeout";
  override readonly kind: SourceErrorKind = "timeout";
  readonly timeoutMs: number | null;
  constructor(source: string, message: string, options: SourceErrorOptions & { timeoutMs?: number } = {}) {
    super(source, message, options);
    this.timeoutMs = options.timeoutMs ?? null;
  }
}

/** The service is down for maintenance or overloaded (HTTP 503 and the like). */
export class ServiceUnavailableError extends NetworkError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "unavailable";
  override readonly kind: SourceErrorKind = "unavailable";
}

/** Too many requests: wait `retryAfterMs` (when the server said) before trying again. */
export class RateLimitError extends NetworkError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "rate_limit";
  override readonly kind: SourceErrorKind = "rate_limit";
  readonly retryAfterMs: number | null;
  constructor(source: string, message: string, options: SourceErrorOptions & { retryAfterMs?: number | null } = {}) {
    super(source, message, options);
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/** The data arrived cut short (a truncated or reset stream, a partial result): never a complete chain. */
export class IncompleteDataError extends NetworkError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "incomplete";
  override readonly kind: SourceErrorKind = "incomplete";
}

// ---- Not retryable: the same request will fail the same way until something changes. ----

/** The credentials were refused or are missing. */
export class AuthError extends SourceError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "auth";
  readonly kind: SourceErrorKind = "auth";
  readonly retryable = false;
}

/** The credentials are valid but not licensed for this data (e.g. a dataset entitlement). */
export class EntitlementError extends SourceError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "entitlement";
  readonly kind: SourceErrorKind = "entitlement";
  readonly retryable = false;
}

/** The site refused us as a bot (a 403 block page or a challenge). Politeness says: do not hammer it. */
export class BlockedError extends SourceError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "blocked";
  readonly kind: SourceErrorKind = "blocked";
  readonly retryable = false;
}

/** A paid request would cost more than the configured limit; it was not sent. */
export class CostLimitError extends SourceError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "cost_limit";
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
  static override readonly [CLASS_CODE]: SourceErrorCode = "no_data";
  readonly kind: SourceErrorKind = "no_data";
  readonly retryable = false;
}

/** The request itself is wrong (a bad date range, an unknown symbol). */
export class InvalidRequestError extends SourceError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "invalid_request";
  readonly kind: SourceErrorKind = "invalid_request";
  readonly retryable = false;
}

/** The configuration is wrong; `path` names the field (e.g. `data_sources.databento.config.api_key`). */
export class ConfigError extends SourceError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "config";
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
  static override readonly [CLASS_CODE]: SourceErrorCode = "aborted";
  readonly kind: SourceErrorKind = "aborted";
  readonly retryable = false;
}

/**
 * True for a SourceError built by any copy of @nq/core in this process: it checks the registered brand
 * and the fields the registry relies on, never the class.
 */
export function isSourceError(value: unknown): value is SourceError {
  if (typeof value !== "object" || value === null) return false;
  const error = value as Record<PropertyKey, unknown>;
  return (
    typeof error[BRAND] === "number" &&
    typeof error.kind === "string" &&
    KINDS.has(error.kind) &&
    typeof error.code === "string" &&
    typeof error.retryable === "boolean" &&
    typeof error.source === "string" &&
    typeof error.message === "string"
  );
}

/**
 * True for a SourceError (from any copy of @nq/core) of one of these codes or their subclasses:
 * `isSourceErrorOfKind(error, "rate_limit")`, `isSourceErrorOfKind(error, "network")` (which includes
 * timeouts, rate limits, unavailability and incomplete data, as NetworkError's subclasses do).
 */
export function isSourceErrorOfKind(value: unknown, ...codes: SourceErrorCode[]): boolean {
  return isSourceError(value) && codes.some((code) => descendsFrom((value as SourceError).code, code));
}

/** What a rate-limit error asked to wait, in ms; null when it did not say or is not a rate limit. */
export function retryAfterMsOf(value: unknown): number | null {
  if (!isSourceErrorOfKind(value, "rate_limit")) return null;
  const wait = (value as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof wait === "number" && Number.isFinite(wait) && wait >= 0 ? wait : null;
}

/**
 * Turns anything a source threw into a SourceError, so the registry and the summary deal with one type.
 * A typed error from any copy of @nq/core passes through (one from an older copy, which carried no brand,
 * is rebuilt from its fields); an abort becomes AbortedError; a DOMException "TimeoutError" (what
 * `AbortSignal.timeout` and `withTimeout` abort with) becomes TimeoutError; a Node socket error code
 * becomes NetworkError; anything else is reported as a bug in the source (UnexpectedSourceError) — never
 * silently retried.
 */
export function toSourceError(source: string, error: unknown): SourceError {
  if (isSourceError(error)) return error;
  const adopted = adoptUnbranded(error);
  if (adopted) return adopted;
  if (isAbortError(error)) return new AbortedError(source, "the load was aborted", { cause: error });
  if ((error as { name?: unknown } | null)?.name === "TimeoutError") {
    return new TimeoutError(source, "no answer in time; check the connection or the service's status, then try again", { cause: error });
  }
  // fetch reports a reset as TypeError("terminated") with the socket's code on its cause.
  const code = (error as { code?: unknown } | null)?.code ?? ((error as { cause?: { code?: unknown } } | null)?.cause?.code);
  if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) {
    return new NetworkError(source, `network failure (${code}); check the connection or the service's status, then try again`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new UnexpectedSourceError(source, `unexpected failure: ${message}. This is likely a bug in the source plugin; please report it with this message`, { cause: error });
}

/**
 * A SourceError from a copy of @nq/core that predates the brand: an Error with a known `kind`, a boolean
 * `retryable` and a `source`. Rebuilt as this copy's class, keeping its message, cause and fields.
 */
function adoptUnbranded(error: unknown): SourceError | null {
  if (!(error instanceof Error)) return null;
  const e = error as Error & Record<string, unknown>;
  if (typeof e.kind !== "string" || !KINDS.has(e.kind) || typeof e.retryable !== "boolean" || typeof e.source !== "string") return null;
  const code: SourceErrorCode = e.name === "UnexpectedSourceError" ? "unexpected" : (e.kind as SourceErrorKind);
  const options = {
    cause: e.cause,
    details: typeof e.details === "object" && e.details !== null ? (e.details as Record<string, unknown>) : {},
    retryAfterMs: typeof e.retryAfterMs === "number" ? e.retryAfterMs : null,
    estimatedUsd: typeof e.estimatedUsd === "number" ? e.estimatedUsd : 0,
    limitUsd: typeof e.limitUsd === "number" ? e.limitUsd : 0,
    path: typeof e.path === "string" ? e.path : "",
    ...(typeof e.timeoutMs === "number" ? { timeoutMs: e.timeoutMs } : {}),
  };
  const rebuilt = new CLASSES[code](e.source, "", options);
  rebuilt.message = redactSecrets(e.message);
  return rebuilt;
}

/** Thrown by plugins for reasons they did not classify; treated as not retryable. */
export class UnexpectedSourceError extends SourceError {
  static override readonly [CLASS_CODE]: SourceErrorCode = "unexpected";
  readonly kind: SourceErrorKind = "invalid_request";
  readonly retryable = false;
}

export function isAbortError(error: unknown): boolean {
  if (isSourceErrorOfKind(error, "aborted")) return true;
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

type AnyErrorClass = new (source: string, message: string, options: SourceErrorOptions & Record<string, unknown>) => SourceError;

const CLASSES: Record<SourceErrorCode, AnyErrorClass> = {
  network: NetworkError,
  timeout: TimeoutError,
  unavailable: ServiceUnavailableError,
  rate_limit: RateLimitError,
  incomplete: IncompleteDataError,
  auth: AuthError,
  entitlement: EntitlementError,
  blocked: BlockedError,
  cost_limit: CostLimitError as unknown as AnyErrorClass,
  no_data: NoDataError,
  invalid_request: InvalidRequestError,
  config: ConfigError,
  aborted: AbortedError,
  unexpected: UnexpectedSourceError,
};
