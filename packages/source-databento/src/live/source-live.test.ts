import { afterEach, describe, expect, it } from "vitest";
import { createLogger, normalizeChain, SpendLedger } from "@nq/core";
import databento from "../index.js";
import { startLocalDatabentoServer, type LocalDatabentoServer } from "../test-server/index.js";
import { LOCAL_LIVE_API_KEY, type LocalLiveGateway, startLocalLiveGateway } from "../test-server/live-gateway.js";

let gateway: LocalLiveGateway | null = null;
let historical: LocalDatabentoServer | null = null;
afterEach(async () => {
  await gateway?.close();
  await historical?.close();
  gateway = null;
  historical = null;
});

/** The local Historical server, where live mode looks up the NQ weekly and end-of-month parents (free symbology). */
async function localHistorical(): Promise<LocalDatabentoServer> {
  historical = await startLocalDatabentoServer({ apiKeys: [LOCAL_LIVE_API_KEY], fixturesDir: null });
  return historical;
}

describe('mode: "live" (one-shot)', () => {
  it("connects, replays from the session's open, answers with the chain when the replay completes, and closes", async () => {
    gateway = await startLocalLiveGateway({ speed: 60 });
    const gw = gateway;
    const config = databento.configSchema.parse({
      api_key: LOCAL_LIVE_API_KEY,
      mode: "live",
      live_gateway: `${gw.host}:${gw.port}`,
      base_url: (await localHistorical()).url,
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

  describe("the NQ weekly and end-of-month parents", () => {
    async function loadOnce(extra: Record<string, unknown>) {
      gateway = await startLocalLiveGateway({ speed: 60 });
      const gw = gateway;
      const config = databento.configSchema.parse({ api_key: LOCAL_LIVE_API_KEY, mode: "live", live_gateway: `${gw.host}:${gw.port}`, schemas: ["statistics", "trades"], sample: true, ...extra });
      const lines: string[] = [];
      const now = () => new Date(Number(gw.simNowNs() / 1_000_000n));
      const source = await databento.create(config, { log: createLogger((e) => lines.push(e.message)), spend: new SpendLedger(1), now });
      try {
        const result = await source.load({ product: "NQ" }, { signal: AbortSignal.timeout(20_000) });
        const optionParents = new Set(gw.connections[0]!.subscriptions.filter((s) => s.schema === "definition").flatMap((s) => s.symbols));
        const roots = new Set(result.rows.map((r) => String((r as { rawSymbol?: string }).rawSymbol ?? r.symbol).slice(0, 3)));
        return { result, optionParents, roots, lines };
      } finally {
        await source.close?.();
        await gateway.close();
        gateway = null;
      }
    }

    it("are looked up with the Historical API's free symbology before subscribing, and their options are in the chain", async () => {
      const server = await localHistorical();
      const withSeries = await loadOnce({ base_url: server.url });
      const resolves = server.requests.filter((r) => r.path === "/v0/symbology.resolve");
      expect(resolves).toHaveLength(1);
      expect(resolves[0]!.form).toMatchObject({ stype_in: "parent", stype_out: "instrument_id" });
      // Only the free endpoint: nothing was bought from the Historical API.
      expect(server.spend().requests).toBe(0);
      const series = [...withSeries.optionParents].filter((p) => p !== "NQ.OPT");
      expect(series.length).toBeGreaterThan(2);
      expect(series.every((p) => /^Q(N[1-4E]|[1-5][A-D])\.OPT$/.test(p))).toBe(true);
      expect(withSeries.result.complete).toBe(true);

      const without = await loadOnce({ base_url: server.url, discover_parents: false });
      expect([...without.optionParents]).toEqual(["NQ.OPT"]);
      expect(server.requests.filter((r) => r.path === "/v0/symbology.resolve")).toHaveLength(1); // not asked again
      expect(withSeries.result.rows.length).toBeGreaterThan(without.result.rows.length);
      expect([...withSeries.roots].some((root) => root.startsWith("Q"))).toBe(true);
      expect([...without.roots].every((root) => root.startsWith("NQ"))).toBe(true);
    });

    it("when the lookup fails, the chain still comes from NQ.OPT but says it is incomplete and why", async () => {
      const server = await localHistorical();
      const unreachable = server.url;
      await server.close();
      historical = null;
      const { result, optionParents } = await loadOnce({ base_url: unreachable, max_retries: 0, timeout_ms: 2000 });
      expect([...optionParents]).toEqual(["NQ.OPT"]);
      expect(result.rows.length).toBeGreaterThan(0);
      expect(result.complete).toBe(false);
      expect(result.incompleteReasons?.[0]).toMatch(/^the NQ weekly and end-of-month options are missing: their product codes could not be looked up \(.+\); only NQ\.OPT was subscribed$/);
    });
  });

  it("keeps the Historical cache identity unchanged and adds the live gateway to it in live mode", () => {
    const historical = databento.cacheIdentity!(databento.configSchema.parse({ api_key: LOCAL_LIVE_API_KEY })) as Record<string, unknown>;
    expect(historical).not.toHaveProperty("mode");
    const live = databento.cacheIdentity!(databento.configSchema.parse({ api_key: LOCAL_LIVE_API_KEY, mode: "live", live_gateway: "127.0.0.1:13000" })) as Record<string, unknown>;
    expect(live).toMatchObject({ mode: "live", live_gateway: "127.0.0.1:13000" });
    expect(() => databento.configSchema.parse({ mode: "live", live_gateway: "no-port" })).toThrow(/host:port/);
  });
});
