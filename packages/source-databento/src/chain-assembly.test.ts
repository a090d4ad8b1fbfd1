/**
 * Acceptance: a full NQ chain from the local server over real HTTP, normalized by core, checked against
 * values derived by hand from the generator's parameters (NQ_GENERATOR) and the calendar — not copied
 * from output.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeChain, type OptionsChain } from "@nq/core";
import { databento } from "./index.js";
import { bookAt, generateDay, lastTradeAt, type LocalDatabentoServer, NQ_GENERATOR, sessionVolume, settlementPrice, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, signal, sourceFor } from "./test-support/source-harness.js";


describe("NQ chain assembly over HTTP (definition ⋈ statistics ⋈ trades ⋈ bbo-1m)", () => {
  let server: LocalDatabentoServer;
  let chain: OptionsChain;
  let warnings: string[];
  let spendTotal: number;
  let spendEntries: number;

  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 200, apiKeys: [CANARY_KEY] });
    const { source, spend } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    const request = { product: "NQ" };
    const result = await source.load(request, { signal: signal() });
    warnings = result.warnings ?? [];
    chain = normalizeChain(result, { source: "databento", capabilities: databento.capabilities, request, fetchedAt: new Date() });
    spendTotal = spend.totalUsd;
    spendEntries = spend.entries.length;
  });
  afterAll(async () => server.close());

  it("is as of the newest data the dataset has (its end, 2026-11-20T21:00Z on a Friday, is exclusive) and complete", () => {
    expect(chain.metadata.asOf).toBe("2026-11-20T20:59:59.999Z");
    expect(chain.metadata.asOfReason).toMatch(/market is open/);
    expect(chain.metadata.complete).toBe(true);
    expect(chain.qualityMetrics.invalidRows).toBe(0);
  });

  it("has every series not yet expired at as-of: weeklies, end-of-month, two quarterlies", () => {
    // The November serial expired at 14:00 CT on Nov 20, before the as-of time; then the Wednesday weekly
    // Nov 25, Friday weekly Nov 27, end-of-month Mon Nov 30, December (Dec 18) and March (Mar 19 2027).
    expect(chain.optionsSummary.expirations).toEqual(["2026-11-25", "2026-11-27", "2026-11-30", "2026-12-18", "2027-03-19"]);
    const roots = Object.fromEntries(chain.contracts.map((c) => [c.expiration, c.root]));
    expect(roots).toEqual({ "2026-11-25": "Q4C", "2026-11-27": "QN4", "2026-11-30": "QNE", "2026-12-18": "NQ", "2027-03-19": "NQ" });
  });

  it("has round(200 / (2 × 6)) = 17 strikes per live expiry, calls and puts: 170 contracts, spreads left out", () => {
    expect(chain.optionsSummary.total).toBe(5 * 17 * 2);
    expect(chain.optionsSummary.calls).toBe(85);
    expect(chain.optionsSummary.puts).toBe(85);
    // Front future 21 000, 25-point steps near the money: 8 strikes each side of 21 000.
    const december = chain.contracts.filter((c) => c.expiration === "2026-12-18" && c.right === "C").map((c) => c.strike);
    expect(december[0]).toBe(21_000 - 8 * 25);
    expect(december.at(-1)).toBe(21_000 + 8 * 25);
    // March rides the next quarter's future: 21 000 + carry 150.
    const march = chain.contracts.filter((c) => c.expiration === "2027-03-19").map((c) => c.strike);
    expect(Math.min(...march)).toBe(21_150 - 200);
    expect(chain.contracts.every((c) => c.multiplier === NQ_GENERATOR.multiplier)).toBe(true);
  });

  it("joins contract terms, open interest, settlement, volume, last and quotes per instrument", () => {
    const call = chain.contracts.find((c) => c.expiration === "2026-12-18" && c.strike === 21_000 && c.right === "C")!;
    const put = chain.contracts.find((c) => c.expiration === "2026-12-18" && c.strike === 21_000 && c.right === "P")!;
    expect(call.symbol).toBe("NQZ6 C21000");
    expect(call.underlying).toBe("NQZ6");
    expect(call.rawStrike).toBe("21000000000000");
    expect(call.expirationTime).toBe("2026-12-18T14:30:00.000Z");
    // OI: base + peak at the money; puts × 1.1.
    expect(call.openInterest).toBe(NQ_GENERATOR.openInterestBase + NQ_GENERATOR.openInterestPeak);
    expect(put.openInterest).toBe(Math.round((NQ_GENERATOR.openInterestBase + NQ_GENERATOR.openInterestPeak) * NQ_GENERATOR.putOpenInterestFactor));
    // Settlement, session volume, last trade and the book, from the generated market's own functions.
    const id = generateDay("2026-11-20", 200).options.find((o) => o.rawSymbol === "NQZ6 C21000")!.instrumentId;
    const asOfNs = BigInt(Date.parse(chain.metadata.asOf)) * 1_000_000n;
    expect(call.settlement).toBe(settlementPrice(id, "2026-11-19"));
    expect(call.volume).toBe(sessionVolume(id, "2026-11-20"));
    expect(call.last).toBe(lastTradeAt(id, asOfNs)!.price);
    const book = bookAt(id, asOfNs)!;
    expect([call.bid, call.ask, call.bidSize, call.askSize]).toEqual([book.bid, book.ask, book.bidSize, book.askSize]);
  });

  it("values away from the money follow the same parameters", () => {
    const call = chain.contracts.find((c) => c.expiration === "2026-12-18" && c.strike === 21_200 && c.right === "C")!;
    const expectedOi = Math.round(NQ_GENERATOR.openInterestBase + NQ_GENERATOR.openInterestPeak * Math.exp(-200 / NQ_GENERATOR.openInterestDecay));
    expect(call.openInterest).toBe(expectedOi);
    expect(call.settlement!).toBeLessThan(chain.contracts.find((c) => c.expiration === "2026-12-18" && c.strike === 21_000 && c.right === "C")!.settlement!);
    expect(call.bid!).toBeLessThan(call.ask!);
  });

  it("says which trading date the settlement and open interest are for", () => {
    expect(chain.contracts.every((c) => c.settlementDate === "2026-11-19" && c.openInterestDate === "2026-11-19")).toBe(true);
    expect(warnings).toContain("settlement is for trading date 2026-11-19 (170 contracts)");
    expect(warnings).toContain("open interest is for trading date 2026-11-19 (170 contracts)");
  });

  it("prices every data request first and records what it spent", () => {
    const paths = server.requests.map((r) => `${r.path.slice(4)} ${r.form.schema ?? ""}`.trim());
    for (const schema of ["definition", "statistics", "trades", "bbo-1m"]) {
      const cost = paths.indexOf(`metadata.get_cost ${schema}`);
      const data = paths.indexOf(`timeseries.get_range ${schema}`);
      expect(cost, schema).toBeGreaterThanOrEqual(0);
      expect(data, schema).toBeGreaterThan(cost);
    }
    // Options: definition, statistics, trades, two quote steps; futures: book, last trade, settlement.
    expect(spendEntries).toBeGreaterThanOrEqual(4);
    expect(spendTotal).toBeGreaterThan(0);
  });
});

describe("narrow requests and quote schemas", () => {
  let server: LocalDatabentoServer;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 200, apiKeys: [CANARY_KEY] });
  });
  afterAll(async () => server.close());

  it("a strike window and maxExpirations select instruments before the market-data requests (by instrument_id)", async () => {
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, schemas: ["statistics", "mbp-1"] });
    const request = { product: "NQ", maxExpirations: 2, strikeMin: 20_950, strikeMax: 21_050 };
    const result = await source.load(request, { signal: signal() });
    const chain = normalizeChain(result, { source: "databento", capabilities: databento.capabilities, request, fetchedAt: new Date() });
    expect(chain.optionsSummary.expirations).toEqual(["2026-11-25", "2026-11-27"]);
    expect(chain.optionsSummary.total).toBe(2 * 5 * 2);
    expect(chain.qualityMetrics.filteredRows).toBe(0);
    const marketRequest = server.requests.find((r) => r.path.endsWith("timeseries.get_range") && r.form.schema === "mbp-1")!;
    expect(marketRequest.form.stype_in).toBe("instrument_id");
    expect(marketRequest.form.symbols!.split(",").length).toBeLessThanOrEqual(20);
    // mbp-1 quotes; trades were not asked for, so volume and last are unknown (null), not 0.
    expect(chain.contracts.filter((c) => c.bid === null || c.ask === null).map((c) => [c.symbol, c.bid, c.ask, c.quoteTime])).toEqual([]);
    expect(chain.contracts.every((c) => c.volume === null && c.last === null)).toBe(true);
  });

  it("requested expirations (the request's over the config's) limit the chain to those series", async () => {
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, expirations: ["2026-11-27"], schemas: ["statistics"] });
    const result = await source.load({ product: "NQ", expirations: ["2026-12-18"] }, { signal: signal() });
    expect(new Set(result.rows.map((r) => r.expiration))).toEqual(new Set(["2026-12-18"]));
    expect(result.rows).toHaveLength(17 * 2);
  });

  it("without series discovery, NQ.OPT alone gives the standard NQ options only (serial and quarterlies)", async () => {
    server.requests.length = 0;
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, discover_parents: false, schemas: [] });
    const result = await source.load({ product: "NQ" }, { signal: signal() });
    expect([...new Set(result.rows.map((r) => r.expiration))].sort()).toEqual(["2026-12-18", "2027-03-19"]);
    expect(new Set(result.rows.map((r) => r.root))).toEqual(new Set(["NQ"]));
    expect(server.requests.some((r) => r.path.endsWith("symbology.resolve"))).toBe(false);
    // No market data schema asked for: those fields are unknown.
    expect(result.rows.every((r) => r.openInterest === null && r.settlement === null && r.volume === null && r.bid === null)).toBe(true);
  });

  it("an explicit asOf inside the data is honoured", async () => {
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, schemas: ["statistics"] });
    const result = await source.load({ product: "NQ", asOf: "2026-11-18T16:00:00Z" }, { signal: signal() });
    expect(new Date(result.asOf).toISOString()).toBe("2026-11-18T16:00:00.000Z");
    expect(result.warnings).toContain(`open interest is for trading date 2026-11-17 (${result.rows.length} contracts)`);
  });
});
