import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteCache, openSpendLedger, schemaOf } from "./index.js";
import { useTempFolders } from "./test-support/temp-folder.js";

const tempFolder = useTempFolders();

const run = (runId: string, at: string, extra: Partial<Parameters<Awaited<ReturnType<typeof openSpendLedger>>["recordRun"]>[0]> = {}) => ({
  runId,
  profile: "p",
  at,
  ok: true,
  source: "databento",
  contracts: 100,
  missingBidAskShare: 0.1,
  zeroOpenInterestShare: 0.05,
  spentUsd: 0,
  estimatedUsd: 0,
  tries: [{ source: "databento", ok: true, reason: null }],
  ...extra,
});

describe("the spend ledger beside the cache", () => {
  it("lives in the cache's own file, records a run's paid requests once, and totals them per day and month", async () => {
    const file = join(tempFolder(), "cache.db");
    const cache = await openSqliteCache({ path: file });
    const ledger = await openSpendLedger({ path: file });
    const spend = {
      entries: [
        { source: "databento", what: "definition GLBX.MDP3 NQ.OPT 2026-11-19", usd: 0.25, at: "2026-11-19T10:00:00.000Z" },
        { source: "databento", what: "trades GLBX.MDP3 NQ.OPT 2026-11-19", usd: 1.5, at: "2026-11-19T10:00:01.000Z" },
      ],
    };
    expect(await ledger.recordRun(run("r1", "2026-11-19T10:00:02.000Z"), spend)).toBe(2);
    expect(await ledger.recordRun(run("r1", "2026-11-19T10:00:02.000Z"), spend)).toBe(0);
    await ledger.recordRun(run("r2", "2026-11-20T10:00:00.000Z"), { entries: [{ source: "databento", what: "statistics x", usd: 0.5, at: "2026-11-20T10:00:00.000Z" }] });
    await ledger.recordRun(run("r3", "2026-12-01T10:00:00.000Z"), { entries: [{ source: "databento", what: "trades y", usd: 2, at: "2026-12-01T10:00:00.000Z" }] });

    const days = await ledger.totals("day");
    expect(days.map((d) => [d.period, d.requests, d.billedUsd])).toEqual([
      ["2026-11-19", 2, 1.75],
      ["2026-11-20", 1, 0.5],
      ["2026-12-01", 1, 2],
    ]);
    const months = await ledger.totals("month", { from: "2026-11-01T00:00:00.000Z", to: "2026-12-01T00:00:00.000Z" });
    expect(months).toEqual([{ period: "2026-11", source: "databento", requests: 3, estimatedUsd: 2.25, billedUsd: 2.25, bytes: null }]);
    const top = await ledger.entries({}, { orderBy: "billed", limit: 2 });
    expect(top.map((e) => [e.runId, e.schema, e.billedUsd])).toEqual([
      ["r3", "trades", 2],
      ["r1", "trades", 1.5],
    ]);
    // The cache still works in the same file.
    expect((await cache.stats(new Date())).entries).toBe(0);
    await ledger.close();
    await cache.close();
  });

  it("keeps each source's tries and the previous run of a profile, and claims an alert key once", async () => {
    const file = join(tempFolder(), "cache.db");
    const ledger = await openSpendLedger({ path: file });
    await ledger.recordRun(run("a", "2026-11-19T10:00:00.000Z", { tries: [{ source: "databento", ok: false, reason: "401" }, { source: "barchart", ok: true, reason: null }], source: "barchart" }), { entries: [] });
    await ledger.recordRun(run("b", "2026-11-19T11:00:00.000Z", { tries: [{ source: "databento", ok: false, reason: "503" }] , ok: false, source: null }), { entries: [] });
    const tries = await ledger.recentTries(["databento", "barchart"], 10);
    expect(tries.databento!.map((t) => [t.runId, t.ok, t.reason])).toEqual([["a", false, "401"], ["b", false, "503"]]);
    expect(tries.barchart!.map((t) => t.ok)).toEqual([true]);
    expect((await ledger.previousRun("p", "b"))?.runId).toBe("a");
    expect(await ledger.previousRun("p", "b", "databento")).toBeNull();
    const alert = { key: "budget:databento:2026-11", rule: "budget", severity: "warn", runId: "b", at: "2026-11-19T11:00:00.000Z" };
    expect(await ledger.claim(alert)).toBe(true);
    expect(await ledger.claim({ ...alert, runId: "c" })).toBe(false);
    expect(await ledger.firedAlerts()).toHaveLength(1);
    await ledger.close();
  });

  it("reads as empty, read-only, where nothing was recorded, and creates nothing", async () => {
    const dir = tempFolder();
    const missing = await openSpendLedger({ path: join(dir, "none.db"), readOnly: true });
    expect(missing.empty).toBe(true);
    expect(await missing.totals("month")).toEqual([]);
    await missing.close();
  });

  it("reads the schema from the start of what was bought", () => {
    expect(schemaOf("trades GLBX.MDP3 NQ.OPT")).toBe("trades");
    expect(schemaOf("mbp-1: quotes for the quiet options")).toBe("mbp-1");
    expect(schemaOf("Local DBN files (3)")).toBe(null);
  });
});
