/**
 * The history schema, as kysely migrations kept in code (a bundled package carries them), one set per
 * dialect with the same tables and indexes. Kept in their own migration tables (`nq_history_migration`),
 * so history can share a database with the cache, whose migrations kysely tracks in `kysely_migration`.
 * Append new migrations; never edit a shipped one.
 *
 * The indexes serve the canned questions, led by the snapshot: a question over time walks the matching
 * snapshots by as-of (`(as_of_ms, id)`, `(profile, as_of_ms)`) and probes each one's contracts by
 * `(snapshot_id, symbol)` (one contract over time) or `(snapshot_id, expiration)` (open interest by strike
 * for one expiry); the primary key `(snapshot_id, ordinal)` reads a snapshot back in order and deletes it.
 * Led by the snapshot, every index grows at its end as snapshots are appended: an index led by the symbol
 * instead takes each new contract row into another page (one dirty page per row, written to the WAL and
 * again at checkpoint), which made appends to a large history several times slower.
 */
import { type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { CONTRACT_COLUMNS } from "./contract-rows.js";
import { dialectTraits, type HistoryDialect } from "./dialect.js";
import { CONTRACTS_TABLE, SNAPSHOTS_TABLE } from "./schema.js";

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

      let contracts: CreateTableBuilder<string, string> = db.schema.createTable(CONTRACTS_TABLE);
      for (const { column, kind, notNull } of CONTRACT_COLUMNS) {
        contracts = contracts.addColumn(column, traits.columnType(kind), (c) => (notNull ? c.notNull() : c));
      }
      contracts = contracts
        .addPrimaryKeyConstraint("nq_history_contracts_pk", ["snapshot_id", "ordinal"])
        .addForeignKeyConstraint("nq_history_contracts_snapshot_fk", ["snapshot_id"], SNAPSHOTS_TABLE, ["id"]);
      await contracts.execute();
      await db.schema.createIndex("nq_history_contracts_snapshot_symbol").on(CONTRACTS_TABLE).columns(["snapshot_id", "symbol", "ordinal"]).execute();
      await db.schema.createIndex("nq_history_contracts_snapshot_expiration").on(CONTRACTS_TABLE).columns(["snapshot_id", "expiration", "ordinal"]).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable(CONTRACTS_TABLE).execute();
      await db.schema.dropTable(SNAPSHOTS_TABLE).execute();
    },
  };
}

/** The migrations for one dialect, for kysely's Migrator (use the table names below, or `migrateHistory`). */
export function historyMigrations(dialect: HistoryDialect): MigrationProvider {
  const migrations: Record<string, Migration> = {
    "0001-history-snapshots-and-contracts": createSnapshotsAndContracts(dialect),
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
  await db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      await run(connection, true);
      await sql`commit`.execute(connection);
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => {});
      throw error;
    }
  });
}
