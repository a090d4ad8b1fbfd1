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

  it("a trades request over its limit is refused with CostLimitError and never sent", async () => {
    server.requests.length = 0;
    const { source, spend } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, cost_limits: { trades: 0.000_000_1 } });
    const error = await failureOf(source.load({ product: "NQ" }, { signal: signal() }));
    expect(error).toBeInstanceOf(CostLimitError);
    const costError = error as CostLimitError;
    expect(costError.limitUsd).toBe(0.000_000_1);
    expect(costError.estimatedUsd).toBeGreaterThan(costError.limitUsd);
    expect(costError.message).toContain('cost_limits["trades"]');
    expect(costError.message).toContain("not sent");
    const sent = server.requests.map((r) => `${r.path.slice(4)} ${r.form.schema ?? ""}`.trim());
    expect(sent).toContain("metadata.get_cost trades");
    expect(sent).not.toContain("timeseries.get_range trades");
    // What came before was bought and recorded; what was refused was not.
    expect(sent).toContain("timeseries.get_range definition");
    expect(spend.entries.map((e) => e.what.split(" ")[0])).toEqual(["definition", "statistics"]);
  });

  it("with every limit below the first price, no timeseries.get_range is sent at all", async () => {
    server.requests.length = 0;
    const { source, spend } = await sourceFor({
      api_key: CANARY_KEY,
      base_url: server.url,
      cost_limits: { definition: 0, statistics: 0, trades: 0, "bbo-1m": 0 },
    });
    expect(await failureOf(source.load({ product: "NQ" }, { signal: signal() }))).toBeInstanceOf(CostLimitError);
    expect(server.requests.some((r) => r.path.endsWith("timeseries.get_range"))).toBe(false);
    expect(spend.totalUsd).toBe(0);
  });

  it("the run-wide cap (context.spend.authorize) stops the request that would cross it", async () => {
    server.requests.length = 0;
    const { source, spend } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url }, { runLimitUsd: 0.000_15 });
    const error = await failureOf(source.load({ product: "NQ" }, { signal: signal() }));
    expect(error).toBeInstanceOf(CostLimitError);
    expect(error.message).toContain("run limit");
    expect(spend.totalUsd).toBeLessThanOrEqual(0.000_15);
    const costs = server.requests.filter((r) => r.path.endsWith("metadata.get_cost")).length;
    const ranges = server.requests.filter((r) => r.path.endsWith("timeseries.get_range")).length;
    expect(ranges).toBe(costs - 1);
  });

  it("records each purchase with the amount get_cost quoted", async () => {
    const { source, spend } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    await source.load({ product: "NQ" }, { signal: signal() });
    expect(spend.entries).toHaveLength(4);
    for (const entry of spend.entries) {
      expect(entry.source).toBe("databento");
      expect(entry.usd).toBeGreaterThan(0);
      expect(entry.what).toMatch(/^(definition|statistics|trades|bbo-1m) GLBX\.MDP3 /);
    }
  });
});
