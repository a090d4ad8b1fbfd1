/**
 * The store: one row per (source, request hash), written in one IMMEDIATE transaction so that a reader —
 * this process or another — sees either the whole previous entry or the whole new one, never a half.
 * `get` serves only entries whose expiry is after the caller's `now`, and counts hits and misses (with
 * the spend a hit saved) in the same file, so `stats` covers every run that used it.
 */
import { statSync } from "node:fs";
import { type Kysely, sql } from "kysely";
import {
  canonicalRequest,
  type CacheStats,
  type ChainCacheEntry,
  type ChainCacheKey,
  type ChainCacheWrite,
  type Logger,
  type ManagedChainCache,
  type OptionsChain,
} from "@nq/core";
import type { CacheDatabase, CacheEntryTable } from "./database-schema.js";
import {
  isUnreadableDatabaseError,
  openCacheDatabase,
  setAsideUnreadableDatabase,
  type DatabaseFileOptions,
  type OpenCacheDatabase,
} from "./database-file.js";
import type { NativeSqliteDatabase } from "./native-driver.js";
import { compressRaw, decompressRaw } from "./raw-payload.js";
import type { TtlPolicy } from "./ttl-policy.js";

export interface SqliteChainCacheOptions extends DatabaseFileOptions {
  ttl: TtlPolicy;
  storeRaw: boolean;
  /**
   * Runs inside the write transaction, after the entry is written and before COMMIT. For crash tests,
   * which kill the process here to prove an uncommitted entry never appears.
   */
  beforeCommit?: (key: ChainCacheKey) => Promise<void> | void;
}

export class SqliteChainCache implements ManagedChainCache {
  private db: Kysely<CacheDatabase>;
  private native: NativeSqliteDatabase;
  private fileIdentity: number | null;
  private closed = false;

  private constructor(
    private readonly options: SqliteChainCacheOptions,
    opened: OpenCacheDatabase,
  ) {
    this.db = opened.db;
    this.native = opened.native;
    this.fileIdentity = opened.fileIdentity;
  }

  static async open(options: SqliteChainCacheOptions): Promise<SqliteChainCache> {
    return new SqliteChainCache(options, await openCacheDatabase(options));
  }

  /** The absolute path of the database file. */
  get location(): string {
    return this.file;
  }

  get file(): string {
    return this.options.file;
  }

  private get log(): Logger {
    return this.options.log;
  }

  async get(key: ChainCacheKey, now: Date): Promise<ChainCacheEntry | null> {
    // Expiry is checked in the query, so an expired chain is never even read.
    const row = await this.guarded("read", () =>
      this.db
        .selectFrom("cache_entries")
        .select(["chain_json", "raw", "raw_encoding", "fetched_at", "expires_at", "cost_usd", "written_at"])
        .where("source", "=", key.source)
        .where("request_hash", "=", key.requestHash)
        .where("expires_at", ">", now.toISOString())
        .executeTakeFirst(),
    );
    if (!row) {
      await this.count(key.source, "miss", 0);
      return null;
    }
    let entry: ChainCacheEntry;
    try {
      entry = {
        chain: JSON.parse(row.chain_json) as OptionsChain,
        fetchedAt: row.fetched_at,
        expiresAt: row.expires_at,
        costUsd: row.cost_usd,
        raw: row.raw && row.raw_encoding ? decompressRaw(row.raw, row.raw_encoding) : null,
      };
    } catch (error) {
      // SQLite vouches for its pages, not for what we wrote in them; a damaged entry is a miss, and goes.
      this.log.warn(`the cached chain for ${key.source} (${key.requestHash.slice(0, 12)}…) cannot be decoded (${(error as Error).message}); dropping it`);
      await this.guarded("delete", () =>
        this.db
          .deleteFrom("cache_entries")
          .where("source", "=", key.source)
          .where("request_hash", "=", key.requestHash)
          // Only the entry that was read: another process may have written a good one since.
          .where("written_at", "=", row.written_at)
          .execute(),
      );
      await this.count(key.source, "miss", 0);
      return null;
    }
    await this.count(key.source, "hit", entry.costUsd);
    return entry;
  }

  async set(key: ChainCacheKey, entry: ChainCacheWrite): Promise<void> {
    const row = this.toRow(key, entry);
    await this.guarded("write", () =>
      this.db.connection().execute(async (connection) => {
        // IMMEDIATE takes the write lock up front, so a second writer waits on the busy timeout instead of
        // failing at its first write with a lock it cannot upgrade.
        await sql`begin immediate`.execute(connection);
        try {
          const { source: _source, request_hash: _hash, ...update } = row;
          await connection
            .insertInto("cache_entries")
            .values(row)
            .onConflict((conflict) => conflict.columns(["source", "request_hash"]).doUpdateSet(update))
            .execute();
          await this.options.beforeCommit?.(key);
          await sql`commit`.execute(connection);
        } catch (error) {
          await sql`rollback`.execute(connection).catch(() => {});
          throw error;
        }
      }),
    );
  }

  async stats(now: Date): Promise<CacheStats> {
    const nowIso = now.toISOString();
    const entries = await this.guarded("read", () =>
      this.db
        .selectFrom("cache_entries")
        .select((eb) => [eb.fn.countAll<number>().as("entries"), sql<number>`coalesce(sum(expires_at <= ${nowIso}), 0)`.as("expired")])
        .executeTakeFirstOrThrow(),
    );
    const counters = await this.guarded("read", () =>
      this.db
        .selectFrom("cache_counters")
        .select([
          sql<number>`coalesce(sum(hits), 0)`.as("hits"),
          sql<number>`coalesce(sum(misses), 0)`.as("misses"),
          sql<number>`coalesce(sum(spend_saved_usd), 0)`.as("saved"),
        ])
        .executeTakeFirstOrThrow(),
    );
    const lookups = counters.hits + counters.misses;
    return {
      location: this.file,
      entries: Number(entries.entries),
      expiredEntries: Number(entries.expired),
      sizeBytes: fileSize(this.file) + fileSize(`${this.file}-wal`),
      hits: Number(counters.hits),
      misses: Number(counters.misses),
      hitRate: lookups === 0 ? null : counters.hits / lookups,
      spendSavedUsd: Number(counters.saved),
    };
  }

  async purgeExpired(now: Date): Promise<number> {
    const result = await this.guarded("delete", () =>
      this.db.deleteFrom("cache_entries").where("expires_at", "<=", now.toISOString()).executeTakeFirst(),
    );
    await this.giveSpaceBack();
    return Number(result.numDeletedRows);
  }

  /** Deletes every entry. The hit/miss counters are history, not entries, and are kept. */
  async clear(): Promise<number> {
    const result = await this.guarded("delete", () => this.db.deleteFrom("cache_entries").executeTakeFirst());
    await this.giveSpaceBack();
    return Number(result.numDeletedRows);
  }

  /** SQLite's own consistency check of the whole file; an empty list means it is sound. */
  async integrityCheck(): Promise<string[]> {
    if (this.closed) throw new Error(`cannot check the cache ${this.file}: it is closed`);
    // Not guarded: a check must report damage, not repair it out of sight.
    const result = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(this.db);
    const lines = result.rows.map((row) => row.integrity_check);
    return lines.length === 1 && lines[0] === "ok" ? [] : lines;
  }

  /** Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }

  private toRow(key: ChainCacheKey, entry: ChainCacheWrite): CacheEntryTable {
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
    const raw = this.options.storeRaw && entry.raw != null ? compressRaw(entry.raw) : null;
    return {
      source: key.source,
      request_hash: key.requestHash,
      request_json: canonicalRequest(key.request),
      chain_json: JSON.stringify(chain),
      raw: raw?.bytes ?? null,
      raw_encoding: raw?.encoding ?? null,
      fetched_at: entry.fetchedAt.toISOString(),
      expires_at: this.options.ttl.expiresAt(key.source, entry.fetchedAt).toISOString(),
      cost_usd: entry.costUsd,
      product: chain.metadata.product,
      as_of: chain.metadata.asOf,
      delayed: chain.metadata.delayed ? 1 : 0,
      sample: chain.metadata.sample ? 1 : 0,
      contracts: chain.contracts.length,
      written_at: this.options.now().toISOString(),
    };
  }

  /**
   * Returns freed pages to the file system and folds the WAL into the file. Best effort: another process
   * reading at the same moment only means the WAL is truncated later.
   */
  private async giveSpaceBack(): Promise<void> {
    try {
      if (!this.native.exec) return;
      // Through the connection kysely serializes, so no query of ours is in flight meanwhile.
      await this.db.connection().execute(async () => {
        this.native.exec!("pragma incremental_vacuum");
        this.native.exec!("pragma wal_checkpoint(TRUNCATE)");
      });
    } catch (error) {
      this.log.debug(`could not shrink the cache file: ${(error as Error).message}`);
    }
  }

  /** Counting is bookkeeping: when it fails (a long lock held elsewhere), the lookup still answers. */
  private async count(source: string, outcome: "hit" | "miss", savedUsd: number): Promise<void> {
    const hit = outcome === "hit" ? 1 : 0;
    try {
      await this.db
        .insertInto("cache_counters")
        .values({ source, hits: hit, misses: 1 - hit, spend_saved_usd: savedUsd })
        .onConflict((conflict) =>
          conflict.column("source").doUpdateSet({
            hits: sql`hits + ${hit}`,
            misses: sql`misses + ${1 - hit}`,
            spend_saved_usd: sql`spend_saved_usd + ${savedUsd}`,
          }),
        )
        .execute();
    } catch (error) {
      this.log.warn(`could not count a cache ${outcome} for ${source}: ${(error as Error).message}`);
    }
  }

  /**
   * Runs one operation; when SQLite finds the file damaged, sets it aside, opens a fresh one and runs the
   * operation again there (a read then simply misses).
   */
  private async guarded<T>(what: string, operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`cannot ${what} the cache ${this.file}: it is closed`);
    try {
      return await operation();
    } catch (error) {
      if (!isUnreadableDatabaseError(error)) throw error;
      // Renamed before closing, so the WAL SQLite drops on close stays with the file kept for a post-mortem.
      setAsideUnreadableDatabase(this.options, error, this.fileIdentity);
      await this.db.destroy().catch(() => {});
      ({ db: this.db, native: this.native, fileIdentity: this.fileIdentity } = await openCacheDatabase(this.options));
      return await operation();
    }
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
