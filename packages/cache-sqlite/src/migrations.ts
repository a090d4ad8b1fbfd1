/**
 * The schema, created and upgraded by kysely's Migrator from migrations kept in code (not files on disk,
 * so a bundled or installed package carries them). Append new migrations; never edit a shipped one.
 *
 * Two processes may open a new file at the same moment. Kysely's SQLite adapter takes no lock of its own
 * (it assumes one connection), so the whole migration runs inside one BEGIN IMMEDIATE transaction: the
 * second process waits on the busy timeout, then finds the schema already there.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { spendLedgerMigration } from "./spend-ledger-migration.js";

const migrations: Record<string, Migration> = {
  "0001-create-cache-entries-and-counters": {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable("cache_entries")
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("request_hash", "text", (c) => c.notNull())
        .addColumn("request_json", "text", (c) => c.notNull())
        .addColumn("chain_json", "text", (c) => c.notNull())
        .addColumn("raw", "blob")
        .addColumn("raw_encoding", "text")
        .addColumn("fetched_at", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .addColumn("cost_usd", "real", (c) => c.notNull().defaultTo(0))
        .addColumn("product", "text", (c) => c.notNull())
        .addColumn("as_of", "text", (c) => c.notNull())
        .addColumn("delayed", "integer", (c) => c.notNull())
        .addColumn("sample", "integer", (c) => c.notNull())
        .addColumn("contracts", "integer", (c) => c.notNull())
        .addColumn("written_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("cache_entries_pk", ["source", "request_hash"])
        .execute();
      await db.schema.createIndex("cache_entries_expires_at").on("cache_entries").column("expires_at").execute();
      await db.schema
        .createTable("cache_counters")
        .addColumn("source", "text", (c) => c.primaryKey())
        .addColumn("hits", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("misses", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("spend_saved_usd", "real", (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("cache_counters").execute();
      await db.schema.dropTable("cache_entries").execute();
    },
  },
  /**
   * Every entry gets a checksum of its stored bytes (verified on each read) and its size (checked against
   * max_entry_bytes). Entries written before have no checksum, so nothing vouches for their bytes: they are
   * dropped (a cache may cost a re-fetch, never serve an unverified chain), and the hit/miss counters kept.
   * The table is made anew, so the new columns can be NOT NULL.
   */
  "0002-entry-checksums-and-sizes": {
    async up(db: Kysely<any>) {
      await db.schema.dropIndex("cache_entries_expires_at").execute();
      await db.schema.dropTable("cache_entries").execute();
      await db.schema
        .createTable("cache_entries")
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("request_hash", "text", (c) => c.notNull())
        .addColumn("request_json", "text", (c) => c.notNull())
        .addColumn("chain_json", "text", (c) => c.notNull())
        .addColumn("chain_sha256", "text", (c) => c.notNull())
        .addColumn("raw", "blob")
        .addColumn("raw_encoding", "text")
        .addColumn("raw_sha256", "text")
        .addColumn("entry_bytes", "integer", (c) => c.notNull())
        .addColumn("fetched_at", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .addColumn("cost_usd", "real", (c) => c.notNull().defaultTo(0))
        .addColumn("product", "text", (c) => c.notNull())
        .addColumn("as_of", "text", (c) => c.notNull())
        .addColumn("delayed", "integer", (c) => c.notNull())
        .addColumn("sample", "integer", (c) => c.notNull())
        .addColumn("contracts", "integer", (c) => c.notNull())
        .addColumn("written_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("cache_entries_pk", ["source", "request_hash"])
        .execute();
      await db.schema.createIndex("cache_entries_expires_at").on("cache_entries").column("expires_at").execute();
    },
    async down(db: Kysely<any>) {
      // Back to 0001's columns; the entries go, as they did on the way up.
      await db.schema.dropIndex("cache_entries_expires_at").execute();
      await db.schema.dropTable("cache_entries").execute();
      await db.schema
        .createTable("cache_entries")
        .addColumn("source", "text", (c) => c.notNull())
        .addColumn("request_hash", "text", (c) => c.notNull())
        .addColumn("request_json", "text", (c) => c.notNull())
        .addColumn("chain_json", "text", (c) => c.notNull())
        .addColumn("raw", "blob")
        .addColumn("raw_encoding", "text")
        .addColumn("fetched_at", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .addColumn("cost_usd", "real", (c) => c.notNull().defaultTo(0))
        .addColumn("product", "text", (c) => c.notNull())
        .addColumn("as_of", "text", (c) => c.notNull())
        .addColumn("delayed", "integer", (c) => c.notNull())
        .addColumn("sample", "integer", (c) => c.notNull())
        .addColumn("contracts", "integer", (c) => c.notNull())
        .addColumn("written_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("cache_entries_pk", ["source", "request_hash"])
        .execute();
      await db.schema.createIndex("cache_entries_expires_at").on("cache_entries").column("expires_at").execute();
    },
  },
  /** The spend ledger, run history and fired alerts (./spend-ledger-migration.ts); the cache's tables are untouched. */
  "0003-spend-ledger-and-run-history": spendLedgerMigration,
};

export const cacheMigrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};

/** Brings the schema to the latest version; throws with Migrator's reason when it cannot. */
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  await db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const migrator = new Migrator({ db: connection, provider: cacheMigrationProvider, disableTransactions: true });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((result) => result.status === "Error")?.migrationName;
        throw Object.assign(new Error(failed ? `migration "${failed}" failed: ${String((error as Error).message ?? error)}` : String((error as Error).message ?? error)), {
          cause: error,
          code: (error as { code?: unknown }).code,
        });
      }
      await sql`commit`.execute(connection);
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => {});
      throw error;
    }
  });
}

/**
 * For a read-only open, which must not migrate: the file's migrations this version does not know (the
 * file is newer) and this version's migrations the file lacks (the file is older).
 */
export async function unknownAndPendingMigrations(db: Kysely<any>, hasMigrationTable: boolean): Promise<{ unknown: string[]; pending: string[] }> {
  const applied = hasMigrationTable
    ? (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((row) => row.name)
    : [];
  const known = Object.keys(migrations);
  return { unknown: applied.filter((name) => !known.includes(name)), pending: known.filter((name) => !applied.includes(name)) };
}
