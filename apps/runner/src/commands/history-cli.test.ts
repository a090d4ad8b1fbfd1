/**
 * History end to end: the built CLI runs a profile of the offline saved source (its generated sample chain,
 * through the SQLite cache), every run appends to the real SQLite history beside the cache, and the `history`
 * command reads it back — list, show, export, query — with its exit codes; retention; a store that cannot be
 * written never fails the run; `watch` appends every cycle.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HistorySnapshot, OptionsChain } from "@nq/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProfile } from "../run.js";
import { openProfileHistory } from "../run-history.js";
import { FAKE_PLUGIN } from "../test-plugin.js";
import { EXPORT_CSV_COLUMNS } from "./history.js";

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "nq-history-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("DATABENTO") && key !== "INIT_CWD" && !key.startsWith("npm_")));
}

function cli(args: string[], cwd = root) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", env: cleanEnv(), timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
}

/** A profile of the saved source's generated sample, cached (so a second run is a cache hit), in its own folder. */
function workspace(extra: Record<string, unknown> = {}): { dir: string; profile: string } {
  const dir = join(root, String(++counter));
  mkdirSync(dir);
  const profile = join(dir, "profile.json");
  writeFileSync(
    profile,
    JSON.stringify({
      profile_name: "hist",
      data_source_priority: ["saved"],
      data_sources: { saved: { plugin: "@nq/source-saved", config: { dir: "chains", include_sample: true } } },
      cache: { plugin: "@nq/cache-sqlite", path: "cache.db", ttl: "24h" },
      output: { dir: "out", html: false },
      ...extra,
    }),
  );
  return { dir, profile };
}

interface RunJson {
  ok: boolean;
  chain: Omit<OptionsChain, "contracts">;
  outputs: { json: string };
  history: { enabled: boolean; written: boolean; snapshotId: string | null; location: string | null; removedByRetention: number; note: string | null; error: string | null };
  notices: string[];
}

function runJson(profile: string, ...flags: string[]): RunJson {
  const run = cli(["--config", profile, "--json", ...flags]);
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as RunJson; // stdout is the JSON and nothing else
}

function listJson(profile: string, ...flags: string[]): HistorySnapshot[] {
  const run = cli(["history", "list", "--config", profile, "--json", ...flags]);
  expect(run.status, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { snapshots: HistorySnapshot[] }).snapshots;
}

// Every CLI start imports the whole runner (a few seconds on a busy machine): tests that start many get room.
const SLOW = { timeout: 300_000 };

describe.skipIf(!existsSync(CLI))("history end to end (built CLI, SQLite history beside the cache)", SLOW, () => {
  let ws: { dir: string; profile: string };
  let first: RunJson;
  let second: RunJson;
  let chain: OptionsChain;

  beforeAll(() => {
    ws = workspace();
    first = runJson(ws.profile);
    second = runJson(ws.profile);
    chain = JSON.parse(readFileSync(first.outputs.json, "utf8")) as OptionsChain;
  }, 300_000);

  it("a run appends its chain and says where (snapshot id and location) in --json", () => {
    expect(first.history).toEqual({ enabled: true, written: true, snapshotId: expect.stringMatching(/^\d+$/), location: join(ws.dir, "history.db"), removedByRetention: 0, note: null, error: null });
    expect(existsSync(join(ws.dir, "history.db"))).toBe(true);
    expect(first.chain.metadata.cache).toBe("miss");
  });

  it("a cache hit is appended too, marked as a hit", () => {
    expect(second.chain.metadata.cache).toBe("hit");
    expect(second.history.written).toBe(true);
    expect(Number(second.history.snapshotId)).toBeGreaterThan(Number(first.history.snapshotId));
    const snapshots = listJson(ws.profile);
    expect(snapshots.map((s) => s.id)).toEqual([second.history.snapshotId, first.history.snapshotId]); // newest first
    expect(snapshots.map((s) => s.cache)).toEqual(["hit", "miss"]);
    expect(snapshots[0]).toMatchObject({ profile: "hist", source: "saved", sample: true, spendUsd: 0, contractCount: chain.contracts.length, asOf: chain.metadata.asOf });
  });

  it("the text summary has a History line", () => {
    const run = cli(["--config", ws.profile, "--no-history"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^History: off \(--no-history\)$/m);
    const written = cli(["--config", ws.profile]);
    expect(written.stdout).toMatch(new RegExp(`^History: snapshot \\d+ in ${join(ws.dir, "history.db").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`, "m"));
    expect(listJson(ws.profile)).toHaveLength(3);
  });

  it("history list: a table, --limit, --source, --from/--to; a bad flag exits 2 naming it", () => {
    const run = cli(["history", "list", "--config", ws.profile]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\s+id\s+as of\s+source\s+cache\s+contracts\s+complete\s+flags\s+spend$/m);
    expect(run.stdout).toMatch(new RegExp(`^\\s+${second.history.snapshotId}\\s+${chain.metadata.asOf.replace(/\./g, "\\.")}\\s+saved\\s+hit\\s+${chain.contracts.length}\\s+yes\\s+(DELAYED,)?SAMPLE\\s+\\$0\\.00$`, "m"));
    expect(listJson(ws.profile, "--limit", "1")).toHaveLength(1);
    expect(listJson(ws.profile, "--source", "databento")).toEqual([]);
    const day = chain.metadata.asOf.slice(0, 10);
    expect(listJson(ws.profile, "--from", day, "--to", day).length).toBeGreaterThanOrEqual(2);
    expect(listJson(ws.profile, "--to", day.replace(/^\d{4}/, (y) => String(Number(y) - 1)))).toEqual([]);
    for (const [flags, message] of [
      [["--from", "last week"], /option '--from <date\|time>' argument 'last week' is invalid\. expected a UTC date YYYY-MM-DD/],
      [["--limit", "0"], /option '--limit <n>' argument '0' is invalid\. expected a whole number from 1/],
      [["--from", "2026-11-21", "--to", "2026-11-20"], /--from \(2026-11-21T00:00:00\.000Z\) must be before --to/],
      [["--bogus"], /unknown option '--bogus'/],
    ] as const) {
      const bad = cli(["history", "list", "--config", ws.profile, ...flags]);
      expect(bad.status, bad.stderr).toBe(2);
      expect(bad.stderr).toMatch(message);
      expect(bad.stdout).toBe("");
    }
  });

  it("history show <id>: provenance and contracts; --json is a chain-like document; unknown id exits 6, a bad id 2", () => {
    const id = second.history.snapshotId!;
    const text = cli(["history", "show", id, "--config", ws.profile]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^snapshot ${id} · profile "hist"`));
    expect(text.stdout).toMatch(/cache\s+hit \(served from the cache\)/);
    expect(text.stdout).toMatch(/flags\s+(DELAYED,)?SAMPLE$/m);
    expect(text.stdout).toContain(chain.contracts[0]!.symbol);
    const json = cli(["--config", ws.profile, "history", "show", id, "--json"]);
    expect(json.status, json.stderr).toBe(0);
    const document = JSON.parse(json.stdout) as { snapshot: { id: string }; metadata: { cache: string; asOf: string }; contracts: OptionsChain["contracts"] };
    expect(document.snapshot.id).toBe(id);
    expect(document.metadata).toMatchObject({ cache: "hit", asOf: chain.metadata.asOf, source: "saved", sample: true });
    expect(document.contracts).toHaveLength(chain.contracts.length);
    const bySymbol = new Map(chain.contracts.map((c) => [c.symbol, c]));
    for (const c of document.contracts.slice(0, 50)) expect({ ...c, provenance: undefined }).toEqual({ ...bySymbol.get(c.symbol), provenance: undefined });

    const missing = cli(["history", "show", "987654", "--config", ws.profile]);
    expect(missing.status).toBe(6);
    expect(missing.stderr).toMatch(/error: no snapshot 987654 in .*history\.db; `history list` shows the ids there are/);
    const bad = cli(["history", "show", "abc", "--config", ws.profile]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/argument 'id'.*expected a snapshot id, a whole number such as 42/);
  });

  it("history export: CSV with the column names as header, every row of the range, written atomically; JSON; --symbol", () => {
    const day = chain.metadata.asOf.slice(0, 10);
    const count = listJson(ws.profile).length;
    const csv = join(ws.dir, "exports", "rows.csv");
    mkdirSync(join(ws.dir, "exports"));
    const run = cli(["history", "export", "--config", ws.profile, "--from", day, "--to", day, "--out", csv]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`wrote ${count * chain.contracts.length} contract rows (csv) to ${csv}\n`);
    const lines = readFileSync(csv, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe(EXPORT_CSV_COLUMNS.join(","));
    expect(lines).toHaveLength(1 + count * chain.contracts.length);
    expect(readdirSync(join(ws.dir, "exports"))).toEqual(["rows.csv"]);

    const symbol = chain.contracts[0]!.symbol;
    const jsonFile = join(ws.dir, "exports", "one.json");
    const json = cli(["history", "export", "--config", ws.profile, "--from", day, "--to", day, "--symbol", symbol, "--format", "json", "--out", jsonFile, "--json"]);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ file: jsonFile, format: "json", rows: count });
    const rows = JSON.parse(readFileSync(jsonFile, "utf8")) as { snapshotId: string; contract: { symbol: string } }[];
    expect(rows.map((r) => r.contract.symbol)).toEqual(Array(count).fill(symbol));

    for (const [flags, message] of [
      [["--from", day, "--out", csv], /export needs both --from and --to/],
      [["--from", day, "--to", day, "--out", join(ws.dir, "x.txt")], /--format <csv\|json>': give csv or json/],
      [["--from", day, "--to", day, "--out", csv, "--format", "xml"], /argument 'xml' is invalid\. expected csv or json/],
      [["--from", day, "--to", day, "--out", csv, "--expiration", "Dec 18"], /--expiration <date>' argument 'Dec 18' is invalid\. expected an expiration date YYYY-MM-DD/],
    ] as const) {
      const bad = cli(["history", "export", "--config", ws.profile, ...flags]);
      expect(bad.status, bad.stderr).toBe(2);
      expect(bad.stderr).toMatch(message);
    }
    writeFileSync(join(ws.dir, "blocker"), "a file where a folder should be");
    const blocked = cli(["history", "export", "--config", ws.profile, "--from", day, "--to", day, "--out", join(ws.dir, "blocker", "x.csv")]);
    expect(blocked.status).toBe(3);
    expect(blocked.stderr).toMatch(/error: cannot write .*blocker\/x\.csv/);
  });

  it("history query oi and settlement: one point per snapshot, table or --json", () => {
    const count = listJson(ws.profile).length;
    const expiration = chain.optionsSummary.expirations[0]!;
    const strikes = new Set(chain.contracts.filter((c) => c.expiration === expiration && c.right === "P").map((c) => c.strike));
    const oi = cli(["history", "query", "oi", "--config", ws.profile, "--expiration", expiration, "--right", "put", "--json"]);
    expect(oi.status, oi.stderr).toBe(0);
    const points = (JSON.parse(oi.stdout) as { points: { strike: number; right: string; openInterest: number | null; snapshotId: string }[] }).points;
    expect(points).toHaveLength(strikes.size * count);
    expect(new Set(points.map((p) => p.right))).toEqual(new Set(["put"]));
    const sample = chain.contracts.find((c) => c.expiration === expiration && c.right === "P")!;
    expect(points.filter((p) => p.strike === sample.strike).map((p) => p.openInterest)).toEqual(Array(count).fill(sample.openInterest));
    const table = cli(["history", "query", "oi", "--config", ws.profile, "--expiration", expiration]);
    expect(table.stdout).toMatch(new RegExp(`^open interest by strike · expiration ${expiration}`));

    const withSettlement = chain.contracts.find((c) => c.settlement !== null) ?? chain.contracts[0]!;
    const settlement = cli(["history", "query", "settlement", "--config", ws.profile, "--symbol", withSettlement.symbol.toLowerCase(), "--json"]);
    expect(settlement.status, settlement.stderr).toBe(0);
    const series = JSON.parse(settlement.stdout) as { symbol: string; points: { settlement: number | null }[] };
    expect(series.symbol).toBe(withSettlement.symbol);
    expect(series.points.map((p) => p.settlement)).toEqual(Array(count).fill(withSettlement.settlement));

    const bad = cli(["history", "query", "oi", "--config", ws.profile, "--expiration", expiration, "--right", "straddle"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--right <call\|put>' argument 'straddle' is invalid\. expected call or put/);
    const missing = cli(["history", "query", "oi", "--config", ws.profile]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/required option '--expiration <date>' not specified/);
  });

  it("--help on every history command", () => {
    for (const args of [["history"], ["history", "list"], ["history", "show"], ["history", "export"], ["history", "query"], ["history", "query", "oi"], ["history", "query", "settlement"]]) {
      const run = cli([...args, "--help"]);
      expect(run.status, `${args.join(" ")}: ${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/^Usage: nq-runner history/);
    }
  });
});

describe.skipIf(!existsSync(CLI))("history: retention, an unwritable store, watch", SLOW, () => {
  it("retention after every append keeps the newest max_snapshots_per_profile", () => {
    const ws = workspace({ history: { retention: { max_snapshots_per_profile: 2 } } });
    const ids = [runJson(ws.profile), runJson(ws.profile), runJson(ws.profile)].map((r) => r.history);
    expect(ids.map((h) => h.removedByRetention)).toEqual([0, 0, 1]);
    expect(listJson(ws.profile).map((s) => s.id)).toEqual([ids[2]!.snapshotId, ids[1]!.snapshotId]);
  });

  it("a history store that cannot be written: the run still exits 0 with the chain, a warning on stderr, and says so", () => {
    const ws = workspace({ history: { path: "blocker/history.db" } });
    writeFileSync(join(ws.dir, "blocker"), "a file where the history folder should be");
    const run = cli(["--config", ws.profile, "--json"]);
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as RunJson;
    expect(summary.ok).toBe(true);
    expect(existsSync(summary.outputs.json)).toBe(true);
    expect(summary.history).toMatchObject({ enabled: true, written: false, snapshotId: null, error: expect.stringContaining("blocker") });
    expect(summary.notices.some((n) => n.startsWith("HISTORY NOT WRITTEN:"))).toBe(true);
    expect(run.stderr).toMatch(/\[warn\] history: not written: .*blocker/);
    const text = cli(["--config", ws.profile]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^History: NOT WRITTEN \(.*blocker/m);
  });

  it("a damaged history file: runs still exit 0 and say so, the file is left as it was; the history command exits 5", () => {
    const ws = workspace();
    const garbage = "this is not an SQLite database, and history must leave it alone\n".repeat(100);
    writeFileSync(join(ws.dir, "history.db"), garbage);
    const summary = runJson(ws.profile);
    expect(summary.history).toMatchObject({ written: false, error: expect.stringMatching(/history\.db/) });
    expect(readFileSync(join(ws.dir, "history.db"), "utf8")).toBe(garbage);
    const list = cli(["history", "list", "--config", ws.profile]);
    expect(list.status).toBe(5);
    expect(list.stderr).toMatch(/error: the history store of .*profile\.json cannot be opened: .*history\.db/);
    expect(list.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it("before any run: no snapshots and a note (exit 0), nothing created; show exits 6", () => {
    const ws = workspace();
    const list = cli(["history", "list", "--config", ws.profile, "--json"]);
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ location: join(ws.dir, "history.db"), snapshots: [] });
    expect(list.stderr).toMatch(/note: there is no history at .*history\.db yet/);
    expect(cli(["history", "show", "1", "--config", ws.profile]).status).toBe(6);
    expect(existsSync(join(ws.dir, "history.db"))).toBe(false);
  });

  it("history off in the profile: runs append nothing, and the history command says it is off (exit 2)", () => {
    const ws = workspace({ history: { enabled: false } });
    expect(runJson(ws.profile).history).toMatchObject({ enabled: false, written: false, note: "off (history.enabled is false in the profile)" });
    expect(existsSync(join(ws.dir, "history.db"))).toBe(false);
    const list = cli(["history", "list", "--config", ws.profile]);
    expect(list.status).toBe(2);
    expect(list.stderr).toMatch(/has history turned off/);
  });

  it("a history plugin that is not one: exit 2 before any source runs, naming history.plugin", () => {
    const ws = workspace({ history: { plugin: "@nq/source-saved" } });
    const run = cli(["--config", ws.profile]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/the plugin "@nq\/source-saved" \(history\.plugin\) is not a valid history definition:\n\s+- expected a named export "history"/);
    expect(existsSync(join(ws.dir, "out"))).toBe(false);
  });

  it("watch appends every cycle", () => {
    const ws = workspace();
    const run = cli(["watch", "--config", ws.profile, "--interval", "0.2", "--runs", "2", "--json"]);
    expect(run.status, run.stderr).toBe(0);
    expect(listJson(ws.profile)).toHaveLength(2);
    const noHistory = workspace();
    expect(cli(["watch", "--config", noHistory.profile, "--interval", "0.2", "--runs", "1", "--no-history"]).status).toBe(0);
    expect(existsSync(join(noHistory.dir, "history.db"))).toBe(false);
  });
});

describe("history in process: a substituted chain", () => {
  it("the fallback's chain is appended under the source that answered", async () => {
    const ws = workspace({
      data_source_priority: ["fake", "saved"],
      data_sources: { fake: { plugin: "./fake-plugin.mjs", config: { mode: "fail" } }, saved: { plugin: "@nq/source-saved", config: { dir: "chains", include_sample: true } } },
      retries: 0,
    });
    writeFileSync(join(ws.dir, "fake-plugin.mjs"), FAKE_PLUGIN);
    const { summary, exitCode } = await runProfile({ profilePath: ws.profile, cwd: ws.dir, env: cleanEnv(), ops: false });
    expect(exitCode).toBe(0);
    expect(summary.substituted).toBe(true);
    expect(summary.history).toMatchObject({ written: true, location: join(ws.dir, "history.db") });
    const opened = await openProfileHistory(ws.profile, { cwd: ws.dir, env: cleanEnv() });
    if (!opened || !("history" in opened)) throw new Error("expected an open history");
    try {
      const [snapshot] = await opened.history.listSnapshots({ profile: "hist" });
      expect(snapshot).toMatchObject({ id: summary.history!.snapshotId, source: "saved", cache: "miss", contractCount: summary.chain!.optionsSummary.total });
    } finally {
      await opened.history.close();
    }
  }, 120_000);
});
