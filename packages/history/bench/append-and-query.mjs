/**
 * History benchmark: append S snapshots × C contracts into a fresh store, then time the canned queries.
 *
 *   pnpm --filter @nq/history bench                          # quick: 20 snapshots × 20,000 contracts (400 k rows)
 *   (the script runs node with --expose-gc; see timed())
 *   NQ_HISTORY_BENCH_SNAPSHOTS=250 pnpm --filter @nq/history bench   # the size: 250 × 20,000 = 5 M rows
 *   NQ_PG_URL=postgres://… pnpm --filter @nq/history bench   # also against PostgreSQL (needs `pg`, e.g. from @nq/store-postgres)
 *   NQ_HISTORY_BENCH_SQLITE=0 NQ_PG_URL=…                    # PostgreSQL only
 *
 * Baselines, measured in the same run on the same machine:
 *  - insert: the same rows through kysely's query builder, one INSERT per row into one wide table (what a
 *    first version does), on a few snapshots into a second file; the same wide table through one reused
 *    prepared INSERT (the schema before migration 0002); multi-row INSERTs through kysely (PostgreSQL's path);
 *  - queries: a JSON-blob-per-snapshot store (the chain as one JSON text per snapshot, indexed by as-of),
 *    holding the month the queries ask about; answering means parsing every snapshot of the month.
 * Data is generated (an NQ-shaped chain: 20 series × 500 strikes × 2 rights), not market data.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import { createKyselyChainHistory, migrateHistory } from "../dist/index.js";

const require = createRequire(import.meta.url);
const SNAPSHOTS = Number(process.env.NQ_HISTORY_BENCH_SNAPSHOTS ?? 20);
const CONTRACTS = Number(process.env.NQ_HISTORY_BENCH_CONTRACTS ?? 20_000);
const BASELINE_SNAPSHOTS = Math.min(SNAPSHOTS, Number(process.env.NQ_HISTORY_BENCH_BASELINE_SNAPSHOTS ?? 3));
/** The previous design's baseline runs long enough to compare steady states (snapshots 2…N, after the first). */
const WIDE_SNAPSHOTS = Math.min(SNAPSHOTS, 10);
const MONTH_SNAPSHOTS = Math.min(SNAPSHOTS, 21);
const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 2, 21);

const SERIES = ["NQ", "QN1", "QN2", "QN3", "QN4", "QNE", "Q1A", "Q2A", "Q3A", "Q4A", "Q1B", "Q2B", "Q3B", "Q4B", "Q1C", "Q2C", "Q3C", "Q4C", "Q1D", "Q2D"];
const MONTHS = "FGHJKMNQUVXZ";

/** One chain of `CONTRACTS` contracts for trading day `day` (values move from day to day). */
function chainFor(day) {
  const asOf = new Date(START + day * DAY_MS).toISOString();
  const fetchedAt = new Date(START + day * DAY_MS + 4_321).toISOString();
  const strikesPerSeries = Math.ceil(CONTRACTS / (SERIES.length * 2));
  const contracts = [];
  for (let s = 0; s < SERIES.length && contracts.length < CONTRACTS; s += 1) {
    const expiration = new Date(Date.UTC(2026, 2 + s, 20)).toISOString().slice(0, 10);
    const code = `${SERIES[s]}${MONTHS[Number(expiration.slice(5, 7)) - 1]}${expiration.slice(3, 4)}`;
    for (let k = 0; k < strikesPerSeries && contracts.length < CONTRACTS; k += 1) {
      const strike = 17000 + k * 10;
      for (const right of ["C", "P"]) {
        if (contracts.length === CONTRACTS) break;
        const x = (day * 31 + k * 7 + s) % 997;
        contracts.push({
          symbol: `${code} ${right}${strike}`,
          rawSymbol: `${code} ${right}${strike}`,
          underlying: `NQ${MONTHS[Number(expiration.slice(5, 7)) - 1]}${expiration.slice(3, 4)}`,
          underlyingPrice: 21000 + day * 1.25,
          underlyingPriceBasis: "mid",
          underlyingPriceTime: asOf,
          product: "NQ",
          root: SERIES[s],
          expiration,
          expirationTime: `${expiration}T14:30:00.000Z`,
          strike,
          right,
          bid: 10 + x / 4,
          ask: 10.5 + x / 4,
          bidSize: 1 + (x % 9),
          askSize: 1 + (x % 5),
          last: x % 4 === 0 ? null : 10.25 + x / 4,
          volume: x % 50,
          clearedVolume: x % 70,
          clearedVolumeDate: asOf.slice(0, 10),
          openInterest: x % 3 === 0 ? null : 100 + x,
          openInterestDate: asOf.slice(0, 10),
          settlement: 10.1 + x / 4,
          settlementDate: asOf.slice(0, 10),
          impliedVolatility: 0.15 + x / 10_000,
          ivBasis: "mid",
          delta: right === "C" ? 0.5 - k / (2 * strikesPerSeries) : -0.5 + k / (2 * strikesPerSeries),
          gamma: 0.0001 * (1 + (x % 13)),
          theta: -1.5 - x / 100,
          vega: 3 + x / 50,
          greeksSource: "computed",
          multiplier: 20,
          quoteTime: "2026-01-02T20:59:58.123456789Z",
          rawStrike: `${strike}.000000000`,
          provenance: { source: "databento", asOf, fetchedAt, delayed: false, sample: false },
        });
      }
    }
  }
  const quality = {
    rowsReceived: contracts.length,
    validContracts: contracts.length,
    invalidRows: 0,
    invalidReasons: {},
    duplicateRows: 0,
    conflictingDuplicates: 0,
    filteredRows: 0,
    missingBidAskShare: 0,
    crossedQuotes: 0,
    zeroOpenInterestShare: 0,
    missingOpenInterestShare: 1 / 3,
    staleQuotes: 0,
    futureQuoteTimes: 0,
    staleQuoteThresholdMs: 900_000,
    analyticsUnavailable: {},
  };
  return {
    metadata: { source: "databento", product: "NQ", asOf, fetchedAt, delayed: false, sample: false, complete: true, incompleteReasons: [], asOfReason: null, proxy: null, warnings: [], cache: "miss", spendUsd: 0.42, analyticsRate: 0.04 },
    optionsSummary: { total: contracts.length, calls: contracts.length / 2, puts: contracts.length / 2, underlying: "NQH6", underlyingPrice: 21000, underlyings: [], expirations: [] },
    qualityMetrics: quality,
    strikeRange: null,
    rawDataAvailable: false,
    contracts,
  };
}

async function openSqlite(file) {
  const Database = require("better-sqlite3");
  const native = new Database(file, { timeout: 10_000 });
  // The pragmas @nq/cache-sqlite's history plugin sets.
  native.pragma("journal_mode = wal");
  native.pragma("synchronous = normal");
  const db = new Kysely({ dialect: new SqliteDialect({ database: native }) });
  await migrateHistory(db, "sqlite");
  return { db, native, dialect: "sqlite", size: () => fileSize(file) + fileSize(`${file}-wal`) };
}

async function openPostgres(url, schema) {
  const pg = loadPg();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const setup = await pool.connect();
  await setup.query(`drop schema if exists ${schema} cascade; create schema ${schema}`);
  setup.release();
  pool.on("connect", (client) => client.query(`set search_path to ${schema}`));
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  await migrateHistory(db, "postgres");
  return {
    db,
    dialect: "postgres",
    size: async () => Number((await sql`select coalesce(sum(pg_total_relation_size(c.oid)), 0) as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${schema} and c.relkind = 'r'`.execute(db)).rows[0].n),
    drop: async () => void (await sql.raw(`drop schema if exists ${schema} cascade`).execute(db)),
  };
}

function loadPg() {
  for (const from of [import.meta.url, new URL("../../store-postgres/package.json", import.meta.url)]) {
    try {
      return createRequire(from)("pg");
    } catch {
      // try the next place
    }
  }
  throw new Error("NQ_PG_URL is set but the pg driver is not installed (pnpm install in the workspace: @nq/store-postgres has it)");
}

function fileSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Times `run` (wall clock and this process's CPU). With --expose-gc (the package's `bench` script) the
 * garbage the harness made before — the chain it just built — is collected first, so the figure is the
 * store's work, not the collection of the generator's objects; every measurement, baselines too, gets it.
 */
async function timed(run) {
  globalThis.gc?.();
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(cpu);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, cpuMs: (used.user + used.system) / 1000, result };
}

/** Median of `n` runs of `run` (after one warm-up). */
async function median(run, n = 7) {
  await run();
  const times = [];
  for (let i = 0; i < n; i += 1) times.push((await timed(run)).ms);
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)];
}

/**
 * The wide table of the schema before migration 0002 (one row per contract, a column per field, as
 * `nq_history_contracts` was), created beside the real tables for the baselines.
 */
const WIDE_COLUMNS = [
  "snapshot_id", "ordinal", "as_of_ms", "symbol", "raw_symbol", "underlying", "underlying_price", "underlying_price_basis", "underlying_price_time", "product", "root",
  "expiration", "expiration_time", "strike", "option_right", "bid", "ask", "bid_size", "ask_size", "last", "volume", "cleared_volume", "cleared_volume_date",
  "open_interest", "open_interest_date", "settlement", "settlement_date", "implied_volatility", "iv_basis", "delta", "gamma", "theta", "vega", "greeks_source",
  "multiplier", "quote_time", "raw_strike", "provenance_source", "provenance_as_of", "provenance_fetched_at", "provenance_delayed", "provenance_sample",
];
async function createWideTable(db) {
  await sql.raw(`create table baseline_wide_contracts (${WIDE_COLUMNS.join(", ")}, primary key (snapshot_id, ordinal))`).execute(db);
  await sql`create index baseline_wide_symbol on baseline_wide_contracts (snapshot_id, symbol, ordinal)`.execute(db);
  await sql`create index baseline_wide_expiration on baseline_wide_contracts (snapshot_id, expiration, ordinal)`.execute(db);
}
function wideRow(c, snapshotId, ordinal, asOfMs) {
  return {
    snapshot_id: snapshotId, ordinal, as_of_ms: asOfMs, symbol: c.symbol, raw_symbol: c.rawSymbol, underlying: c.underlying, underlying_price: c.underlyingPrice,
    underlying_price_basis: c.underlyingPriceBasis, underlying_price_time: c.underlyingPriceTime, product: c.product, root: c.root, expiration: c.expiration,
    expiration_time: c.expirationTime, strike: c.strike, option_right: c.right, bid: c.bid, ask: c.ask, bid_size: c.bidSize, ask_size: c.askSize, last: c.last,
    volume: c.volume, cleared_volume: c.clearedVolume, cleared_volume_date: c.clearedVolumeDate, open_interest: c.openInterest, open_interest_date: c.openInterestDate,
    settlement: c.settlement, settlement_date: c.settlementDate, implied_volatility: c.impliedVolatility, iv_basis: c.ivBasis, delta: c.delta, gamma: c.gamma,
    theta: c.theta, vega: c.vega, greeks_source: c.greeksSource, multiplier: c.multiplier, quote_time: c.quoteTime, raw_strike: c.rawStrike,
    provenance_source: null, provenance_as_of: null, provenance_fetched_at: null, provenance_delayed: null, provenance_sample: null,
  };
}

/** Rows per second of wall clock and of CPU time over some appends' timings. */
function rateOf(slice) {
  const ms = slice.reduce((sum, t) => sum + t.ms, 0);
  const cpuMs = slice.reduce((sum, t) => sum + t.cpuMs, 0);
  return { rowsPerSecond: (slice.length * CONTRACTS) / (ms / 1000), rowsPerCpuSecond: (slice.length * CONTRACTS) / (cpuMs / 1000) };
}

/** The naive baseline: the query builder, one INSERT per contract row into the wide table, one transaction per snapshot. */
async function appendRowByRow(db, chain, snapshotId) {
  const asOfMs = Date.parse(chain.metadata.asOf);
  await db.transaction().execute(async (trx) => {
    for (const [ordinal, c] of chain.contracts.entries()) await trx.insertInto("baseline_wide_contracts").values(wideRow(c, snapshotId, ordinal, asOfMs)).execute();
  });
}

/** The previous design: the wide table through one reused prepared single-row INSERT (SQLite's native handle). */
function appendWidePrepared(native, chain, snapshotId) {
  const asOfMs = Date.parse(chain.metadata.asOf);
  const insert = native.prepare(`insert into baseline_wide_contracts (${WIDE_COLUMNS.join(", ")}) values (${WIDE_COLUMNS.map(() => "?").join(", ")})`);
  native.exec("begin immediate");
  for (const [ordinal, c] of chain.contracts.entries()) {
    const row = wideRow(c, snapshotId, ordinal, asOfMs);
    insert.run(WIDE_COLUMNS.map((column) => row[column]));
  }
  native.exec("commit");
}

async function run(label, store) {
  // As @nq/cache-sqlite's plugin opens it: on SQLite, the native handle for the prepared-INSERT path.
  const history = createKyselyChainHistory({ db: store.db, dialect: store.dialect, location: label, ownsDatabase: false, ...(store.native ? { sqliteDatabase: store.native } : {}) });
  const recordedAt = new Date();
  let appendCpuMs = 0;
  let appendMs = 0;
  const perSnapshot = [];
  let buildMs = 0;
  const ids = [];
  for (let day = 0; day < SNAPSHOTS; day += 1) {
    const built = await timed(async () => chainFor(day));
    buildMs += built.ms;
    const { ms, cpuMs, result } = await timed(() => history.append({ profile: "bench", chain: built.result, recordedAt }));
    appendMs += ms;
    appendCpuMs += cpuMs;
    perSnapshot.push({ ms, cpuMs });
    ids.push(result.id);
    if (day % 25 === 24) process.stderr.write(`  ${label}: ${day + 1}/${SNAPSHOTS} snapshots appended\n`);
  }
  const rows = SNAPSHOTS * CONTRACTS;
  const monthFrom = new Date(START + (SNAPSHOTS - MONTH_SNAPSHOTS) * DAY_MS).toISOString();
  const monthTo = new Date(START + SNAPSHOTS * DAY_MS).toISOString();
  // Series 1 (QN1) expires 2026-04-20: month code J; strike 19000 is well inside its 500 strikes.
  const expiration = new Date(Date.UTC(2026, 2 + 1, 20)).toISOString().slice(0, 10);
  const symbol = `QN1${MONTHS[Number(expiration.slice(5, 7)) - 1]}${expiration.slice(3, 4)} C19000`;
  const series = await history.settlementSeries({ symbol, from: monthFrom, to: monthTo });
  if (series.length !== MONTH_SNAPSHOTS) throw new Error(`expected ${MONTH_SNAPSHOTS} points of ${symbol}, got ${series.length}`);
  const oi = await history.openInterestByStrike({ expiration, from: monthFrom, to: monthTo });
  const seriesMs = await median(() => history.settlementSeries({ symbol, from: monthFrom, to: monthTo }));
  const seriesYearMs = await median(() => history.settlementSeries({ symbol }));
  const oiMs = await median(() => history.openInterestByStrike({ expiration, from: monthFrom, to: monthTo }), 3);
  const getMs = await median(() => history.getSnapshot(ids[ids.length - 1]), 3);
  const streamMs = (await timed(async () => {
    let n = 0;
    for await (const _row of history.contracts({ symbol, from: monthFrom, to: monthTo })) n += 1;
    return n;
  })).ms;
  const first = rateOf(perSnapshot.slice(0, BASELINE_SNAPSHOTS));
  const last = rateOf(perSnapshot.slice(-Math.min(25, SNAPSHOTS)));
  const steady = WIDE_SNAPSHOTS > 1 ? rateOf(perSnapshot.slice(1, WIDE_SNAPSHOTS)) : null;
  // A runner appends once per process: a new handle knows no instrument ids and looks them up first.
  const freshHandle = createKyselyChainHistory({ db: store.db, dialect: store.dialect, location: `${label} (fresh handle)`, ownsDatabase: false, ...(store.native ? { sqliteDatabase: store.native } : {}) });
  const freshChain = chainFor(SNAPSHOTS);
  const fresh = await timed(() => freshHandle.append({ profile: "bench", chain: freshChain, recordedAt }));
  return { label, rows, appendMs, buildMs, first, last, steady, fresh, rowsPerSecond: rows / (appendMs / 1000), rowsPerCpuSecond: rows / (appendCpuMs / 1000), seriesMs, seriesYearMs, oiMs, oiPoints: oi.length, getMs, streamMs, sizeBytes: await store.size(), history, symbol, expiration, monthFrom, monthTo };
}

async function rowByRowBaseline(store, append = (chain, snapshotId) => appendRowByRow(store.db, chain, snapshotId), count = BASELINE_SNAPSHOTS) {
  await sql`drop table if exists baseline_wide_contracts`.execute(store.db);
  await createWideTable(store.db);
  const snapshotIds = [];
  for (let day = 0; day < count; day += 1) {
    const row = await store.db
      .insertInto("nq_history_snapshots")
      .values({ profile: "baseline", source: "databento", product: "NQ", as_of: "x", as_of_ms: day, fetched_at: "x", recorded_at: "x", cache_status: "miss", delayed: store.dialect === "sqlite" ? 0 : false, sample: store.dialect === "sqlite" ? 0 : false, complete: store.dialect === "sqlite" ? 1 : true, proxy: store.dialect === "sqlite" ? 0 : false, spend_usd: 0, contract_count: CONTRACTS, rows_received: 0, valid_contracts: 0, invalid_rows: 0, duplicate_rows: 0, conflicting_duplicates: 0, filtered_rows: 0, missing_bid_ask_share: 0, crossed_quotes: 0, zero_open_interest_share: 0, missing_open_interest_share: 0, stale_quotes: 0, future_quote_times: 0, quality_json: "{}", incomplete_reasons_json: "[]", warnings_json: "[]" })
      .returning("id")
      .executeTakeFirstOrThrow();
    snapshotIds.push(row.id);
  }
  const perSnapshot = [];
  for (let day = 0; day < count; day += 1) {
    const chain = chainFor(day);
    const t = await timed(async () => append(chain, snapshotIds[day]));
    perSnapshot.push(t);
  }
  return { rows: count * CONTRACTS, ...rateOf(perSnapshot), steady: count > 1 ? rateOf(perSnapshot.slice(1)) : null };
}

/** The portable path (what PostgreSQL uses): multi-row INSERTs sized to the parameter limit, through kysely. */
async function multiRowKysely(store) {
  const history = createKyselyChainHistory({ db: store.db, dialect: store.dialect, location: "multi-row", ownsDatabase: false });
  let ms = 0;
  let cpuMs = 0;
  for (let day = 0; day < BASELINE_SNAPSHOTS; day += 1) {
    const chain = chainFor(day);
    const t = await timed(() => history.append({ profile: "multi-row", chain, recordedAt: new Date() }));
    ms += t.ms;
    cpuMs += t.cpuMs;
  }
  const rows = BASELINE_SNAPSHOTS * CONTRACTS;
  return { rows, rowsPerSecond: rows / (ms / 1000), rowsPerCpuSecond: rows / (cpuMs / 1000) };
}

/** The JSON-blob store: one text per snapshot. Answering a per-contract question parses the whole month. */
async function blobBaseline(db, main) {
  await sql`create table blob_snapshots (id integer primary key, as_of_ms bigint not null, chain_json text not null)`.execute(db);
  await sql`create index blob_snapshots_as_of on blob_snapshots (as_of_ms)`.execute(db);
  for (let day = SNAPSHOTS - MONTH_SNAPSHOTS; day < SNAPSHOTS; day += 1) {
    const chain = chainFor(day);
    await sql`insert into blob_snapshots (id, as_of_ms, chain_json) values (${day}, ${Date.parse(chain.metadata.asOf)}, ${JSON.stringify(chain)})`.execute(db);
  }
  const from = Date.parse(main.monthFrom);
  const to = Date.parse(main.monthTo);
  const series = async () => {
    const rows = (await sql`select id, chain_json from blob_snapshots where as_of_ms >= ${from} and as_of_ms < ${to} order by as_of_ms`.execute(db)).rows;
    return rows.map((row) => {
      const chain = JSON.parse(row.chain_json);
      const c = chain.contracts.find((x) => x.symbol === main.symbol);
      return { asOf: chain.metadata.asOf, settlement: c?.settlement ?? null };
    });
  };
  const oi = async () => {
    const rows = (await sql`select id, chain_json from blob_snapshots where as_of_ms >= ${from} and as_of_ms < ${to} order by as_of_ms`.execute(db)).rows;
    return rows.flatMap((row) => JSON.parse(row.chain_json).contracts.filter((c) => c.expiration === main.expiration).map((c) => ({ strike: c.strike, openInterest: c.openInterest })));
  };
  if ((await series()).length !== MONTH_SNAPSHOTS) throw new Error("the blob baseline's series is incomplete");
  return { seriesMs: await median(series, 3), oiMs: await median(oi, 3) };
}

const fmt = (n, digits = 1) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  const machine = `${cpus()[0]?.model ?? "?"} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  console.log(`load average at start: ${loadavg().map((n) => n.toFixed(1)).join(" ")} (the machine's other work slows wall-clock figures; CPU-second figures are less affected)`);
  console.log(`@nq/history bench: ${SNAPSHOTS} snapshots × ${CONTRACTS.toLocaleString("en-US")} contracts (${(SNAPSHOTS * CONTRACTS).toLocaleString("en-US")} rows); ${machine}`);
  const dir = mkdtempSync(join(tmpdir(), "nq-history-bench-"));
  const targets = process.env.NQ_HISTORY_BENCH_SQLITE === "0" ? [] : [["sqlite", () => openSqlite(join(dir, "history.db")), () => openSqlite(join(dir, "baseline.db"))]];
  if (process.env.NQ_PG_URL) {
    targets.push(["postgres", () => openPostgres(process.env.NQ_PG_URL, "nq_history_bench"), () => openPostgres(process.env.NQ_PG_URL, "nq_history_bench_baseline")]);
  }
  try {
    for (const [name, open, openBaseline] of targets) {
      const store = await open();
      const main = await run(name, store);
      const baselineStore = await openBaseline();
      const rowByRow = await rowByRowBaseline(baselineStore);
      const widePrepared = store.native ? await rowByRowBaseline(baselineStore, (chain, id) => appendWidePrepared(baselineStore.native, chain, id), WIDE_SNAPSHOTS) : null;
      const multiRow = store.native ? await multiRowKysely(baselineStore) : null;
      const blobs = await blobBaseline(baselineStore.db, main);
      await baselineStore.drop?.();
      await baselineStore.db.destroy();
      await store.drop?.();
      await store.db.destroy();
      const size = main.sizeBytes > 0 ? `, ${fmt(main.sizeBytes / 2 ** 20, 0)} MiB on disk` : "";
      const cpuNote = name === "postgres" ? " (CPU-seconds count this Node process only, not the server's)" : "";
      console.log(`\n${name}: ${main.rows.toLocaleString("en-US")} contract rows${size}${cpuNote}`);
      console.log("| measure | @nq/history | baseline | ratio |");
      console.log("|---|---:|---:|---:|");
      const baselineNote = `query builder, a row per INSERT, ${rowByRow.rows.toLocaleString("en-US")} rows`;
      console.log(`| insert, rows/s (wall clock) | ${fmt(main.rowsPerSecond, 0)} | ${fmt(rowByRow.rowsPerSecond, 0)} (${baselineNote}) | ${fmt(main.rowsPerSecond / rowByRow.rowsPerSecond)}× |`);
      console.log(`| insert, rows per CPU-second | ${fmt(main.rowsPerCpuSecond, 0)} | ${fmt(rowByRow.rowsPerCpuSecond, 0)} (${baselineNote}) | ${fmt(main.rowsPerCpuSecond / rowByRow.rowsPerCpuSecond)}× |`);
      console.log(`| insert into a fresh file, first ${BASELINE_SNAPSHOTS} snapshots (as the baselines), rows/s | ${fmt(main.first.rowsPerSecond, 0)} (${fmt(main.first.rowsPerCpuSecond, 0)} per CPU-second) | ${fmt(rowByRow.rowsPerSecond, 0)} (${fmt(rowByRow.rowsPerCpuSecond, 0)} per CPU-second) | ${fmt(main.first.rowsPerSecond / rowByRow.rowsPerSecond)}× (${fmt(main.first.rowsPerCpuSecond / rowByRow.rowsPerCpuSecond)}× CPU) |`);
      console.log(`| insert, last ${Math.min(25, SNAPSHOTS)} snapshots (the file at its largest), rows/s | ${fmt(main.last.rowsPerSecond, 0)} (${fmt(main.last.rowsPerCpuSecond, 0)} per CPU-second) | | |`);
      if (widePrepared?.steady && main.steady) {
        const wide = widePrepared.steady;
        console.log(`| insert, snapshots 2–${WIDE_SNAPSHOTS} of a fresh file (instruments known), rows per CPU-second, vs the schema before 0002 (one wide row per contract, the same prepared INSERT) | ${fmt(main.steady.rowsPerCpuSecond, 0)} (${fmt(main.steady.rowsPerSecond, 0)} rows/s wall clock) | ${fmt(wide.rowsPerCpuSecond, 0)} (${fmt(wide.rowsPerSecond, 0)} rows/s wall clock) | ${fmt(main.steady.rowsPerCpuSecond / wide.rowsPerCpuSecond)}× |`);
      }
      if (multiRow) {
        console.log(`| insert, rows per CPU-second, vs multi-row INSERTs through kysely (the PostgreSQL path) | ${fmt(main.rowsPerCpuSecond, 0)} | ${fmt(multiRow.rowsPerCpuSecond, 0)} (${multiRow.rows.toLocaleString("en-US")} rows; ${fmt(multiRow.rowsPerSecond, 0)} rows/s wall clock) | ${fmt(main.rowsPerCpuSecond / multiRow.rowsPerCpuSecond)}× |`);
      }
      console.log(`| a new handle's first append into this history (a runner's one append per process), ms | ${fmt(main.fresh.ms, 0)} (${fmt(main.fresh.cpuMs, 0)} ms CPU; ${fmt(CONTRACTS / (main.fresh.cpuMs / 1000), 0)} rows per CPU-second) | | |`);
      console.log(`| one contract's settlement series over a month (${MONTH_SNAPSHOTS} points), ms | ${fmt(main.seriesMs, 2)} | ${fmt(blobs.seriesMs, 0)} (JSON blob per snapshot) | ${fmt(blobs.seriesMs / main.seriesMs, 0)}× |`);
      console.log(`| OI by strike, one expiry over a month (${main.oiPoints.toLocaleString("en-US")} points), ms | ${fmt(main.oiMs, 1)} | ${fmt(blobs.oiMs, 0)} (JSON blob per snapshot) | ${fmt(blobs.oiMs / main.oiMs)}× |`);
      console.log(`| one contract's settlement series over all ${SNAPSHOTS} snapshots, ms | ${fmt(main.seriesYearMs, 2)} | | |`);
      console.log(`| read one snapshot back whole (${CONTRACTS.toLocaleString("en-US")} contracts), ms | ${fmt(main.getMs, 0)} | | |`);
      console.log(`| stream one contract's rows over a month, ms | ${fmt(main.streamMs, 1)} | | |`);
      console.log(`load average at the end: ${loadavg().map((n) => n.toFixed(1)).join(" ")}`);
      console.log(`(building the chains in memory took ${fmt(main.buildMs / 1000)} s, not counted in the insert rate)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
