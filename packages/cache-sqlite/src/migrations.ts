/**
 * The schema, created and upgraded by kysely's Migrator from migrations kept in code (not files on disk,
 * so a bundled or installed package carries them). Append new migrations; never edit a shipped one.
 *
 * Two processes may open a new file at the same moment. Kysely's SQLite adapter takes no lock of its own
 * (it assumes one connection), so the whole migration runs inside one BEGIN IMMEDIATE transaction: the
 * second process waits on the busy timeout, then finds the schema already there.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";

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
