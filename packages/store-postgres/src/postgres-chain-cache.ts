/**
 * The cache on PostgreSQL: one row per (source, request hash), written with an upsert so a reader in any
 * process sees the whole previous entry or the whole new one. Same semantics as the SQLite cache: `get`
 * serves only entries whose expiry is after the caller's `now` and whose bytes still match the sha256
 * written with them (a changed row is a miss and a warning, and is dropped), hits and misses are counted
 * in the database so `stats` covers the whole fleet, and an entry over `max_entry_bytes` is not cached.
 * Every failure of an open store (the server went away mid-run) is a one-line `StoreOperationError`,
 * which core's registry reads as a cache failure: the run goes on without the cache.
 */
import { type Insertable, type Kysely, sql } from "kysely";
import {
  canonicalRequest,
  compressRaw,
  decompressRaw,
  formatBytes,
  sha256Hex,
  type CacheStats,
  type ChainCacheEntry,
  type ChainCacheKey,
  type ChainCacheWrite,
  type FetchClaim,
  type FetchClaimOptions,
  type Logger,
  type ManagedChainCache,
  type OptionsChain,
  type TtlPolicy,
} from "@nq/core";
import type { CacheDatabase, CacheEntryTable } from "./cache-schema.js";
import { checksumMismatch } from "./entry-payload.js";
import { classify, StoreOperationError } from "./errors.js";
import { ClaimEvents, FetchClaims, notificationPayload, pollIntervalMs } from "./fetch-claims.js";
import type { PgClient } from "./connection.js";

export interface PostgresChainCacheOptions {
  db: Kysely<CacheDatabase>;
  location: string;
  schema: string;
  secrets: readonly string[];
  log: Logger;
  now: () => Date;
  ttl: TtlPolicy;
  storeRaw: boolean;
  maxEntryBytes: number;
  /** Overrides of the caller's single-flight timings (the profile's lease_ms / wait_ms). */
  leaseMs?: number;
  waitMs?: number;
  /** A connection outside the pool for LISTEN. */
  openListener: () => PgClient;
}

type EntryRow = Pick<CacheEntryTable, "chain_json" | "chain_sha256" | "raw" | "raw_encoding" | "raw_sha256" | "cost_usd"> & {
  fetched_at: Date;
  expires_at: Date;
  written_at: Date;
};

export class PostgresChainCache implements ManagedChainCache {
  private closed = false;
  private readonly claims: FetchClaims;
  private readonly events: ClaimEvents;
  /** NOTIFY channel: one per schema, so two fleets sharing a database do not wake each other. */
  private readonly channel: string;

  constructor(private readonly options: PostgresChainCacheOptions) {
    this.channel = `nq_cache_${options.schema}`;
    this.claims = new FetchClaims(options.db, this.channel, options.log);
    this.events = new ClaimEvents(options.openListener, this.channel, options.log);
  }

  /** postgres://user@host:port/database (schema …), without the password. */
  get location(): string {
    return this.options.location;
  }

  private get db(): Kysely<CacheDatabase> {
    return this.options.db;
  }

  async get(key: ChainCacheKey, now: Date): Promise<ChainCacheEntry | null> {
    const entry = await this.read(key, now);
    await this.count(key.source, entry ? "hit" : "miss", entry?.costUsd ?? 0);
    return entry;
  }

  async set(key: ChainCacheKey, entry: ChainCacheWrite): Promise<void> {
    this.assertOpen("write");
    const row = this.toRow(key, entry);
    if (!row) return;
    const { source: _source, request_hash: _hash, ...update } = row;
    await this.guarded("write", () =>
      this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto("cache_entries")
          .values(row)
          .onConflict((conflict) => conflict.columns(["source", "request_hash"]).doUpdateSet(update))
          .execute();
        // Delivered at commit: waiters of every runner read the entry as soon as it can be read.
        await sql`select pg_notify(${this.channel}, ${notificationPayload(key)})`.execute(trx);
      }),
    );
  }

  async claimFetch(key: ChainCacheKey, options: FetchClaimOptions): Promise<FetchClaim> {
    this.assertOpen("claim");
    const leaseMs = this.options.leaseMs ?? options.leaseMs;
    const waitMs = this.options.waitMs ?? options.waitMs;
    if (!(leaseMs > 0) || !Number.isFinite(leaseMs)) throw new RangeError(`leaseMs must be a positive number of milliseconds, got ${leaseMs}`);
    if (!(waitMs >= 0) || !Number.isFinite(waitMs)) throw new RangeError(`waitMs must be a non-negative number of milliseconds, got ${waitMs}`);
    const { signal } = options;
    const deadline = Date.now() + waitMs;
    const poll = pollIntervalMs(leaseMs);
    // Subscribed before the first look, so an entry written between the look and the wait still wakes us.
    const subscription = this.events.subscribe(key);
    try {
      for (;;) {
        signal?.throwIfAborted();
        const found = await this.read(key, options.now());
        if (found) return await this.served(key, found);
        const won = await this.guarded("claim", () => this.claims.tryClaim(key, leaseMs));
        if (won) {
          // The previous holder may have written its entry and released between our look and our claim.
          const late = await this.read(key, options.now()).catch(() => null);
          if (late) {
            await this.claims.release(key);
            return await this.served(key, late);
          }
          let released = false;
          return {
            kind: "fetch",
            release: async () => {
              if (released) return;
              released = true;
              await this.claims.release(key);
            },
          };
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) return { kind: "timeout" };
        await subscription.wait(Math.min(remaining, poll), signal);
      }
    } finally {
      subscription.close();
    }
  }

  async stats(now: Date): Promise<CacheStats> {
    const entries = await this.guarded("read the statistics of", () =>
      this.db
        .selectFrom("cache_entries")
        .select([sql<string>`count(*)`.as("entries"), sql<string>`count(*) filter (where expires_at <= ${now})`.as("expired")])
        .executeTakeFirstOrThrow(),
    );
    const counters = await this.guarded("read the statistics of", () =>
      this.db
        .selectFrom("cache_counters")
        .select([
          sql<string>`coalesce(sum(hits), 0)`.as("hits"),
          sql<string>`coalesce(sum(misses), 0)`.as("misses"),
          sql<number>`coalesce(sum(spend_saved_usd), 0)`.as("saved"),
        ])
        .executeTakeFirstOrThrow(),
    );
    const size = await this.guarded("read the statistics of", () =>
      sql<{ bytes: string }>`select pg_total_relation_size(to_regclass(${`${this.options.schema}.cache_entries`}))::text as bytes`.execute(this.db),
    );
    const hits = Number(counters.hits);
    const misses = Number(counters.misses);
    return {
      location: this.location,
      entries: Number(entries.entries),
      expiredEntries: Number(entries.expired),
      sizeBytes: Number(size.rows[0]?.bytes ?? 0),
      hits,
      misses,
      hitRate: hits + misses === 0 ? null : hits / (hits + misses),
      spendSavedUsd: Number(counters.saved),
    };
  }

  async purgeExpired(now: Date): Promise<number> {
    const result = await this.guarded("delete", () => this.db.deleteFrom("cache_entries").where("expires_at", "<=", now).executeTakeFirst());
    return Number(result.numDeletedRows);
  }

  /** Deletes every entry. The hit/miss counters are history, not entries, and are kept. */
  async clear(): Promise<number> {
    const result = await this.guarded("delete", () => this.db.deleteFrom("cache_entries").executeTakeFirst());
    return Number(result.numDeletedRows);
  }

  /** Releases the claims it holds, closes the LISTEN connection and the pool. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.claims.releaseAll();
    await this.events.close();
    await this.db.destroy().catch((error: unknown) => this.options.log.debug(`closing the cache's pool: ${(error as Error).message}`));
  }

  /** A cached entry that is fresh at `now` and intact, or null. Bad rows are dropped with a warning. */
  private async read(key: ChainCacheKey, now: Date): Promise<ChainCacheEntry | null> {
    this.assertOpen("read");
    const row: EntryRow | undefined = await this.guarded("read", () =>
      this.db
        .selectFrom("cache_entries")
        .select(["chain_json", "chain_sha256", "raw", "raw_encoding", "raw_sha256", "fetched_at", "expires_at", "cost_usd", "written_at"])
        .where("source", "=", key.source)
        .where("request_hash", "=", key.requestHash)
        .where("expires_at", ">", now)
        .where("entry_bytes", "<=", String(this.options.maxEntryBytes))
        .executeTakeFirst(),
    );
    if (!row) return null;
    const label = `the cached chain for ${key.source} (${key.requestHash.slice(0, 12)}…) in ${this.location}`;
    const mismatch = checksumMismatch(row.chain_json, row.chain_sha256, row.raw, row.raw_sha256);
    if (mismatch) {
      this.options.log.warn(`${label} fails its checksum (${mismatch}): it changed after it was written; dropping it`);
      await this.drop(key, row);
      return null;
    }
    try {
      return {
        chain: JSON.parse(row.chain_json) as OptionsChain,
        fetchedAt: row.fetched_at.toISOString(),
        expiresAt: row.expires_at.toISOString(),
        costUsd: row.cost_usd,
        raw: row.raw && row.raw_encoding ? decompressRaw(row.raw, row.raw_encoding) : null,
      };
    } catch (error) {
      this.options.log.warn(`${label} cannot be decoded (${(error as Error).message}); dropping it`);
      await this.drop(key, row);
      return null;
    }
  }

  private async served(key: ChainCacheKey, entry: ChainCacheEntry): Promise<FetchClaim> {
    await this.count(key.source, "hit", entry.costUsd);
    return { kind: "entry", entry };
  }

  private toRow(key: ChainCacheKey, entry: ChainCacheWrite): Insertable<CacheEntryTable> | null {
    const { chain } = entry;
    if (!chain.metadata.complete) {
      throw new Error(`refusing to cache a partial chain from ${key.source}: only complete chains may be served as fresh`);
    }
    if (!(entry.fetchedAt instanceof Date) || Number.isNaN(entry.fetchedAt.getTime())) {
      throw new TypeError(`cannot cache ${key.source}'s chain: fetchedAt must be a valid Date, got ${String(entry.fetchedAt)}`);
    }
    if (!Number.isFinite(entry.costUsd) || entry.costUsd < 0) {
      throw new TypeError(`cannot cache ${key.source}'s chain: costUsd must be a non-negative number, got ${String(entry.costUsd)}`);
    }
    const { ttlCapMs } = entry;
    if (ttlCapMs !== undefined && (typeof ttlCapMs !== "number" || Number.isNaN(ttlCapMs) || ttlCapMs < 0)) {
      throw new TypeError(`cannot cache ${key.source}'s chain: ttlCapMs must be a non-negative number of milliseconds, got ${String(ttlCapMs)}`);
    }
    const max = this.options.maxEntryBytes;
    const raw = this.options.storeRaw && entry.raw != null ? compressRaw(entry.raw) : null;
    const rawBytes = raw?.bytes.byteLength ?? 0;
    const json = JSON.stringify(chain);
    const jsonBytes = Buffer.byteLength(json, "utf8");
    if (jsonBytes + rawBytes > max) {
      this.options.log.warn(
        `${key.source}'s chain (${chain.contracts.length} contracts, ${formatBytes(jsonBytes + rawBytes)}${raw ? ` of which ${formatBytes(rawBytes)} compressed raw payload` : ""}) was not cached: ` +
          `it is larger than max_entry_bytes (${formatBytes(max)}). This run uses the chain as loaded; raise the cache's max_entry_bytes to cache chains this large`,
      );
      return null;
    }
    const policyExpiry = this.options.ttl.expiresAt(key.source, entry.fetchedAt).getTime();
    const expiresAt = typeof ttlCapMs === "number" ? Math.min(policyExpiry, entry.fetchedAt.getTime() + ttlCapMs) : policyExpiry;
    return {
      source: key.source,
      request_hash: key.requestHash,
      request_json: canonicalRequest(key.request),
      chain_json: json,
      chain_sha256: sha256Hex(Buffer.from(json, "utf8")),
      raw: raw?.bytes ?? null,
      raw_encoding: raw?.encoding ?? null,
      raw_sha256: raw ? sha256Hex(raw.bytes) : null,
      entry_bytes: jsonBytes + rawBytes,
      fetched_at: entry.fetchedAt,
      expires_at: new Date(expiresAt),
      cost_usd: entry.costUsd,
      product: chain.metadata.product,
      as_of: chain.metadata.asOf,
      delayed: chain.metadata.delayed,
      sample: chain.metadata.sample,
      contracts: chain.contracts.length,
      written_at: this.options.now(),
    };
  }

  /** Deletes a row found bad — only the one that was read: another process may have written a good one since. */
  private async drop(key: ChainCacheKey, read: EntryRow): Promise<void> {
    try {
      await this.guarded("delete", () =>
        this.db
          .deleteFrom("cache_entries")
          .where("source", "=", key.source)
          .where("request_hash", "=", key.requestHash)
          .where("written_at", "=", read.written_at)
          .where("chain_sha256", "=", read.chain_sha256)
          .execute(),
      );
    } catch (error) {
      this.options.log.warn(`could not drop the bad cache entry for ${key.source}: ${(error as Error).message}`);
    }
  }

  /** Counting is bookkeeping: when it fails, the lookup still answers. */
  private async count(source: string, outcome: "hit" | "miss", savedUsd: number): Promise<void> {
    const hit = outcome === "hit" ? 1 : 0;
    try {
      await this.db
        .insertInto("cache_counters")
        .values({ source, hits: hit, misses: 1 - hit, spend_saved_usd: savedUsd })
        .onConflict((conflict) =>
          conflict.column("source").doUpdateSet({
            hits: sql`cache_counters.hits + ${hit}`,
            misses: sql`cache_counters.misses + ${1 - hit}`,
            spend_saved_usd: sql`cache_counters.spend_saved_usd + ${savedUsd}`,
          }),
        )
        .execute();
    } catch (error) {
      this.options.log.warn(`could not count a cache ${outcome} for ${source} in ${this.location}: ${classify(error, this.options.secrets).problem}`);
    }
  }

  private assertOpen(operation: string): void {
    if (this.closed) {
      throw new StoreOperationError(operation, this.location, "the cache is closed", { reason: "closed", fix: "open the cache again" });
    }
  }

  private async guarded<T>(operation: string, run: () => Promise<T>): Promise<T> {
    this.assertOpen(operation);
    try {
      return await run();
    } catch (error) {
      if (error instanceof StoreOperationError) throw error;
      const { reason, problem, fix } = classify(error, this.options.secrets);
      throw new StoreOperationError(operation, this.location, problem, { reason, fix: `${fix}; the run goes on without the cache`, cause: error });
    }
  }
}
