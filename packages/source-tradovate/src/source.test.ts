/** A load against the local server: rows, underlying prices, discovery modes, filters, unsubscribe, reuse. */
import { normalizeChain, type SourceResult } from "@nq/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resetSessions } from "./auth.js";
import { capabilities, TradovateSource } from "./index.js";
import { startLocalTradovateServer, type LocalTradovateServer } from "./test-server/index.js";
import { localConfig, PASSWORD, recordingContext, SECRET, signal } from "./test-support/harness.js";
import type { TradovateConfig } from "./config.js";

const request = { product: "NQ" };
let server: LocalTradovateServer;
beforeAll(async () => {
  server = await startLocalTradovateServer();
});
afterAll(() => server.close());
beforeEach(() => resetSessions());

async function load(overrides: Partial<TradovateConfig> = {}, req: Parameters<TradovateSource["load"]>[0] = request, on = server) {
  const context = recordingContext();
  const source = new TradovateSource(localConfig(on, overrides), context);
  try {
    const result = await source.load(req, { signal: signal() });
    return { result, context, source };
  } finally {
    await source.close();
  }
}

const optionIds = (s: LocalTradovateServer, productIds: number[]) => {
  const maturities = new Set(s.market.maturities.filter((m) => productIds.includes(m.productId)).map((m) => m.id));
  return s.market.contracts.filter((c) => maturities.has(c.contractMaturityId));
};

describe("a load", () => {
  it("gives one row per NQ option (quarterly and weekly, not the micro) with the feed's quote and its future's mid", async () => {
    const { result, context } = await load();
    const expected = optionIds(server, [2, 3]);
    expect(result.rows).toHaveLength(expected.length);
    expect(result.complete).toBe(true);
    expect(result.rows.some((r) => String(r.symbol).startsWith("MNQ"))).toBe(false);
    const row = result.rows.find((r) => r.symbol === expected[3]!.name)!;
    const entries = server.market.quotes.get(expected[3]!.id)!;
    expect(row).toMatchObject({ bid: entries.Bid?.price ?? null, ask: entries.Offer!.price, openInterest: entries.OpenInterest!.size, settlement: entries.SettlementPrice!.price, volume: entries.TotalTradeVolume!.size });
    const futureId = server.market.underlyingOf.get(expected[3]!.id)!;
    const futurePrice = server.market.futurePrice.get(futureId)!;
    expect(row).toMatchObject({ underlyingPrice: futurePrice, underlyingPriceBasis: "mid", underlying: server.market.contracts.find((c) => c.id === futureId)!.name, multiplier: 20 });
    expect(Date.parse(String(row.underlyingPriceTime))).not.toBeNaN();
    for (const r of result.rows) expect(r.underlyingPrice, String(r.symbol)).toBeGreaterThan(0);
    // Every weekly sits on the nearest future expiring on or after it.
    const chain = normalizeChain(result, { source: "tradovate", capabilities, request, fetchedAt: new Date() });
    expect(chain.qualityMetrics.invalidRows).toBe(0);
    expect(chain.optionsSummary.underlyings.length).toBeGreaterThanOrEqual(1);
    for (const u of chain.optionsSummary.underlyings) expect(u).toMatchObject({ price: expect.any(Number), basis: "mid" });
    expect(context.updates.some((u) => u.stage === "quotes" && u.done === u.total)).toBe(true);
    expect(JSON.stringify(context.logs)).not.toContain(PASSWORD);
  });

  it("subscribes each option and each future once, then unsubscribes them all and closes the socket", async () => {
    const before = server.connections.length;
    const { result } = await load();
    const connection = server.connections[before]!;
    const futures = new Set(result.rows.map((r) => r.underlying));
    expect(connection.subscribed).toHaveLength(result.rows.length + futures.size);
    expect(new Set(connection.subscribed).size).toBe(connection.subscribed.length);
    expect([...connection.unsubscribed].sort()).toEqual([...connection.subscribed].sort());
    const authorize = connection.messages[0]!;
    expect(authorize).toMatchObject({ endpoint: "authorize", id: 0 });
    const ids = connection.messages.slice(1).map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Math.min(...ids)).toBe(1);
    await expect.poll(() => server.openConnections()).toBe(0);
  });

  it("logs in once for several loads (the session is shared) and reuses the discovered contracts on the same instance", async () => {
    const context = recordingContext();
    const source = new TradovateSource(localConfig(server), context);
    const logins = server.stats.logins;
    const lookups = () => server.requests.filter((r) => !r.path.startsWith("/auth")).length;
    await source.load(request, { signal: signal() });
    const afterFirst = lookups();
    await source.load(request, { signal: signal() });
    expect(lookups()).toBe(afterFirst);
    const other = new TradovateSource(localConfig(server), recordingContext());
    await other.load({ product: "NQ", maxExpirations: 1 }, { signal: signal() });
    expect(server.stats.logins - logins).toBe(1);
    await source.close();
    await other.close();
  });

  it("applies max_expirations and the strike window before subscribing", async () => {
    const before = server.connections.length;
    const { result } = await load({}, { product: "NQ", maxExpirations: 1, strikeMin: 20_900, strikeMax: 21_100 });
    const expirations = new Set(result.rows.map((r) => r.expiration));
    expect(expirations.size).toBe(1);
    expect(result.rows.every((r) => Number(r.strike) >= 20_900 && Number(r.strike) <= 21_100)).toBe(true);
    expect(result.rows).toHaveLength(3 * 2);
    expect(server.connections[before]!.subscribed).toHaveLength(6 + 1);
  });

  it("finds the options through named products, or through option symbols, and without underlyingId", async () => {
    const named = await load({ option_products: ["ONQ"] });
    expect(named.result.rows).toHaveLength(optionIds(server, [2]).length);
    const symbols = optionIds(server, [3]).slice(0, 4).map((c) => c.name);
    const listed = await load({ option_symbols: [...symbols, "NQZ9 C1"] });
    expect(listed.result.rows.map((r) => r.symbol).sort()).toEqual([...symbols].sort());
    expect(listed.result.warnings?.join("\n")).toMatch(/NQZ9 C1 is not known/);
    const bare = await startLocalTradovateServer({ omitUnderlyingId: true });
    try {
      const { result } = await load({}, request, bare);
      expect(result.rows.every((r) => Number(r.underlyingPrice) > 0)).toBe(true);
      expect(bare.requests.some((r) => r.path === "/contract/item")).toBe(false);
    } finally {
      await bare.close();
    }
  });

  it("says clearly when a named product is not an options product", async () => {
    await expect(load({ option_products: ["NQ"] })).rejects.toMatchObject({ name: "NoDataError", message: expect.stringMatching(/type Futures, not Options/) });
  });

  it("merges a quote that arrives in parts (book first, the rest later)", async () => {
    const split = await startLocalTradovateServer({ splitQuotes: true, splitDelayMs: 10 });
    try {
      const { result } = await load({ settle_ms: 150 }, request, split);
      const withOi = result.rows.filter((r) => r.openInterest !== null).length;
      expect(withOi).toBe(result.rows.length);
      expect(result.rows.filter((r) => r.ask !== null)).toHaveLength(result.rows.length);
    } finally {
      await split.close();
    }
  });

  it("returns an incomplete chain, saying why, when some contracts never quote before collect_timeout_ms", async () => {
    const names = optionIds(server, [2]).slice(0, 2).map((c) => c.name);
    const quiet = await startLocalTradovateServer({ silentContracts: names });
    try {
      const { result } = await load({ collect_timeout_ms: 400 }, request, quiet);
      expect(result.complete).toBe(false);
      expect(result.incompleteReasons).toEqual([expect.stringMatching(/^2 of \d+ option contracts sent no quote within 400 ms/)]);
      const silentRow = result.rows.find((r) => r.symbol === names[0])!;
      expect(silentRow).toMatchObject({ bid: null, ask: null, openInterest: null, quoteTime: null });
    } finally {
      await quiet.close();
    }
  });

  it("refuses a request for a past time without contacting the server", async () => {
    const count = server.requests.length;
    await expect(load({}, { product: "NQ", asOf: "2024-01-02T15:00:00Z" })).rejects.toMatchObject({ name: "InvalidRequestError" });
    expect(server.requests.length).toBe(count);
  });

  it("never sends the password or the API secret anywhere but the login body", async () => {
    const { result } = await load();
    expect(JSON.stringify(result as SourceResult)).not.toContain(PASSWORD);
    const outside = server.requests.filter((r) => r.path !== "/auth/accesstokenrequest");
    expect(JSON.stringify(outside)).not.toContain(SECRET);
    expect(JSON.stringify(server.connections)).not.toContain(PASSWORD);
  });
});
