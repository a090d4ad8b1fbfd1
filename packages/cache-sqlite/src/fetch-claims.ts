/**
 * Single flight for the processes on one machine that share a cache file (a `watch`, a notebook, a cron
 * job): after a miss, one of them claims the key in a `fetch_claims` row and loads from the source; the
 * others poll until its entry appears and are served it. The claimant's lease is renewed while it loads
 * (a third of the lease apart); a claimant that crashed stops renewing, its lease lapses after `leaseMs`,
 * and the next waiter takes the row over.
 *
 * Every look (is there an entry, is there a live lease, take the row) runs in one BEGIN IMMEDIATE
 * transaction, so two processes can never both see a free row and both take it. That transaction runs
 * synchronously on the native handle, start to COMMIT in one turn of the event loop: better-sqlite3 waits
 * for a lock by blocking the thread, so a transaction that yielded between statements could be stalled by
 * another connection in the same process (a second cache, the spend ledger) blocking on it. Lease times are the wall
 * clock (`Date.now()`): they are compared across processes, which share it; entry expiry uses the
 * caller's `now()` as `get` does.
 *
 * The table holds seconds-long coordination state, not data, so it is made on first use
 * (`create table if not exists`) rather than by a migration: a file used this way stays readable, with no
 * unknown migration, by versions that do not know claims.
 */
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { ChainCacheEntry, ChainCacheKey, FetchClaim, FetchClaimOptions, Logger } from "@nq/core";
import type { CacheDatabase } from "./database-schema.js";
import type { NativeSqliteDatabase } from "./native-driver.js";

/** Statements run synchronously inside a claim transaction. */
export interface ClaimStatements {
  all(sql: string, parameters: unknown[]): Record<string, unknown>[];
  run(sql: string, parameters: unknown[]): number;
}

/** What the claims need from the cache that owns the file. */
export interface ClaimableCache {
  /** Runs `work` synchronously in one BEGIN IMMEDIATE transaction on the cache's connection, then commits. */
  transact<T>(work: (statements: ClaimStatements) => T): Promise<T>;
  /** The cache's own read, with its checksum verification and hit counting. */
  get(key: ChainCacheKey, now: Date): Promise<ChainCacheEntry | null>;
  /** Entries larger than this are not served, so they do not end a wait either. */
  maxEntryBytes: number;
  log: Logger;
}

/** The longest pause between two looks at the file while waiting. */
const MAX_POLL_MS = 100;

export class SqliteFetchClaims {
  /** Claims this process holds: `close` hands them back so no other process waits on a lease nobody renews. */
  private readonly held = new Set<{ release(): Promise<void> }>();

  constructor(private readonly cache: ClaimableCache) {}

  async claim(key: ChainCacheKey, options: FetchClaimOptions): Promise<FetchClaim> {
    if (!(options.leaseMs > 0) || !(options.waitMs >= 0)) {
      throw new RangeError(`claimFetch needs leaseMs > 0 and waitMs >= 0, got leaseMs ${options.leaseMs} and waitMs ${options.waitMs}`);
    }
    const holder = randomUUID();
    const started = Date.now();
    const pollMs = Math.max(5, Math.min(MAX_POLL_MS, Math.floor(options.leaseMs / 10)));
    for (;;) {
      throwIfAborted(options.signal);
      const freshAfter = options.now().toISOString();
      const look = await this.cache.transact((db) => {
        db.run(CREATE_TABLE, []);
        const entry = db.all(
          "select 1 from cache_entries where source = ? and request_hash = ? and expires_at > ? and entry_bytes <= ?",
          [key.source, key.requestHash, freshAfter, this.cache.maxEntryBytes],
        );
        if (entry.length > 0) return "entry" as const;
        const lease = db.all("select expires_at from fetch_claims where source = ? and request_hash = ?", [key.source, key.requestHash])[0];
        const at = Date.now();
        if (lease && Number(lease.expires_at) > at) return "wait" as const;
        db.run(
          "insert into fetch_claims (source, request_hash, holder, expires_at) values (?, ?, ?, ?) " +
            "on conflict (source, request_hash) do update set holder = excluded.holder, expires_at = excluded.expires_at",
          [key.source, key.requestHash, holder, at + options.leaseMs],
        );
        return lease ? ("took-over" as const) : ("claimed" as const);
      });
      if (look === "entry") {
        // Read through the cache itself: a chain that fails its checksum is dropped there, and the next
        // look finds no entry and claims the key.
        const entry = await this.cache.get(key, options.now());
        if (entry) return { kind: "entry", entry };
        continue;
      }
      if (look === "claimed" || look === "took-over") {
        if (look === "took-over") this.cache.log.warn(`${key.source}: took over a fetch claim whose holder stopped renewing it (a process that crashed or hung)`);
        return { kind: "fetch", release: this.hold(key, holder, options.leaseMs) };
      }
      const waited = Date.now() - started;
      if (waited >= options.waitMs) return { kind: "timeout" };
      await pause(Math.min(pollMs, options.waitMs - waited), options.signal);
    }
  }

  /** Hands back every claim this process still holds (the cache is closing). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((claim) => claim.release()));
  }

  /** Renews the row while the holder loads; returns the release, which is safe to call twice. */
  private hold(key: ChainCacheKey, holder: string, leaseMs: number): () => Promise<void> {
    let renewing: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = this.cache
        .transact((db) => db.run("update fetch_claims set expires_at = ? where source = ? and request_hash = ? and holder = ?", [Date.now() + leaseMs, key.source, key.requestHash, holder]))
        .catch((error: unknown) => this.cache.log.warn(`${key.source}: could not renew the fetch claim (other processes take over when it lapses): ${(error as Error).message}`));
    }, Math.max(1, Math.floor(leaseMs / 3)));
    timer.unref?.();
    let released: Promise<void> | null = null;
    const claim = {
      release: () => {
        released ??= (async () => {
          clearInterval(timer);
          this.held.delete(claim);
          await renewing;
          await this.cache.transact((db) => db.run("delete from fetch_claims where source = ? and request_hash = ? and holder = ?", [key.source, key.requestHash, holder]));
        })();
        return released;
      },
    };
    this.held.add(claim);
    return claim.release;
  }
}

/**
 * Each look asks, rather than once per process: a damaged file set aside and opened anew has no table.
 * `expires_at`: milliseconds since the epoch (wall clock) after which another process may take the row
 * over; `holder`: a random id per claim, so only its holder renews or deletes the row.
 */
const CREATE_TABLE =
  "create table if not exists fetch_claims (source text not null, request_hash text not null, holder text not null, " +
  "expires_at integer not null, constraint fetch_claims_pk primary key (source, request_hash))";

/**
 * Runs `work` synchronously inside BEGIN IMMEDIATE … COMMIT on the native handle (rolled back when it
 * throws), holding kysely's connection meanwhile so that no query of the cache's own is in flight on it.
 */
export function immediateTransaction<T>(db: Kysely<CacheDatabase>, native: NativeSqliteDatabase, work: (statements: ClaimStatements) => T): Promise<T> {
  return db.connection().execute(async () => {
    const statements: ClaimStatements = {
      all: (text, parameters) => native.prepare(text).all(parameters) as Record<string, unknown>[],
      run: (text, parameters) => Number(native.prepare(text).run(parameters).changes),
    };
    statements.run("begin immediate", []);
    try {
      const result = work(statements);
      statements.run("commit", []);
      return result;
    } catch (error) {
      try {
        statements.run("rollback", []);
      } catch {
        // Nothing was begun, or SQLite rolled back already.
      }
      throw error;
    }
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error("stopped waiting for another process's fetch: the caller's signal aborted", { cause: signal.reason });
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error("stopped waiting for another process's fetch: the caller's signal aborted", { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
