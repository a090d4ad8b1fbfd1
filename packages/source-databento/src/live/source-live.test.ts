import { afterEach, describe, expect, it } from "vitest";
import { createLogger, normalizeChain, SpendLedger } from "@nq/core";
import databento from "../index.js";
import { LOCAL_LIVE_API_KEY, type LocalLiveGateway, startLocalLiveGateway } from "../test-server/live-gateway.js";

let gateway: LocalLiveGateway | null = null;
afterEach(async () => {
  await gateway?.close();
  gateway = null;
});

describe('mode: "live" (one-shot)', () => {
  it("connects, replays from the session's open, answers with the chain when the replay completes, and closes", async () => {
    gateway = await startLocalLiveGateway({ speed: 60 });
    const gw = gateway;
    const config = databento.configSchema.parse({
      api_key: LOCAL_LIVE_API_KEY,
      mode: "live",
      live_gateway: `${gw.host}:${gw.port}`,
      schemas: ["statistics", "trades", "mbp-1"],
      sample: true,
    });
    const lines: string[] = [];
    const now = () => new Date(Number(gw.simNowNs() / 1_000_000n));
    const source = await databento.create(config, { log: createLogger((e) => lines.push(e.message)), spend: new SpendLedger(1), now });
    const request = { product: "NQ", maxExpirations: 2 };
    const result = await source.load(request, { signal: AbortSignal.timeout(20_000) });
    await source.close?.();
    expect(result.complete).toBe(true);
    expect(result.rows.length).toBeGreaterThan(10);
    expect(Math.abs(new Date(result.asOf).getTime() - now().getTime())).toBeLessThan(120_000);
    expect(result.rows.every((r) => r.underlyingPrice !== null && r.bid !== null)).toBe(true);
    const chain = normalizeChain(result, { source: "databento", capabilities: databento.capabilities, request, fetchedAt: new Date() });
    expect(chain.contracts.length).toBe(result.rows.length);
    expect(new Set(chain.contracts.map((c) => c.expiration)).size).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(gw.connections).toHaveLength(1);
    expect(gw.connections[0]!.closed).toBe(true);
    expect(lines.join("\n")).not.toContain(LOCAL_LIVE_API_KEY);
  });

  it("keeps the Historical cache identity unchanged and adds the live gateway to it in live mode", () => {
    const historical = databento.cacheIdentity!(databento.configSchema.parse({ api_key: LOCAL_LIVE_API_KEY })) as Record<string, unknown>;
    expect(historical).not.toHaveProperty("mode");
    const live = databento.cacheIdentity!(databento.configSchema.parse({ api_key: LOCAL_LIVE_API_KEY, mode: "live", live_gateway: "127.0.0.1:13000" })) as Record<string, unknown>;
    expect(live).toMatchObject({ mode: "live", live_gateway: "127.0.0.1:13000" });
    expect(() => databento.configSchema.parse({ mode: "live", live_gateway: "no-port" })).toThrow(/host:port/);
  });
});
