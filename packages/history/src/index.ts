/**
 * @nq/history — chain history on any kysely database: every chain a run produces is one snapshot row and
 * one row per contract (through the `nq_history_contracts` view over instruments, quote contexts and quotes), in columns SQL can query ("open interest of NQH6 C21500 every day last month").
 * The same queries run on SQLite and PostgreSQL; the store packages (@nq/cache-sqlite, @nq/store-postgres)
 * open the database, run `migrateHistory` and hand the kysely instance to `createKyselyChainHistory`.
 */
export { createKyselyChainHistory, KyselyChainHistory, type KyselyChainHistoryOptions, type NativeStatementSource } from "./kysely-chain-history.js";
export { inProcessWriteTurn, sqliteImmediateTransaction } from "./sqlite-transaction.js";
export { historyMigrations, migrateHistory, HISTORY_MIGRATION_LOCK_TABLE, HISTORY_MIGRATION_TABLE } from "./migrations.js";
export { dialectTraits, type HistoryDialect } from "./dialect.js";
export {
  CONTRACTS_VIEW,
  INSTRUMENTS_TABLE,
  QUOTE_CONTEXTS_TABLE,
  QUOTES_TABLE,
  SNAPSHOTS_TABLE,
  type ContractTable,
  type HistoryDatabase,
  type InstrumentTable,
  type QuoteContextTable,
  type QuoteTable,
  type SnapshotTable,
} from "./schema.js";
