/**
 * The history tables and view as kysely sees them. All are prefixed `nq_history_` so they can share a database
 * with the cache. Times are kept twice where they are filtered on: the exact ISO 8601 text the chain
 * carried (a feed's nanoseconds survive) and epoch milliseconds (`*_ms`, an integer both dialects index
 * and compare the same way). Booleans are 0/1 integers on SQLite and booleans on PostgreSQL.
 */
import type { ColumnType, Generated } from "kysely";

/** Dialect-dependent on the way in (SQLite 0/1, PostgreSQL boolean); read with `Boolean()`. */
export type StoredBoolean = ColumnType<number | boolean, number | boolean, never>;
/** bigint: SQLite gives a number, pg a string; read with `Number()`. */
export type StoredBigint = ColumnType<number | string, number, never>;

export interface SnapshotTable {
  id: Generated<number | string>;
  profile: string;
  source: string;
  product: string;
  as_of: string;
  as_of_ms: StoredBigint;
  fetched_at: string;
  recorded_at: string;
  cache_status: string;
  delayed: StoredBoolean;
  sample: StoredBoolean;
  complete: StoredBoolean;
  proxy: StoredBoolean;
  /** The ProxyInfo as JSON, when the chain stood in for another product. */
  proxy_json: string | null;
  spend_usd: number;
  contract_count: number;
  analytics_rate: number | null;
  as_of_reason: string | null;
  rows_received: number;
  valid_contracts: number;
  invalid_rows: number;
  duplicate_rows: number;
  conflicting_duplicates: number;
  filtered_rows: number;
  missing_bid_ask_share: number;
  crossed_quotes: number;
  zero_open_interest_share: number;
  missing_open_interest_share: number;
  stale_quotes: number;
  future_quote_times: number;
  /** The whole QualityMetrics (reason maps included), as the chain had it: what is read back. */
  quality_json: string;
  incomplete_reasons_json: string;
  warnings_json: string;
}

/**
 * The `nq_history_contracts` view: one row per contract of a snapshot, a column per OptionContract field,
 * joined from the three tables below. Read-only.
 */
export type ContractTable = Omit<QuoteTable, "instrument_id" | "context_no"> &
  Omit<InstrumentTable, "id"> &
  Omit<QuoteContextTable, "snapshot_id" | "context_no"> & {
    /** The snapshot's as-of, so plain SQL can pick contracts by time without another join. */
    as_of_ms: StoredBigint;
  };

/** What a contract is, shared by every snapshot that holds the identical instrument. Never deleted by retention. */
export interface InstrumentTable {
  id: Generated<number | string>;
  symbol: string;
  raw_symbol: string | null;
  underlying: string;
  product: string;
  root: string;
  expiration: string;
  expiration_time: string | null;
  strike: number;
  /** "C" or "P" (not `right`, a reserved word in SQL). */
  option_right: string;
  multiplier: number;
  raw_strike: string | null;
}

/** What a snapshot's quotes were taken against; numbered 0, 1, … within the snapshot. */
export interface QuoteContextTable {
  snapshot_id: StoredBigint;
  context_no: number;
  underlying_price: number | null;
  underlying_price_basis: string | null;
  underlying_price_time: string | null;
  cleared_volume_date: string | null;
  open_interest_date: string | null;
  settlement_date: string | null;
  iv_basis: string | null;
  greeks_source: string | null;
  /** The contracts' provenance where it differs from the snapshot's; null means "the snapshot's". */
  provenance_source: string | null;
  provenance_as_of: string | null;
  provenance_fetched_at: string | null;
  provenance_delayed: StoredBoolean | null;
  provenance_sample: StoredBoolean | null;
}

/** One contract of one snapshot: its place, its instrument and context, and the day's numbers. */
export interface QuoteTable {
  snapshot_id: StoredBigint;
  /** The contract's position in its chain. */
  ordinal: number;
  instrument_id: StoredBigint;
  context_no: number;
  bid: number | null;
  ask: number | null;
  bid_size: number | null;
  ask_size: number | null;
  last: number | null;
  volume: number | null;
  cleared_volume: number | null;
  open_interest: number | null;
  settlement: number | null;
  implied_volatility: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  quote_time: string | null;
}

export interface HistoryDatabase {
  nq_history_snapshots: SnapshotTable;
  nq_history_instruments: InstrumentTable;
  nq_history_quote_contexts: QuoteContextTable;
  nq_history_quotes: QuoteTable;
  /** A view. */
  nq_history_contracts: ContractTable;
}

export const SNAPSHOTS_TABLE = "nq_history_snapshots";
export const INSTRUMENTS_TABLE = "nq_history_instruments";
export const QUOTE_CONTEXTS_TABLE = "nq_history_quote_contexts";
export const QUOTES_TABLE = "nq_history_quotes";
/** The view that joins a snapshot's quotes, instruments and contexts back into one row per contract. */
export const CONTRACTS_VIEW = "nq_history_contracts";
