/** Key handling and config validation: wrong config is a ConfigError before any request is made. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseSourceConfig } from "@nq/core";
import { databento } from "./index.js";
import { configSchema, resolveApiKey } from "./config.js";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, failureOf, signal, sourceFor } from "./test-support/source-harness.js";

describe("API key handling", () => {
  let server: LocalDatabentoServer;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 20, apiKeys: [CANARY_KEY] });
  });
  afterAll(async () => server.close());

  it("a missing key is a ConfigError naming api_key and DATABENTO_API_KEY, before any request", async () => {
    const saved = process.env.DATABENTO_API_KEY;
    delete process.env.DATABENTO_API_KEY;
    try {
      const error = (await failureOf(sourceFor({ base_url: server.url }))) as ConfigError;
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.path).toBe("data_sources.databento.config.api_key");
      expect(error.message).toContain("DATABENTO_API_KEY");
      expect(server.requests).toHaveLength(0);
    } finally {
      if (saved !== undefined) process.env.DATABENTO_API_KEY = saved;
    }
  });

  it.each([
    ["too short", "db-abc"],
    ["wrong prefix", "xx-CanaryKeyZx81vQ0pLm4tRe7uYw2Q"],
    ["a placeholder", "YOUR_API_KEY"],
    ["not alphanumeric", "db-CanaryKeyZx81vQ0pLm4tRe7uYw-Q"],
  ])("a malformed key (%s) is a ConfigError saying what a key looks like", async (_label, key) => {
    const error = await failureOf(sourceFor({ api_key: key, base_url: server.url }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('"db-" followed by 29 letters or digits');
    if (key.length >= 6) expect(error.message).not.toContain(key);
    expect(server.requests).toHaveLength(0);
  });

  it("falls back to DATABENTO_API_KEY", async () => {
    expect(resolveApiKey({}, { DATABENTO_API_KEY: CANARY_KEY })).toBe(CANARY_KEY);
    expect(resolveApiKey({ api_key: CANARY_KEY }, { DATABENTO_API_KEY: "db-ignored" })).toBe(CANARY_KEY);
    const saved = process.env.DATABENTO_API_KEY;
    process.env.DATABENTO_API_KEY = CANARY_KEY;
    try {
      const { source } = await sourceFor({ base_url: server.url, schemas: [] });
      expect((await source.load({ product: "NQ" }, { signal: signal() })).rows.length).toBeGreaterThan(0);
    } finally {
      if (saved === undefined) delete process.env.DATABENTO_API_KEY;
      else process.env.DATABENTO_API_KEY = saved;
    }
  });
});

describe("config schema", () => {
  const parse = (raw: unknown) => parseSourceConfig(databento, "databento", raw, "profile.json");

  it("fills documented defaults", () => {
    const config = configSchema.parse({ api_key: CANARY_KEY });
    expect(config).toMatchObject({
      base_url: "https://hist.databento.com",
      dataset: "GLBX.MDP3",
      parent_symbols: ["NQ.OPT"],
      discover_parents: true,
      schemas: ["statistics", "trades", "bbo-1m"],
      quote_window_minutes: 15,
      timeout_ms: 100_000,
      max_retries: 0,
      verify_record_count: true,
    });
  });

  it.each([
    [{ cost_limits: { trades: -1 } }, "data_sources.databento.config.cost_limits.trades"],
    [{ cost_limits: { ohlcv: 1 } }, "data_sources.databento.config.cost_limits"],
    [{ schemas: ["mbp-1", "bbo-1m"] }, "data_sources.databento.config.schemas"],
    [{ parent_symbols: ["nq"] }, "data_sources.databento.config.parent_symbols[0]"],
    [{ base_url: "ftp://x" }, "data_sources.databento.config.base_url"],
    [{ files: ["a.dbn"], dir: "." }, "data_sources.databento.config.files"],
    [{ strike_min: 22000, strike_max: 21000 }, "data_sources.databento.config.strike_min"],
    [{ apikey: "x" }, "data_sources.databento.config"],
  ])("rejects %j with a ConfigError at %s", (raw, path) => {
    let thrown: unknown;
    try {
      parse(raw);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toContain(path);
  });
});
