import { createRequire } from "node:module";
const require = createRequire("/work/main/packages/history/package.json");
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
const { Kysely, SqliteDialect } = require("kysely");

const { createKyselyChainHistory, migrateHistory } = await import("/work/main/packages/history/dist/index.js");
const Database = require("better-sqlite3");
const dir = mkdtempSync(join(tmpdir(), "hp-"));
const native = new Database(join(dir, "h.db"));
native.pragma("journal_mode = wal"); native.pragma("synchronous = normal");
const db = new Kysely({ dialect: new SqliteDialect({ database: native }) });
await migrateHistory(db, "sqlite");
const h = createKyselyChainHistory({ db, dialect: "sqlite", location: "x", sqliteDatabase: native });
const N = 20000;
function chain(day) {
  const asOf = new Date(Date.UTC(2026, 0, 2 + day, 21)).toISOString();
  const contracts = [];
  for (let i = 0; i < N; i++) {
    const k = i >> 1, right = i & 1 ? "P" : "C", s = Math.floor(i / 1000), strike = 17000 + (k % 500) * 10, x = (day * 31 + k * 7 + s) % 997;
    const exp = `2026-${String(3 + (s % 9)).padStart(2, "0")}-20`, code = `Q${s}H6`;
    contracts.push({ symbol: `${code} ${right}${strike}`, rawSymbol: `${code} ${right}${strike}`, underlying: "NQH6", underlyingPrice: 21000 + day, underlyingPriceBasis: "mid", underlyingPriceTime: asOf, product: "NQ", root: code, expiration: exp, expirationTime: `${exp}T14:30:00.000Z`, strike, right, bid: 10 + x / 4, ask: 10.5 + x / 4, bidSize: 1 + (x % 9), askSize: 1 + (x % 5), last: x % 4 ? 10.25 + x / 4 : null, volume: x % 50, clearedVolume: x % 70, clearedVolumeDate: asOf.slice(0, 10), openInterest: x % 3 ? 100 + x : null, openInterestDate: asOf.slice(0, 10), settlement: 10.1 + x / 4, settlementDate: asOf.slice(0, 10), impliedVolatility: 0.15 + x / 1e4, ivBasis: "mid", delta: 0.5, gamma: 0.0001 * (1 + (x % 13)), theta: -1.5 - x / 100, vega: 3 + x / 50, greeksSource: "computed", multiplier: 20, quoteTime: "2026-01-02T20:59:58.123456789Z", rawStrike: `${strike}.000000000`, provenance: { source: "databento", asOf, fetchedAt: asOf, delayed: false, sample: false } });
  }
  return { metadata: { source: "databento", product: "NQ", asOf, fetchedAt: asOf, delayed: false, sample: false, complete: true, incompleteReasons: [], asOfReason: null, proxy: null, warnings: [], cache: "miss", spendUsd: 0, analyticsRate: 0 }, qualityMetrics: { rowsReceived: N, validContracts: N, invalidRows: 0, invalidReasons: {}, duplicateRows: 0, conflictingDuplicates: 0, filteredRows: 0, missingBidAskShare: 0, crossedQuotes: 0, zeroOpenInterestShare: 0, missingOpenInterestShare: 0, staleQuotes: 0, futureQuoteTimes: 0, staleQuoteThresholdMs: 1, analyticsUnavailable: {} }, contracts };
}
const chains = Array.from({ length: 12 }, (_, d) => chain(d));
for (const [d, c] of chains.entries()) { globalThis.gc?.();
  const t0 = process.cpuUsage();
  await h.append({ profile: "p", chain: c, recordedAt: new Date() });
  const cu = process.cpuUsage(t0);
  console.log(d, Math.round(N / ((cu.user + cu.system) / 1e6)), "rows/cpu-s");
}
console.log(native.prepare("select count(*) n from nq_history_quote_contexts").get(), native.prepare("select count(*) n from nq_history_instruments").get());
