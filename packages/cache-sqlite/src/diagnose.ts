/**
 * Turns what SQLite or the file system said into a reason, a problem and a fix a person can act on.
 * Only SQLITE_CORRUPT and SQLITE_NOTADB mean "this file is damaged"; a permission error, a read-only file,
 * a full disk or an I/O error (such as a WAL removed under a running process) say nothing about the
 * file's contents and never get it set aside.
 */
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { describeError, errorCode, type CacheFailureReason } from "./errors.js";

export interface Diagnosis {
  reason: CacheFailureReason;
  /** What is wrong, naming the file (no trailing period). */
  problem: string;
  /** What to do (no trailing period). */
  fix: string;
}

/** SQLite's verdicts that mean "this file is not a sound database" — the only ones that set a file aside. */
export function isDamagedDatabaseError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== null && (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT"));
}

export function isNewerSchemaError(error: unknown): boolean {
  return /migration .* is missing|previously executed migration/i.test(describeError(error));
}

export function diagnose(file: string, error: unknown, settings: { busyTimeoutMs: number }): Diagnosis {
  const code = errorCode(error) ?? "";
  const cause = describeError(error);
  const dir = dirname(file);
  const elsewhere = `or point the cache "path" elsewhere`;
  if (code === "NQ_SQLITE_DRIVER") {
    return { reason: "driver", problem: cause.replace(/\.?$/, ""), fix: "install better-sqlite3@12 next to @nq/cache-sqlite and build it (pnpm rebuild better-sqlite3)" };
  }
  if (isNewerSchemaError(error)) {
    return { reason: "newer-version", problem: `${file} was written by a newer @nq/cache-sqlite (${cause})`, fix: `upgrade @nq/cache-sqlite, ${elsewhere}` };
  }
  if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT" || /\bENOSPC\b|no space left/i.test(cause)) {
    return { reason: "disk-full", problem: `the disk that holds ${file} is full (${cause})`, fix: `free space on it (or delete expired entries: cache purge), ${elsewhere}` };
  }
  if (code.startsWith("SQLITE_READONLY") || code === "EROFS") {
    return {
      reason: "read-only",
      problem: `${file} cannot be written by this process (${cause})`,
      fix: `make ${file}, its -wal and -shm files and the folder ${dir} writable by this user, ${elsewhere}`,
    };
  }
  if (isDirectory(file)) {
    return { reason: "not-a-file", problem: `${file} is a folder, not a cache file`, fix: `remove or rename that folder, or point the cache "path" at a file` };
  }
  if (code === "EEXIST" || code === "ENOTDIR") {
    return { reason: "not-a-file", problem: `the folder of ${file} cannot be created: a file is in the way (${cause})`, fix: `move that file, ${elsewhere}` };
  }
  if (code === "EACCES" || code === "EPERM" || code === "SQLITE_PERM" || code === "SQLITE_AUTH" || code.startsWith("SQLITE_CANTOPEN")) {
    return {
      reason: "permission",
      problem: `${file} cannot be opened by this process (${cause})`,
      fix: `check that this user may read and write ${file} and create files in ${dir} (ls -l ${dir}), ${elsewhere}`,
    };
  }
  if (code === "SQLITE_IOERR_SHORT_READ") {
    return {
      reason: "io",
      problem: `reading ${file} failed (${cause}): its WAL ${file}-wal is shorter than SQLite expects, as when it is removed or truncated while a run has the cache open`,
      fix: `let the runs using the cache finish (the last one to close makes the file whole again), and never delete ${file}-wal while a run uses it`,
    };
  }
  if (code.startsWith("SQLITE_IOERR") || code === "EIO") {
    return { reason: "io", problem: `an I/O error on ${file} (${cause})`, fix: `check the disk and the file system that hold ${dir}, ${elsewhere}` };
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return {
      reason: "busy",
      problem: `${file} stayed locked by another process for longer than busy_timeout_ms (${settings.busyTimeoutMs} ms)`,
      fix: "wait for the other run to finish, or raise the cache's busy_timeout_ms",
    };
  }
  if (isDamagedDatabaseError(error)) {
    return { reason: "damaged", problem: `SQLite reports ${file} damaged (${cause})`, fix: `move it away (it is only a cache), ${elsewhere}` };
  }
  return { reason: "other", problem: `${file}: ${cause}`, fix: `check the cache "path" and its folder, ${elsewhere}` };
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
