/**
 * The store: one row per (source, request hash), written in one IMMEDIATE transaction so that a reader —
 * this process or another — sees either the whole previous entry or the whole new one, never a half.
 * `get` serves only entries whose expiry is after the caller's `now` and whose bytes still match the
 * sha256 written with them, and counts hits and misses (with the spend a hit saved) in the same file, so
 * `stats` covers every run that used it. `set` caches nothing larger than `max_entry_bytes` (it says so
 * and resolves), and every failure of an open cache is a one-line `CacheOperationError`.
 */
import { statSync } from "node:fs";
import { type Kysely, sql } from "kysely";
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
import { inProcessWriteTurn } from "@nq/history";
import type { CacheDatabase, CacheEntryTable } from "./database-schema.js";
import { cannotSetAsideError, openCacheDatabase, setAsideDamagedDatabase, unavailable, type DatabaseFileOptions, type OpenCacheDatabase } from "./database-file.js";
import { diagnose, isDamagedDatabaseError } from "./diagnose.js";
import { serializeChainWithin } from "./entry-bytes.js";
import { immediateTransaction, SqliteFetchClaims } from "./fetch-claims.js";
import { CacheOperationError, CacheUnavailableError, describeError, type CacheOperation } from "./errors.js";
import type { NativeSqliteDatabase } from "./native-driver.js";

export interface SqliteChainCacheOptions extends DatabaseFileOptions {
  ttl: TtlPolicy;
  storeRaw: boolean;
  /** Entries larger than this (chain JSON plus compressed raw, bytes) are neither cached nor served. */
  maxEntryBytes: number;
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
  /** Read-only mode: the file's schema is older than this version's (its entries are not served). */
  private outdated: boolean;
  private closed = false;
  /** Set when the file was set aside and a fresh one could not be opened: every later call says why. */
  private broken: CacheUnavailableError | null = null;
  /** Single flight for the processes sharing this file (./fetch-claims.ts). */
  private readonly claims: SqliteFetchClaims;

  private constructor(
    private readonly options: SqliteChainCacheOptions,
    opened: OpenCacheDatabase,
  ) {
    this.db = opened.db;
    this.native = opened.native;
    this.fileIdentity = opened.fileIdentity;
    this.outdated = opened.outdated;
    this.claims = new SqliteFetchClaims({
      transact: (work) => this.guarded("write", () => inProcessWriteTurn(this.file, () => immediateTransaction(this.db, this.native, work))),
      get: (key, now) => this.get(key, now),
      maxEntryBytes: options.maxEntryBytes,
      log: options.log,
    });
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

  private get readOnly(): boolean {
    return this.options.readOnly === true;
  }

  async get(key: ChainCacheKey, now: Date): Promise<ChainCacheEntry | null> {
    if (this.outdated) {
      this.log.debug(`the cache ${this.file} has an older schema and was opened read-only: its entries are not served`);
      return null;
    }
    // Expiry and size are checked in the query, so an expired or oversized chain is never even read. The
    // chain is read as the bytes SQLite stores, which are what the checksum covers.
    const row = await this.guarded("read", () =>
      this.db
        .selectFrom("cache_entries")
        .select([
          sql<Uint8Array>`cast(chain_json as blob)`.as("chain_bytes"),
          "chain_sha256",
          "raw",
          "raw_encoding",
          "raw_sha256",
          "fetched_at",
          "expires_at",
          "cost_usd",
          "written_at",
        ])
        .where("source", "=", key.source)
        .where("request_hash", "=", key.requestHash)
        .where("expires_at", ">", now.toISOString())
        .where("entry_bytes", "<=", this.options.maxEntryBytes)
        .executeTakeFirst(),
    );
    if (!row) {
      await this.count(key.source, "miss", 0);
      return null;
    }
    const label = `the cached chain for ${key.source} (${key.requestHash.slice(0, 12)}…)`;
    const chainBytes = asBuffer(row.chain_bytes);
    const mismatch = checksumMismatch(chainBytes, row.chain_sha256, row.raw, row.raw_sha256);
    if (mismatch) {
      // SQLite vouches for its pages, not for what is in them: bytes that changed after they were written
      // (a flipped bit, a hand edit) are a miss, never a hit.
      this.log.warn(`${label} fails its checksum (${mismatch}): it changed after it was written; ${this.readOnly ? "not serving it" : "dropping it"}`);
      await this.drop(key, row);
      await this.count(key.source, "miss", 0);
      return null;
    }
    let entry: ChainCacheEntry;
    try {
      entry = {
        chain: JSON.parse(chainBytes.toString("utf8")) as OptionsChain,
        fetchedAt: row.fetched_at,
        expiresAt: row.expires_at,
        costUsd: row.cost_usd,
        raw: row.raw && row.raw_encoding ? decompressRaw(row.raw, row.raw_encoding) : null,
      };
    } catch (error) {
      this.log.warn(`${label} cannot be decoded (${(error as Error).message}); ${this.readOnly ? "not serving it" : "dropping it"}`);
      await this.drop(key, row);
      await this.count(key.source, "miss", 0);
      return null;
    }
    await this.count(key.source, "hit", entry.costUsd);
    return entry;
  }

  async set(key: ChainCacheKey, entry: ChainCacheWrite): Promise<void> {
    if (this.readOnly) throw this.readOnlyError("write");
    const row = this.toRow(key, entry);
    if (!row) return;
    // Writers of this file in this process take turns (see inProcessWriteTurn): better-sqlite3 waits for a
    // lock synchronously, so a second handle would otherwise block the thread this transaction needs.
    await this.guarded("write", () =>
      inProcessWriteTurn(this.file, () => this.db.connection().execute(async (connection) => {
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
      })),
    );
  }

  /**
   * After a miss: one of the processes sharing this file loads the chain, the others wait for its entry
   * (./fetch-claims.ts). A read-only or outdated file cannot hold claims, so its caller simply loads.
   */
  async claimFetch(key: ChainCacheKey, options: FetchClaimOptions): Promise<FetchClaim> {
    if (this.readOnly || this.outdated) return { kind: "fetch", release: async () => {} };
    return this.claims.claim(key, options);
  }

  async stats(now: Date): Promise<CacheStats> {
    const nowIso = now.toISOString();
    // Inspection: never repairs, only reports (a damaged file fails here with what to do).
    const entries = await this.guarded("read the statistics of", () =>
      this.db
        .selectFrom("cache_entries")
        .select((eb) => [eb.fn.countAll<number>().as("entries"), sql<number>`coalesce(sum(expires_at <= ${nowIso}), 0)`.as("expired")])
        .executeTakeFirstOrThrow(),
      { repair: false },
    );
    const counters = await this.guarded("read the statistics of", () =>
      this.db
        .selectFrom("cache_counters")
        .select([
          sql<number>`coalesce(sum(hits), 0)`.as("hits"),
          sql<number>`coalesce(sum(misses), 0)`.as("misses"),
          sql<number>`coalesce(sum(spend_saved_usd), 0)`.as("saved"),
        ])
        .executeTakeFirstOrThrow(),
      { repair: false },
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
    if (this.readOnly) throw this.readOnlyError("delete");
    const result = await this.guarded("delete", () =>
      inProcessWriteTurn(this.file, () => this.db.deleteFrom("cache_entries").where("expires_at", "<=", now.toISOString()).executeTakeFirst()),
    );
    await this.giveSpaceBack();
    return Number(result.numDeletedRows);
  }

  /** Deletes every entry. The hit/miss counters are history, not entries, and are kept. */
  async clear(): Promise<number> {
    if (this.readOnly) throw this.readOnlyError("delete");
    const result = await this.guarded("delete", () => inProcessWriteTurn(this.file, () => this.db.deleteFrom("cache_entries").executeTakeFirst()));
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
    // Before closing, so the rows are deleted while the connection is still open.
    await this.claims.releaseAll().catch((error: unknown) => this.log.warn(`could not release this process's fetch claims in ${this.file}: ${describeError(error)}`));
    this.closed = true;
    await this.db.destroy();
  }

  /** The row to store, or null (with a warning) when the entry is larger than `max_entry_bytes`. */
  private toRow(key: ChainCacheKey, entry: ChainCacheWrite): CacheEntryTable | null {
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
    // Read as an optional field whatever @nq/core's type says, so an older core still works.
    const ttlCapMs = (entry as ChainCacheWrite & { ttlCapMs?: unknown }).ttlCapMs;
    if (ttlCapMs !== undefined && ttlCapMs !== null && (typeof ttlCapMs !== "number" || Number.isNaN(ttlCapMs) || ttlCapMs < 0)) {
      throw new TypeError(`cannot cache ${key.source}'s chain: ttlCapMs must be a non-negative number of milliseconds, got ${String(ttlCapMs)}`);
    }
    const max = this.options.maxEntryBytes;
    const raw = this.options.storeRaw && entry.raw != null ? compressRaw(entry.raw) : null;
    const rawBytes = raw?.bytes.byteLength ?? 0;
    const serialized = serializeChainWithin(chain, max - rawBytes);
    if (!serialized.fits) {
      const measured = serialized.measuredBytes + rawBytes;
      this.log.warn(
        `${key.source}'s chain (${chain.contracts.length} contracts) was not cached: it is larger than max_entry_bytes (${formatBytes(max)}; ` +
          `measured over ${formatBytes(measured)} before stopping${raw ? `, of which ${formatBytes(rawBytes)} compressed raw payload` : ""}). ` +
          `This run uses the chain as loaded; the next run loads it from the source again. Raise the cache's max_entry_bytes to cache chains this large`,
        { source: key.source, contracts: chain.contracts.length, maxEntryBytes: max, measuredBytes: measured },
      );
      return null;
    }
    const policyExpiry = this.options.ttl.expiresAt(key.source, entry.fetchedAt).getTime();
    const expiresAt = typeof ttlCapMs === "number" ? Math.min(policyExpiry, entry.fetchedAt.getTime() + ttlCapMs) : policyExpiry;
    return {
      source: key.source,
      request_hash: key.requestHash,
      request_json: canonicalRequest(key.request),
      chain_json: serialized.json,
      chain_sha256: sha256Hex(Buffer.from(serialized.json, "utf8")),
      raw: raw?.bytes ?? null,
      raw_encoding: raw?.encoding ?? null,
      raw_sha256: raw ? sha256Hex(raw.bytes) : null,
      entry_bytes: serialized.bytes + rawBytes,
      fetched_at: entry.fetchedAt.toISOString(),
      expires_at: new Date(expiresAt).toISOString(),
      cost_usd: entry.costUsd,
      product: chain.metadata.product,
      as_of: chain.metadata.asOf,
      delayed: chain.metadata.delayed ? 1 : 0,
      sample: chain.metadata.sample ? 1 : 0,
      contracts: chain.contracts.length,
      written_at: this.options.now().toISOString(),
    };
  }

  /** Deletes an entry found bad — only the one that was read: another process may have written a good one since. */
  private async drop(key: ChainCacheKey, read: { written_at: string; chain_sha256: string }): Promise<void> {
    if (this.readOnly) return;
    try {
      await this.guarded("delete", () =>
        inProcessWriteTurn(this.file, () =>
          this.db
            .deleteFrom("cache_entries")
            .where("source", "=", key.source)
            .where("request_hash", "=", key.requestHash)
            .where("written_at", "=", read.written_at)
            .where("chain_sha256", "=", read.chain_sha256)
            .execute(),
        ),
      );
    } catch (error) {
      this.log.warn(`could not drop the bad cache entry for ${key.source}: ${(error as Error).message}`);
    }
  }

  private readOnlyError(operation: CacheOperation): CacheOperationError {
    return new CacheOperationError(operation, `${this.file} was opened read-only (read_only: true)`, {
      file: this.file,
      reason: "opened-read-only",
      fix: "open it without read_only to change it",
      noCacheHint: false,
    });
  }

  /**
   * Returns freed pages to the file system and folds the WAL into the file. Best effort: another process
   * reading at the same moment only means the WAL is truncated later.
   */
  private async giveSpaceBack(): Promise<void> {
    try {
      if (!this.native.exec) return;
      // Through the connection kysely serializes, so no query of ours is in flight meanwhile.
      await inProcessWriteTurn(this.file, () => this.db.connection().execute(async () => {
        this.native.exec!("pragma incremental_vacuum");
        this.native.exec!("pragma wal_checkpoint(TRUNCATE)");
      }));
    } catch (error) {
      this.log.debug(`could not shrink the cache file: ${(error as Error).message}`);
    }
  }

  /** Counting is bookkeeping: when it fails (a long lock held elsewhere, a full disk), the lookup still answers. */
  private async count(source: string, outcome: "hit" | "miss", savedUsd: number): Promise<void> {
    if (this.readOnly) return;
    const hit = outcome === "hit" ? 1 : 0;
    try {
      await inProcessWriteTurn(this.file, () =>
        this.db
          .insertInto("cache_counters")
          .values({ source, hits: hit, misses: 1 - hit, spend_saved_usd: savedUsd })
          .onConflict((conflict) =>
            conflict.column("source").doUpdateSet({
              hits: sql`hits + ${hit}`,
              misses: sql`misses + ${1 - hit}`,
              spend_saved_usd: sql`spend_saved_usd + ${savedUsd}`,
            }),
          )
          .execute(),
      );
    } catch (error) {
      this.log.warn(`could not count a cache ${outcome} for ${source} in ${this.file}: ${describeError(error)}`);
    }
  }

  /**
   * Runs one operation. Any failure becomes a one-line `CacheOperationError`. When SQLite finds the file
   * damaged (and `repair` is on: not for inspection, not read-only), the file is set aside — unless
   * another process has it open — a fresh one is opened, and the operation runs again there (a read then
   * simply misses).
   */
  private async guarded<T>(operation: CacheOperation, run: () => Promise<T>, { repair = !this.readOnly }: { repair?: boolean } = {}): Promise<T> {
    if (this.closed) throw new CacheOperationError(operation, `${this.file} is closed`, { file: this.file, reason: "closed", fix: "open the cache again", noCacheHint: false });
    if (this.broken) throw this.operationError(operation, this.broken);
    try {
      return await run();
    } catch (error) {
      if (!repair || !isDamagedDatabaseError(error)) throw this.operationError(operation, error);
      let outcome: ReturnType<typeof setAsideDamagedDatabase>;
      try {
        // Renamed before closing, so the WAL SQLite drops on close stays with the file kept for a post-mortem.
        outcome = setAsideDamagedDatabase(this.options, error, this.fileIdentity);
      } catch (renameError) {
        throw this.operationError(operation, cannotSetAsideError(this.options, error, renameError));
      }
      if (outcome.kind === "in-use") {
        throw new CacheOperationError(
          operation,
          `SQLite reports ${this.file} damaged (${describeError(error)}), but ${outcome.why}, so it was left in place`,
          { file: this.file, reason: "damaged-in-use", fix: "try again once the other run has finished", cause: error },
        );
      }
      await this.db.destroy().catch(() => {});
      try {
        ({ db: this.db, native: this.native, fileIdentity: this.fileIdentity, outdated: this.outdated } = await openCacheDatabase(this.options));
      } catch (reopenError) {
        this.broken = unavailable(this.options, reopenError);
        throw this.operationError(operation, reopenError);
      }
      try {
        return await run();
      } catch (again) {
        throw this.operationError(operation, again);
      }
    }
  }

  private operationError(operation: CacheOperation, error: unknown): CacheOperationError {
    if (error instanceof CacheOperationError) return error;
    if (error instanceof CacheUnavailableError) {
      return new CacheOperationError(operation, error.problem, { file: this.file, reason: error.reason, fix: error.fix, cause: error });
    }
    const { reason, problem, fix } = diagnose(this.file, error, this.options);
    return new CacheOperationError(operation, problem, { file: this.file, reason, fix, cause: error });
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Why the stored bytes do not match their checksums, or null when they do. */
function checksumMismatch(chain: Buffer, chainSha256: string, raw: Uint8Array | null, rawSha256: string | null): string | null {
  const actual = sha256Hex(chain);
  if (actual !== chainSha256) return `chain sha256 ${actual.slice(0, 12)}…, stored ${String(chainSha256).slice(0, 12)}…`;
  if ((raw === null) !== (rawSha256 === null)) return raw === null ? "its raw payload is missing" : "its raw payload has no checksum";
  if (raw !== null && sha256Hex(raw) !== rawSha256) return "raw payload sha256 differs from the stored one";
  return null;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
