import { describeChainHistoryConformance } from "@nq/core/testing";
import { sqliteHistoryFixture } from "./test-support/sqlite-history.js";

describeChainHistoryConformance("kysely on SQLite (better-sqlite3), multi-row INSERTs through kysely", { open: () => sqliteHistoryFixture() });
describeChainHistoryConformance("kysely on SQLite (better-sqlite3), the native prepared INSERT", { open: () => sqliteHistoryFixture({ native: true }) });

// Batches of one row per statement and pages of seven rows: the multi-row and keyset paths are exercised
// at their edges, whatever the defaults.
describeChainHistoryConformance("kysely on SQLite, tiny batches and pages", { open: () => sqliteHistoryFixture({ maxBindParameters: 19, pageSize: 7 }) });
