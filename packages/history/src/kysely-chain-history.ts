/**
 * One ChainHistory over any kysely database, SQLite or PostgreSQL: the same queries on both, with the few
 * dialect-specific bits (column types, booleans, bind placeholders, the write lock) from ./dialect.ts.
 *
 * `append` is one transaction — the snapshot row and every contract row, or nothing — with the contracts
 * written as multi-row INSERTs sized to the dialect's bind-parameter limit. Reads page by keyset, so a
 * stream holds no connection or transaction between pages and can be dropped at any point.
 */
import { CompiledQuery, type Insertable, type Kysely, type Transaction, sql } from "kysely";
import type {
  ChainHistory,
  HistoryAppend,
  HistoryContractFilter,
  HistoryContractRow,
  HistoryRetention,
  HistorySnapshot,
  HistorySnapshotFilter,
  OpenInterestPoint,
  OptionContract,
  OptionsChain,
  QualityMetrics,
  SettlementPoint,
} from "@nq/core";
import { CONTRACT_COLUMNS, checkContract, contractFromRow, pushContractValues, type ContractRow, type SnapshotProvenance } from "./contract-rows.js";
import { dialectTraits, type DialectTraits, type HistoryDialect } from "./dialect.js";
import { CONTRACTS_TABLE, SNAPSHOTS_TABLE, type HistoryDatabase, type SnapshotTable } from "./schema.js";

export interface KyselyChainHistoryOptions {
  db: Kysely<HistoryDatabase>;
  dialect: HistoryDialect;
  /** Where the history lives, for summaries (a file path; a connection name without its password). */
  location: string;
  /** The configured retention policy, offered to the runner as `history.retention`. */
  retention?: HistoryRetention;
  /** Inspection: `append` and `applyRetention` are refused with a clear error (reads work). */
  readOnly?: boolean;
  /** Close the kysely instance on `close()` (default true: the history owns the connection it was given). */
  ownsDatabase?: boolean;
  /**
   * SQLite only: the native handle the SqliteDialect wraps (better-sqlite3's shape). With it, `append`
   * writes every contract through one prepared single-row INSERT, reused — measured at 2–3× less CPU per
   * row than multi-row VALUES, which SQLite parses and runs as a co-routine. It runs on the same
   * connection, inside the same transaction kysely holds. Without it, multi-row INSERTs go through kysely.
   */
  sqliteDatabase?: NativeStatementSource;
  /** Bind parameters per statement; default the dialect's limit (SQLite 32766, PostgreSQL 65535). */
  maxBindParameters?: number;
  /** Contract rows per page when reading a snapshot or a stream (default 5000). */
  pageSize?: number;
  /**
   * SQLite: writers in this process sharing this key take turns (default: `location`, the file path), as a
   * synchronous driver cannot wait for another handle's lock without blocking the thread that holds it.
   */
  writeLockKey?: string;
  /** Runs inside the append transaction after every row is written, before COMMIT (tests fail it there). */
  beforeCommit?: (snapshotId: string) => Promise<void> | void;
}

/** The slice of better-sqlite3 the SQLite insert path touches. */
export interface NativeStatementSource {
  prepare(sql: string): { run(parameters: unknown[]): unknown };
}

const DAY_MS = 86_400_000;
/** Snapshots deleted per statement by retention (well inside every dialect's parameter limit). */
const DELETE_CHUNK = 500;

type Db = Kysely<HistoryDatabase>;

export function createKyselyChainHistory(options: KyselyChainHistoryOptions): ChainHistory {
  return new KyselyChainHistory(options);
}

export class KyselyChainHistory implements ChainHistory {
  readonly location: string;
  readonly retention?: HistoryRetention;
  private readonly db: Db;
  private readonly traits: DialectTraits;
  private readonly rowsPerInsert: number;
  private readonly pageSize: number;
  private readonly insertSqlByRows = new Map<number, string>();
  private preparedInsert: ReturnType<NativeStatementSource["prepare"]> | null = null;
  private closed = false;

  constructor(private readonly options: KyselyChainHistoryOptions) {
    this.db = options.db;
    this.traits = dialectTraits(options.dialect);
    this.location = options.location;
    if (options.retention) this.retention = options.retention;
    const maxParameters = options.maxBindParameters ?? this.traits.maxBindParameters;
    this.rowsPerInsert = Math.floor(maxParameters / CONTRACT_COLUMNS.length);
    if (!(this.rowsPerInsert >= 1)) {
      throw new TypeError(`maxBindParameters must be at least ${CONTRACT_COLUMNS.length} (one contract row), got ${String(options.maxBindParameters)}`);
    }
    this.pageSize = options.pageSize ?? 5000;
  }

  async append(input: HistoryAppend): Promise<HistorySnapshot> {
    this.assertWritable("append to");
    const { snapshot, asOfMs } = snapshotRow(input, this.traits);
    const chain = input.chain;
    chain.contracts.forEach((contract, index) => checkContract(contract, index));
    const provenance: SnapshotProvenance = {
      source: chain.metadata.source,
      asOf: chain.metadata.asOf,
      fetchedAt: chain.metadata.fetchedAt,
      delayed: chain.metadata.delayed,
      sample: chain.metadata.sample,
    };
    const id = await this.writeTransaction(async (trx) => {
      const inserted = await trx.insertInto(SNAPSHOTS_TABLE).values(snapshot).returning("id").executeTakeFirstOrThrow();
      const snapshotId = String(inserted.id);
      await this.insertContracts(trx, chain.contracts, { snapshotId: Number(snapshotId), asOfMs }, provenance);
      await this.options.beforeCommit?.(snapshotId);
      return snapshotId;
    });
    return snapshotFromRow({ ...snapshot, id } as unknown as SnapshotRow);
  }

  async listSnapshots(filter: HistorySnapshotFilter = {}): Promise<HistorySnapshot[]> {
    this.assertOpen("read");
    let query = this.snapshotQuery(filter).selectAll().orderBy("as_of_ms", "desc").orderBy("id", "desc");
    if (filter.limit !== undefined) query = query.limit(checkLimit(filter.limit));
    const rows = await query.execute();
    return rows.map((row) => snapshotFromRow(row as SnapshotRow));
  }

  async getSnapshot(id: string): Promise<{ snapshot: HistorySnapshot; contracts: OptionContract[] } | null> {
    this.assertOpen("read");
    if (typeof id !== "string" || !/^\d{1,18}$/.test(id)) return null;
    const row = await this.db.selectFrom(SNAPSHOTS_TABLE).selectAll().where("id", "=", Number(id)).executeTakeFirst();
    if (!row) return null;
    const snapshot = snapshotFromRow(row as SnapshotRow);
    const contracts: OptionContract[] = [];
    for await (const page of this.contractPages(snapshot, {})) for (const contract of page) contracts.push(contract);
    return { snapshot, contracts };
  }

  async *contracts(filter: HistoryContractFilter): AsyncIterable<HistoryContractRow> {
    this.assertOpen("read");
    const { limit: rawLimit, ...snapshotFilter } = filter;
    let remaining = rawLimit === undefined ? Number.POSITIVE_INFINITY : checkLimit(rawLimit);
    if (remaining === 0) return;
    const rows = await this.snapshotQuery(snapshotFilter).selectAll().orderBy("as_of_ms", "asc").orderBy("id", "asc").execute();
    for (const row of rows) {
      const snapshot = snapshotFromRow(row as SnapshotRow);
      for await (const page of this.contractPages(snapshot, filter)) {
        for (const contract of page) {
          yield { snapshotId: snapshot.id, asOf: snapshot.asOf, source: snapshot.source, contract };
          remaining -= 1;
          if (remaining === 0) return;
        }
      }
    }
  }

  async openInterestByStrike(query: { expiration: string; right?: "call" | "put"; profile?: string; source?: string; from?: string; to?: string }): Promise<OpenInterestPoint[]> {
    this.assertOpen("read");
    if (typeof query.expiration !== "string" || query.expiration === "") throw new TypeError(`expiration must be a date (YYYY-MM-DD), got ${String(query.expiration)}`);
    let select = this.joinedContracts(query)
      .select(["c.snapshot_id", "s.as_of", "c.open_interest_date", "c.strike", "c.option_right", "c.open_interest"])
      .where("c.expiration", "=", query.expiration);
    if (query.right !== undefined) {
      if (query.right !== "call" && query.right !== "put") throw new TypeError(`right must be "call" or "put", got ${JSON.stringify(query.right)}`);
      select = select.where("c.option_right", "=", query.right === "call" ? "C" : "P");
    }
    const rows = await select.orderBy("s.as_of_ms").orderBy("s.id").orderBy("c.strike").orderBy("c.option_right").execute();
    return rows.map((row) => ({
      snapshotId: String(row.snapshot_id),
      asOf: row.as_of,
      openInterestDate: row.open_interest_date,
      strike: Number(row.strike),
      right: row.option_right === "C" ? "call" : "put",
      openInterest: row.open_interest === null ? null : Number(row.open_interest),
    }));
  }

  async settlementSeries(query: { symbol: string; profile?: string; source?: string; from?: string; to?: string }): Promise<SettlementPoint[]> {
    this.assertOpen("read");
    if (typeof query.symbol !== "string" || query.symbol === "") throw new TypeError(`symbol must be a contract symbol ("NQZ6 C21000"), got ${String(query.symbol)}`);
    const rows = await this.joinedContracts(query)
      .select(["c.snapshot_id", "s.as_of", "c.settlement_date", "c.settlement"])
      .where("c.symbol", "=", query.symbol)
      .orderBy("s.as_of_ms")
      .orderBy("s.id")
      .execute();
    return rows.map((row) => ({
      snapshotId: String(row.snapshot_id),
      asOf: row.as_of,
      settlementDate: row.settlement_date,
      settlement: row.settlement === null ? null : Number(row.settlement),
    }));
  }

  async applyRetention(retention: HistoryRetention, now: Date): Promise<number> {
    this.assertWritable("apply retention to");
    const { maxAgeDays, maxSnapshotsPerProfile } = retention ?? {};
    if (maxAgeDays !== undefined && !(typeof maxAgeDays === "number" && maxAgeDays >= 0 && Number.isFinite(maxAgeDays))) {
      throw new TypeError(`retention maxAgeDays must be a number of days of 0 or more, got ${String(maxAgeDays)}`);
    }
    if (maxSnapshotsPerProfile !== undefined && !(Number.isInteger(maxSnapshotsPerProfile) && maxSnapshotsPerProfile >= 0)) {
      throw new TypeError(`retention maxSnapshotsPerProfile must be a whole number of 0 or more, got ${String(maxSnapshotsPerProfile)}`);
    }
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError(`retention needs a valid "now" Date, got ${String(now)}`);
    if (maxAgeDays === undefined && maxSnapshotsPerProfile === undefined) return 0;
    return this.writeTransaction(async (trx) => {
      const doomed = new Set<string>();
      if (maxAgeDays !== undefined) {
        const cutoff = now.getTime() - maxAgeDays * DAY_MS;
        const old = await trx.selectFrom(SNAPSHOTS_TABLE).select("id").where("as_of_ms", "<", cutoff).execute();
        for (const row of old) doomed.add(String(row.id));
      }
      if (maxSnapshotsPerProfile !== undefined) {
        const ranked = trx
          .selectFrom(SNAPSHOTS_TABLE)
          .select(["id", sql<number>`row_number() over (partition by profile order by as_of_ms desc, id desc)`.as("rank")])
          .as("ranked");
        const surplus = await trx.selectFrom(ranked).select("ranked.id").where("ranked.rank", ">", maxSnapshotsPerProfile).execute();
        for (const row of surplus) doomed.add(String(row.id));
      }
      const ids = [...doomed].map(Number);
      for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
        const chunk = ids.slice(i, i + DELETE_CHUNK);
        await trx.deleteFrom(CONTRACTS_TABLE).where("snapshot_id", "in", chunk).execute();
        await trx.deleteFrom(SNAPSHOTS_TABLE).where("id", "in", chunk).execute();
      }
      return ids.length;
    });
  }

  /** Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.options.ownsDatabase !== false) await this.db.destroy();
  }

  private assertOpen(action: string): void {
    if (this.closed) throw new Error(`cannot ${action} the chain history at ${this.location}: it is closed`);
  }

  private assertWritable(action: string): void {
    this.assertOpen(action);
    if (this.options.readOnly) throw new Error(`cannot ${action} the chain history at ${this.location}: it was opened read-only (read_only: true); open it without read_only to change it`);
  }

  /**
   * A write transaction. SQLite: BEGIN IMMEDIATE takes the write lock up front, so a second writer waits
   * on the busy timeout instead of failing on a lock it cannot upgrade. PostgreSQL: an ordinary one.
   */
  private async writeTransaction<T>(run: (trx: Db) => Promise<T>): Promise<T> {
    if (this.traits.name === "postgres") return this.db.transaction().execute((trx: Transaction<HistoryDatabase>) => run(trx));
    return inProcessWriteTurn(this.options.writeLockKey ?? this.location, () => this.sqliteWriteTransaction(run));
  }

  private async sqliteWriteTransaction<T>(run: (trx: Db) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (connection) => {
      await sql`begin immediate`.execute(connection);
      try {
        const result = await run(connection);
        await sql`commit`.execute(connection);
        return result;
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => {});
        throw error;
      }
    });
  }

  /** Multi-row INSERTs as raw SQL built once per row count: the query builder would rebuild a node per value. */
  private async insertContracts(trx: Db, contracts: OptionContract[], place: { snapshotId: number; asOfMs: number }, provenance: SnapshotProvenance): Promise<void> {
    const native = this.traits.name === "sqlite" ? this.options.sqliteDatabase : undefined;
    if (native) {
      this.preparedInsert ??= native.prepare(this.insertSql(1));
      const values: unknown[] = [];
      const at = { ...place, ordinal: 0 };
      for (; at.ordinal < contracts.length; at.ordinal += 1) {
        values.length = 0;
        pushContractValues(values, contracts[at.ordinal]!, at, provenance, this.traits);
        this.preparedInsert.run(values);
      }
      return;
    }
    for (let start = 0; start < contracts.length; start += this.rowsPerInsert) {
      const batch = contracts.slice(start, start + this.rowsPerInsert);
      const values: unknown[] = [];
      batch.forEach((contract, i) => pushContractValues(values, contract, { ...place, ordinal: start + i }, provenance, this.traits));
      await trx.executeQuery(CompiledQuery.raw(this.insertSql(batch.length), values));
    }
  }

  private insertSql(rows: number): string {
    let text = this.insertSqlByRows.get(rows);
    if (text) return text;
    const columns = CONTRACT_COLUMNS.length;
    const tuples: string[] = [];
    for (let r = 0; r < rows; r += 1) {
      const marks: string[] = [];
      for (let c = 1; c <= columns; c += 1) marks.push(this.traits.placeholder(r * columns + c));
      tuples.push(`(${marks.join(",")})`);
    }
    text = `insert into "${CONTRACTS_TABLE}" (${CONTRACT_COLUMNS.map((c) => `"${c.column}"`).join(",")}) values ${tuples.join(",")}`;
    this.insertSqlByRows.set(rows, text);
    return text;
  }

  private snapshotQuery(filter: HistorySnapshotFilter) {
    let query = this.db.selectFrom(SNAPSHOTS_TABLE);
    if (filter.profile !== undefined) query = query.where("profile", "=", filter.profile);
    if (filter.source !== undefined) query = query.where("source", "=", filter.source);
    if (filter.from !== undefined) query = query.where("as_of_ms", ">=", instant(filter.from, "from"));
    if (filter.to !== undefined) query = query.where("as_of_ms", "<", instant(filter.to, "to"));
    return query;
  }

  /**
   * Snapshots joined to their contracts, the snapshots outer: the as-of range and profile select the
   * snapshots by their index, and each one's contracts are probed by (snapshot_id, symbol|expiration).
   * CROSS JOIN fixes that order on SQLite (its documented rule: the left table is the outer loop), which
   * without statistics would otherwise scan a contracts index; PostgreSQL plans it as an inner join.
   */
  private joinedContracts(filter: { profile?: string; source?: string; from?: string; to?: string }) {
    let query = this.db.selectFrom(`${SNAPSHOTS_TABLE} as s`).crossJoin(`${CONTRACTS_TABLE} as c`).whereRef("c.snapshot_id", "=", "s.id");
    if (filter.profile !== undefined) query = query.where("s.profile", "=", filter.profile);
    if (filter.source !== undefined) query = query.where("s.source", "=", filter.source);
    if (filter.from !== undefined) query = query.where("s.as_of_ms", ">=", instant(filter.from, "from"));
    if (filter.to !== undefined) query = query.where("s.as_of_ms", "<", instant(filter.to, "to"));
    return query;
  }

  /**
   * One snapshot's contracts in chain order. Unfiltered: page by page, by ordinal (keyset). With a symbol
   * or an expiration: one query on the (snapshot_id, symbol|expiration, ordinal) index; one snapshot's
   * rows for one expiration are a bounded set.
   */
  private async *contractPages(snapshot: HistorySnapshot, filter: { symbol?: string; expiration?: string }): AsyncIterable<OptionContract[]> {
    const provenance: SnapshotProvenance = { source: snapshot.source, asOf: snapshot.asOf, fetchedAt: snapshot.fetchedAt, delayed: snapshot.delayed, sample: snapshot.sample };
    const toContracts = (rows: unknown[]) => rows.map((row) => contractFromRow(row as ContractRow, provenance));
    const base = () => this.db.selectFrom(CONTRACTS_TABLE).selectAll().where("snapshot_id", "=", Number(snapshot.id));
    if (filter.symbol !== undefined || filter.expiration !== undefined) {
      let query = base();
      if (filter.symbol !== undefined) query = query.where("symbol", "=", filter.symbol);
      if (filter.expiration !== undefined) query = query.where("expiration", "=", filter.expiration);
      this.assertOpen("read");
      const rows = await query.orderBy("ordinal").execute();
      if (rows.length > 0) yield toContracts(rows);
      return;
    }
    let after = -1;
    for (;;) {
      this.assertOpen("read");
      const rows = await base().where("ordinal", ">", after).orderBy("ordinal").limit(this.pageSize).execute();
      if (rows.length > 0) yield toContracts(rows);
      if (rows.length < this.pageSize) return;
      after = Number(rows[rows.length - 1]!.ordinal);
    }
  }
}

/**
 * SQLite drivers such as better-sqlite3 wait for a lock synchronously (the busy timeout blocks the thread),
 * so two handles on one file in one process would deadlock: the waiter blocks the event loop the holder
 * needs to finish. Writers in one process therefore take turns here; other processes wait on SQLite's lock.
 */
const writeTurns = new Map<string, Promise<unknown>>();

/**
 * Runs `run` when every earlier writer under `key` (a database file's absolute path) in this process has
 * finished. Exported so the other SQLite stores of a file (the cache in @nq/cache-sqlite) take the same turns.
 */
export async function inProcessWriteTurn<T>(key: string, run: () => Promise<T>): Promise<T> {
  const previous = writeTurns.get(key) ?? Promise.resolve();
  const mine = previous.then(run, run);
  const settled = mine.catch(() => {});
  writeTurns.set(key, settled);
  try {
    return await mine;
  } finally {
    if (writeTurns.get(key) === settled) writeTurns.delete(key);
  }
}

type SnapshotRow = { [K in keyof SnapshotTable]: unknown } & { id: number | string };

function instant(value: string, field: string): number {
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new TypeError(`history filter "${field}" must be an ISO 8601 instant ("2026-11-20T21:00:00Z"), got ${JSON.stringify(value)}`);
  return ms;
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) throw new TypeError(`history filter "limit" must be a whole number of 0 or more, got ${String(limit)}`);
  return limit;
}

/** The snapshot row for an append, checked: a chain whose times or numbers cannot be stored is refused whole. */
function snapshotRow(input: HistoryAppend, traits: DialectTraits): { snapshot: Insertable<SnapshotTable>; asOfMs: number } {
  const { profile, chain, recordedAt } = input ?? ({} as HistoryAppend);
  if (typeof profile !== "string" || profile === "") throw new TypeError(`cannot append to history: profile must be a non-empty string, got ${String(profile)}`);
  if (!(recordedAt instanceof Date) || Number.isNaN(recordedAt.getTime())) {
    throw new TypeError(`cannot append ${profile}'s chain to history: recordedAt must be a valid Date, got ${String(recordedAt)}`);
  }
  const metadata = (chain as OptionsChain | undefined)?.metadata;
  if (!metadata || !Array.isArray(chain.contracts)) throw new TypeError(`cannot append ${profile}'s chain to history: expected an OptionsChain with metadata and contracts`);
  const what = `cannot append ${profile}'s chain from ${String(metadata.source)} to history`;
  const asOfMs = Date.parse(metadata.asOf);
  if (typeof metadata.asOf !== "string" || Number.isNaN(asOfMs)) throw new TypeError(`${what}: metadata.asOf must be an ISO 8601 instant, got ${String(metadata.asOf)}`);
  if (typeof metadata.fetchedAt !== "string") throw new TypeError(`${what}: metadata.fetchedAt must be an ISO 8601 instant, got ${String(metadata.fetchedAt)}`);
  if (!Number.isFinite(metadata.spendUsd)) throw new TypeError(`${what}: metadata.spendUsd must be a finite number, got ${String(metadata.spendUsd)}`);
  const quality: QualityMetrics = chain.qualityMetrics;
  const metric = (field: keyof QualityMetrics): number => {
    const value = quality?.[field];
    if (typeof value !== "number" || !Number.isFinite(value)) throw new TypeError(`${what}: qualityMetrics.${field} must be a finite number, got ${String(value)}`);
    return value;
  };
  // SQLite drivers bind no booleans (0/1 there); PostgreSQL takes real ones.
  const bool = (value: boolean) => traits.encodeBoolean(value === true);
  return {
    asOfMs,
    snapshot: {
      profile,
      source: metadata.source,
      product: metadata.product,
      as_of: metadata.asOf,
      as_of_ms: asOfMs,
      fetched_at: metadata.fetchedAt,
      recorded_at: recordedAt.toISOString(),
      cache_status: metadata.cache,
      delayed: bool(metadata.delayed),
      sample: bool(metadata.sample),
      complete: bool(metadata.complete),
      proxy: bool(metadata.proxy !== null && metadata.proxy !== undefined),
      proxy_json: metadata.proxy ? JSON.stringify(metadata.proxy) : null,
      spend_usd: metadata.spendUsd,
      contract_count: chain.contracts.length,
      analytics_rate: typeof metadata.analyticsRate === "number" ? metadata.analyticsRate : null,
      as_of_reason: metadata.asOfReason ?? null,
      rows_received: metric("rowsReceived"),
      valid_contracts: metric("validContracts"),
      invalid_rows: metric("invalidRows"),
      duplicate_rows: metric("duplicateRows"),
      conflicting_duplicates: metric("conflictingDuplicates"),
      filtered_rows: metric("filteredRows"),
      missing_bid_ask_share: metric("missingBidAskShare"),
      crossed_quotes: metric("crossedQuotes"),
      zero_open_interest_share: metric("zeroOpenInterestShare"),
      missing_open_interest_share: metric("missingOpenInterestShare"),
      stale_quotes: metric("staleQuotes"),
      future_quote_times: metric("futureQuoteTimes"),
      quality_json: JSON.stringify(quality),
      incomplete_reasons_json: JSON.stringify(metadata.incompleteReasons ?? []),
      warnings_json: JSON.stringify(metadata.warnings ?? []),
    },
  };
}

function snapshotFromRow(row: SnapshotRow): HistorySnapshot {
  return {
    id: String(row.id),
    profile: row.profile as string,
    source: row.source as string,
    product: row.product as string,
    asOf: row.as_of as string,
    fetchedAt: row.fetched_at as string,
    recordedAt: row.recorded_at as string,
    cache: row.cache_status as HistorySnapshot["cache"],
    delayed: Boolean(row.delayed),
    sample: Boolean(row.sample),
    complete: Boolean(row.complete),
    proxy: Boolean(row.proxy),
    spendUsd: Number(row.spend_usd),
    contractCount: Number(row.contract_count),
    qualityMetrics: JSON.parse(row.quality_json as string) as QualityMetrics,
    incompleteReasons: JSON.parse(row.incomplete_reasons_json as string) as string[],
    warnings: JSON.parse(row.warnings_json as string) as string[],
  };
}
