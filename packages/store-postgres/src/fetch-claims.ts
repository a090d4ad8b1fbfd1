/**
 * Single flight across the fleet. A claim is a row in `fetch_claims` (key, holder, expires_at on the
 * server's clock): an insert that succeeds — or that takes over a row whose lease has run out — makes
 * this process the one fetcher; it renews the lease every third of `leaseMs` while it loads and deletes
 * the row on release. Everyone else waits: woken by NOTIFY when an entry is written or a claim released
 * (a LISTEN connection per process, shared by its waiters), and polling meanwhile, since a lease that
 * simply runs out (a crashed holder) sends no notification.
 */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { ChainCacheKey, Logger } from "@nq/core";
import type { CacheDatabase } from "./cache-schema.js";
import type { PgClient } from "./connection.js";

/** What a waiter polls at: often enough to see an expired lease soon, rarely enough for 100 runners. */
export function pollIntervalMs(leaseMs: number): number {
  return Math.max(50, Math.min(1_000, Math.round(leaseMs / 4)));
}

export function notificationPayload(key: Pick<ChainCacheKey, "source" | "requestHash">): string {
  return JSON.stringify([key.source, key.requestHash]);
}

export interface ClaimRow {
  key: ChainCacheKey;
  leaseMs: number;
}

/** The claims this process holds, renewed until released (or until the store closes). */
export class FetchClaims {
  readonly holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  private readonly held = new Map<string, { key: ChainCacheKey; timer: NodeJS.Timeout; released: boolean }>();

  constructor(
    private readonly db: Kysely<CacheDatabase>,
    private readonly channel: string,
    private readonly log: Logger,
  ) {}

  /** Takes the claim when nobody holds it or the holder's lease ran out; true when this process now holds it. */
  async tryClaim(key: ChainCacheKey, leaseMs: number): Promise<boolean> {
    const lease = `${leaseMs} milliseconds`;
    const won = await this.db
      .insertInto("fetch_claims")
      .values({ source: key.source, request_hash: key.requestHash, holder: this.holder, expires_at: sql<Date>`clock_timestamp() + ${lease}::interval` })
      .onConflict((conflict) =>
        conflict
          .columns(["source", "request_hash"])
          .doUpdateSet({ holder: this.holder, claimed_at: sql<Date>`clock_timestamp()`, expires_at: sql<Date>`clock_timestamp() + ${lease}::interval` })
          .where("fetch_claims.expires_at", "<=", sql<Date>`clock_timestamp()`),
      )
      .returning("holder")
      .executeTakeFirst();
    if (won?.holder !== this.holder) return false;
    const id = keyId(key);
    const renew = setInterval(() => void this.renew(key, lease), Math.max(20, Math.floor(leaseMs / 3)));
    renew.unref();
    this.held.set(id, { key, timer: renew, released: false });
    return true;
  }

  /** Gives the claim up: the row goes and waiters are woken, so one takes over at once. Never throws. */
  async release(key: ChainCacheKey): Promise<void> {
    const id = keyId(key);
    const claim = this.held.get(id);
    if (!claim || claim.released) return;
    claim.released = true;
    clearInterval(claim.timer);
    this.held.delete(id);
    try {
      await this.db
        .deleteFrom("fetch_claims")
        .where("source", "=", key.source)
        .where("request_hash", "=", key.requestHash)
        .where("holder", "=", this.holder)
        .execute();
      await sql`select pg_notify(${this.channel}, ${notificationPayload(key)})`.execute(this.db);
    } catch (error) {
      // The lease still runs out on its own; waiters then take over after at most leaseMs.
      this.log.warn(`could not release the fetch claim on ${key.source} (${key.requestHash.slice(0, 12)}…): ${(error as Error).message}; it lapses when its lease runs out`);
    }
  }

  /** Stops renewing everything and releases what is held (best effort: a lease lapses anyway). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held.values()].map((claim) => this.release(claim.key)));
  }

  /** Stops renewing without touching the server (the connection is gone): the leases lapse. */
  abandonAll(): void {
    for (const claim of this.held.values()) clearInterval(claim.timer);
    this.held.clear();
  }

  private async renew(key: ChainCacheKey, lease: string): Promise<void> {
    const claim = this.held.get(keyId(key));
    if (!claim || claim.released) return;
    try {
      const result = await this.db
        .updateTable("fetch_claims")
        .set({ expires_at: sql<Date>`clock_timestamp() + ${lease}::interval` })
        .where("source", "=", key.source)
        .where("request_hash", "=", key.requestHash)
        .where("holder", "=", this.holder)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0 && !claim.released) {
        // Our lease ran out before we renewed it (a stalled event loop) and another process took over.
        this.log.warn(`the fetch claim on ${key.source} (${key.requestHash.slice(0, 12)}…) lapsed before it was renewed; another process may be fetching the same chain`);
        clearInterval(claim.timer);
      }
    } catch (error) {
      this.log.warn(`could not renew the fetch claim on ${key.source}: ${(error as Error).message}`);
    }
  }
}

export function keyId(key: Pick<ChainCacheKey, "source" | "requestHash">): string {
  return `${key.source}\0${key.requestHash}`;
}

/**
 * One LISTEN connection per process, opened on first wait. When it cannot be opened or breaks (a
 * connection pooler in transaction mode does not forward LISTEN), waiters still see every change by polling.
 */
export class ClaimEvents {
  private client: PgClient | null = null;
  private connecting: Promise<void> | null = null;
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;
  private failedAt = 0;

  constructor(
    private readonly openClient: () => PgClient,
    private readonly channel: string,
    private readonly log: Logger,
  ) {}

  /** Registers interest in a key before it is checked, so a notification between check and wait is not lost. */
  subscribe(key: ChainCacheKey): { wait(ms: number, signal?: AbortSignal): Promise<void>; close(): void } {
    const id = keyId(key);
    let pending = false;
    let wake: (() => void) | null = null;
    const listener = () => {
      pending = true;
      wake?.();
    };
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(listener);
    void this.ensureListening();
    return {
      wait: (ms, signal) =>
        new Promise<void>((resolve, reject) => {
          if (pending) {
            pending = false;
            resolve();
            return;
          }
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            wake = null;
            pending = false;
          };
          const onAbort = () => {
            done();
            reject(signal?.reason instanceof Error ? signal.reason : new DOMException("the wait for another process's fetch was aborted", "AbortError"));
          };
          const timer = setTimeout(() => {
            done();
            resolve();
          }, ms);
          wake = () => {
            done();
            resolve();
          };
          if (signal?.aborted) onAbort();
          else signal?.addEventListener("abort", onAbort, { once: true });
        }),
      close: () => {
        set.delete(listener);
        if (set.size === 0) this.waiters.delete(id);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private ensureListening(): Promise<void> {
    if (this.closed || this.client) return Promise.resolve();
    // After a failure, try again at most every 5 s; polling covers the gap.
    if (this.connecting || Date.now() - this.failedAt < 5_000) return this.connecting ?? Promise.resolve();
    this.connecting = (async () => {
      const client = this.openClient();
      client.on("error", (error) => {
        this.log.debug(`the cache's LISTEN connection failed (${error.message}); waiters poll`);
        if (this.client === client) this.client = null;
        this.failedAt = Date.now();
      });
      client.on("end", () => {
        if (this.client === client) this.client = null;
      });
      client.on("notification", (message) => {
        if (message.channel !== this.channel || !message.payload) return;
        let id: string;
        try {
          const [source, requestHash] = JSON.parse(message.payload) as [string, string];
          id = keyId({ source, requestHash });
        } catch {
          return;
        }
        for (const listener of this.waiters.get(id) ?? []) listener();
      });
      try {
        await client.connect();
        await client.query(`listen ${this.channel}`);
        if (this.closed) await client.end().catch(() => {});
        else this.client = client;
      } catch (error) {
        this.failedAt = Date.now();
        this.log.debug(`could not LISTEN for cache events (${(error as Error).message}); waiters poll`);
        await client.end().catch(() => {});
      }
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }
}
