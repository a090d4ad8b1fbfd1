/**
 * The cache's tables, as kysely sees them and as migration 0001 creates them (in the configured schema,
 * which is each connection's search_path). Times are timestamptz, compared on the server; the fleet's
 * leases use the server's clock alone, so runners whose clocks disagree still agree on who holds a claim.
 */
import { type ColumnType, type Generated, type Kysely, sql } from "kysely";
import type { NamedMigrations } from "./migrations.js";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** bigint columns come back from pg as strings (they may exceed 2^53). */
type BigCount = ColumnType<string, number, number>;

export interface CacheEntryTable {
  source: string;
  request_hash: string;
  /** The canonical request, so a person can tell entries apart. */
  request_json: string;
  /** The normalized chain exactly as `JSON.stringify` wrote it. */
  chain_json: string;
  /** sha256 (hex) of `chain_json`'s UTF-8 bytes, verified on every read. */
  chain_sha256: string;
  raw: Uint8Array | null;
  raw_encoding: string | null;
  raw_sha256: string | null;
  /** Bytes of `chain_json` plus bytes of `raw`: what `max_entry_bytes` limits. */
  entry_bytes: BigCount;
  fetched_at: Timestamp;
  expires_at: Timestamp;
  cost_usd: number;
  product: string;
  as_of: string;
  delayed: boolean;
  sample: boolean;
  contracts: number;
  written_at: Timestamp;
}

export interface CacheCounterTable {
  source: string;
  hits: BigCount;
  misses: BigCount;
  spend_saved_usd: number;
}

/** One row per key being fetched somewhere in the fleet. */
export interface FetchClaimTable {
  source: string;
  request_hash: string;
  /** host:pid:uuid of the claimant, for a person reading the table. */
  holder: string;
  claimed_at: Generated<Date>;
  expires_at: Timestamp;
}

export interface CacheDatabase {
  cache_entries: CacheEntryTable;
  cache_counters: CacheCounterTable;
  fetch_claims: FetchClaimTable;
}

export const cacheMigrations: NamedMigrations = {
  "0001_cache_entries_counters_claims": {
    async up(db: Kysely<unknown>) {
      await sql`
        create table cache_entries (
          source text not null,
          request_hash text not null,
          request_json text not null,
          chain_json text not null,
          chain_sha256 text not null,
          raw bytea,
          raw_encoding text,
          raw_sha256 text,
          entry_bytes bigint not null,
          fetched_at timestamptz not null,
          expires_at timestamptz not null,
          cost_usd double precision not null,
          product text not null,
          as_of text not null,
          delayed boolean not null,
          sample boolean not null,
          contracts integer not null,
          written_at timestamptz not null,
          primary key (source, request_hash)
        )`.execute(db);
      await sql`create index cache_entries_expires_at on cache_entries (expires_at)`.execute(db);
      await sql`
        create table cache_counters (
          source text primary key,
          hits bigint not null default 0,
          misses bigint not null default 0,
          spend_saved_usd double precision not null default 0
        )`.execute(db);
      await sql`
        create table fetch_claims (
          source text not null,
          request_hash text not null,
          holder text not null,
          claimed_at timestamptz not null default clock_timestamp(),
          expires_at timestamptz not null,
          primary key (source, request_hash)
        )`.execute(db);
    },
  },
};
