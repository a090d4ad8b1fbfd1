/**
 * The history schema, as kysely migrations kept in code (a bundled package carries them), one set per
 * dialect with the same tables and indexes. Kept in their own migration tables (`nq_history_migration`),
 * so history can share a database with the cache, whose migrations kysely tracks in `kysely_migration`.
 * Append new migrations; never edit a shipped one.
 *
 * The indexes serve the canned questions, led by the snapshot: a question over time walks the matching
 * snapshots by as-of (`(as_of_ms, id)`, `(profile, as_of_ms)`), finds the instruments asked about (by
 * `symbol` or `expiration`, a small table) and probes each snapshot's quotes by `(snapshot_id,
 * instrument_id)`; the primary key `(snapshot_id, ordinal)` reads a snapshot back in order and deletes it.
 * Led by the snapshot, every quote index grows at its end as snapshots are appended: an index led by the
 * symbol instead takes each new contract row into another page (one dirty page per row, written to the WAL
 * and again at checkpoint), which made appends to a large history several times slower.
 */
import { type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { CONTEXT_COLUMNS, CONTEXT_FIELDS, INSTRUMENT_FIELDS, PROVENANCE_COLUMNS, QUOTE_COLUMNS, QUOTE_FIELDS, VIEW_COLUMNS } from "./contract-rows.js";
import { type ColumnKind, dialectTraits, type HistoryDialect } from "./dialect.js";
import { sqliteImmediateTransaction } from "./sqlite-transaction.js";
import { CONTRACTS_VIEW, INSTRUMENTS_TABLE, QUOTE_CONTEXTS_TABLE, QUOTES_TABLE, SNAPSHOTS_TABLE } from "./schema.js";

export const HISTORY_MIGRATION_TABLE = "nq_history_migration";
export const HISTORY_MIGRATION_LOCK_TABLE = "nq_history_migration_lock";

const SNAPSHOT_COLUMNS: [string, "text" | "double" | "bigint" | "boolean", boolean][] = [
  ["profile", "text", true],
  ["source", "text", true],
  ["product", "text", true],
  ["as_of", "text", true],
  ["as_of_ms", "bigint", true],
  ["fetched_at", "text", true],
  ["recorded_at", "text", true],
  ["cache_status", "text", true],
  ["delayed", "boolean", true],
  ["sample", "boolean", true],
  ["complete", "boolean", true],
  ["proxy", "boolean", true],
  ["proxy_json", "text", false],
  ["spend_usd", "double", true],
  ["contract_count", "bigint", true],
  ["analytics_rate", "double", false],
  ["as_of_reason", "text", false],
  ["rows_received", "double", true],
  ["valid_contracts", "double", true],
  ["invalid_rows", "double", true],
  ["duplicate_rows", "double", true],
  ["conflicting_duplicates", "double", true],
  ["filtered_rows", "double", true],
  ["missing_bid_ask_share", "double", true],
  ["crossed_quotes", "double", true],
  ["zero_open_interest_share", "double", true],
  ["missing_open_interest_share", "double", true],
  ["stale_quotes", "double", true],
  ["future_quote_times", "double", true],
  ["quality_json", "text", true],
  ["incomplete_reasons_json", "text", true],
  ["warnings_json", "text", true],
];

/** The contracts table as migration 0001 created it (one wide row per contract); 0002 splits it. Frozen. */
const V1_CONTRACTS_TABLE = "nq_history_contracts";
const V1_CONTRACT_COLUMNS: [string, ColumnKind, boolean][] = [
  ["snapshot_id", "bigint", true],
  ["ordinal", "integer", true],
  ["as_of_ms", "bigint", true],
  ["symbol", "text", true],
  ["raw_symbol", "text", false],
  ["underlying", "text", true],
  ["underlying_price", "double", false],
  ["underlying_price_basis", "text", false],
  ["underlying_price_time", "text", false],
  ["product", "text", true],
  ["root", "text", true],
  ["expiration", "text", true],
  ["expiration_time", "text", false],
  ["strike", "double", true],
  ["option_right", "text", true],
  ...["bid", "ask", "bid_size", "ask_size", "last", "volume", "cleared_volume"].map((c): [string, ColumnKind, boolean] => [c, "double", false]),
  ["cleared_volume_date", "text", false],
  ["open_interest", "double", false],
  ["open_interest_date", "text", false],
  ["settlement", "double", false],
  ["settlement_date", "text", false],
  ["implied_volatility", "double", false],
  ["iv_basis", "text", false],
  ...["delta", "gamma", "theta", "vega"].map((c): [string, ColumnKind, boolean] => [c, "double", false]),
  ["greeks_source", "text", false],
  ["multiplier", "double", true],
  ["quote_time", "text", false],
  ["raw_strike", "text", false],
  ["provenance_source", "text", false],
  ["provenance_as_of", "text", false],
  ["provenance_fetched_at", "text", false],
  ["provenance_delayed", "boolean", false],
  ["provenance_sample", "boolean", false],
];

function createSnapshotsAndContracts(dialect: HistoryDialect): Migration {
  const traits = dialectTraits(dialect);
  return {
    async up(db: Kysely<any>) {
      let snapshots: CreateTableBuilder<string, string> = db.schema.createTable(SNAPSHOTS_TABLE);
      snapshots =
        dialect === "sqlite"
          ? snapshots.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
          : snapshots.addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity());
      for (const [name, kind, notNull] of SNAPSHOT_COLUMNS) {
        snapshots = snapshots.addColumn(name, traits.columnType(kind), (c) => (notNull ? c.notNull() : c));
      }
      await snapshots.execute();
      await db.schema.createIndex("nq_history_snapshots_as_of").on(SNAPSHOTS_TABLE).column("as_of_ms").column("id").execute();
      await db.schema.createIndex("nq_history_snapshots_profile_as_of").on(SNAPSHOTS_TABLE).column("profile").column("as_of_ms").execute();

      let contracts: CreateTableBuilder<string, string> = db.schema.createTable(V1_CONTRACTS_TABLE);
      for (const [column, kind, notNull] of V1_CONTRACT_COLUMNS) {
        contracts = contracts.addColumn(column, traits.columnType(kind), (c) => (notNull ? c.notNull() : c));
      }
      contracts = contracts
        .addPrimaryKeyConstraint("nq_history_contracts_pk", ["snapshot_id", "ordinal"])
        .addForeignKeyConstraint("nq_history_contracts_snapshot_fk", ["snapshot_id"], SNAPSHOTS_TABLE, ["id"]);
      await contracts.execute();
      await db.schema.createIndex("nq_history_contracts_snapshot_symbol").on(V1_CONTRACTS_TABLE).columns(["snapshot_id", "symbol", "ordinal"]).execute();
      await db.schema.createIndex("nq_history_contracts_snapshot_expiration").on(V1_CONTRACTS_TABLE).columns(["snapshot_id", "expiration", "ordinal"]).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable(V1_CONTRACTS_TABLE).execute();
      await db.schema.dropTable(SNAPSHOTS_TABLE).execute();
    },
  };
}

/**
 * 0002: the wide contracts table becomes instruments + quote contexts + quotes (see contract-rows.ts for
 * why), and `nq_history_contracts` becomes a view with the same columns, so plain SQL written against the
 * table keeps working. Rows already stored are carried over in the same transaction: instruments and
 * contexts are the distinct tuples (NULLs compared as equal), quotes point at them.
 */
function splitContracts(dialect: HistoryDialect): Migration {
  const traits = dialectTraits(dialect);
  // NULL-safe equality: two unknowns are the same instrument or context.
  const same = dialect === "sqlite" ? "is" : "is not distinct from";
  return {
    async up(db: Kysely<any>) {
      let instruments: CreateTableBuilder<string, string> = db.schema.createTable(INSTRUMENTS_TABLE);
      instruments =
        dialect === "sqlite"
          ? instruments.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
          : instruments.addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity());
      for (const { column, kind, notNull } of INSTRUMENT_FIELDS) instruments = instruments.addColumn(column, traits.columnType(kind), (c) => (notNull ? c.notNull() : c));
      await instruments.execute();
      await db.schema.createIndex("nq_history_instruments_symbol").on(INSTRUMENTS_TABLE).column("symbol").execute();
      await db.schema.createIndex("nq_history_instruments_expiration").on(INSTRUMENTS_TABLE).column("expiration").execute();

      let contexts: CreateTableBuilder<string, string> = db.schema.createTable(QUOTE_CONTEXTS_TABLE);
      for (const { column, kind, notNull } of CONTEXT_COLUMNS) contexts = contexts.addColumn(column, traits.columnType(kind), (c) => (notNull ? c.notNull() : c));
      await contexts
        .addPrimaryKeyConstraint("nq_history_quote_contexts_pk", ["snapshot_id", "context_no"])
        .addForeignKeyConstraint("nq_history_quote_contexts_snapshot_fk", ["snapshot_id"], SNAPSHOTS_TABLE, ["id"])
        .execute();

      let quotes: CreateTableBuilder<string, string> = db.schema.createTable(QUOTES_TABLE);
      for (const { column, kind, notNull } of QUOTE_COLUMNS) quotes = quotes.addColumn(column, traits.columnType(kind), (c) => (notNull ? c.notNull() : c));
      await quotes
        .addPrimaryKeyConstraint("nq_history_quotes_pk", ["snapshot_id", "ordinal"])
        .addForeignKeyConstraint("nq_history_quotes_snapshot_fk", ["snapshot_id"], SNAPSHOTS_TABLE, ["id"])
        .addForeignKeyConstraint("nq_history_quotes_instrument_fk", ["instrument_id"], INSTRUMENTS_TABLE, ["id"])
        .execute();
      await db.schema.createIndex("nq_history_quotes_snapshot_instrument").on(QUOTES_TABLE).columns(["snapshot_id", "instrument_id"]).execute();

      const list = (columns: readonly { column: string }[], prefix = "") => columns.map(({ column }) => `${prefix}"${column}"`).join(", ");
      const instrumentList = list(INSTRUMENT_FIELDS);
      const contextList = list([...CONTEXT_FIELDS, ...PROVENANCE_COLUMNS]);
      const matches = (columns: readonly { column: string }[], left: string, right: string) =>
        columns.map(({ column }) => `${left}."${column}" ${same} ${right}."${column}"`).join(" and ");
      await sql.raw(`insert into "${INSTRUMENTS_TABLE}" (${instrumentList}) select distinct ${instrumentList} from "${V1_CONTRACTS_TABLE}"`).execute(db);
      await sql
        .raw(
          `insert into "${QUOTE_CONTEXTS_TABLE}" ("snapshot_id", "context_no", ${contextList}) ` +
            `select "snapshot_id", dense_rank() over (partition by "snapshot_id" order by ${contextList}) - 1, ${contextList} ` +
            `from (select distinct "snapshot_id", ${contextList} from "${V1_CONTRACTS_TABLE}") d`,
        )
        .execute(db);
      await sql
        .raw(
          `insert into "${QUOTES_TABLE}" (${list(QUOTE_COLUMNS)}) ` +
            `select c."snapshot_id", c."ordinal", i."id", x."context_no", ${list(QUOTE_FIELDS, "c.")} ` +
            `from "${V1_CONTRACTS_TABLE}" c ` +
            `join "${INSTRUMENTS_TABLE}" i on ${matches(INSTRUMENT_FIELDS, "i", "c")} ` +
            `join "${QUOTE_CONTEXTS_TABLE}" x on x."snapshot_id" = c."snapshot_id" and ${matches([...CONTEXT_FIELDS, ...PROVENANCE_COLUMNS], "x", "c")}`,
        )
        .execute(db);
      await db.schema.dropTable(V1_CONTRACTS_TABLE).execute();

      const view = db
        .selectFrom(`${QUOTES_TABLE} as q`)
        .innerJoin(`${SNAPSHOTS_TABLE} as s`, "s.id", "q.snapshot_id")
        .innerJoin(`${INSTRUMENTS_TABLE} as i`, "i.id", "q.instrument_id")
        .innerJoin(`${QUOTE_CONTEXTS_TABLE} as x`, (join) => join.onRef("x.snapshot_id", "=", "q.snapshot_id").onRef("x.context_no", "=", "q.context_no"))
        .select(VIEW_COLUMNS.map(({ column, from }) => `${from}.${column}`));
      await db.schema.createView(CONTRACTS_VIEW).as(view).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropView(CONTRACTS_VIEW).execute();
      await db.schema.dropTable(QUOTES_TABLE).execute();
      await db.schema.dropTable(QUOTE_CONTEXTS_TABLE).execute();
      await db.schema.dropTable(INSTRUMENTS_TABLE).execute();
    },
  };
}

/** The migrations for one dialect, for kysely's Migrator (use the table names below, or `migrateHistory`). */
export function historyMigrations(dialect: HistoryDialect): MigrationProvider {
  const migrations: Record<string, Migration> = {
    "0001-history-snapshots-and-contracts": createSnapshotsAndContracts(dialect),
    "0002-contracts-as-instruments-contexts-and-quotes": splitContracts(dialect),
  };
  return { getMigrations: async () => migrations };
}

/**
 * Brings the history tables to the latest version; throws with Migrator's reason when it cannot.
 * PostgreSQL: kysely's Migrator holds an advisory lock for the run, so a fleet starting together migrates
 * once. SQLite: kysely takes no lock there, so the run is one BEGIN IMMEDIATE transaction (a second
 * process waits on the busy timeout, then finds the tables).
 */
export async function migrateHistory(db: Kysely<any>, dialect: HistoryDialect): Promise<void> {
  const run = async (target: Kysely<any>, disableTransactions: boolean) => {
    const migrator = new Migrator({
      db: target,
      provider: historyMigrations(dialect),
      migrationTableName: HISTORY_MIGRATION_TABLE,
      migrationLockTableName: HISTORY_MIGRATION_LOCK_TABLE,
      disableTransactions,
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((result) => result.status === "Error")?.migrationName;
      const message = String((error as Error).message ?? error);
      throw Object.assign(new Error(failed ? `history migration "${failed}" failed: ${message}` : `history migrations failed: ${message}`), {
        cause: error,
        code: (error as { code?: unknown }).code,
      });
    }
  };
  if (dialectTraits(dialect).name === "postgres") return run(db, false);
  await sqliteImmediateTransaction(db, (connection) => run(connection, true));
}
