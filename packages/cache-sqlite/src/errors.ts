/**
 * What can go wrong with the cache file, in words a person can act on. Two typed errors, each with a
 * one-line message that names the file, the cause and the fix:
 *
 * - `CacheUnavailableError` — the cache cannot be opened at all (a folder at the path, no permission, a
 *   read-only file, a full disk, a file damaged while another process uses it, a newer schema). Thrown by
 *   `openSqliteCache` and the plugin's `create`; a caller that can run without a cache catches it (test
 *   `isCacheUnavailableError`, which also works across package copies) and goes on uncached, with a warning.
 * - `CacheOperationError` — a read, write or delete failed on a cache that was open (the disk filled up
 *   mid-run, the file was made read-only). `get`/`set` reject with it; core's registry logs it as a warning
 *   and carries on with the source.
 */

/** Why the cache could not be used. */
export type CacheFailureReason =
  /** The process may not open or create the file or its folder. */
  | "permission"
  /** The file (or its file system) can be read but not written. */
  | "read-only"
  /** Something other than a file is at the path (a folder), or a file is where the folder should be. */
  | "not-a-file"
  /** No space left (or SQLite's page limit reached). */
  | "disk-full"
  /** An I/O error other than the above (e.g. a WAL removed or truncated under a running process). */
  | "io"
  /** Another process held the write lock longer than `busy_timeout_ms`. */
  | "busy"
  /** SQLite reports the file damaged and it could not be set aside. */
  | "damaged"
  /** SQLite reports the file damaged, but another process has it open, so it was left in place. */
  | "damaged-in-use"
  /** The file was written by a newer @nq/cache-sqlite. */
  | "newer-version"
  /** Opened read-only (`read_only: true`) and there is no cache at the path yet. */
  | "missing"
  /** Opened read-only (`read_only: true`): writes are refused. */
  | "opened-read-only"
  /** The native driver (better-sqlite3) is missing or not built. */
  | "driver"
  | "closed"
  | "other";

export const CACHE_UNAVAILABLE = "NQ_CACHE_UNAVAILABLE";
export const CACHE_OPERATION_FAILED = "NQ_CACHE_OPERATION_FAILED";

export interface CacheErrorDetails {
  /** Absolute path of the database file. */
  file: string;
  reason: CacheFailureReason;
  /** What to do about it (also the end of `message`). */
  fix: string;
  cause?: unknown;
  /** Add "or run with --no-cache" to the fix (default true). */
  noCacheHint?: boolean;
}

function fixText(details: CacheErrorDetails): string {
  return details.noCacheHint === false ? details.fix : `${details.fix}; or run with --no-cache`;
}

/** The cache cannot be opened; the caller may run without it. `message` is a single line. */
export class CacheUnavailableError extends Error {
  override readonly name = "CacheUnavailableError";
  readonly code = CACHE_UNAVAILABLE;
  /** What is wrong, without the fix. */
  readonly problem: string;
  readonly file: string;
  readonly reason: CacheFailureReason;
  readonly fix: string;

  constructor(problem: string, details: CacheErrorDetails) {
    super(oneLine(`cache unavailable: ${problem}. Fix: ${fixText(details)}`), details.cause === undefined ? undefined : { cause: details.cause });
    this.problem = oneLine(problem);
    this.file = details.file;
    this.reason = details.reason;
    this.fix = details.fix;
  }
}

/**
 * A read, write or delete failed on an open cache. `message` is a single line, "<problem>. Fix: <fix>"
 * (no "could not write the cache" prefix: core's registry adds its own).
 */
export class CacheOperationError extends Error {
  override readonly name = "CacheOperationError";
  readonly code = CACHE_OPERATION_FAILED;
  readonly operation: CacheOperation;
  /** What is wrong, without the fix. */
  readonly problem: string;
  readonly file: string;
  readonly reason: CacheFailureReason;
  readonly fix: string;

  constructor(operation: CacheOperation, problem: string, details: CacheErrorDetails) {
    super(oneLine(`${problem}. Fix: ${fixText(details)}`), details.cause === undefined ? undefined : { cause: details.cause });
    this.operation = operation;
    this.problem = oneLine(problem);
    this.file = details.file;
    this.reason = details.reason;
    this.fix = details.fix;
  }
}

export type CacheOperation = "read" | "write" | "delete" | "read the statistics of";

/** True for a `CacheUnavailableError`, also one made by another copy of this package (checks `code`). */
export function isCacheUnavailableError(error: unknown): error is CacheUnavailableError {
  return error instanceof CacheUnavailableError || (error as { code?: unknown } | null)?.code === CACHE_UNAVAILABLE;
}

/** An error's SQLite or system code ("SQLITE_FULL", "EACCES"), when it has one. */
export function errorCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

/** "CODE: message" on one line (the code only when the message does not already say it). */
export function describeError(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return oneLine(code && !message.includes(code) ? `${code}: ${message}` : message);
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
