/**
 * The history contract: every chain a run produces — fresh, from cache, substituted — is appended as one
 * snapshot row and one row per contract, in columns a SQL reader can query ("open interest of NQH6 C21500
 * every day last month"). Stores implement it (SQLite in @nq/cache-sqlite by default, PostgreSQL in
 * @nq/store-postgres for a fleet); the runner appends after each run and its `history` command reads.
 */
import type { CacheStatus, OptionContract, OptionsChain, QualityMetrics } from "./contract.js";

/** One appended chain, without its contracts. */
export interface HistorySnapshot {
  /** The store's id for the snapshot (a decimal string: stable across stores and safe in JSON). */
  id: string;
  /** The profile whose run produced it. */
  profile: string;
  source: string;
  product: string;
  /** Market time the chain describes (ISO 8601, UTC). */
  asOf: string;
  /** When the source fetched it (for a cache hit: when the cached entry was fetched). */
  fetchedAt: string;
  /** When the run appended it to history. */
  recordedAt: string;
  cache: CacheStatus;
  delayed: boolean;
  sample: boolean;
  complete: boolean;
  /** True when the chain stood in for the requested product (a proxy such as NDX for NQ). */
  proxy: boolean;
  /** USD this load spent (0 for a cache hit). */
  spendUsd: number;
  contractCount: number;
  qualityMetrics: QualityMetrics;
  incompleteReasons: string[];
  warnings: string[];
}

export interface HistoryAppend {
  profile: string;
  chain: OptionsChain;
  recordedAt: Date;
}

export interface HistorySnapshotFilter {
  profile?: string;
  source?: string;
  /** Snapshots with asOf at or after this instant (ISO 8601). */
  from?: string;
  /** Snapshots with asOf strictly before this instant (ISO 8601). */
  to?: string;
  /** Newest first; at most this many. */
  limit?: number;
}

/** A contract row as history keeps it: the contract plus the snapshot it belongs to. */
export interface HistoryContractRow {
  snapshotId: string;
  asOf: string;
  source: string;
  contract: OptionContract;
}

/**
 * Which contract rows `contracts` streams: of the snapshots the snapshot fields select (here `limit` caps
 * the contract rows yielded, oldest first, not the snapshots), the contracts with this symbol and/or
 * expiration.
 */
export interface HistoryContractFilter extends HistorySnapshotFilter {
  symbol?: string;
  expiration?: string;
}

/**
 * Open interest by strike for one expiration, one point per snapshot and contract: "how did OI build up?".
 * `openInterestByStrike` returns them in asOf order, then by strike, calls before puts.
 */
export interface OpenInterestPoint {
  snapshotId: string;
  asOf: string;
  openInterestDate: string | null;
  strike: number;
  right: "call" | "put";
  openInterest: number | null;
}

/** One contract's settlement per snapshot; `settlementSeries` returns them in asOf order. */
export interface SettlementPoint {
  snapshotId: string;
  asOf: string;
  settlementDate: string | null;
  settlement: number | null;
}

export interface HistoryRetention {
  /** Snapshots whose asOf is older than this many days before `now` are deleted with their contracts. */
  maxAgeDays?: number;
  /** Keep at most this many snapshots per profile (the newest). */
  maxSnapshotsPerProfile?: number;
}

export interface ChainHistory {
  /** Where the history lives (a file path, a connection name without password), for the summary. */
  readonly location: string;
  /** The retention policy the store was configured with (its config's `retention`), for the runner to apply after appending; absent when none. */
  readonly retention?: HistoryRetention;
  append(input: HistoryAppend): Promise<HistorySnapshot>;
  /** Newest first (asOf descending, then the later append first). */
  listSnapshots(filter?: HistorySnapshotFilter): Promise<HistorySnapshot[]>;
  /** The snapshot and its contracts in the chain's order, exactly as appended; null for an unknown id. */
  getSnapshot(id: string): Promise<{ snapshot: HistorySnapshot; contracts: OptionContract[] } | null>;
  /**
   * Contract rows in asOf order (then append order, then the chain's order), streamed: an export of a
   * month must not sit in memory at once, and a consumer that stops early releases what it held.
   */
  contracts(filter: HistoryContractFilter): AsyncIterable<HistoryContractRow>;
  openInterestByStrike(query: { expiration: string; right?: "call" | "put"; profile?: string; source?: string; from?: string; to?: string }): Promise<OpenInterestPoint[]>;
  settlementSeries(query: { symbol: string; profile?: string; source?: string; from?: string; to?: string }): Promise<SettlementPoint[]>;
  /** Applies a retention policy; returns how many snapshots were deleted. */
  applyRetention(retention: HistoryRetention, now: Date): Promise<number>;
  close(): Promise<void>;
}

export interface HistoryContext {
  log: import("./logger.js").Logger;
  /** Relative paths in the history config resolve against this folder (the profile's). */
  baseDir: string;
  now(): Date;
}

/** A history plugin, named in a profile's `history.plugin` (a package's `history` export). */
export interface HistoryDefinition<Config = unknown> {
  name: string;
  configSchema: import("zod").ZodType<Config>;
  create(config: Config, context: HistoryContext): ChainHistory | Promise<ChainHistory>;
}

export function defineHistory<Config>(definition: HistoryDefinition<Config>): HistoryDefinition<Config> {
  return definition;
}
