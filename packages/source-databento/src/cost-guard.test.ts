/** The cost guard: priced before sent, refused over a schema limit or the run's cap, spend recorded. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CostLimitError } from "@nq/core";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, failureOf, signal, sourceFor } from "./test-support/source-harness.js";

describe("cost guard", () => {
  let server: LocalDatabentoServer;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 100, apiKeys: [CANARY_KEY] });
  });
  afterAll(async () => server.close());

  const sentOf = () => server.requests.map((r) => `${r.path.slice(4)} ${r.form.schema ?? ""}`.trim());

  it("prices the whole plan first: a schema over its limit means nothing is bought at all, and the refusal lists the plan", async () => {
    server.requests.length = 0;
    const { source, spend } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, cost_limits: { trades: 0.000_000_1 } });
    const error = await failureOf(source.load({ product: "NQ" }, { signal: signal() }));
    expect(error).toBeInstanceOf(CostLimitError);
    const costError = error as CostLimitError;
    expect(costError.estimatedUsd).toBeGreaterThan(0.000_000_1);
    expect(costError.message).toContain('cost_limits["trades"]');
    expect(costError.message).toMatch(/^.*nothing was bought/);
    // The advice is what lowers the bound, not a narrower request (it prices whole parents).
    expect(costError.message).toMatch(/Fewer expirations or a strike window do not lower this bound.*fewer parents do \(parent_symbols; discover_parents: false/);
    // Each planned request is listed with its price.
    expect(costError.message).toMatch(/- definition: option definitions — \$\d/);
    expect(costError.message).toMatch(/- trades: the session's trades \(options\) — \$\d/);
    expect(costError.message).toMatch(/- bbo-1m: the book in the last 15 minutes \(options\) — \$\d/);
    const sent = sentOf();
    expect(sent).toContain("metadata.get_cost trades");
    // Old behaviour bought definitions and statistics, then refused trades: money spent for nothing.
    expect(sent.some((line) => line.startsWith("timeseries.get_range"))).toBe(false);
    expect(spend.totalUsd).toBe(0);
  });

  it("the run-wide cap refuses the whole plan before anything is bought", async () => {
    server.requests.length = 0;
    const { source, spend } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url }, { runLimitUsd: 0.000_15 });
    const error = await failureOf(source.load({ product: "NQ" }, { signal: signal() }));
    expect(error).toBeInstanceOf(CostLimitError);
    expect(error.message).toContain("run_cost_limit_usd");
    expect(spend.totalUsd).toBe(0);
    expect(server.requests.some((r) => r.path.endsWith("timeseries.get_range"))).toBe(false);
  });

  it("records the plan's estimates beside what was spent", async () => {
    const { source, spend } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    await source.load({ product: "NQ" }, { signal: signal() });
    expect(spend.totalEstimatedUsd).toBeGreaterThan(0);
    expect(spend.totalUsd).toBeGreaterThan(0);
    // The plan prices market data for whole parents: an upper bound of what the narrower requests cost.
    expect(spend.totalUsd).toBeLessThanOrEqual(spend.totalEstimatedUsd + 1e-12);
  });

  it("records each purchase with the amount get_cost quoted", async () => {
    const { source, spend } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    await source.load({ product: "NQ" }, { signal: signal() });
    expect(spend.entries.length).toBeGreaterThanOrEqual(4);
    for (const entry of spend.entries) {
      expect(entry.source).toBe("databento");
      expect(entry.usd).toBeGreaterThanOrEqual(0);
      expect(entry.what).toMatch(/^(definition|statistics|trades|bbo-1m) GLBX\.MDP3 /);
    }
    // Every purchase was priced exactly just before it was sent.
    const costs = server.requests.filter((r) => r.path.endsWith("metadata.get_cost")).length;
    const ranges = server.requests.filter((r) => r.path.endsWith("timeseries.get_range")).length;
    expect(costs).toBeGreaterThan(ranges);
  });
});
