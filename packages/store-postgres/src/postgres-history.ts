/**
 * The chain history on PostgreSQL: @nq/history's kysely store (the same queries as on SQLite) on a pool
 * whose connections work in the configured schema, its migrations applied under the same advisory lock as
 * the cache's. A fleet's runners append to one history; `history` commands on any machine read all of it.
 */
import type { ChainHistory, HistoryRetention, Logger } from "@nq/core";
import { createKyselyChainHistory, historyMigrations, SNAPSHOTS_TABLE, type HistoryDatabase } from "@nq/history";
import { sql } from "kysely";
import { classify, StoreUnavailableError } from "./errors.js";
import type { PostgresHistoryConfig } from "./config.js";
import type { NamedMigrations } from "./migrations.js";
import { openStore, type OpenStoreContext } from "./open-store.js";

export interface OpenHistoryContext extends OpenStoreContext {
  log: Logger;
  /** Runs inside each append transaction before COMMIT (tests fail it there to prove all-or-nothing). */
  beforeCommit?: (snapshotId: string) => Promise<void> | void;
}

export async function openParsedHistory(config: PostgresHistoryConfig, context: OpenHistoryContext): Promise<ChainHistory> {
  const migrations: NamedMigrations = await historyMigrations("postgres").getMigrations();
  const opened = await openStore<HistoryDatabase>("history", config, context, config.read_only ? null : { component: "history", migrations });
  if (config.read_only) await assertHistoryExists(opened.db, opened.connection.schema, opened.connection.location, opened.connection.secrets);
  const retention = historyRetentionOf(config);
  return createKyselyChainHistory({
    db: opened.db,
    dialect: "postgres",
    location: opened.connection.location,
    readOnly: config.read_only,
    ...(retention ? { retention } : {}),
    ...(context.beforeCommit ? { beforeCommit: context.beforeCommit } : {}),
  });
}

/** The config's retention in the contract's terms; undefined when it keeps everything. */
export function historyRetentionOf(config: PostgresHistoryConfig): HistoryRetention | undefined {
  const { max_age_days, max_snapshots_per_profile } = config.retention;
  if (max_age_days === undefined && max_snapshots_per_profile === undefined) return undefined;
  return {
    ...(max_age_days !== undefined ? { maxAgeDays: max_age_days } : {}),
    ...(max_snapshots_per_profile !== undefined ? { maxSnapshotsPerProfile: max_snapshots_per_profile } : {}),
  };
}

/** Read-only opens create nothing: with no history tables yet there is nothing to read, and it says so. */
async function assertHistoryExists(db: import("kysely").Kysely<HistoryDatabase>, schema: string, location: string, secrets: readonly string[]): Promise<void> {
  let exists: boolean;
  try {
    const found = await sql<{ found: string | null }>`select to_regclass(${`${schema}.${SNAPSHOTS_TABLE}`})::text as found`.execute(db);
    exists = found.rows[0]?.found != null;
  } catch (error) {
    await db.destroy().catch(() => {});
    const { reason, problem, fix } = classify(error, secrets);
    throw new StoreUnavailableError("history", location, problem, { reason, fix, cause: error });
  }
  if (!exists) {
    await db.destroy().catch(() => {});
    throw new StoreUnavailableError("history", location, `schema ${schema} holds no history yet (read_only opens never create it)`, {
      reason: "missing",
      fix: "run once without read_only (a run with history enabled creates it), or check the url and schema",
    });
  }
}
