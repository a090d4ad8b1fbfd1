/**
 * @nq/store-postgres benchmark, on a throwaway PostgreSQL 15 started here (durable settings: fsync,
 * synchronous_commit and full_page_writes on, unlike the test server):
 *
 *   pnpm --filter @nq/store-postgres bench                 # quick: 5 snapshots × 20,000 contracts, 20 claimants
 *   pnpm --filter @nq/store-postgres bench -- --full       # the issue's size: 250 × 20,000 = 5 M rows, 100 claimants
 *   … -- --snapshots 50 --contracts 20000 --claimants 50   # anything between
 *
 * What it measures, each against a baseline in the same run:
 *  1. append through the history store (multi-row INSERTs, one transaction per snapshot): rows/s, against
 *     the same rows inserted one INSERT per row in one transaction (what a first version does);
 *  2. four processes' worth of writers (four pools) appending at once: aggregate rows/s against one writer;
 *  3. the canned queries over a month (settlement series of one contract, open interest by strike of one
 *     expiration) and a whole snapshot read back, against the same SQL with index scans switched off;
 *  4. retention: deleting the oldest tenth of the snapshots with their contracts, against dropping daily
 *     partitions of a table partitioned by as-of holding the same number of rows per day;
 *  5. single flight at fleet size: N handles (each its own pool and LISTEN connection, as N runners, here in
 *     one process) claim one key at once; one fetches (500 ms), the rest wait. Counts fetches, and times how
 *     soon after the entry (a 200-contract chain) is written each waiter has it.
 * Data is generated (an NQ-shaped chain: 20 series × 500 strikes × 2 rights), not market data.
 */
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import pg from "pg";
import { cacheKeyFor } from "@nq/core";
import { openPostgresCache, openPostgresHistory } from "../dist/index.js";
import { startPostgresServer } from "../dist/test-support/index.js";

const { values: flags } = parseArgs({
  options: {
    full: { type: "boolean", default: false },
    snapshots: { type: "string" },
    contracts: { type: "string" },
    claimants: { type: "string" },
  },
  allowPositionals: true,
});
const SNAPSHOTS = Number(flags.snapshots ?? (flags.full ? 250 : 5));
const CONTRACTS = Number(flags.contracts ?? 20_000);
const CLAIMANTS = Number(flags.claimants ?? (flags.full ? 100 : 20));
const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 2, 21);
const SERIES = ["NQ", "QN1", "QN2", "QN3", "QN4", "QNE", "Q1A", "Q2A", "Q3A", "Q4A", "Q1B", "Q2B", "Q3B", "Q4B", "Q1C", "Q2C", "Q3C", "Q4C", "Q1D", "Q2D"];
const MONTH_CODES = "FGHJKMNQUVXZ";

/** The chain of trading day `day`: CONTRACTS contracts whose numbers move from day to day. */
function chainFor(day, source = "databento") {
  const asOf = new Date(START + day * DAY_MS).toISOString();
  const fetchedAt = new Date(START + day * DAY_MS + 2_500).toISOString();
  const tradeDate = asOf.slice(0, 10);
  const perSeries = Math.ceil(CONTRACTS / (SERIES.length * 2));
  const contracts = [];
  for (let s = 0; s < SERIES.length && contracts.length < CONTRACTS; s += 1) {
    const expiration = new Date(Date.UTC(2026, 2 + s, 20)).toISOString().slice(0, 10);
    const month = MONTH_CODES[Number(expiration.slice(5, 7)) - 1];
    const code = `${SERIES[s]}${month}${expiration.slice(3, 4)}`;
    for (let k = 0; k < perSeries && contracts.length < CONTRACTS; k += 1) {
      const strike = 17_000 + k * 10;
      for (const right of ["C", "P"]) {
        if (contracts.length === CONTRACTS) break;
        const wobble = ((day * 37 + k * 11 + s * 5) % 1009) / 8;
        contracts.push({
          symbol: `${code} ${right}${strike}`,
          rawSymbol: `${code} ${right}${strike}`,
          underlying: `NQ${month}${expiration.slice(3, 4)}`,
          underlyingPrice: 21_000 + day * 1.25,
          underlyingPriceBasis: "mid",
          underlyingPriceTime: asOf,
          product: "NQ",
          root: SERIES[s],
          expiration,
          expirationTime: `${expiration}T14:30:00.000Z`,
          strike,
          right,
          bid: 5 + wobble,
          ask: 5.5 + wobble,
          bidSize: 1 + (k % 9),
          askSize: 1 + (k % 6),
          last: k % 5 === 0 ? null : 5.25 + wobble,
          volume: (k * 3 + day) % 60,
          clearedVolume: (k * 5 + day) % 80,
          clearedVolumeDate: tradeDate,
          openInterest: k % 4 === 0 ? null : 200 + ((k * 13 + day * 7) % 900),
          openInterestDate: tradeDate,
          settlement: 5.1 + wobble,
          settlementDate: tradeDate,
          impliedVolatility: 0.14 + wobble / 10_000,
          ivBasis: "mid",
          delta: right === "C" ? 0.5 - k / (2 * perSeries) : -0.5 + k / (2 * perSeries),
          gamma: 0.0002,
          theta: -1.2 - wobble / 200,
          vega: 2.5 + wobble / 100,
          greeksSource: "computed",
          multiplier: 20,
          quoteTime: `${tradeDate}T20:59:58.000Z`,
          rawStrike: `${strike}.000000000`,
          provenance: { source, asOf, fetchedAt, delayed: false, sample: false },
        });
      }
    }
  }
  return {
    metadata: { source, product: "NQ", asOf, fetchedAt, delayed: false, sample: false, complete: true, incompleteReasons: [], asOfReason: null, proxy: null, warnings: [], cache: "miss", spendUsd: 0.42, analyticsRate: 0.04 },
    optionsSummary: { total: contracts.length, calls: Math.ceil(contracts.length / 2), puts: Math.floor(contracts.length / 2), underlying: "NQH6", underlyingPrice: 21_000, underlyings: [], expirations: [] },
    qualityMetrics: {
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
      missingOpenInterestShare: 0.25,
      staleQuotes: 0,
      futureQuoteTimes: 0,
      staleQuoteThresholdMs: 900_000,
      analyticsUnavailable: {},
    },
    strikeRange: null,
    rawDataAvailable: false,
    contracts,
  };
}

const ms = (start) => performance.now() - start;
const fmt = (n, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length - 1) * p))];
const table = [];
const row = (what, measured, baseline, ratio) => table.push({ what, measured, baseline, ratio });

async function timeQuery(run, times = 5) {
  await run(); // warm the cache pages once
  const samples = [];
  for (let i = 0; i < times; i += 1) {
    const start = performance.now();
    await run();
    samples.push(ms(start));
  }
  return median(samples);
}

console.error(`store-postgres bench: ${SNAPSHOTS} snapshots × ${fmt(CONTRACTS)} contracts = ${fmt(SNAPSHOTS * CONTRACTS)} rows; ${CLAIMANTS} claimants`);
const server = await startPostgresServer({
  settings: { fsync: "on", synchronous_commit: "on", full_page_writes: "on", max_connections: String(Math.max(300, CLAIMANTS * 2 + 50)), shared_buffers: "256MB", max_wal_size: "4GB" },
});
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
try {
  const version = (await admin.query("show server_version")).rows[0].server_version;

  // 1. Appends through the store, then the same rows one INSERT each.
  const history = await openPostgresHistory({ url: server.url, schema: "bench", pool_size: 4 });
  const chains = new Map();
  const chainOf = (day) => {
    if (!chains.has(day % 7)) chains.set(day % 7, chainFor(day % 7));
    // Same contracts, this day's times: generating 250 distinct 20k-contract chains costs more than inserting them.
    const base = chains.get(day % 7);
    const asOf = new Date(START + day * DAY_MS).toISOString();
    return { ...base, metadata: { ...base.metadata, asOf, fetchedAt: new Date(START + day * DAY_MS + 2_500).toISOString() } };
  };
  let appended = 0;
  const insertStart = performance.now();
  const ids = [];
  for (let day = 0; day < SNAPSHOTS; day += 1) {
    const snapshot = await history.append({ profile: "desk", chain: chainOf(day), recordedAt: new Date(START + day * DAY_MS + 60_000) });
    ids.push(snapshot.id);
    appended += CONTRACTS;
    if ((day + 1) % 25 === 0) console.error(`  appended ${day + 1}/${SNAPSHOTS} snapshots (${fmt(appended / (ms(insertStart) / 1000))} rows/s)`);
  }
  const insertMs = ms(insertStart);
  const storeRate = appended / (insertMs / 1000);

  const sample = (await admin.query("select * from bench.nq_history_contracts where snapshot_id = $1 order by ordinal", [ids[0]])).rows;
  // The baseline table has the view's columns: one wide row per contract, the first version's layout.
  await admin.query("create table bench.baseline_contracts as select * from bench.nq_history_contracts where false");
  const columns = Object.keys(sample[0]);
  const insertOne = `insert into bench.baseline_contracts (${columns.join(", ")}) values (${columns.map((_, i) => `$${i + 1}`).join(", ")})`;
  const baselineRows = Math.min(sample.length, 5_000);
  const baselineStart = performance.now();
  await admin.query("begin");
  for (let i = 0; i < baselineRows; i += 1) await admin.query(insertOne, columns.map((column) => sample[i][column]));
  await admin.query("commit");
  const baselineRate = baselineRows / (ms(baselineStart) / 1000);
  row(`append ${SNAPSHOTS} × ${fmt(CONTRACTS)} rows via the history store`, `${fmt(storeRate)} rows/s (${fmt(insertMs / 1000, 1)} s)`, `${fmt(baselineRate)} rows/s (one INSERT per row, ${fmt(baselineRows)} rows)`, `${fmt(storeRate / baselineRate, 1)}×`);

  // 2. Four writers at once (four pools, as four runners) against one.
  const writers = 4;
  const perWriter = Math.max(1, Math.min(5, Math.floor(SNAPSHOTS / 20)));
  const handles = await Promise.all(Array.from({ length: writers }, () => openPostgresHistory({ url: server.url, schema: "bench", pool_size: 2 })));
  const concurrentStart = performance.now();
  await Promise.all(
    handles.map(async (handle, w) => {
      for (let i = 0; i < perWriter; i += 1) await handle.append({ profile: `runner-${w}`, chain: chainOf(SNAPSHOTS + w * perWriter + i), recordedAt: new Date() });
    }),
  );
  const concurrentRate = (writers * perWriter * CONTRACTS) / (ms(concurrentStart) / 1000);
  await Promise.all(handles.map((handle) => handle.close()));
  row(`${writers} writers appending at once (${perWriter} snapshot${perWriter === 1 ? "" : "s"} each)`, `${fmt(concurrentRate)} rows/s together`, `${fmt(storeRate)} rows/s (one writer)`, `${fmt(concurrentRate / storeRate, 2)}×`);

  // 3. Canned queries over the last month of the history, against the same SQL without index scans.
  await admin.query("analyze bench.nq_history_quotes, bench.nq_history_instruments, bench.nq_history_quote_contexts, bench.nq_history_snapshots");
  const lastDay = SNAPSHOTS - 1;
  const from = new Date(START + Math.max(0, lastDay - 30) * DAY_MS).toISOString();
  const to = new Date(START + (lastDay + 1) * DAY_MS).toISOString();
  const symbol = chainOf(0).contracts[4_321 % CONTRACTS].symbol;
  const expiration = chainOf(0).contracts[0].expiration;
  const settlement = await timeQuery(() => history.settlementSeries({ symbol, from, to }));
  const oi = await timeQuery(() => history.openInterestByStrike({ expiration, right: "call", from, to }));
  const snapshot = await timeQuery(() => history.getSnapshot(ids[ids.length - 1]), 3);
  const noIndex = async (text, params) => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query("set enable_indexscan = off; set enable_bitmapscan = off; set enable_indexonlyscan = off");
    const took = await timeQuery(() => client.query(text, params), 2);
    await client.end();
    return took;
  };
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  const settlementScan = await noIndex("select snapshot_id, as_of_ms, settlement, settlement_date from bench.nq_history_contracts where symbol = $1 and as_of_ms >= $2 and as_of_ms < $3 order by as_of_ms", [symbol, fromMs, toMs]);
  const oiScan = await noIndex(
    "select snapshot_id, as_of_ms, strike, option_right, open_interest from bench.nq_history_contracts where expiration = $1 and option_right = 'C' and as_of_ms >= $2 and as_of_ms < $3 order by as_of_ms, strike",
    [expiration, fromMs, toMs],
  );
  row(`settlement series of one contract, ${Math.min(SNAPSHOTS, 31)} days`, `${fmt(settlement, 1)} ms`, `${fmt(settlementScan, 1)} ms (same SQL, no index scans)`, `${fmt(settlementScan / settlement, 1)}× faster`);
  row(`open interest by strike, one expiration (calls), ${Math.min(SNAPSHOTS, 31)} days`, `${fmt(oi, 1)} ms`, `${fmt(oiScan, 1)} ms (same SQL, no index scans)`, `${fmt(oiScan / oi, 1)}× faster`);
  row(`one snapshot read back whole (${fmt(CONTRACTS)} contracts)`, `${fmt(snapshot, 1)} ms`, "", "");

  const size = Number(
    (await admin.query("select sum(pg_total_relation_size(t)) as n from unnest(array['bench.nq_history_quotes', 'bench.nq_history_instruments', 'bench.nq_history_quote_contexts']::regclass[]) t")).rows[0].n,
  );
  const totalRows = Number((await admin.query("select count(*) as n from bench.nq_history_contracts")).rows[0].n);

  // 4. Retention: the oldest tenth goes.
  const cutDays = Math.max(1, Math.floor(SNAPSHOTS / 10));
  const retentionNow = new Date(START + (cutDays + 30) * DAY_MS);
  const retentionStart = performance.now();
  const deleted = await history.applyRetention({ maxAgeDays: 30 }, retentionNow);
  const retentionMs = ms(retentionStart);
  // The same days as daily partitions of a table partitioned by as-of (what a year of history would use):
  // retention is then DROP of a partition, not a DELETE of its rows.
  const partitionDays = Math.min(3, Math.max(1, deleted));
  await admin.query("create table bench.partitioned_contracts (like bench.baseline_contracts) partition by range (as_of_ms)");
  for (let day = 0; day < partitionDays; day += 1) {
    const lo = START - DAY_MS / 2 + day * DAY_MS;
    await admin.query(`create table bench.partitioned_day_${day} partition of bench.partitioned_contracts for values from (${lo}) to (${lo + DAY_MS})`);
  }
  // Fill the partitions with one snapshot's worth of rows each (the rows the store just deleted are gone).
  for (let day = 0; day < partitionDays; day += 1) {
    const lo = START + day * DAY_MS;
    const rest = columns.filter((c) => c !== "as_of_ms");
    await admin.query(`insert into bench.partitioned_contracts (as_of_ms, ${rest.join(", ")}) select ${lo}::bigint, ${rest.join(", ")} from bench.nq_history_contracts where snapshot_id = $1`, [ids[ids.length - 1]]);
  }
  const dropStart = performance.now();
  for (let day = 0; day < partitionDays; day += 1) await admin.query(`drop table bench.partitioned_day_${day}`);
  const dropMs = ms(dropStart) / partitionDays;
  row(
    `retention: delete the oldest ${deleted} snapshots (${fmt(deleted * CONTRACTS)} rows)`,
    `${fmt(retentionMs, 0)} ms (${fmt(retentionMs / Math.max(1, deleted), 0)} ms per snapshot, DELETE)`,
    `${fmt(dropMs, 1)} ms per day (DROP of a daily partition of ${fmt(CONTRACTS)} rows)`,
    `${fmt(retentionMs / Math.max(1, deleted) / Math.max(0.1, dropMs), 1)}× faster partitioned`,
  );
  await history.close();

  // 5. Single flight: CLAIMANTS runners miss one key at once.
  const caches = await Promise.all(Array.from({ length: CLAIMANTS }, () => openPostgresCache({ url: server.url, schema: "bench_cache", pool_size: 1 })));
  const key = cacheKeyFor("databento", { product: "NQ", expirations: ["2026-12-18"] });
  // A small chain, so the timings are the claim's wake-up path rather than N parses of a 10 MB JSON on one event loop.
  const smallChain = { ...chainFor(0), contracts: chainFor(0).contracts.slice(0, 200) };
  let fetches = 0;
  let writtenAt = 0;
  const servedAfter = [];
  const storm = performance.now();
  await Promise.all(
    caches.map(async (cache) => {
      const claim = await cache.claimFetch(key, { now: () => new Date(), leaseMs: 10_000, waitMs: 60_000 });
      if (claim.kind === "fetch") {
        fetches += 1;
        await new Promise((resolve) => setTimeout(resolve, 500)); // the paid request
        await cache.set(key, { chain: smallChain, fetchedAt: new Date(), costUsd: 0.42 });
        writtenAt = performance.now();
        await claim.release();
      } else if (claim.kind === "entry") {
        servedAfter.push(performance.now() - writtenAt);
      } else {
        throw new Error(`a claimant timed out (${claim.kind})`);
      }
    }),
  );
  const stormMs = ms(storm);
  await Promise.all(caches.map((cache) => cache.close()));
  row(
    `single flight: ${CLAIMANTS} runners miss one key at once`,
    `${fetches} fetch; waiters served p50 ${fmt(percentile(servedAfter, 0.5), 0)} ms / p95 ${fmt(percentile(servedAfter, 0.95), 0)} ms / max ${fmt(Math.max(...servedAfter), 0)} ms after the write`,
    `${CLAIMANTS} fetches without it`,
    `${fmt(CLAIMANTS / Math.max(1, fetches), 0)}× fewer paid requests (whole storm ${fmt(stormMs, 0)} ms)`,
  );

  console.log(`\n@nq/store-postgres bench — PostgreSQL ${version}, Node ${process.versions.node}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`contract rows (the nq_history_contracts view): ${fmt(totalRows)}; quotes, instruments and quote contexts take ${fmt(size / 2 ** 20, 0)} MiB with indexes (${fmt(size / Math.max(1, totalRows), 0)} bytes per contract row)\n`);
  console.log("| What | Measured | Baseline (same run) | Ratio |");
  console.log("|---|---|---|---|");
  for (const r of table) console.log(`| ${r.what} | ${r.measured} | ${r.baseline} | ${r.ratio} |`);
} finally {
  await admin.end().catch(() => {});
  await server.stop();
}
