import { afterEach, describe, expect, it } from "vitest";
import { AuthError, InvalidRequestError, isSourceErrorOfKind } from "@nq/core";
import { type DbnRecord, RType } from "@nq/dbn";
import { generateDay } from "../test-server/nq-chain-generator.js";
import { DEFAULT_LIVE_NOW, type LiveGatewayFault, LOCAL_LIVE_API_KEY, type LocalLiveGateway, type LocalLiveGatewayOptions, startLocalLiveGateway } from "../test-server/live-gateway.js";
import { LiveClient, type LiveClientOptions } from "./client.js";
import type { Subscription } from "./protocol.js";

const gateways: LocalLiveGateway[] = [];
const clients: LiveClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const g of gateways.splice(0)) await g.close();
});

/** 04:00 Chicago, six hours before the gateway's clock: a replay of some 20,000 book and trade records. */
const REPLAY_START = BigInt(Date.parse(DEFAULT_LIVE_NOW) - 6 * 3_600_000) * 1_000_000n;

async function setup(gatewayOptions: LocalLiveGatewayOptions = {}, clientOptions: Partial<LiveClientOptions> = {}, subs?: Subscription[]) {
  const gateway = await startLocalLiveGateway({ speed: 600, ...gatewayOptions });
  gateways.push(gateway);
  const logs: string[] = [];
  const log = { debug: (m: string) => logs.push(m), info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) } as never;
  const client = new LiveClient({
    apiKey: LOCAL_LIVE_API_KEY,
    host: gateway.host,
    port: gateway.port,
    heartbeatIntervalS: 1,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 5 },
    log,
    ...clientOptions,
  });
  clients.push(client);
  for (const sub of subs ?? [
    { schema: "mbp-1", stypeIn: "parent" as const, symbols: ["NQ.FUT", "NQ.OPT"], start: REPLAY_START },
    { schema: "trades", stypeIn: "parent" as const, symbols: ["NQ.FUT", "NQ.OPT"], start: REPLAY_START },
  ])
    client.subscribe(sub);
  return { gateway, client, logs };
}

/** Takes records until `enough` says so, then closes; returns the market records. */
async function collect(client: LiveClient, enough: (market: DbnRecord[]) => boolean, onBatch?: () => Promise<void>): Promise<DbnRecord[]> {
  const market: DbnRecord[] = [];
  for await (const batch of client.batches()) {
    for (const r of batch) if (r.hd.rtype === RType.Mbp1 || r.hd.rtype === RType.Mbp0) market.push(r);
    if (onBatch) await onBatch();
    if (enough(market)) break;
  }
  return market;
}

const identity = (r: DbnRecord) => `${r.hd.rtype}:${r.hd.instrument_id}:${r.hd.ts_event}:${(r as { sequence: number }).sequence}`;

function expectNoDuplicatesInOrder(records: DbnRecord[]) {
  const ids = records.map(identity);
  expect(new Set(ids).size).toBe(ids.length);
  for (let i = 1; i < records.length; i++) expect(records[i]!.hd.ts_event >= records[i - 1]!.hd.ts_event).toBe(true);
}

describe("LiveClient against the local gateway", () => {
  it("authenticates when the greeting arrives in 3-byte pieces, and streams the replay then live data", async () => {
    const { client, gateway } = await setup({ faults: [{ kind: "split-greeting" }] });
    let replayed = false;
    client.on("replayCompleted", () => (replayed = true));
    const records = await collect(client, (m) => replayed && m.length > 0 && m.at(-1)!.hd.ts_event > BigInt(Date.parse(DEFAULT_LIVE_NOW)) * 1_000_000n);
    expect(client.stats.gatewayVersion).toBe("0.7.2");
    expect(client.stats.sessionId).toMatch(/^\d+$/);
    expect(gateway.connections[0]!.fault).toBe("split-greeting");
    expect(gateway.connections[0]!.authFields).toMatchObject({ dataset: "GLBX.MDP3", encoding: "dbn", compression: "none", ts_out: "0", heartbeat_interval_s: "1" });
    expect(records[0]!.hd.ts_event).toBeGreaterThanOrEqual(REPLAY_START);
    expect(client.symbols.get(records[0]!.hd.instrument_id)).toBeTruthy();
    expectNoDuplicatesInOrder(records);
  });

  it("refuses a bad key with an AuthError that does not contain the key, and does not retry", async () => {
    const badKey = "db-WrongKeyWrongKeyWrongKey12345";
    const { client, gateway, logs } = await setup({}, { apiKey: badKey });
    const error = await client.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/Authentication failed/);
    expect(JSON.stringify({ message: (error as Error).message, logs })).not.toContain(badKey);
    expect(gateway.connections).toHaveLength(1);
    await expect(collect(client, () => true)).rejects.toBeInstanceOf(AuthError);
  });

  it("sends a subscription of more than 500 symbols in chunks with is_last=0 until the last", async () => {
    const day = generateDay("2026-03-11", 1200);
    const symbols = day.options.map((o) => o.rawSymbol).slice(0, 1201);
    expect(symbols.length).toBeGreaterThan(1000);
    const { client, gateway } = await setup({ contracts: 1200 }, {}, [{ schema: "mbp-1", stypeIn: "raw_symbol", symbols, start: REPLAY_START }]);
    const records = await collect(client, (m) => m.length >= 100);
    const lines = gateway.connections[0]!.subscriptionLines;
    const counts = lines.map((l) => /symbols=([^|]*)/.exec(l)![1]!.split(",").length);
    expect(counts.every((n) => n <= 500)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(symbols.length);
    expect(lines.map((l) => /is_last=(\d)/.exec(l)![1])).toEqual([...counts.slice(1).map(() => "0"), "1"]);
    expect(gateway.connections[0]!.subscriptions).toHaveLength(1);
    const wanted = new Set(day.options.filter((o) => symbols.includes(o.rawSymbol)).map((o) => o.instrumentId));
    expect(records.every((r) => wanted.has(r.hd.instrument_id))).toBe(true);
  });

  it.each([
    ["dropped mid-record", { kind: "drop", afterRecords: 3000, midRecord: true }],
    ["dropped between records", { kind: "drop", afterRecords: 3000 }],
    ["error code 6 then close", { kind: "error", afterRecords: 3000, code: 6, message: "Internal error." }],
  ] as [string, LiveGatewayFault][])("recovers when the connection is %s: resubscribes from the last ts_event, no gap, no duplicate", async (_name, fault) => {
    const reference = await setup();
    const expected = await collect(reference.client, (m) => m.length >= 6000);
    const { client, gateway } = await setup({ faults: [fault] });
    const gatewayErrors: string[] = [];
    client.on("gatewayError", (e) => gatewayErrors.push(e.kind));
    const got = await collect(client, (m) => m.length >= 6000);
    expect(client.stats.reconnects).toBe(1);
    expect(gateway.connections).toHaveLength(2);
    expect(gateway.connections[1]!.authenticated).toBe(true);
    for (const s of gateway.connections[1]!.subscriptions) expect(s.start).toBe(got[2999]!.hd.ts_event);
    expectNoDuplicatesInOrder(got);
    expect(got.slice(0, 6000).map(identity)).toEqual(expected.slice(0, 6000).map(identity));
    if (fault.kind === "error") expect(gatewayErrors).toEqual(["unavailable"]);
  });

  it("declares a gateway that stalls (no data, no heartbeat) dead after the timeout and reconnects", async () => {
    const { client, gateway } = await setup({ faults: [{ kind: "stall", afterRecords: 2000 }] }, { deadTimeoutMs: 1500 });
    const reasons: string[] = [];
    client.on("reconnecting", (e) => reasons.push(e.reason.kind));
    const got = await collect(client, (m) => m.length >= 4000);
    expect(reasons[0]).toBe("timeout");
    expect(client.stats.reconnects).toBe(1);
    expect(gateway.connections[0]!.fault).toBe("stall");
    expectNoDuplicatesInOrder(got);
  });

  it("reports a fatal gateway error (invalid subscription) as a typed error and stops", async () => {
    const { client } = await setup({ faults: [{ kind: "error", afterRecords: 10, code: 5, message: "Invalid subscription." }] });
    const error = await collect(client, () => false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(client.stats.reconnects).toBe(0);
  });

  it("gives up after maxAttempts when the gateway is gone, with a network error", async () => {
    const { client, gateway } = await setup({ faults: [{ kind: "drop", afterRecords: 500 }] }, { reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 } });
    let closed = false;
    const error = await collect(client, (m) => {
      if (m.length >= 400 && !closed) {
        closed = true;
        void gateway.close();
      }
      return false;
    }).catch((e: unknown) => e);
    expect(isSourceErrorOfKind(error, "network")).toBe(true);
  });

  it("keeps a slow consumer's memory bounded: the socket pauses, the gateway warns, nothing is lost", async () => {
    // The firehose repeats the replay as fast as the client reads: more than the kernel's socket buffers hold.
    const { client, gateway } = await setup({ firehose: true, slowReaderMs: 100 }, { highWaterMark: 2000 }, [
      { schema: "mbp-1", stypeIn: "parent", symbols: ["NQ.FUT", "NQ.OPT"], start: REPLAY_START },
    ]);
    const warnings: string[] = [];
    client.on("warning", (w) => warnings.push(w));
    let maxQueued = 0;
    const rssBefore = process.memoryUsage().rss;
    const got = await collect(
      client,
      // Until the client has read the gateway's warning, not only until the gateway sent it: it is queued
      // in the stream behind what the slow reader has not read yet.
      (m) => m.length >= 200_000 && warnings.some((w) => /reads too slowly/.test(w)),
      async () => {
        maxQueued = Math.max(maxQueued, (client as unknown as { queued: number }).queued);
        await new Promise((r) => setTimeout(r, 3));
      },
    );
    expect(client.stats.pauses).toBeGreaterThan(0);
    // At most the high-water mark plus what one socket read decodes to.
    expect(maxQueued).toBeLessThan(2000 + 5000);
    expect(gateway.connections[0]!.slowReaderWarnings).toBe(1);
    expect(warnings.some((w) => /reads too slowly/.test(w))).toBe(true);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    // Nothing lost or reordered: the stream is the replay, then the same records again and again.
    const ids = got.map(identity);
    const period = ids.indexOf(ids[0]!, 1);
    expect(period).toBeGreaterThan(1000);
    for (let i = period; i < ids.length; i++) if (ids[i] !== ids[i - period]) throw new Error(`record ${i} breaks the stream`);
    expect(client.stats.reconnects).toBe(0);
  });

  it("receives heartbeats when the subscription is quiet, and does not reconnect", async () => {
    const { client } = await setup({ speed: 1 }, { deadTimeoutMs: 1500 }, [{ schema: "statistics", stypeIn: "parent", symbols: ["NQ.OPT"] }]);
    await client.start();
    const iterator = client.batches();
    const pending = iterator.next();
    await new Promise((r) => setTimeout(r, 2600));
    expect(client.stats.heartbeats).toBeGreaterThanOrEqual(2);
    expect(client.stats.reconnects).toBe(0);
    await client.close();
    await pending;
  });

  it("decodes a zstd stream to the same records", async () => {
    const plain = await setup();
    const expected = await collect(plain.client, (m) => m.length >= 5000);
    const { client, gateway } = await setup({}, { compression: "zstd" });
    const got = await collect(client, (m) => m.length >= 5000);
    expect(gateway.connections[0]!.authFields.compression).toBe("zstd");
    expect(got.slice(0, 5000).map(identity)).toEqual(expected.slice(0, 5000).map(identity));
  });

  it("closes cleanly: the iterator ends without an error and the gateway sees the connection go", async () => {
    const { client, gateway } = await setup();
    const iterator = client[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await client.close();
    let rest = 0;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest++;
    expect(rest).toBeGreaterThanOrEqual(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(gateway.connections[0]!.closed).toBe(true);
    expect(client.stats.reconnects).toBe(0);
    expect(() => client.subscribe({ schema: "trades", symbols: ["NQ.FUT"], stypeIn: "parent" })).toThrow(/closed/);
  });
});
