/**
 * Migration 0003: the operations tables beside the cache, in the same file — the persistent spend ledger
 * (every paid request), the run history (each source's tries and the chain's quality per run, for the
 * failure and degradation alerts) and the keys of alerts already fired (one per rule per window).
 * Nothing of the cache's own tables changes.
 */
import type { Kysely, Migration } from "kysely";

export const spendLedgerMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable("spend_ledger")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("run_id", "text", (c) => c.notNull())
      /** The entry's position in its run's ledger: (run_id, seq) is unique, so recording a run twice adds nothing. */
      .addColumn("seq", "integer", (c) => c.notNull())
      .addColumn("profile", "text", (c) => c.notNull())
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("what", "text", (c) => c.notNull())
      .addColumn("schema", "text")
      .addColumn("bytes", "integer")
      .addColumn("estimated_usd", "real", (c) => c.notNull())
      .addColumn("billed_usd", "real", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("spend_ledger_run_seq").unique().on("spend_ledger").columns(["run_id", "seq"]).execute();
    await db.schema.createIndex("spend_ledger_at").on("spend_ledger").columns(["at", "source"]).execute();
    await db.schema
      .createTable("run_history")
      .addColumn("run_id", "text", (c) => c.primaryKey())
      .addColumn("profile", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("ok", "integer", (c) => c.notNull())
      /** The source that answered, null when none did. */
      .addColumn("source", "text")
      .addColumn("contracts", "integer")
      .addColumn("missing_bid_ask_share", "real")
      .addColumn("zero_oi_share", "real")
      .addColumn("spent_usd", "real", (c) => c.notNull().defaultTo(0))
      .addColumn("estimated_usd", "real", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex("run_history_profile_at").on("run_history").columns(["profile", "at"]).execute();
    await db.schema
      .createTable("source_tries")
      .addColumn("run_id", "text", (c) => c.notNull())
      .addColumn("profile", "text", (c) => c.notNull())
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("ok", "integer", (c) => c.notNull())
      .addColumn("reason", "text")
      .addPrimaryKeyConstraint("source_tries_pk", ["run_id", "source"])
      .execute();
    await db.schema.createIndex("source_tries_source_at").on("source_tries").columns(["source", "at"]).execute();
    await db.schema
      .createTable("fired_alerts")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("rule", "text", (c) => c.notNull())
      .addColumn("severity", "text", (c) => c.notNull())
      .addColumn("run_id", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .addColumn("alert_json", "text", (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable("fired_alerts").execute();
    await db.schema.dropTable("source_tries").execute();
    await db.schema.dropTable("run_history").execute();
    await db.schema.dropTable("spend_ledger").execute();
  },
};
