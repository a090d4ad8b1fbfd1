/**
 * What can go wrong with the server, in one line a person can act on — never with the password. Two
 * typed errors, shaped like @nq/cache-sqlite's so the runner treats both stores alike:
 *
 * - `StoreUnavailableError` — the store cannot be opened (bad config, no driver, server unreachable, wrong
 *   password, a schema from a newer version). `code` is "NQ_CACHE_UNAVAILABLE" for the cache (the runner
 *   runs without it, with a warning) and "NQ_HISTORY_UNAVAILABLE" for the history.
 * - `StoreOperationError` — a read or write failed on an open store (the connection was lost mid-run).
 *   `code` "NQ_CACHE_OPERATION_FAILED"; core's registry logs it and loads from the source.
 */
import { describeDriverError } from "./connection.js";

export type StoreFailureReason =
  /** The config cannot be used (an unset variable in the URL, an unreadable CA file). */
  | "config"
  /** The `pg` driver is not installed. */
  | "driver"
  /** No server answers at the address (refused, unknown host, timed out). */
  | "unreachable"
  /** The server refused the user or password. */
  | "auth"
  /** The database in the URL does not exist. */
  | "missing-database"
  /** The connection broke during an operation (server restarted, network dropped). */
  | "connection-lost"
  /** Opened read-only and there is nothing there yet. */
  | "missing"
  /** The tables were created by a newer @nq/store-postgres. */
  | "newer-version"
  | "closed"
  | "other";

export const CACHE_UNAVAILABLE = "NQ_CACHE_UNAVAILABLE";
export const HISTORY_UNAVAILABLE = "NQ_HISTORY_UNAVAILABLE";
export const CACHE_OPERATION_FAILED = "NQ_CACHE_OPERATION_FAILED";

export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  readonly code: typeof CACHE_UNAVAILABLE | typeof HISTORY_UNAVAILABLE;
  readonly location: string;
  readonly reason: StoreFailureReason;
  readonly fix: string;

  constructor(what: "cache" | "history", location: string, problem: string, details: { reason: StoreFailureReason; fix: string; cause?: unknown }) {
    const hint = what === "cache" ? "; or run with --no-cache" : "";
    super(`${what} unavailable: ${location}: ${problem}. Fix: ${details.fix}${hint}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = what === "cache" ? CACHE_UNAVAILABLE : HISTORY_UNAVAILABLE;
    this.location = location;
    this.reason = details.reason;
    this.fix = details.fix;
  }
}

export class StoreOperationError extends Error {
  override readonly name = "StoreOperationError";
  readonly code = CACHE_OPERATION_FAILED;
  readonly operation: string;
  readonly location: string;
  readonly reason: StoreFailureReason;

  constructor(operation: string, location: string, problem: string, details: { reason: StoreFailureReason; fix: string; cause?: unknown }) {
    super(`could not ${operation} ${location}: ${problem}. Fix: ${details.fix}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.operation = operation;
    this.location = location;
    this.reason = details.reason;
  }
}

/** Why a driver error happened and what to do, without secrets. */
export function classify(error: unknown, secrets: readonly string[]): { reason: StoreFailureReason; problem: string; fix: string } {
  const problem = describeDriverError(error, secrets);
  const code = String((error as { code?: unknown } | null)?.code ?? "");
  if (["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"].includes(code) || /timeout expired|Connection terminated due to connection timeout/i.test(problem)) {
    return { reason: "unreachable", problem, fix: "check that the PostgreSQL server is running and that the url's host and port are right" };
  }
  if (code === "28P01" || code === "28000") return { reason: "auth", problem, fix: "check the user and password in the url (and the server's pg_hba.conf)" };
  if (code === "3D000") return { reason: "missing-database", problem, fix: "create the database (createdb) or correct the url" };
  if (["57P01", "57P02", "57P03", "ECONNRESET", "EPIPE"].includes(code) || /Connection terminated|connection.*(closed|ended)|Client has encountered a connection error|not queryable/i.test(problem)) {
    return { reason: "connection-lost", problem, fix: "check the PostgreSQL server (it stopped or the network dropped); the next run reconnects" };
  }
  return { reason: "other", problem, fix: "see the server's log for details" };
}
