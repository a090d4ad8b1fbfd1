/**
 * One ChainHistory over any kysely database, SQLite or PostgreSQL: the same queries on both, with the few
 * dialect-specific bits (column types, booleans, bind placeholders, the write lock) from ./dialect.ts.
 *
 * `append` is one transaction — the snapshot row and every contract, or nothing. A contract is written as
 * its instrument (found or added once, shared across snapshots), its quote context (one per distinct
 * context in the snapshot) and its quote row (see contract-rows.ts). Reads go through the
 * `nq_history_contracts` view and page by keyset, so a stream holds no connection or transaction between
 * pages and can be dropped at any point.
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
import {
  CONTEXT_COLUMNS,
  checkContract,
  contextValues,
  contractFromRow,
  INSTRUMENT_FIELDS,
  instrumentValues,
  isContextOf,
  isInstrumentOf,
  pushQuoteValues,
  QUOTE_COLUMNS,
  sameValues,
  type ContractRow,
  type SnapshotProvenance,
  VIEW_COLUMNS,
} from "./contract-rows.js";
import { dialectTraits, type DialectTraits, type HistoryDialect } from "./dialect.js";
import { inProcessWriteTurn, sqliteImmediateTransaction } from "./sqlite-transaction.js";
import { INSTRUMENTS_TABLE, QUOTE_CONTEXTS_TABLE, QUOTES_TABLE, SNAPSHOTS_TABLE, type HistoryDatabase, type SnapshotTable } from "./schema.js";

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
   * writes through statements prepared once and reused (quote rows 100 to a statement), in one pass over
   * the chain — measured at 2–3× less CPU per row than building each multi-row INSERT through kysely,
   * which SQLite must parse every time. It runs on the same connection, inside the same transaction kysely
   * holds. Without it, multi-row INSERTs go through kysely.
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

/** The slice of better-sqlite3 the SQLite write path touches. */
export interface NativeStatementSource {
  prepare(sql: string): { run(parameters: unknown[]): { lastInsertRowid: number | bigint }; all(parameters: unknown[]): unknown[] };
}

const DAY_MS = 86_400_000;
/** PostgreSQL: quote rows per INSERT … SELECT FROM unnest(column arrays). */
const POSTGRES_ROWS_PER_UNNEST = 10_000;
/** Instruments looked up per statement by symbol. */
const LOOKUP_CHUNK = 500;
/**
 * PostgreSQL: appends that add instruments take this transaction-scoped advisory lock first, so two
 * runners appending the same new contract at once add it once (the second finds the first's row).
 */
const INSTRUMENT_LOCK_KEY = 7_201_160_001;
/** Snapshots deleted per statement by retention (well inside every dialect's parameter limit). */
const DELETE_CHUNK = 500;

type Db = Kysely<HistoryDatabase>;

/** A stored instrument: its values in INSTRUMENT_FIELDS order and its id. Kept by symbol. */
interface KnownInstrument {
  values: unknown[];
  id: number;
}
type InstrumentsBySymbol = Map<string, KnownInstrument[]>;
/** What an append learned about stored instruments, kept by the handle only once the append commits. */
interface Learned {
  instruments: InstrumentsBySymbol;
  primed: Set<string>;
  /** The instruments of the chain, by position (native path). */
  order?: KnownInstrument[];
}

export function createKyselyChainHistory(options: KyselyChainHistoryOptions): ChainHistory {
  return new KyselyChainHistory(options);
}

export class KyselyChainHistory implements ChainHistory {
  readonly location: string;
  readonly retention?: HistoryRetention;
  private readonly db: Db;
  private readonly traits: DialectTraits;
  private readonly rowsPerInsert: number;
  private readonly maxParameters: number;
  private readonly pageSize: number;
  private readonly insertSqlByRows = new Map<number, string>();
  private nativeStatements: NativeStatements | null = null;
  /** Prepared quote INSERTs for the rows left after the last full batch, by row count. */
  private readonly nativeTailInserts = new Map<number, NativeStatement>();
  /**
   * Instruments this handle has seen committed. Rows of the instruments table are never updated or
   * deleted (retention keeps them), so a remembered id stays right; a miss is looked up in the table.
   */
  private readonly knownInstruments: InstrumentsBySymbol = new Map();
  /** Products whose latest snapshot's instruments this handle has loaded (see resolveInstruments). */
  private readonly primedProducts = new Set<string>();
  /** The instruments of the last chain this handle appended, by position (tried first: see writeContractsNatively). */
  private lastChainOrder: KnownInstrument[] = [];
  private closed = false;

  constructor(private readonly options: KyselyChainHistoryOptions) {
    this.db = options.db;
    this.traits = dialectTraits(options.dialect);
    this.location = options.location;
    if (options.retention) this.retention = options.retention;
    const maxParameters = options.maxBindParameters ?? this.traits.maxBindParameters;
    this.maxParameters = maxParameters;
    this.rowsPerInsert = Math.floor(maxParameters / QUOTE_COLUMNS.length);
    const widest = Math.max(QUOTE_COLUMNS.length, CONTEXT_COLUMNS.length, INSTRUMENT_FIELDS.length);
    if (!(maxParameters >= widest)) {
      throw new TypeError(`maxBindParameters must be at least ${widest} (one row of the widest history table), got ${String(options.maxBindParameters)}`);
    }
    this.pageSize = options.pageSize ?? 5000;
  }

  async append(input: HistoryAppend): Promise<HistorySnapshot> {
    this.assertWritable("append to");
    const snapshot = snapshotRow(input, this.traits);
    const chain = input.chain;
    const native = this.traits.name === "sqlite" ? this.options.sqliteDatabase : undefined;
    // The native path checks each contract as it writes it (one pass over a chain that does not fit in the
    // CPU's caches); a bad contract then rolls the transaction back, so nothing is stored either way.
    if (!native) chain.contracts.forEach((contract, index) => checkContract(contract, index));
    const provenance: SnapshotProvenance = {
      source: chain.metadata.source,
      asOf: chain.metadata.asOf,
      fetchedAt: chain.metadata.fetchedAt,
      delayed: chain.metadata.delayed,
      sample: chain.metadata.sample,
    };
    const learned: Learned = { instruments: new Map(), primed: new Set() };
    const id = await this.writeTransaction(async (trx) => {
      const inserted = await trx.insertInto(SNAPSHOTS_TABLE).values(snapshot).returning("id").executeTakeFirstOrThrow();
      const snapshotId = String(inserted.id);
      if (native) {
        await this.primeFor(trx, chain.contracts, learned);
        this.writeContractsNatively(native, chain.contracts, Number(snapshotId), provenance, learned);
      } else {
        const instrumentIds = await this.resolveInstruments(trx, chain.contracts, learned);
        await this.insertQuotes(trx, chain.contracts, Number(snapshotId), instrumentIds, provenance);
      }
      await this.options.beforeCommit?.(snapshotId);
      return snapshotId;
    });
    // Only now: what a transaction that rolled back added or loaded is not known to exist.
    for (const list of learned.instruments.values()) for (const entry of list) rememberInstrument(this.knownInstruments, entry.values, entry.id);
    for (const product of learned.primed) this.primedProducts.add(product);
    if (learned.order) this.lastChainOrder = learned.order;
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
    let select = this.joinedQuotes(query)
      .select(["q.snapshot_id", "s.as_of", "x.open_interest_date", "i.strike", "i.option_right", "q.open_interest"])
      .where("i.expiration", "=", query.expiration);
    if (query.right !== undefined) {
      if (query.right !== "call" && query.right !== "put") throw new TypeError(`right must be "call" or "put", got ${JSON.stringify(query.right)}`);
      select = select.where("i.option_right", "=", query.right === "call" ? "C" : "P");
    }
    const rows = await select.orderBy("s.as_of_ms").orderBy("s.id").orderBy("i.strike").orderBy("i.option_right").orderBy("q.ordinal").execute();
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
    const rows = await this.joinedQuotes(query)
      .select(["q.snapshot_id", "s.as_of", "x.settlement_date", "q.settlement"])
      .where("i.symbol", "=", query.symbol)
      .orderBy("s.as_of_ms")
      .orderBy("s.id")
      .orderBy("q.ordinal")
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
        await trx.deleteFrom(QUOTES_TABLE).where("snapshot_id", "in", chunk).execute();
        await trx.deleteFrom(QUOTE_CONTEXTS_TABLE).where("snapshot_id", "in", chunk).execute();
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
    return inProcessWriteTurn(this.options.writeLockKey ?? this.location, () => sqliteImmediateTransaction(this.db, run));
  }

  /**
   * The instrument id of every contract, adding the instruments the table does not hold yet. Ids this
   * handle remembers cost no query; the rest are looked up by symbol and compared on every instrument
   * field (NULLs equal), and what is still missing is inserted. What it learns goes into `learned`, which
   * the handle keeps only after COMMIT.
   */
  private async resolveInstruments(trx: Db, contracts: OptionContract[], learned: Learned): Promise<number[]> {
    const added = learned.instruments;
    const ids = new Array<number>(contracts.length);
    let unresolved: number[] = [];
    for (let i = 0; i < contracts.length; i += 1) {
      const id = findInstrument(this.knownInstruments, contracts[i]!);
      if (id === undefined) unresolved.push(i);
      else ids[i] = id;
    }
    if (unresolved.length === 0) return ids;
    if (await this.primeFor(trx, unresolved.map((i) => contracts[i]!), learned)) {
      const still: number[] = [];
      for (const i of unresolved) {
        const id = findInstrument(added, contracts[i]!);
        if (id === undefined) still.push(i);
        else ids[i] = id;
      }
      unresolved = still;
      if (unresolved.length === 0) return ids;
    }
    if (this.traits.name === "postgres") await sql`select pg_advisory_xact_lock(${INSTRUMENT_LOCK_KEY})`.execute(trx);

    const symbols = [...new Set(unresolved.map((i) => contracts[i]!.symbol))];
    const columns = INSTRUMENT_FIELDS.map((f) => f.column);
    for (let start = 0; start < symbols.length; start += LOOKUP_CHUNK) {
      const rows = await trx.selectFrom(INSTRUMENTS_TABLE).select(["id", ...columns]).where("symbol", "in", symbols.slice(start, start + LOOKUP_CHUNK)).execute();
      for (const row of rows) rememberInstrument(added, storedInstrumentValues(row as Record<string, unknown>), Number(row.id));
    }

    const missing: unknown[][] = [];
    const missingBySymbol = new Map<string, unknown[][]>();
    for (const i of unresolved) {
      const contract = contracts[i]!;
      if (findInstrument(added, contract) !== undefined) continue;
      const values = instrumentValues(contract);
      const sameSymbol = missingBySymbol.get(contract.symbol) ?? [];
      if (sameSymbol.some((other) => sameValues(other, values))) continue;
      sameSymbol.push(values);
      missingBySymbol.set(contract.symbol, sameSymbol);
      missing.push(values);
    }
    const perStatement = Math.floor(this.maxParameters / columns.length);
    for (let start = 0; start < missing.length; start += perStatement) {
      const batch = missing.slice(start, start + perStatement);
      const rows = await trx
        .insertInto(INSTRUMENTS_TABLE)
        .values(batch.map((values) => Object.fromEntries(columns.map((column, c) => [column, values[c]])) as never))
        .returning(["id", ...columns])
        .execute();
      // Matched by value, not by position: RETURNING's row order is not promised.
      for (const row of rows) rememberInstrument(added, storedInstrumentValues(row as Record<string, unknown>), Number(row.id));
    }

    for (const i of unresolved) {
      const id = findInstrument(added, contracts[i]!);
      if (id === undefined) throw new Error(`history: instrument of contract #${i + 1} (${contracts[i]!.symbol}) was written but not found again; nothing was stored`);
      ids[i] = id;
    }
    return ids;
  }

  /** The instruments of the latest snapshot of `product`, into `added` (remembered once the append commits). */
  private async primeInstruments(trx: Db, product: string, added: InstrumentsBySymbol): Promise<void> {
    const columns = INSTRUMENT_FIELDS.map((f) => f.column);
    const latest = trx.selectFrom(SNAPSHOTS_TABLE).select((eb) => eb.fn.max("id").as("id")).where("product", "=", product);
    const used = trx.selectFrom(QUOTES_TABLE).select("instrument_id").where("snapshot_id", "=", latest);
    const rows = await trx.selectFrom(INSTRUMENTS_TABLE).select(["id", ...columns]).where("id", "in", used).execute();
    for (const row of rows) rememberInstrument(added, storedInstrumentValues(row as Record<string, unknown>), Number(row.id));
  }

  /**
   * A new handle (a runner's one append per process) knows no instrument ids: one query loads the
   * instruments the product's latest snapshot held — usually nearly all of today's — instead of a lookup
   * per contract. Once per product per handle; says whether it loaded.
   */
  private async primeFor(trx: Db, contracts: OptionContract[], learned: Learned): Promise<boolean> {
    const first = contracts[0];
    const product = typeof first === "object" && first !== null ? first.product : undefined;
    if (typeof product !== "string" || typeof first!.symbol !== "string" || this.primedProducts.has(product) || learned.primed.has(product)) return false;
    if (findInstrument(this.knownInstruments, first!) !== undefined) return false;
    await this.primeInstruments(trx, product, learned.instruments);
    learned.primed.add(product);
    return true;
  }

  private nativeQuoteInsert(native: NativeStatementSource, rows: number): NativeStatement {
    let statement = this.nativeTailInserts.get(rows);
    if (!statement) {
      statement = native.prepare(quoteInsertSql(rows));
      this.nativeTailInserts.set(rows, statement);
    }
    return statement;
  }

  /**
   * SQLite with the native handle: one pass over the chain, each contract checked, given its instrument id,
   * its context and its quote row, all through prepared statements on the connection kysely's transaction
   * holds. An instrument this handle does not know is looked up by the symbol index (named: without
   * statistics SQLite picks the expiration index, a thousand rows per probe), every field compared with IS
   * (NULLs equal), and inserted when it is not there.
   */
  private writeContractsNatively(native: NativeStatementSource, contracts: OptionContract[], snapshotId: number, provenance: SnapshotProvenance, learned: Learned): void {
    const statements = (this.nativeStatements ??= prepareNativeStatements(native));
    const added = learned.instruments;
    const lastTime = this.lastChainOrder;
    const order = (learned.order = new Array<KnownInstrument>(contracts.length));
    const contexts = new ContextNumbering(provenance, this.traits);
    const values: unknown[] = [];
    const place = { snapshotId, ordinal: 0, instrumentId: 0, contextNo: 0 };
    for (let i = 0; i < contracts.length; i += 1) {
      const contract = contracts[i]!;
      checkContract(contract, i);
      // A source lists its chain in the same order day after day: the instrument at this position last time
      // is tried first, which costs a comparison instead of hashing the symbol.
      const atThisPlace = lastTime[i];
      let entry =
        atThisPlace !== undefined && isInstrumentOf(atThisPlace.values, contract)
          ? atThisPlace
          : (findInstrumentEntry(this.knownInstruments, contract) ?? findInstrumentEntry(added, contract));
      if (entry === undefined) {
        const instrument = instrumentValues(contract);
        const found = statements.findInstrument.all(instrument)[0] as { id: number | bigint } | undefined;
        entry = rememberInstrument(added, instrument, Number(found ? found.id : statements.insertInstrument.run(instrument).lastInsertRowid));
      }
      order[i] = entry;
      const contextNo = contexts.numberOf(contract);
      if (contexts.newValues) statements.insertContext.run([snapshotId, contextNo, ...contexts.newValues]);
      place.ordinal = i;
      place.instrumentId = entry.id;
      place.contextNo = contextNo;
      pushQuoteValues(values, contract, place);
      if (values.length === QUOTES_PER_NATIVE_INSERT * QUOTE_COLUMNS.length) {
        statements.insertQuotes.run(values);
        values.length = 0;
      }
    }
    if (values.length > 0) this.nativeQuoteInsert(native, values.length / QUOTE_COLUMNS.length).run(values);
  }

  /** The snapshot's quote contexts (see ContextNumbering) and its quote rows. */
  private async insertQuotes(trx: Db, contracts: OptionContract[], snapshotId: number, instrumentIds: number[], provenance: SnapshotProvenance): Promise<void> {
    const numbering = new ContextNumbering(provenance, this.traits);
    const contexts: unknown[][] = [];
    const contextNos = new Array<number>(contracts.length);
    for (let i = 0; i < contracts.length; i += 1) {
      contextNos[i] = numbering.numberOf(contracts[i]!);
      if (numbering.newValues) contexts.push(numbering.newValues);
    }
    const contextColumns = CONTEXT_COLUMNS.map((c) => c.column);
    const contextsPerStatement = Math.floor(this.maxParameters / contextColumns.length);
    for (let start = 0; start < contexts.length; start += contextsPerStatement) {
      const rows = contexts.slice(start, start + contextsPerStatement).map((values, k) => {
        const row: Record<string, unknown> = { snapshot_id: snapshotId, context_no: start + k };
        values.forEach((value, c) => (row[contextColumns[c + 2]!] = value));
        return row;
      });
      await trx.insertInto(QUOTE_CONTEXTS_TABLE).values(rows as never).execute();
    }

    const place = { snapshotId, ordinal: 0, instrumentId: 0, contextNo: 0 };
    if (this.traits.name === "postgres") {
      // One array per column, unnested by the server: a statement of 19 parameters whatever the row count,
      // instead of a VALUES list of up to 65 535 that the server parses for every batch.
      const row: unknown[] = [];
      for (let start = 0; start < contracts.length; start += POSTGRES_ROWS_PER_UNNEST) {
        const end = Math.min(contracts.length, start + POSTGRES_ROWS_PER_UNNEST);
        const columns = QUOTE_COLUMNS.map(() => new Array<unknown>(end - start));
        for (let i = start; i < end; i += 1) {
          place.ordinal = i;
          place.instrumentId = instrumentIds[i]!;
          place.contextNo = contextNos[i]!;
          row.length = 0;
          pushQuoteValues(row, contracts[i]!, place);
          for (let c = 0; c < row.length; c += 1) columns[c]![i - start] = row[c];
        }
        await trx.executeQuery(CompiledQuery.raw(this.unnestInsertSql(), columns));
      }
      return;
    }
    for (let start = 0; start < contracts.length; start += this.rowsPerInsert) {
      const end = Math.min(contracts.length, start + this.rowsPerInsert);
      const values: unknown[] = [];
      for (let i = start; i < end; i += 1) {
        place.ordinal = i;
        place.instrumentId = instrumentIds[i]!;
        place.contextNo = contextNos[i]!;
        pushQuoteValues(values, contracts[i]!, place);
      }
      await trx.executeQuery(CompiledQuery.raw(this.insertSql(end - start), values));
    }
  }

  private unnestInsertSql(): string {
    const names = QUOTE_COLUMNS.map(({ column }) => `"${column}"`).join(", ");
    const arrays = QUOTE_COLUMNS.map(({ kind }, c) => `${this.traits.placeholder(c + 1)}::${this.traits.columnType(kind)}[]`).join(", ");
    return `insert into "${QUOTES_TABLE}" (${names}) select * from unnest(${arrays})`;
  }

  /**
   * SQLite without the native handle: multi-row INSERTs of quote rows as raw SQL, built once per row count
   * (the query builder would rebuild a node per value). PostgreSQL goes through unnestInsertSql instead.
   */
  private insertSql(rows: number): string {
    let text = this.insertSqlByRows.get(rows);
    if (!text) this.insertSqlByRows.set(rows, (text = quoteInsertSql(rows)));
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
   * Snapshots joined to the instruments asked about and their quotes, in that order: the as-of range and
   * profile select the snapshots by their index, the symbol or expiration selects instruments by theirs,
   * and each (snapshot, instrument) pair is one probe of the quotes' (snapshot_id, instrument_id) index;
   * the context is one primary-key lookup. CROSS JOIN fixes that order on SQLite (its documented rule: the
   * left table is the outer loop), which without statistics it could otherwise get wrong; PostgreSQL plans
   * it as an inner join.
   */
  private joinedQuotes(filter: { profile?: string; source?: string; from?: string; to?: string }) {
    let query = this.db
      .selectFrom(`${SNAPSHOTS_TABLE} as s`)
      .crossJoin(`${INSTRUMENTS_TABLE} as i`)
      .crossJoin(`${QUOTES_TABLE} as q`)
      .crossJoin(`${QUOTE_CONTEXTS_TABLE} as x`)
      .whereRef("q.snapshot_id", "=", "s.id")
      .whereRef("q.instrument_id", "=", "i.id")
      .whereRef("x.snapshot_id", "=", "q.snapshot_id")
      .whereRef("x.context_no", "=", "q.context_no");
    if (filter.profile !== undefined) query = query.where("s.profile", "=", filter.profile);
    if (filter.source !== undefined) query = query.where("s.source", "=", filter.source);
    if (filter.from !== undefined) query = query.where("s.as_of_ms", ">=", instant(filter.from, "from"));
    if (filter.to !== undefined) query = query.where("s.as_of_ms", "<", instant(filter.to, "to"));
    return query;
  }

  /**
   * One snapshot's contracts in chain order, as the view's rows. Unfiltered: page by page, by ordinal
   * (keyset on the quotes' primary key). With a symbol or an expiration: one query (the instruments' index,
   * then the quotes' (snapshot_id, instrument_id)); one snapshot's rows for one expiration are a bounded set.
   */
  private async *contractPages(snapshot: HistorySnapshot, filter: { symbol?: string; expiration?: string }): AsyncIterable<OptionContract[]> {
    const provenance: SnapshotProvenance = { source: snapshot.source, asOf: snapshot.asOf, fetchedAt: snapshot.fetchedAt, delayed: snapshot.delayed, sample: snapshot.sample };
    const toContracts = (rows: unknown[]) => rows.map((row) => contractFromRow(row as ContractRow, provenance));
    const snapshotId = Number(snapshot.id);
    if (filter.symbol !== undefined || filter.expiration !== undefined) {
      // Instruments outer (CROSS JOIN fixes SQLite's order): the symbol or expiration index, then one probe
      // of (snapshot_id, instrument_id) each, instead of the snapshot's every quote.
      let query = this.db
        .selectFrom(`${INSTRUMENTS_TABLE} as i`)
        .crossJoin(`${QUOTES_TABLE} as q`)
        .crossJoin(`${QUOTE_CONTEXTS_TABLE} as x`)
        .whereRef("q.instrument_id", "=", "i.id")
        .where("q.snapshot_id", "=", snapshotId)
        .whereRef("x.snapshot_id", "=", "q.snapshot_id")
        .whereRef("x.context_no", "=", "q.context_no");
      if (filter.symbol !== undefined) query = query.where("i.symbol", "=", filter.symbol);
      if (filter.expiration !== undefined) query = query.where("i.expiration", "=", filter.expiration);
      this.assertOpen("read");
      const rows = await query.select(CONTRACT_SELECTION).orderBy("q.ordinal").execute();
      if (rows.length > 0) yield toContracts(rows);
      return;
    }
    const page = (after: number) =>
      this.db
        .selectFrom(`${QUOTES_TABLE} as q`)
        .crossJoin(`${INSTRUMENTS_TABLE} as i`)
        .crossJoin(`${QUOTE_CONTEXTS_TABLE} as x`)
        .where("q.snapshot_id", "=", snapshotId)
        .where("q.ordinal", ">", after)
        .whereRef("i.id", "=", "q.instrument_id")
        .whereRef("x.snapshot_id", "=", "q.snapshot_id")
        .whereRef("x.context_no", "=", "q.context_no")
        .select(CONTRACT_SELECTION)
        .orderBy("q.ordinal")
        .limit(this.pageSize);
    let after = -1;
    for (;;) {
      this.assertOpen("read");
      const rows = await page(after).execute();
      if (rows.length > 0) yield toContracts(rows);
      if (rows.length < this.pageSize) return;
      after = Number((rows[rows.length - 1] as { ordinal: number | string }).ordinal);
    }
  }
}

type SnapshotRow = { [K in keyof SnapshotTable]: unknown } & { id: number | string };

/** The view's columns but the snapshot's, from the tables aliased q, i and x. */
const CONTRACT_SELECTION = VIEW_COLUMNS.filter(({ from }) => from !== "s").map(({ column, from }) => `${from}.${column}`) as never[];

/**
 * Numbers a snapshot's quote contexts 0, 1, … as first met in chain order. Neighbouring contracts usually
 * share one, so the last context is compared first, field by field, before building and hashing a key.
 */
class ContextNumbering {
  private readonly contexts: unknown[][] = [];
  private readonly numbers = new Map<string, number>();
  private previous = -1;

  constructor(
    private readonly snapshot: SnapshotProvenance,
    private readonly traits: DialectTraits,
  ) {}

  /** The values of the context the last `numberOf` call met for the first time, else null (to be written). */
  newValues: unknown[] | null = null;

  /** The contract's context number (no object per call: this runs once per contract). */
  numberOf(contract: OptionContract): number {
    this.newValues = null;
    if (this.previous >= 0 && isContextOf(this.contexts[this.previous]!, contract, this.snapshot, this.traits)) return this.previous;
    const values = contextValues(contract, this.snapshot, this.traits);
    const key = JSON.stringify(values);
    let no = this.numbers.get(key);
    if (no === undefined) {
      no = this.contexts.length;
      this.contexts.push(values);
      this.numbers.set(key, no);
      this.newValues = values;
    }
    this.previous = no;
    return no;
  }
}

type NativeStatement = ReturnType<NativeStatementSource["prepare"]>;
interface NativeStatements {
  findInstrument: NativeStatement;
  insertInstrument: NativeStatement;
  insertContext: NativeStatement;
  /** QUOTES_PER_NATIVE_INSERT rows a statement. */
  insertQuotes: NativeStatement;
}

/**
 * Quote rows per prepared INSERT on SQLite's native path. One statement execution per row costs a call into
 * the driver, a VDBE start and a reset; batching 100 rows measured ~1.4× the rows per CPU-second of one row
 * a statement (the parse happens once, at prepare).
 */
const QUOTES_PER_NATIVE_INSERT = 100;

function quoteInsertSql(rows: number): string {
  const tuple = `(${QUOTE_COLUMNS.map(() => "?").join(", ")})`;
  return `insert into "${QUOTES_TABLE}" (${QUOTE_COLUMNS.map(({ column }) => `"${column}"`).join(", ")}) values ${Array.from({ length: rows }, () => tuple).join(", ")}`;
}

function prepareNativeStatements(native: NativeStatementSource): NativeStatements {
  const quoted = (columns: readonly { column: string }[]) => columns.map(({ column }) => `"${column}"`);
  const marks = (n: number) => Array.from({ length: n }, () => "?").join(", ");
  const instrument = quoted(INSTRUMENT_FIELDS);
  return {
    findInstrument: native.prepare(
      `select "id" from "${INSTRUMENTS_TABLE}" indexed by "nq_history_instruments_symbol" where ${instrument.map((c, k) => (k === 0 ? `${c} = ?` : `${c} is ?`)).join(" and ")} limit 1`,
    ),
    insertInstrument: native.prepare(`insert into "${INSTRUMENTS_TABLE}" (${instrument.join(", ")}) values (${marks(instrument.length)})`),
    insertContext: native.prepare(`insert into "${QUOTE_CONTEXTS_TABLE}" (${quoted(CONTEXT_COLUMNS).join(", ")}) values (${marks(CONTEXT_COLUMNS.length)})`),
    insertQuotes: native.prepare(quoteInsertSql(QUOTES_PER_NATIVE_INSERT)),
  };
}

function findInstrument(known: InstrumentsBySymbol, contract: OptionContract): number | undefined {
  return findInstrumentEntry(known, contract)?.id;
}

function findInstrumentEntry(known: InstrumentsBySymbol, contract: OptionContract): KnownInstrument | undefined {
  const list = known.get(contract.symbol);
  if (list) for (const entry of list) if (isInstrumentOf(entry.values, contract)) return entry;
  return undefined;
}

function rememberInstrument(known: InstrumentsBySymbol, values: unknown[], id: number): KnownInstrument {
  const symbol = values[0] as string;
  const list = known.get(symbol);
  const entry = { values, id };
  if (!list) known.set(symbol, [entry]);
  else return list.find((other) => other.id === id) ?? (list.push(entry), entry);
  return entry;
}

/** An instruments row's values as a contract holds them (numbers as numbers: pg may give text for some types). */
function storedInstrumentValues(row: Record<string, unknown>): unknown[] {
  return INSTRUMENT_FIELDS.map(({ column, type }) => {
    const value = row[column];
    return value === null || value === undefined ? null : type === "number" ? Number(value) : value;
  });
}

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
function snapshotRow(input: HistoryAppend, traits: DialectTraits): Insertable<SnapshotTable> {
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
