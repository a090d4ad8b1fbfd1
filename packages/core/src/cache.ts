/**
 * The cache contract. The registry consults it around every source, so no source knows it exists; any
 * store can implement it (SQLite in @nq/cache-sqlite, a shared Postgres later). The store owns expiry:
 * `set` computes expires-at from its TTL policy, and `get` never returns an expired entry.
 */
import { createHash } from "node:crypto";
import type { OptionsChain } from "./contract.js";
import { canonicalRequest, type ChainRequest } from "./request.js";
import { isSecretFieldName } from "./secrets.js";

export interface ChainCacheKey {
  source: string;
  /**
   * sha256 of the canonical request and of the source's data identity (its data-affecting config, see
   * `SourceDefinition.cacheIdentity`): another dataset, endpoint or schema set is another entry.
   */
  requestHash: string;
  request: ChainRequest;
}

export interface ChainCacheEntry {
  chain: OptionsChain;
  fetchedAt: string;
  expiresAt: string;
  /** What the source spent to produce this chain: what a hit saves. */
  costUsd: number;
  raw: Uint8Array | string | null;
}

export interface ChainCacheWrite {
  chain: OptionsChain;
  fetchedAt: Date;
  costUsd: number;
  raw?: Uint8Array | string | null;
  /** Keep the entry at most this long, whatever the store's TTL policy says (data flagged as degraded). */
  ttlCapMs?: number;
}

export interface ChainCache {
  get(key: ChainCacheKey, now: Date): Promise<ChainCacheEntry | null>;
  set(key: ChainCacheKey, entry: ChainCacheWrite): Promise<void>;
  close(): Promise<void>;
  /**
   * Single flight across every process sharing the store: after a miss, the registry claims the key.
   * One claimant gets `{ kind: "fetch" }` and loads from the source (then `set`s and `release`s); the
   * others wait until its entry appears and get `{ kind: "entry" }`. A claimant that dies stops renewing
   * its lease, the lease expires after `leaseMs`, and a waiter takes over. A store without it (a
   * single-process cache) leaves the registry to fetch directly.
   */
  claimFetch?(key: ChainCacheKey, options: FetchClaimOptions): Promise<FetchClaim>;
}

export interface FetchClaimOptions {
  now(): Date;
  /** How long a claim holds without renewal; the holder renews it while it loads. */
  leaseMs: number;
  /** How long a waiter waits for another claimant's entry before it gives up and fetches itself. */
  waitMs: number;
  signal?: AbortSignal;
}

export type FetchClaim =
  /** This process fetches; `release` (always called, also after a failure) lets a waiter take over at once. */
  | { kind: "fetch"; release(): Promise<void> }
  /** Another process fetched while this one waited. */
  | { kind: "entry"; entry: ChainCacheEntry }
  /** Waited `waitMs` without an entry or the lease: the caller decides (the registry fetches and says so). */
  | { kind: "timeout" };

export function cacheKeyFor(source: string, request: ChainRequest, identity: unknown = null): ChainCacheKey {
  const hash = createHash("sha256").update(canonicalRequest(request));
  // Without an identity the hash is the request's alone, as it always was.
  if (identity !== null && identity !== undefined) hash.update("\0").update(stableJson(identity));
  return { source, requestHash: hash.digest("hex"), request };
}

/**
 * What identifies a source's data for the cache: its own `cacheIdentity(config)`, else its whole config
 * without secret-named fields (an API key changes who pays, not what the data is, and must never be
 * hashed into something that is stored).
 */
export function sourceCacheIdentity<C>(definition: { cacheIdentity?(config: C): unknown }, config: C): unknown {
  if (definition.cacheIdentity) return definition.cacheIdentity(config);
  return withoutSecrets(config);
}

function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !isSecretFieldName(key)).map(([key, v]) => [key, withoutSecrets(v)]));
}

/** JSON with object keys sorted at every level, so equal configs hash equally. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** What a cache plugin's store offers beyond reads and writes: the runner's `cache` commands use it. */
export interface ManagedChainCache extends ChainCache {
  /** Where the entries live (a file path, a connection name), for the summary. */
  readonly location: string;
  stats(now: Date): Promise<CacheStats>;
  /** Deletes expired entries; returns how many. */
  purgeExpired(now: Date): Promise<number>;
  /** Deletes every entry; returns how many. */
  clear(): Promise<number>;
}

export interface CacheStats {
  location: string;
  entries: number;
  expiredEntries: number;
  sizeBytes: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses); null before any lookup. */
  hitRate: number | null;
  /** The sum of the costs of the entries served from cache. */
  spendSavedUsd: number;
}

export interface CacheContext {
  log: import("./logger.js").Logger;
  /** Relative paths in the cache config resolve against this folder (the profile's). */
  baseDir: string;
  now(): Date;
}

/** A cache plugin, named in a profile's `cache.plugin` and shape-checked like a source. */
export interface CacheDefinition<Config = unknown> {
  name: string;
  configSchema: import("zod").ZodType<Config>;
  create(config: Config, context: CacheContext): ManagedChainCache | Promise<ManagedChainCache>;
}

export function defineCache<Config>(definition: CacheDefinition<Config>): CacheDefinition<Config> {
  return definition;
}
