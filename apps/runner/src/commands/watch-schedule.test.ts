/**
 * `watch` without `--live`: the hybrid schedule (CME session windows of sources) across a simulated session
 * boundary, no overlapping runs, the backoff after failed runs, and a clean stop of the built CLI on SIGTERM.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runProfile, type RunnerOptions, type RunnerOutcome } from "../run.js";
import { writeFakeProfile } from "../test-plugin.js";
import { backoffMs, createTicker, isCmeTradeDate, selectWindow, simulatedClock, type WatchWindow } from "./schedule.js";
import { runScheduledWatch, type WatchRecord } from "./watch.js";

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const WINDOWS: WatchWindow[] = [
  { sources: ["databento"], from: "08:30", to: "15:15", days: "trading" },
  { sources: ["barchart"], otherwise: true },
];

/** A profile with two fake sources named like the real ones, and the hybrid watch section. */
function hybridProfile(watch: Record<string, unknown> = { interval_seconds: 300, windows: WINDOWS }): { dir: string; profile: string } {
  const dir = mkdtempSync(join(tmpdir(), "nq-watch-schedule-"));
  dirs.push(dir);
  const profile = writeFakeProfile(dir, {}, {
    data_source_priority: ["databento", "barchart"],
    data_sources: { databento: { plugin: "./fake-plugin.mjs", config: {} }, barchart: { plugin: "./fake-plugin.mjs", config: {} } },
    watch,
  });
  return { dir, profile };
}

function readHistory(dir: string): WatchRecord[] {
  return readFileSync(join(dir, "out", "watch-history.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as WatchRecord);
}

describe("watch schedule: windows and ticks", () => {
  it("matches CME trade dates in Chicago time: weekends, full closures and halt holidays are not trading days", () => {
    const at = (iso: string) => selectWindow(WINDOWS, new Date(iso))?.window.sources[0];
    expect(at("2026-12-04T21:14:59Z")).toBe("databento"); // Fri 15:14:59 CST
    expect(at("2026-12-04T21:15:00Z")).toBe("barchart"); // Fri 15:15 CST
    expect(at("2026-12-05T16:00:00Z")).toBe("barchart"); // Sat 10:00
    expect(at("2026-12-07T14:29:00Z")).toBe("barchart"); // Mon 08:29
    expect(at("2026-12-07T14:30:00Z")).toBe("databento"); // Mon 08:30
    expect(at("2026-12-25T16:00:00Z")).toBe("barchart"); // Christmas (Fri), full closure
    expect(at("2027-01-18T16:00:00Z")).toBe("barchart"); // MLK day: Globex trades until 12:00, not a trade date
    expect(at("2026-07-01T14:00:00Z")).toBe("databento"); // Wed 09:00 CDT (summer time)
    expect(isCmeTradeDate(new Date("2026-12-04T23:30:00Z"))).toBe(true); // Fri 17:30: still Friday's date
    expect(selectWindow([{ sources: ["a"], from: "17:00", to: "08:30" }], new Date("2026-12-04T04:00:00Z"))?.window.sources).toEqual(["a"]); // 22:00 wraps
    expect(selectWindow([{ sources: ["a"], from: "08:30", to: "15:15" }], new Date("2026-12-05T04:00:00Z"))).toBeNull();
  });

  it("ticks on an interval grid or at cron times (America/Chicago); the backoff doubles up to its cap", () => {
    const origin = new Date("2026-12-04T21:05:00Z");
    const every = createTicker({ intervalMs: 300_000 }, origin);
    expect(every.next(origin).toISOString()).toBe("2026-12-04T21:10:00.000Z");
    expect(every.next(new Date("2026-12-04T21:11:30Z")).toISOString()).toBe("2026-12-04T21:15:00.000Z");
    const cron = createTicker({ cron: "30 8 * * 1-5" }, origin);
    expect(cron.next(origin).toISOString()).toBe("2026-12-07T14:30:00.000Z"); // Monday 08:30 CST
    expect(() => createTicker({ cron: "not a cron" }, origin)).toThrow(/--cron/);
    expect(() => createTicker({}, origin)).toThrow(/--interval/);
    expect([0, 1, 2, 3, 4].map((n) => backoffMs(60_000, n, 240_000))).toEqual([60_000, 120_000, 240_000, 240_000, 240_000]);
  });
});

describe("watch schedule: runs", () => {
  it("switches databento → barchart across 15:15 CT on a trading day, and stays on barchart over the weekend", async () => {
    const { dir, profile } = hybridProfile();
    const clock = simulatedClock("2026-12-04T21:05:00Z"); // Friday 15:05 CST
    const records: WatchRecord[] = [];
    const summary = await runScheduledWatch({ profilePath: profile, clock, maxRuns: 4, onRun: (r) => records.push(r) });
    expect(summary).toMatchObject({ runs: 4, failedRuns: 0, skippedTicks: 0, stoppedBy: "max-runs" });
    expect(records.map((r) => [r.time, r.source])).toEqual([
      ["2026-12-04T21:05:00.000Z", "databento"],
      ["2026-12-04T21:10:00.000Z", "databento"],
      ["2026-12-04T21:15:00.000Z", "barchart"],
      ["2026-12-04T21:20:00.000Z", "barchart"],
    ]);
    expect(records[0]).toMatchObject({ window: "databento 08:30–15:15 trading", sources: ["databento"], ok: true, exitCode: 0 });
    expect(records[2]).toMatchObject({ window: "barchart otherwise", sources: ["barchart"] });
    expect(existsSync(records[0]!.outputs!.json)).toBe(true);
    // The history index has the same lines; narrowing wrote nothing beside the profile.
    expect(readHistory(dir).map((r) => r.source)).toEqual(["databento", "databento", "barchart", "barchart"]);
    expect(readdirSync(dir).filter((name) => name.includes(".watch-"))).toEqual([]);

    // Saturday 08:25 → 08:35: inside 08:30–15:15, but not a trade date.
    clock.set("2026-12-05T14:25:00Z");
    const weekend: WatchRecord[] = [];
    await runScheduledWatch({ profilePath: profile, clock, maxRuns: 3, onRun: (r) => weekend.push(r) });
    expect(weekend.map((r) => r.source)).toEqual(["barchart", "barchart", "barchart"]);
    // Monday 08:25 → 08:35: barchart, then databento from 08:30.
    clock.set("2026-12-07T14:25:00Z");
    const monday: WatchRecord[] = [];
    await runScheduledWatch({ profilePath: profile, clock, maxRuns: 3, onRun: (r) => monday.push(r) });
    expect(monday.map((r) => r.source)).toEqual(["barchart", "databento", "databento"]);
    expect(readHistory(dir)).toHaveLength(10);
  });

  it("never overlaps: a slow run makes the ticks that come meanwhile skip (logged)", async () => {
    const { profile } = hybridProfile();
    const clock = simulatedClock("2026-12-04T21:00:00Z");
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const slowSecond = async (options: RunnerOptions): Promise<RunnerOutcome> => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      calls += 1;
      try {
        if (calls === 2) await clock.sleep(700_000); // 11 min 40 s: the ticks at +10 and +15 min come meanwhile
        return await runProfile(options);
      } finally {
        inFlight -= 1;
      }
    };
    const warnings: string[] = [];
    const records: WatchRecord[] = [];
    const summary = await runScheduledWatch({ profilePath: profile, clock, maxRuns: 3, run: slowSecond, onRun: (r) => records.push(r), onLog: (e) => e.level === "warn" && warnings.push(e.message) });
    expect(maxInFlight).toBe(1);
    expect(records.map((r) => r.time)).toEqual(["2026-12-04T21:00:00.000Z", "2026-12-04T21:05:00.000Z", "2026-12-04T21:20:00.000Z"]);
    expect(records[1]).toMatchObject({ skippedTicks: 2, finishedAt: "2026-12-04T21:16:40.000Z", nextRunAt: "2026-12-04T21:20:00.000Z" });
    expect(summary.skippedTicks).toBe(2);
    expect(warnings.some((w) => /skipped 2 tick\(s\): run 2 .* was still going/.test(w))).toBe(true);
    for (let i = 1; i < records.length; i += 1) expect(Date.parse(records[i]!.time)).toBeGreaterThanOrEqual(Date.parse(records[i - 1]!.finishedAt));
  });

  it("survives a failing source: backs off ×2 per failed run up to the cap, resets on success", async () => {
    const { profile } = hybridProfile({ interval_seconds: 60, max_backoff_seconds: 240 });
    const failingDir = mkdtempSync(join(tmpdir(), "nq-watch-failing-"));
    dirs.push(failingDir);
    const failing = writeFakeProfile(failingDir, { mode: "fail" }, { profile_name: "failing", watch: { interval_seconds: 60, max_backoff_seconds: 240 } });
    const clock = simulatedClock("2026-12-04T16:00:00Z");
    let calls = 0;
    // Runs 1–3 against the failing profile (a real failed run, exit 1); from run 4 the working one.
    const run = (options: RunnerOptions) => {
      calls += 1;
      return runProfile(calls <= 3 ? options : { ...options, profilePath: profile });
    };
    const records: WatchRecord[] = [];
    await runScheduledWatch({ profilePath: failing, clock, maxRuns: 5, run, onRun: (r) => records.push(r) });
    expect(records.map((r) => [r.time.slice(11, 19), r.ok, r.exitCode, r.consecutiveFailures])).toEqual([
      ["16:00:00", false, 1, 1],
      ["16:02:00", false, 1, 2],
      ["16:06:00", false, 1, 3],
      ["16:10:00", true, 0, 0],
      ["16:11:00", true, 0, 0],
    ]);
    expect(records[0]!.error).toMatch(/fake failure|ECONNREFUSED|fake/);
  });

  it("refuses a window naming a source the profile does not have (a config error, before any run)", async () => {
    const { profile } = hybridProfile({ interval_seconds: 60, windows: [{ sources: ["nope"], otherwise: true }] });
    await expect(runScheduledWatch({ profilePath: profile, clock: simulatedClock("2026-12-04T16:00:00Z"), maxRuns: 1 })).rejects.toThrow(/watch\.windows\.0\.sources names "nope"/);
  });
});

describe("watch CLI (built)", () => {
  const cli = (args: string[], cwd: string) => spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, INIT_CWD: cwd }, stdio: ["ignore", "pipe", "pipe"] });

  it("--help describes the schedule, the windows and the signals", async () => {
    const child = cli(["watch", "--help"], tmpdir());
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    for (const text of ["--interval", "--cron", "--live", "--json", "watch-history.jsonl", "otherwise", "stopped"]) expect(out).toContain(text);
  });

  it("--interval 1 --json: one JSON line per run; SIGTERM stops after the current run with exit 0 and a stopped line", async () => {
    const { dir } = hybridProfile();
    const child = cli(["watch", "--config", "profile.json", "--interval", "1", "--json"], dir);
    let out = "";
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no run line in time; stderr: ${err}`)), 30_000);
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.split("\n").filter(Boolean).length >= 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(err).toMatch(/\[watch\] stopped by SIGTERM: \d+ run\(s\)/);
    expect(err).toMatch(/\[watch\] \S+ run 1 · window "[^"]+" · sources \w+ → \w+ · ok \(exit 0\)/);
    const lines = out.trim().split("\n").map((line) => JSON.parse(line) as WatchRecord);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatchObject({ run: 1, ok: true, exitCode: 0 });
    expect(readHistory(dir).length).toBe(lines.length);
  });
});
