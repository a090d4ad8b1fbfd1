/**
 * check, compare, usage and the after-run alerts, end to end against the project's local servers on
 * 127.0.0.1: the Databento-compatible HTTP server, the Barchart-like site (plain-HTTP probe; the Chromium
 * path has its own test in @nq/source-barchart) and a webhook receiver started here.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSpendLedger } from "@nq/cache-sqlite";
import type { OptionsChain } from "@nq/core";
import { startLocalBarchartSite, type LocalBarchartSite } from "@nq/source-barchart/test-site";
import { startLocalDatabentoServer, type LocalDatabentoServer } from "@nq/source-databento/test-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT, runProfile } from "../run.js";
import { runChecks } from "./check.js";
import { renderComparison, runCompare } from "./compare.js";
import { renderUsage, usageReport } from "./usage.js";

const KEY = "db-OPSopsOPSopsOPSopsOPSopsOPSop";
const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "nq-ops-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let server: LocalDatabentoServer;
let site: LocalBarchartSite;
let hook: { url: string; bodies: { alerts: { rule: string; key: string }[] }[]; close(): Promise<void> };
beforeAll(async () => {
  server = await startLocalDatabentoServer({ apiKeys: [KEY], fixturesDir: null, contracts: 40 });
  site = await startLocalBarchartSite({ today: "2026-11-18", fixturesDir: null });
  const bodies: { alerts: { rule: string; key: string }[] }[] = [];
  const http: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      bodies.push(JSON.parse(text));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  hook = {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/alerts`,
    bodies,
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
});
afterAll(async () => {
  await server?.close();
  await site?.close();
  await hook?.close();
});

let counter = 0;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function profile(body: Record<string, any>): string {
  const file = join(dir, `profile-${++counter}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      profile_name: `ops-${counter}`,
      data_source_priority: ["databento", "barchart", "saved"],
      data_sources: {
        databento: { plugin: "@nq/source-databento", config: { api_key: "${DATABENTO_API_KEY}", base_url: server.url, sample: true } },
        barchart: { plugin: "@nq/source-barchart", config: { base_url: site.url, min_interval_ms: 0, jitter_ms: 0 } },
        saved: { plugin: "@nq/source-saved", cache: false, config: { dir: `out-${counter}`, include_sample: true } },
      },
      request: { product: "NQ", max_expirations: 1, as_of: "2026-11-19T20:00:00Z" },
      run_cost_limit_usd: 50,
      cache: { plugin: "@nq/cache-sqlite", path: `cache-${counter}.db` },
      output: { dir: `out-${counter}`, html: false },
      ...body,
    }),
  );
  return file;
}
const env = { DATABENTO_API_KEY: KEY };

describe("check", () => {
  it("every source of the profile, in order: Databento's key, dataset and a priced request; Barchart's page, cookies and token; saved files — nothing bought", async () => {
    const before = server.requests.length;
    const report = await runChecks({ profilePath: profile({}), env, quick: true });
    expect(report.sources.map((s) => [s.source, s.ready])).toEqual([
      ["databento", true],
      ["barchart", true],
      ["saved", true],
    ]);
    expect(report).toMatchObject({ firstChoice: "databento", ready: true, exitCode: 0 });
    const names = report.sources[0]!.items.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(["api key accepted", "dataset GLBX.MDP3 entitled", "cost query (get_cost)"]));
    expect(report.sources[1]!.items.map((i) => `${i.name}:${i.status}`)).toEqual(
      expect.arrayContaining(["page reachable:ok", "not blocked:ok", "session cookies and XSRF token:ok", "quotes endpoint:ok"]),
    );
    expect(server.spend(before).requests).toBe(0);
  });

  it("exit 1 when the first choice is not ready (no key), saying a later source is", async () => {
    const report = await runChecks({ profilePath: profile({}), env: {}, quick: true });
    expect(report).toMatchObject({ ready: false, fallbackReady: true, exitCode: 1 });
    expect(report.sources[0]!.items.find((i) => i.name === "api key present")).toMatchObject({ status: "fail" });
  });
});

/** A Barchart-like chain of the same instruments as a Databento chain, with known differences. */
function barchartTwin(chain: OptionsChain): { twin: OptionsChain; changed: { settlement: string; openInterest: string } } {
  const contracts = chain.contracts.map((c) => ({ ...c, provenance: { ...c.provenance, source: "barchart", delayed: true } }));
  const withSettlement = contracts.findIndex((c) => c.settlement !== null);
  const withOi = contracts.findIndex((c, i) => c.openInterest !== null && i !== withSettlement);
  contracts[withSettlement] = { ...contracts[withSettlement]!, settlement: contracts[withSettlement]!.settlement! + 5 };
  contracts[withOi] = { ...contracts[withOi]!, openInterest: contracts[withOi]!.openInterest! + 7 };
  return {
    twin: { ...chain, metadata: { ...chain.metadata, source: "barchart", delayed: true }, contracts },
    changed: { settlement: contracts[withSettlement]!.symbol, openInterest: contracts[withOi]!.symbol },
  };
}

describe("compare", () => {
  it("Databento against a twin of the same instruments: exact settlement and OI where equal, the given differences listed, JSON and CSV written", async () => {
    const path = profile({ compare: { tolerances: { settlement: { abs: 0 } }, worst: 3 } });
    // The Databento chain through the runner; its twin is saved where the "saved" source replays it from.
    const first = await runProfile({ profilePath: path, env, forceSource: "databento" });
    expect(first.exitCode, JSON.stringify(first.summary.attempts)).toBe(0);
    const chain = JSON.parse(readFileSync(first.summary.outputs!.json, "utf8")) as OptionsChain;
    const { twin, changed } = barchartTwin(chain);
    const twinFile = join(dir, `out-${counter}`, "twin.chain.json");
    writeFileSync(twinFile, JSON.stringify({ ...twin, metadata: { ...twin.metadata, source: "databento" } }));
    const outcome = await runCompare({ profilePath: path, env, sources: ["databento", "saved"] });
    expect(outcome.error).toBeNull();
    const report = outcome.report!;
    expect(report.a.cache).toBe("hit"); // through the cache: nothing bought twice
    const withSettlement = chain.contracts.filter((c) => c.settlement !== null).length;
    const withOi = chain.contracts.filter((c) => c.openInterest !== null).length;
    expect(withSettlement).toBeGreaterThan(1);
    expect(report.joined).toBe(chain.contracts.length);
    expect(report.fields.settlement).toMatchObject({ exact: withSettlement - 1, mismatch: 1 });
    expect(report.fields.openInterest).toMatchObject({ exact: withOi - 1, mismatch: 1 });
    const listed = report.worst.filter((d) => d.status === "mismatch").map((d) => [d.field, d.symbol, d.diff]);
    expect(listed).toEqual([
      ["settlement", changed.settlement, 5],
      ["openInterest", changed.openInterest, 7],
    ]);
    expect(existsSync(outcome.files!.json) && existsSync(outcome.files!.csv)).toBe(true);
    expect(readFileSync(outcome.files!.csv, "utf8").split("\n")[0]).toMatch(/^symbol,expiration,strike,right,side,/);
    expect(outcome.files!.html).toBeUndefined(); // the profile's output.html is false
    const text = renderComparison(report, outcome.files);
    expect(text).toMatch(/settlement\s+\d+\s+\d+\s+0\s+1/);
    expect(text).toMatch(/session volume/);
  });

  it("writes the compare page (compare-A-B-<asOf>.html) beside the JSON and CSV: self-contained, both sources in its banner; not with html: false", async () => {
    const path = profile({ output: { dir: `out-${counter + 1}`, html: true } });
    const first = await runProfile({ profilePath: path, env, forceSource: "databento" });
    expect(first.exitCode, JSON.stringify(first.summary.attempts)).toBe(0);
    const chain = JSON.parse(readFileSync(first.summary.outputs!.json, "utf8")) as OptionsChain;
    const { twin } = barchartTwin(chain);
    writeFileSync(join(dir, `out-${counter}`, "twin.chain.json"), JSON.stringify({ ...twin, metadata: { ...twin.metadata, source: "databento" } }));
    const outcome = await runCompare({ profilePath: path, env, sources: ["databento", "saved"] });
    expect(outcome.error).toBeNull();
    const files = outcome.files!;
    expect(files.html).toBe(files.json.replace(/\.json$/, ".html"));
    expect(files.html).toMatch(/compare-databento-saved-[^/]+\.html$/);
    const html = readFileSync(files.html!, "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('data-side="A" data-source="databento"');
    expect(html).toContain(`data-side="B" data-source="${outcome.report!.b.source}"`);
    expect(html).toContain('id="fig-settlement"');
    expect(html).not.toMatch(/(src|href)=["']?https?:/i);
    expect(renderComparison(outcome.report!, files)).toContain(files.html!);
    const without = await runCompare({ profilePath: path, env, sources: ["databento", "saved"], html: false });
    expect(without.error).toBeNull();
    expect(without.files!.html).toBeUndefined();
  });

  it("a source that gives no chain is exit 1, named", async () => {
    const path = profile({});
    const json = JSON.parse(readFileSync(path, "utf8"));
    json.data_sources.barchart.config = { mode: "saved", saved_dir: "no-captures-here" };
    writeFileSync(path, JSON.stringify(json));
    const outcome = await runCompare({ profilePath: path, env, sources: ["databento", "barchart"] });
    expect(outcome.exitCode).toBe(EXIT.noSource);
    expect(outcome.error).toMatch(/^barchart gave no chain/);
  });
});

describe("usage, the ledger and alerts", () => {
  it("the ledger's totals equal the server's billed requests; each rule fires once, to the webhook, alerts.jsonl and the summary; a 'fail' rule is exit 4", { timeout: 240_000 }, async () => {
    const path = profile({
      budget: { monthly_usd: { databento: 0.000001 } },
      alerts: {
        webhook: { url: hook.url, timeout_ms: 2000 },
        rules: {
          budget: { share: 0.8, severity: "fail" },
          source_failures: { consecutive: 2, rate: 0.5, window_runs: 4, min_runs: 3 },
          quality: { contracts_drop_share: 0.2 },
        },
      },
    });
    // Barchart fails fast here (a replay of captures that do not exist): no browser needed.
    const json = JSON.parse(readFileSync(path, "utf8"));
    json.data_sources.barchart.config = { mode: "saved", saved_dir: "no-captures-here" };
    writeFileSync(path, JSON.stringify(json));
    const since = server.requests.length;
    // 1: Databento, paid: over its (tiny) budget → the budget alert, marked fail → exit 4.
    const paid = await runProfile({ profilePath: path, env, refresh: true });
    expect(paid.exitCode).toBe(EXIT.alert);
    expect(paid.summary.alerts!.map((a) => a.rule)).toEqual(["budget"]);
    expect(paid.summary.notices.join("\n")).toMatch(/ALERT \(fail\): databento has spent/);
    // 2: paid again (refresh): same month, the budget alert is not fired twice.
    const again = await runProfile({ profilePath: path, env, refresh: true });
    expect(again.exitCode).toBe(EXIT.ok);
    expect(again.summary.alerts).toEqual([]);
    expect(again.summary.ledger!.suppressedAlerts).toBe(1);

    // 3, 4, 5: Databento's gateway fails (503) each time, Barchart too; saved replays Databento's last chain.
    server.setFault({ kind: "503" });
    const failing = [];
    try {
      for (let i = 0; i < 3; i++) failing.push(await runProfile({ profilePath: path, env, refresh: true }));
    } finally {
      server.setFault(null);
    }
    expect(failing.map((r) => r.summary.source)).toEqual(["saved", "saved", "saved"]);
    const rules = failing.map((r) => (r.summary.alerts ?? []).map((a) => `${a.rule}:${a.source}`).sort());
    // Run 3: one failure each; the chain now comes from another source, so quality is not compared.
    expect(rules[0]).toEqual([]);
    // Run 4: two in a row for both (Databento: 2 of its last 4, not over 50 %; Barchart: 2 tries, under min_runs).
    expect(rules[1]).toEqual(["source_failures:barchart", "source_failures:databento"]);
    // Run 5: the same streaks (not fired again); the rates now over 50 %.
    expect(rules[2]).toEqual(["failure_rate:barchart", "failure_rate:databento"]);

    // Quality: a narrower chain from Databento than its previous chain (contracts down by more than 20 %).
    const range = paid.summary.chain!.strikeRange!;
    const narrow = await runProfile({ profilePath: path, env, refresh: true, request: { strikeMin: (range.min + range.max) / 2 } });
    expect(narrow.summary.source).toBe("databento");
    expect((narrow.summary.alerts ?? []).map((a) => a.rule)).toContain("quality");

    const fired = hook.bodies.flatMap((b) => b.alerts.map((a) => a.key));
    expect(new Set(fired).size).toBe(fired.length);
    const byRule = (rule: string) => fired.filter((k) => k.startsWith(`${rule}:`)).length;
    expect([byRule("budget"), byRule("source_failures"), byRule("failure_rate")]).toEqual([1, 2, 2]);
    expect(byRule("quality")).toBeGreaterThanOrEqual(1);
    const log = readFileSync(join(dir, `out-${counter}`, "alerts.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).key);
    expect(log).toEqual(fired);

    // The ledger: one entry per billed request the server logged, the same USD.
    const billed = server.spend(since);
    expect(billed.requests).toBeGreaterThan(0);
    const ledger = await openSpendLedger({ path: paid.summary.ledger!.location!, readOnly: true });
    const totals = await ledger.totals("month");
    const entries = await ledger.entries();
    await ledger.close();
    expect(entries.length).toBe(billed.requests);
    expect(totals.reduce((sum, t) => sum + t.billedUsd, 0)).toBeCloseTo(billed.costUsd, 9);
    expect(paid.summary.spendUsd + again.summary.spendUsd + narrow.summary.spendUsd).toBeCloseTo(billed.costUsd, 9);

    const usage = await usageReport({ profilePath: path, env });
    const databento = usage.sources.find((s) => s.source === "databento")!;
    expect(databento.monthUsd).toBeCloseTo(totals.filter((t) => t.period === usage.month).reduce((s, t) => s + t.billedUsd, 0), 9);
    expect(databento.budgetShare).toBeGreaterThan(1);
    expect(usage.topRequests.length).toBeGreaterThan(0);
    expect(usage.topRequests[0]!.billedUsd).toBe(Math.max(...usage.topRequests.map((e) => e.billedUsd)));
    expect(usage.alerts.length).toBe(fired.length);
    expect(renderUsage(usage)).toMatch(/month so far/);
  });
});

describe.skipIf(!existsSync(CLI))("the CLI", () => {
  // Asynchronous: the local servers answer from this process, so it must not block while the CLI runs.
  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("DATABENTO") && key !== "INIT_CWD"));
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: dir, encoding: "utf8", env: { ...clean, ...extraEnv }, timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  };
  it("check, compare and usage have --help", async () => {
    for (const command of ["check", "compare", "usage"]) {
      const help = await run([command, "--help"]);
      expect(help.status, help.stderr).toBe(0);
      expect(help.stdout).toMatch(/--json/);
      expect(help.stdout).toMatch(/Exit codes/);
    }
  });
  it("check --json and usage --json print JSON; compare without --sources is a usage error", async () => {
    const path = profile({});
    const check = await run(["check", "--config", path, "--json", "--quick"], { DATABENTO_API_KEY: KEY });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ ready: true, firstChoice: "databento" });
    const usage = await run(["usage", "--config", path, "--json"]);
    expect(usage.status, usage.stderr).toBe(0);
    expect(JSON.parse(usage.stdout)).toMatchObject({ totalMonthUsd: 0 });
    expect((await run(["compare", "--config", path])).status).toBe(EXIT.usage);
  });
});
