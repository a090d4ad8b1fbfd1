/** The tables as kysely sees them; created and upgraded by ./migrations.ts. */
import type { Generated } from "kysely";

export interface CacheEntryTable {
  source: string;
  /** sha256 of core's canonical request. */
  request_hash: string;
  /** The canonical request itself, so a person can tell entries apart. */
  request_json: string;
  /** The normalized chain, exactly as `JSON.stringify` wrote it. */
  chain_json: string;
  /** sha256 (hex) of `chain_json`'s UTF-8 bytes, verified on every read. */
  chain_sha256: string;
  /** The source's raw payload, gzip-compressed; null when not stored. */
  raw: Uint8Array | null;
  /** How `raw` decodes: "gzip/utf8" (was a string) or "gzip/bytes" (was bytes); null with no raw. */
  raw_encoding: string | null;
  /** sha256 (hex) of the stored (compressed) `raw` bytes; null with no raw. */
  raw_sha256: string | null;
  /** Bytes of `chain_json` (UTF-8) plus bytes of `raw`: what `max_entry_bytes` limits. */
  entry_bytes: number;
  /** ISO 8601 UTC; fixed width, so text order is time order. */
  fetched_at: string;
  expires_at: string;
  cost_usd: number;
  /** Provenance of the chain, for `stats` and people reading the file. */
  product: string;
  as_of: string;
  delayed: number;
  sample: number;
  contracts: number;
  written_at: string;
}

export interface CacheCounterTable {
  source: string;
  hits: Generated<number>;
  misses: Generated<number>;
  /** The sum of the costs of the entries served from cache. */
  spend_saved_usd: Generated<number>;
}

export interface CacheDatabase {
  cache_entries: CacheEntryTable;
  cache_counters: CacheCounterTable;
}
