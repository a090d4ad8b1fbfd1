import { afterEach, describe, expect, it } from "vitest";
import type { SourceRow } from "@nq/core";
import { ChainRecords } from "../chain-records.js";
import { isNqOption, selectInstruments } from "../instrument-selection.js";
import { toSourceRows } from "../rows.js";
import { GeneratedDataset, type ServedSchema } from "../test-server/generated-dataset.js";
import { type LiveGatewayFault, LOCAL_LIVE_API_KEY, type LocalLiveGateway, startLocalLiveGateway } from "../test-server/live-gateway.js";
import { LiveChain } from "./chain.js";
import { LiveClient } from "./client.js";

let gateway: LocalLiveGateway | null = null;
afterEach(async () => {
  await gateway?.close();
  gateway = null;
});

async function liveChain(faults: LiveGatewayFault[] = [], liveMs = 1200) {
  gateway = await startLocalLiveGateway({ speed: 600, faults });
  const gw = gateway;
  const client = new LiveClient({ apiKey: LOCAL_LIVE_API_KEY, host: gw.host, port: gw.port, heartbeatIntervalS: 1, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
  const chain = new LiveChain({ client, now: () => new Date(Number(gw.simNowNs() / 1_000_000n)), sample: true });
  await chain.start();
  await chain.replayCompleted();
  const afterReplay = chain.snapshot();
  const replayRecords = chain.recordsApplied;
  await new Promise((r) => setTimeout(r, liveMs));
  await chain.close();
  return { chain, client, afterReplay, replayRecords, gw };
}

/** The same chain folded in one go from the generated dataset, as a Historical load up to the same instant would. */
function expectedRows(chain: LiveChain, asOfNs: bigint): SourceRow[] {
  const dataset = new GeneratedDataset(200);
  const subs = chain.subscriptions(new Date(Number(gateway!.simNowNs() / 1_000_000n)));
  const open = chain.subscriptions(new Date(Number(asOfNs / 1_000_000n))).find((s) => s.schema === "trades")!.start!;
  const records = new ChainRecords({ asOfNs, sessionOpenNs: open });
  records.tradesCoverSession = true;
  for (const schema of ["statistics", "trades", "mbp-1"]) records.markRead(schema);
  const all = [];
  for (const sub of subs) {
    all.push(...dataset.query({ schema: sub.schema as ServedSchema, symbols: sub.symbols, stypeIn: "parent", startNs: sub.start!, endNs: asOfNs + 1n, limit: null }).records);
  }
  all.sort((a, b) => {
    const x = (a as { ts_recv: bigint }).ts_recv;
    const y = (b as { ts_recv: bigint }).ts_recv;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  for (const r of all) records.add(r);
  const asOf = new Date(Number(asOfNs / 1_000_000n));
  return toSourceRows(selectInstruments([...records.definitions.values()].filter(isNqOption), {}, asOf), records);
}

/** Rows by their instrument's raw symbol (whatever the row calls it). */
const key = (rows: SourceRow[]) => new Map(rows.map((r) => [String((r as { rawSymbol?: string }).rawSymbol ?? r.symbol), r]));

describe("LiveChain", () => {
  it("closed while its series parents are being looked up: start rejects and no connection is opened", async () => {
    gateway = await startLocalLiveGateway({ speed: 600 });
    const gw = gateway;
    const client = new LiveClient({ apiKey: LOCAL_LIVE_API_KEY, host: gw.host, port: gw.port, heartbeatIntervalS: 1 });
    let lookupSignal: AbortSignal | null = null;
    const chain = new LiveChain({
      client,
      now: () => new Date(Number(gw.simNowNs() / 1_000_000n)),
      discoverParents: (_open, signal) =>
        new Promise<string[]>((_resolve, reject) => {
          lookupSignal = signal;
          signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
        }),
    });
    const started = chain.start();
    await new Promise((r) => setTimeout(r, 50));
    await chain.close();
    await expect(started).rejects.toThrow(/closed before it connected/);
    expect(lookupSignal!.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(gw.connections).toHaveLength(0);
  });

  it("replays from the session's open, then goes live: no gap, no double count", async () => {
    const { chain, client, afterReplay, replayRecords } = await liveChain();
    expect(chain.recordsApplied).toBeGreaterThan(replayRecords); // live records arrived after the replay
    const snapshot = chain.snapshot();
    expect(snapshot.complete).toBe(true);
    const expected = key(expectedRows(chain, client.stats.lastTsRecv!));
    const got = key(snapshot.rows);
    expect(got.size).toBe(expected.size);
    expect(got.size).toBeGreaterThan(50);
    let traded = 0;
    for (const [symbol, row] of got) {
      expect(row).toEqual(expected.get(symbol));
      if (Number(row.volume ?? 0) > 0) traded++;
    }
    expect(traded).toBeGreaterThan(0);
    expect(snapshot.rows.every((r) => r.underlyingPrice !== null && r.openInterest !== null && r.settlement !== null)).toBe(true);
    // The chain moved between the end of the replay and the end of the run.
    expect(new Date(snapshot.asOf).getTime()).toBeGreaterThan(new Date(afterReplay.asOf).getTime());
  });

  it("survives a connection dropped mid-record: resumes from the last ts_event, drops the duplicates, equals one uninterrupted load", async () => {
    const { chain, client, gw } = await liveChain([{ kind: "drop", afterRecords: 20_000, midRecord: true }]);
    expect(client.stats.reconnects).toBe(1);
    expect(client.stats.duplicatesDropped).toBeGreaterThan(0);
    expect(gw.connections).toHaveLength(2);
    const resumeAt = gw.connections[1]!.subscriptions.map((s) => s.start);
    expect(new Set(resumeAt).size).toBe(1);
    const expected = key(expectedRows(chain, client.stats.lastTsRecv!));
    const got = key(chain.snapshot().rows);
    expect(got.size).toBe(expected.size);
    for (const [symbol, row] of got) expect(row).toEqual(expected.get(symbol));
  });
});
