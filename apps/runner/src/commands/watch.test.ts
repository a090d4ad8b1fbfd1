/**
 * `watch --live` end to end: the real @nq/source-databento against the local Live gateway on 127.0.0.1
 * (a simulated clock running 600× real time), through a profile file, with the connection dropped
 * mid-stream once. The outputs must be rewritten as the chain moves, and again after the reconnect.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_LIVE_API_KEY, startLocalDatabentoServer, startLocalLiveGateway } from "@nq/source-databento/test-server";
import { afterAll, describe, expect, it } from "vitest";
import { runWatch, type WatchUpdate } from "./watch.js";

const dir = mkdtempSync(join(tmpdir(), "nq-runner-watch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("watch --live", () => {
  it("writes the chain after the replay, keeps it updating, and survives a dropped connection", async () => {
    const speed = 600;
    const gateway = await startLocalLiveGateway({ speed, contracts: 60, faults: [{ kind: "drop", afterRecords: 150, afterReplay: true, midRecord: true }] });
    // Where the source looks up the NQ weekly and end-of-month parents before it subscribes.
    const historical = await startLocalDatabentoServer({ contracts: 60, apiKeys: [LOCAL_LIVE_API_KEY], fixturesDir: null });
    try {
      const profile = join(dir, "live.json");
      writeFileSync(
        profile,
        JSON.stringify({
          profile_name: "live_test",
          data_source_priority: ["databento"],
          fallback: "strict",
          data_sources: {
            databento: {
              enabled: true,
              plugin: "@nq/source-databento",
              config: { api_key: "${DATABENTO_API_KEY}", live_gateway: `${gateway.host}:${gateway.port}`, base_url: historical.url, schemas: ["statistics", "trades", "mbp-1"], sample: true, live_heartbeat_interval_s: 1 },
            },
          },
          request: { product: "NQ", max_expirations: 3 },
          output: { dir: "out" },
        }),
      );
      const updates: WatchUpdate[] = [];
      const summary = await runWatch({
        profilePath: profile,
        env: { DATABENTO_API_KEY: LOCAL_LIVE_API_KEY },
        intervalMs: 300,
        durationMs: 8000,
        now: () => new Date(Number(gateway.simNowNs() / 1_000_000n)),
        onUpdate: (u) => updates.push(u),
      });
      expect(summary.error).toBeNull();
      expect(summary.reconnects).toBe(1);
      expect(gateway.connections).toHaveLength(2);
      expect(summary.writesAfterReconnect).toBeGreaterThanOrEqual(1);
      expect(updates[0]!.reason).toBe("replay");
      // The chain moved: later writes are as of later times, and the stream kept flowing after the drop.
      const asOfs = updates.map((u) => Date.parse(u.asOf));
      expect(asOfs.at(-1)!).toBeGreaterThan(asOfs[0]!);
      const afterReconnect = updates.findIndex((u) => u.reason === "reconnect");
      expect(updates.at(-1)!.stats.records).toBeGreaterThan(updates[afterReconnect]!.stats.records);
      expect(updates.every((u) => u.contracts > 0)).toBe(true);
      const written = JSON.parse(readFileSync(summary.files!.json, "utf8")) as { metadata: { source: string; sample: boolean; asOf: string }; contracts: unknown[] };
      expect(written.metadata).toMatchObject({ source: "databento", sample: true });
      expect(Date.parse(written.metadata.asOf)).toBe(asOfs.at(-1));
      expect(written.contracts.length).toBe(updates.at(-1)!.contracts);
      // The weekly and end-of-month parents were looked up (once) and subscribed besides NQ.OPT.
      expect(gateway.connections[0]!.subscriptions.find((sub) => sub.schema === "definition")!.symbols.length).toBeGreaterThan(1);
      expect(historical.requests.filter((r) => r.path === "/v0/symbology.resolve")).toHaveLength(1);
      const status = JSON.parse(readFileSync(summary.files!.status, "utf8")) as { stats: { reconnects: number; recordsPerSecond: number; lagMs: number } };
      expect(status.stats.reconnects).toBe(1);
      // The lag is in the gateway's clock, which runs `speed`× real time: 2 s of real stall on a loaded machine
      // is 20 minutes of it. The bound catches a unit mistake (ns as ms is a factor of a million), not load.
      expect(status.stats.lagMs).toBeGreaterThanOrEqual(0);
      expect(status.stats.lagMs).toBeLessThan(speed * 2_000);
      expect(readFileSync(summary.files!.csv, "utf8").split("\n").length).toBeGreaterThan(10);
      expect(summary.files!.json).toMatch(/nq-databento-sample-live\.chain\.json$/);
    } finally {
      await gateway.close();
      await historical.close();
    }
  });
});
