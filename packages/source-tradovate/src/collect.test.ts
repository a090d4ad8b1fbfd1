/** The market-data socket against the local server: drops and resumes, penalties, 429s, refusals, heartbeats. */
import { AbortedError, EntitlementError, NetworkError, RateLimitError } from "@nq/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetSessions } from "./auth.js";
import { TradovateSource } from "./index.js";
import { startLocalTradovateServer, type LocalTradovateServer, type LocalTradovateServerOptions } from "./test-server/index.js";
import { localConfig, recordingContext, signal } from "./test-support/harness.js";
import type { TradovateConfig } from "./config.js";

const request = { product: "NQ" };
let server: LocalTradovateServer;
beforeEach(() => resetSessions());
afterEach(() => server?.close());

async function run(serverOptions: LocalTradovateServerOptions, faults: Parameters<LocalTradovateServer["setFaults"]>[0], overrides: Partial<TradovateConfig> = {}) {
  server = await startLocalTradovateServer(serverOptions);
  server.setFaults(faults);
  const context = recordingContext();
  const source = new TradovateSource(localConfig(server, overrides), context);
  try {
    const result = await source.load(request, { signal: signal() }).catch((error: unknown) => error as Error);
    return { result, context, source };
  } finally {
    await source.close();
  }
}

describe("collection", () => {
  it("a connection dropped mid-collection is reopened, re-authorized, and only the contracts still missing are re-subscribed", async () => {
    const { result, context } = await run({}, { dropAfterQuotes: { count: 20, times: 1 } });
    if (result instanceof Error) throw result;
    expect(result.complete).toBe(true);
    const [first, second] = server.connections;
    expect(server.connections).toHaveLength(2);
    expect(first!.droppedBy).toBe("fault");
    expect(first!.quotesSent).toBe(20);
    expect(second!.authorized).toBe(true);
    expect(second!.messages[0]).toMatchObject({ endpoint: "authorize", id: 0 });
    // Re-subscribed: what had not quoted before the drop, nothing twice.
    const total = result.rows.length + new Set(result.rows.map((r) => r.underlying)).size;
    expect(second!.subscribed.length).toBe(total - 20);
    expect(second!.subscribed.filter((name) => first!.subscribed.includes(name) && first!.quotesSent > 0).length).toBeLessThanOrEqual(total - 20);
    expect(result.rows.every((r) => r.ask !== null)).toBe(true);
    expect(result.warnings?.join("\n")).toMatch(/dropped 1 time\(s\) and was resumed/);
    expect(context.logs.some((l) => l.level === "warn" && /reconnecting \(1 of 3\)/.test(l.message))).toBe(true);
    expect(context.updates.some((u) => u.stage.startsWith("reconnecting"))).toBe(true);
  });

  it("gives up with a retryable NetworkError after max_reconnects drops, and a registry retry on the same instance resumes", async () => {
    server = await startLocalTradovateServer();
    server.setFaults({ dropAfterQuotes: { count: 10, times: 2 } });
    const source = new TradovateSource(localConfig(server, { max_reconnects: 1 }), recordingContext());
    const error = await source.load(request, { signal: signal() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/dropped 2 times.*20 of \d+ contracts had quoted/);
    const lookups = server.requests.length;
    const result = await source.load(request, { signal: signal() });
    await source.close();
    expect(result.complete).toBe(true);
    // No lookup and no login again; only the contracts not yet quoted were subscribed.
    expect(server.requests.length).toBe(lookups);
    const third = server.connections[2]!;
    expect(third.subscribed.length).toBe(result.rows.length + new Set(result.rows.map((r) => r.underlying)).size - 20);
  });

  it("honours a penalty on a subscription: waits p-time and sends it again with the ticket", async () => {
    const { result } = await run({}, { wsPenalty: { pTime: 0.3, times: 1 } });
    if (result instanceof Error) throw result;
    expect(result.complete).toBe(true);
    const messages = server.connections[0]!.messages.filter((m) => m.endpoint === "md/subscribeQuote");
    const ticketed = messages.filter((m) => m.body.includes("p-ticket"));
    expect(ticketed).toHaveLength(1);
    const original = messages.find((m) => m.body === JSON.stringify({ symbol: JSON.parse(ticketed[0]!.body).symbol }))!;
    expect(ticketed[0]!.at - original.at).toBeGreaterThanOrEqual(300 - 5);
    expect(ticketed[0]!.id).toBeGreaterThan(original.id);
  });

  it("a 429 on the socket is a rate limit asking for an hour", async () => {
    const { result } = await run({}, { ws429: { times: 1 } });
    expect(result).toBeInstanceOf(RateLimitError);
    expect((result as RateLimitError).retryAfterMs).toBe(60 * 60_000);
  });

  it("every subscription refused with 403 is an EntitlementError naming what the account needs", async () => {
    const { result } = await run({}, { refuseSubscriptions: { status: 403, message: "No market data subscription" } });
    expect(result).toBeInstanceOf(EntitlementError);
    expect((result as Error).message).toMatch(/s=403 No market data subscription.*real-time CME market-data subscription/);
  });

  it("keeps the connection alive with heartbeats while waiting for slow quotes (the server drops a silent client)", async () => {
    // The server drops a client silent for 300 ms; quotes take 900 ms; the client beats every 100 ms.
    const { result } = await run({ clientHeartbeatTimeoutMs: 300, quoteDelayMs: 900, serverHeartbeatMs: 50 }, {}, { heartbeat_ms: 100 });
    if (result instanceof Error) throw result;
    expect(result.complete).toBe(true);
    expect(server.connections).toHaveLength(1);
    expect(server.connections[0]!.droppedBy).toBeNull();
    const beats = server.connections[0]!.heartbeats;
    expect(beats.length).toBeGreaterThanOrEqual(5);
  });

  it("without heartbeats in time the server drops the connection (the check above is not vacuous)", async () => {
    const { result } = await run({ clientHeartbeatTimeoutMs: 300, quoteDelayMs: 900 }, {}, { heartbeat_ms: 2_500, max_reconnects: 1 });
    expect(result).toBeInstanceOf(NetworkError);
    expect(server.connections.every((c) => c.droppedBy === "silence")).toBe(true);
  });

  it("an abort during collection settles at once with AbortedError and closes the socket", async () => {
    server = await startLocalTradovateServer();
    server.setFaults({ hangQuotes: true });
    const source = new TradovateSource(localConfig(server), recordingContext());
    const controller = new AbortController();
    const pending = source.load(request, { signal: controller.signal }).catch((e: unknown) => e);
    await expect.poll(() => server.connections[0]?.subscribed.length ?? 0).toBeGreaterThan(0);
    const started = Date.now();
    controller.abort();
    expect(await pending).toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(500);
    await source.close();
    await expect.poll(() => server.openConnections()).toBe(0);
  });
});

describe("with the registry", () => {
  it("a drop without reconnects left fails the try; the registry's retry resumes on the same instance with the same session", async () => {
    const { createLogger, runSources } = await import("@nq/core");
    const { tradovate } = await import("./index.js");
    server = await startLocalTradovateServer();
    server.setFaults({ dropAfterQuotes: { count: 10, times: 1 } });
    const result = await runSources([{ name: "tradovate", definition: tradovate as never, config: localConfig(server, { max_reconnects: 0 }) }], {
      request: { product: "NQ" },
      policy: "strict",
      log: createLogger(() => {}),
      retries: 1,
      random: () => 0,
    });
    expect(result.ok, JSON.stringify(result.attempts)).toBe(true);
    expect(result.attempts[0]).toMatchObject({ outcome: "success", tries: 2 });
    expect(server.stats.logins).toBe(1);
    expect(server.requests.filter((r) => r.path === "/contractMaturity/deps").length).toBe(3); // futures + 2 option products, once
    expect(server.connections[1]!.subscribed.length).toBe(result.chain!.contracts.length + result.chain!.optionsSummary.underlyings.length - 10);
  });
});
