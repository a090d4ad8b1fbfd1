/**
 * The persistent spend ledger and run history, in the cache's own SQLite file (embedded, one file): every
 * paid request of every run — time, source, schema, bytes when known, estimated and billed USD, run id —
 * plus each run's source tries and chain quality (for the failure and degradation alerts) and the keys of
 * alerts already fired. The runner records a run's `SpendLedger` after the run; `usage` reads it.
 *
 * The file is opened the way the cache opens it (WAL, busy timeout, migrations in one IMMEDIATE
 * transaction), so a run and a `usage` — or two runs — can share it. Read-only mode creates and migrates
 * nothing: a file with no ledger yet reads as empty.
 */
import { isAbsolute, resolve } from "node:path";
import { type Kysely, sql } from "kysely";
import { silentLogger, type Logger } from "@nq/core";
import { inProcessWriteTurn, sqliteImmediateTransaction } from "@nq/history";
import { openCacheDatabase } from "./database-file.js";
import type { CacheDatabase } from "./database-schema.js";
import { CacheUnavailableError } from "./errors.js";
import { loadBetterSqlite3, type OpenNativeDatabase } from "./native-driver.js";

export interface SpendLedgerTable {
  id: number | null;
  run_id: string;
  seq: number;
  profile: string;
  source: string;
  at: string;
  what: string;
  schema: string | null;
  bytes: number | null;
  estimated_usd: number;
  billed_usd: number;
}

export interface RunHistoryTable {
  run_id: string;
  profile: string;
  at: string;
  ok: number;
  source: string | null;
  contracts: number | null;
  missing_bid_ask_share: number | null;
  zero_oi_share: number | null;
  spent_usd: number;
  estimated_usd: number;
}

export interface SourceTriesTable {
  run_id: string;
  profile: string;
  source: string;
  at: string;
  ok: number;
  reason: string | null;
}

export interface FiredAlertsTable {
  key: string;
  rule: string;
  severity: string;
  run_id: string;
  at: string;
  alert_json: string;
}

interface LedgerDatabase extends CacheDatabase {
  spend_ledger: SpendLedgerTable;
  run_history: RunHistoryTable;
  source_tries: SourceTriesTable;
  fired_alerts: FiredAlertsTable;
}

/** One paid request, as recorded. */
export interface LedgerEntry {
  runId: string;
  profile: string;
  source: string;
  at: string;
  /** What was bought ("trades GLBX.MDP3 NQ.OPT 2026-11-20T…"). */
  what: string;
  /** The schema or kind of data, when known (Databento: the first word of `what`). */
  schema: string | null;
  bytes: number | null;
  /** The price the source was quoted before buying (Databento: `metadata.get_cost` of the exact request). */
  estimatedUsd: number;
  /** What the source recorded as spent. */
  billedUsd: number;
}

/** A run as recorded: who answered, its chain's quality, and every source's try. */
export interface RunRecord {
  runId: string;
  profile: string;
  at: string;
  ok: boolean;
  source: string | null;
  contracts: number | null;
  missingBidAskShare: number | null;
  zeroOpenInterestShare: number | null;
  spentUsd: number;
  estimatedUsd: number;
  /** Sources actually tried (skips and cache hits left out). */
  tries: { source: string; ok: boolean; reason: string | null }[];
}

/** What a run's in-memory ledger (`@nq/core`'s SpendLedger) holds, structurally. */
export interface RunSpend {
  entries: readonly { source: string; what: string; usd: number; at: string; bytes?: number; schema?: string; estimatedUsd?: number }[];
}

export interface SpendTotal {
  /** "2026-11-20" (day) or "2026-11" (month). */
  period: string;
  source: string;
  requests: number;
  estimatedUsd: number;
  billedUsd: number;
  bytes: number | null;
}

export interface LedgerFilter {
  /** Inclusive ISO time. */
  from?: string;
  /** Exclusive ISO time. */
  to?: string;
  source?: string;
  profile?: string;
}

export interface OpenSpendLedgerOptions {
  /** The database file (the cache's `path`), relative to `baseDir`. */
  path: string;
  baseDir?: string;
  readOnly?: boolean;
  busyTimeoutMs?: number;
  log?: Logger;
  now?: () => Date;
  openDatabase?: OpenNativeDatabase;
}

/** A schema name at the start of `what` ("trades GLBX.MDP3 …" → "trades"). */
export function schemaOf(what: string): string | null {
  const first = /^([a-z][a-z0-9-]*)(?::|\s)/.exec(what)?.[1];
  return first ?? null;
}

export class SqliteSpendLedger {
  private constructor(
    private readonly db: Kysely<LedgerDatabase> | null,
    readonly location: string,
    private readonly readOnly: boolean,
  ) {}

  /** Opens (creating or upgrading) the file; read-only opens of a file without a ledger read as empty. */
  static async open(options: OpenSpendLedgerOptions): Promise<SqliteSpendLedger> {
    const file = isAbsolute(options.path) ? options.path : resolve(options.baseDir ?? process.cwd(), options.path);
    const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    let openNative: OpenNativeDatabase;
    try {
      openNative = options.openDatabase ?? (await loadBetterSqlite3());
    } catch (error) {
      throw new CacheUnavailableError(`the SQLite driver could not be loaded for ${file}`, { file, reason: "driver", fix: "reinstall better-sqlite3", cause: error, noCacheHint: false });
    }
    try {
      const opened = await openCacheDatabase({
        file,
        busyTimeoutMs,
        openNative,
        log: options.log ?? silentLogger,
        now: options.now ?? (() => new Date()),
        readOnly: options.readOnly ?? false,
      });
      const db = opened.db.withTables<Omit<LedgerDatabase, keyof CacheDatabase>>() as unknown as Kysely<LedgerDatabase>;
      if (options.readOnly) {
        const tables = await sql<{ name: string }>`select name from sqlite_schema where type = 'table' and name = 'spend_ledger'`.execute(db);
        if (tables.rows.length === 0) {
          await db.destroy();
          return new SqliteSpendLedger(null, file, true);
        }
      }
      return new SqliteSpendLedger(db, file, options.readOnly ?? false);
    } catch (error) {
      // Nothing recorded yet is an empty ledger for a reader, not a failure.
      if (options.readOnly && (error as { reason?: unknown }).reason === "missing") return new SqliteSpendLedger(null, file, true);
      throw error;
    }
  }

  /** True when the file holds no ledger (read-only open of a file never written by a run). */
  get empty(): boolean {
    return this.db === null;
  }

  private writable(): Kysely<LedgerDatabase> {
    if (this.readOnly || !this.db) throw new Error(`the spend ledger ${this.location} was opened read-only`);
    return this.db;
  }

  /**
   * Records one run: its paid requests (from the run's SpendLedger), its sources' tries and its chain's
   * quality, in one transaction. Recording the same run id again changes nothing. Returns the entries added.
   */
  async recordRun(run: RunRecord, spend: RunSpend): Promise<number> {
    const db = this.writable();
    return this.writeTransaction(db, async (trx) => {
      const existing = await trx.selectFrom("run_history").select("run_id").where("run_id", "=", run.runId).executeTakeFirst();
      if (existing) return 0;
      let added = 0;
      for (const [seq, entry] of spend.entries.entries()) {
        await trx
          .insertInto("spend_ledger")
          .values({
            id: null,
            run_id: run.runId,
            seq,
            profile: run.profile,
            source: entry.source,
            at: entry.at,
            what: entry.what,
            schema: entry.schema ?? schemaOf(entry.what),
            bytes: entry.bytes ?? null,
            estimated_usd: entry.estimatedUsd ?? entry.usd,
            billed_usd: entry.usd,
          })
          .execute();
        added += 1;
      }
      await trx
        .insertInto("run_history")
        .values({
          run_id: run.runId,
          profile: run.profile,
          at: run.at,
          ok: run.ok ? 1 : 0,
          source: run.source,
          contracts: run.contracts,
          missing_bid_ask_share: run.missingBidAskShare,
          zero_oi_share: run.zeroOpenInterestShare,
          spent_usd: run.spentUsd,
          estimated_usd: run.estimatedUsd,
        })
        .execute();
      for (const t of run.tries) {
        await trx
          .insertInto("source_tries")
          .values({ run_id: run.runId, profile: run.profile, source: t.source, at: run.at, ok: t.ok ? 1 : 0, reason: t.reason })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      return added;
    });
  }

  async entries(filter: LedgerFilter = {}, options: { orderBy?: "at" | "billed"; limit?: number } = {}): Promise<LedgerEntry[]> {
    if (!this.db) return [];
    let query = this.db.selectFrom("spend_ledger").selectAll();
    if (filter.from) query = query.where("at", ">=", filter.from);
    if (filter.to) query = query.where("at", "<", filter.to);
    if (filter.source) query = query.where("source", "=", filter.source);
    if (filter.profile) query = query.where("profile", "=", filter.profile);
    query = options.orderBy === "billed" ? query.orderBy("billed_usd", "desc").orderBy("at", "asc") : query.orderBy("at", "asc").orderBy("id", "asc");
    if (options.limit !== undefined) query = query.limit(options.limit);
    const rows = await query.execute();
    return rows.map((r) => ({
      runId: r.run_id,
      profile: r.profile,
      source: r.source,
      at: r.at,
      what: r.what,
      schema: r.schema,
      bytes: r.bytes,
      estimatedUsd: r.estimated_usd,
      billedUsd: r.billed_usd,
    }));
  }

  /** Totals per day ("YYYY-MM-DD") or month ("YYYY-MM") per source, UTC, oldest first. */
  async totals(by: "day" | "month", filter: LedgerFilter = {}): Promise<SpendTotal[]> {
    if (!this.db) return [];
    const length = by === "day" ? 10 : 7;
    let query = this.db
      .selectFrom("spend_ledger")
      .select([
        sql<string>`substr(at, 1, ${sql.lit(length)})`.as("period"),
        "source",
        sql<number>`count(*)`.as("requests"),
        sql<number>`sum(estimated_usd)`.as("estimated_usd"),
        sql<number>`sum(billed_usd)`.as("billed_usd"),
        sql<number | null>`sum(bytes)`.as("bytes"),
      ])
      .groupBy(["period", "source"])
      .orderBy("period")
      .orderBy("source");
    if (filter.from) query = query.where("at", ">=", filter.from);
    if (filter.to) query = query.where("at", "<", filter.to);
    if (filter.source) query = query.where("source", "=", filter.source);
    if (filter.profile) query = query.where("profile", "=", filter.profile);
    const rows = await query.execute();
    return rows.map((r) => ({ period: r.period, source: r.source, requests: Number(r.requests), estimatedUsd: r.estimated_usd, billedUsd: r.billed_usd, bytes: r.bytes }));
  }

  /** Billed USD per source in [from, to). */
  async spentBySource(filter: LedgerFilter): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of await this.totals("month", filter)) out[t.source] = (out[t.source] ?? 0) + t.billedUsd;
    return out;
  }

  /** Per source, its last `limit` tries (any profile), oldest first. */
  async recentTries(sources: string[], limit: number): Promise<Record<string, { source: string; at: string; runId: string; ok: boolean; reason: string | null }[]>> {
    const out: Record<string, { source: string; at: string; runId: string; ok: boolean; reason: string | null }[]> = {};
    if (!this.db) return out;
    for (const source of sources) {
      const rows = await this.db
        .selectFrom("source_tries")
        .selectAll()
        .where("source", "=", source)
        .orderBy("at", "desc")
        .orderBy(sql`rowid`, "desc")
        .limit(limit)
        .execute();
      out[source] = rows.reverse().map((r) => ({ source: r.source, at: r.at, runId: r.run_id, ok: r.ok === 1, reason: r.reason }));
    }
    return out;
  }

  /** The latest run of `profile` that produced a chain (answered by `source`, when given), other than `exceptRunId`. */
  async previousRun(profile: string, exceptRunId: string, source?: string): Promise<RunRecord | null> {
    if (!this.db) return null;
    let query = this.db
      .selectFrom("run_history")
      .selectAll()
      .where("profile", "=", profile)
      .where("run_id", "!=", exceptRunId)
      .where("ok", "=", 1);
    if (source !== undefined) query = query.where("source", "=", source);
    const row = await query.orderBy("at", "desc").orderBy(sql`rowid`, "desc").executeTakeFirst();
    if (!row) return null;
    return {
      runId: row.run_id,
      profile: row.profile,
      at: row.at,
      ok: row.ok === 1,
      source: row.source,
      contracts: row.contracts,
      missingBidAskShare: row.missing_bid_ask_share,
      zeroOpenInterestShare: row.zero_oi_share,
      spentUsd: row.spent_usd,
      estimatedUsd: row.estimated_usd,
      tries: [],
    };
  }

  /** Records an alert's key; false when it had fired before (an AlertStore for @nq/ops). */
  async claim(alert: { key: string; rule: string; severity: string; runId: string; at: string }): Promise<boolean> {
    const db = this.writable();
    const result = await inProcessWriteTurn(this.location, () =>
      db
        .insertInto("fired_alerts")
        .values({ key: alert.key, rule: alert.rule, severity: alert.severity, run_id: alert.runId, at: alert.at, alert_json: JSON.stringify(alert) })
        .onConflict((oc) => oc.column("key").doNothing())
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** BEGIN IMMEDIATE, in turn with this process's other writers of the file (see @nq/history's sqlite-transaction). */
  private writeTransaction<T>(db: Kysely<LedgerDatabase>, work: (trx: Kysely<LedgerDatabase>) => Promise<T>): Promise<T> {
    return inProcessWriteTurn(this.location, () => sqliteImmediateTransaction(db, work));
  }

  async firedAlerts(filter: { from?: string } = {}): Promise<unknown[]> {
    if (!this.db) return [];
    let query = this.db.selectFrom("fired_alerts").select("alert_json").orderBy("at");
    if (filter.from) query = query.where("at", ">=", filter.from);
    return (await query.execute()).map((r) => JSON.parse(r.alert_json) as unknown);
  }

  async close(): Promise<void> {
    await this.db?.destroy();
  }
}

/** Opens the ledger in the cache file at `path` (see SqliteSpendLedger.open). */
export function openSpendLedger(options: OpenSpendLedgerOptions): Promise<SqliteSpendLedger> {
  return SqliteSpendLedger.open(options);
}
