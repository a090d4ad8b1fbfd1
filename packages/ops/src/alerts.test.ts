import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluateAlerts, memoryAlertStore, type AlertInput } from "./alerts.js";
import { alertRulesSchema } from "./config.js";
import { dispatchAlerts, postWebhook } from "./sinks.js";
import { monthWindow, projectMonthSpend } from "./budget.js";

const dir = mkdtempSync(join(tmpdir(), "nq-ops-alerts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A webhook receiver on 127.0.0.1: answers each POST with the next status of `statuses` (then 200), or never. */
async function receiver(behaviour: { statuses?: number[]; hang?: boolean } = {}): Promise<{ url: string; bodies: unknown[]; hits: number; close(): Promise<void> }> {
  const statuses = [...(behaviour.statuses ?? [])];
  const state = { bodies: [] as unknown[], hits: 0 };
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      state.hits += 1;
      if (behaviour.hang) return; // never answers
      const status = statuses.shift() ?? 200;
      if (status === 200) state.bodies.push(JSON.parse(text));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    get bodies() {
      return state.bodies;
    },
    get hits() {
      return state.hits;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const rules = alertRulesSchema.parse({ source_failures: { consecutive: 3, rate: 0.5, window_runs: 6, min_runs: 4 } });
const now = new Date("2026-11-20T15:00:00Z");
const input = (over: Partial<AlertInput> = {}): AlertInput => ({
  profile: "p",
  runId: "r9",
  now,
  rules,
  monthlyBudgetUsd: { databento: 100 },
  monthSpendUsd: { databento: 10 },
  tries: {},
  quality: { current: null, previous: null },
  ...over,
});
const tries = (source: string, oks: boolean[]) =>
  oks.map((ok, i) => ({ source, ok, at: `2026-11-20T1${i}:00:00.000Z`, runId: i === oks.length - 1 ? "r9" : `r${i}`, reason: ok ? null : "503 from the gateway" }));

describe("alert rules", () => {
  it("budget: fires at 80 % of the monthly budget (default), not below", () => {
    expect(evaluateAlerts(input({ monthSpendUsd: { databento: 79.99 } }))).toEqual([]);
    const [alert] = evaluateAlerts(input({ monthSpendUsd: { databento: 80 } }));
    expect(alert).toMatchObject({ rule: "budget", key: "budget:databento:2026-11", severity: "warn", source: "databento" });
    expect(alert!.message).toMatch(/80 % of its \$100.00 monthly budget/);
  });

  it("source failures: in a row (one per streak) and as a rate over the window (one per day)", () => {
    const inARow = evaluateAlerts(input({ tries: { barchart: tries("barchart", [true, true, true, true, false, false, false]) } }));
    expect(inARow.map((a) => a.rule)).toEqual(["source_failures"]);
    expect(inARow[0]!.key).toBe("source_failures:barchart:2026-11-20T14:00:00.000Z");
    const rate = evaluateAlerts(input({ tries: { barchart: tries("barchart", [false, true, false, true, false, false]) } }));
    expect(rate.map((a) => a.key)).toEqual(["failure_rate:barchart:2026-11-20"]);
    // A source this run did not try is not judged again.
    expect(evaluateAlerts(input({ tries: { barchart: tries("barchart", [false, false, false]).map((t) => ({ ...t, runId: "old" })) } }))).toEqual([]);
  });

  it("quality: against the previous run answered by the same source", () => {
    const previous = { runId: "r8", at: "2026-11-20T14:00:00.000Z", source: "databento", contracts: 400, missingBidAskShare: 0.1, zeroOpenInterestShare: 0.05 };
    const worse = { ...previous, runId: "r9", at: now.toISOString(), contracts: 250, missingBidAskShare: 0.45, zeroOpenInterestShare: 0.4 };
    const fired = evaluateAlerts(input({ quality: { current: worse, previous } }));
    expect(fired.map((a) => a.details.metric)).toEqual(["missing_bid_ask_share", "zero_oi_share", "contracts"]);
    expect(fired.every((a) => a.rule === "quality")).toBe(true);
    expect(evaluateAlerts(input({ quality: { current: { ...worse, source: "barchart" }, previous } }))).toEqual([]);
    expect(evaluateAlerts(input({ quality: { current: { ...previous, runId: "r9" }, previous } }))).toEqual([]);
  });
});

describe("sinks", () => {
  it("each alert fires once per key: log, webhook (retried after a 503), deduplicated on the next run", async () => {
    const hook = await receiver({ statuses: [503] });
    const store = memoryAlertStore();
    const logFile = join(dir, "alerts.jsonl");
    const alerts = evaluateAlerts(input({ monthSpendUsd: { databento: 95 } }));
    const first = await dispatchAlerts(alerts, { store, logFile, webhook: { url: hook.url, timeout_ms: 2000, retries: 2 } });
    expect(first.fired).toHaveLength(1);
    expect(first.webhook).toMatchObject({ delivered: true, tries: 2, status: 200 });
    expect(hook.bodies).toEqual([{ kind: "nq-alerts", alerts: first.fired }]);
    const again = await dispatchAlerts(evaluateAlerts(input({ monthSpendUsd: { databento: 99 } })), { store, logFile, webhook: { url: hook.url } });
    expect(again).toMatchObject({ fired: [], webhook: null });
    expect(again.suppressed).toHaveLength(1);
    expect(hook.hits).toBe(2);
    expect(readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l).key)).toEqual(["budget:databento:2026-11"]);
    await hook.close();
  });

  it("a webhook that never answers costs at most its timeout, and is reported, not thrown", async () => {
    const hook = await receiver({ hang: true });
    const started = performance.now();
    const result = await postWebhook({ url: hook.url, timeout_ms: 300, retries: 3 }, { ping: 1 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({ delivered: false });
    expect(result.error).toMatch(/no answer within 300 ms/);
    await hook.close();
    const refused = await postWebhook({ url: hook.url, timeout_ms: 500, retries: 1 }, {});
    expect(refused.delivered).toBe(false);
  });
});

describe("budget arithmetic", () => {
  it("month bounds in UTC and a straight-line projection", () => {
    const w = monthWindow(new Date("2026-11-16T00:00:00Z"));
    expect(w).toMatchObject({ month: "2026-11", start: new Date("2026-11-01T00:00:00Z"), end: new Date("2026-12-01T00:00:00Z"), elapsed: 0.5 });
    expect(projectMonthSpend(30, new Date("2026-11-16T00:00:00Z"))).toBeCloseTo(60, 9);
    expect(projectMonthSpend(1, new Date("2026-11-01T01:00:00Z"))).toBeCloseTo(30, 9);
  });
});
