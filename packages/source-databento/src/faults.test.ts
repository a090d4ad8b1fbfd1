/**
 * Every switchable fault ends in a bounded retry or a typed error, and a cut-off stream never becomes a
 * chain reported as complete.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AbortedError,
  AuthError,
  EntitlementError,
  IncompleteDataError,
  silentLogger,
  SpendLedger,
  InvalidRequestError,
  NetworkError,
  RateLimitError,
  ServiceUnavailableError,
  TimeoutError,
} from "@nq/core";
import { configSchema } from "./config.js";
import { databento, type DatabentoConfig } from "./index.js";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, failureOf, signal, sourceFor } from "./test-support/source-harness.js";

describe("faults", () => {
  let server: LocalDatabentoServer;
  const load = async (overrides: Partial<DatabentoConfig> = {}) => {
    const harness = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, max_retries: 2, ...overrides });
    return { ...harness, result: harness.source.load({ product: "NQ" }, { signal: signal() }) };
  };
  const count = (endpoint: string) => server.requests.filter((r) => r.path === `/v0/${endpoint}`).length;

  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 60, apiKeys: [CANARY_KEY], degradedDates: ["2026-11-20"] });
  });
  beforeEach(() => {
    server.setFault(null);
    server.requests.length = 0;
  });
  afterAll(async () => server.close());

  it("401 → AuthError, not retried", async () => {
    server.setFault({ kind: "401" });
    const error = await failureOf((await load()).result);
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain("auth_authentication_failed");
    expect(server.requests).toHaveLength(1);
  });

  it("403 → EntitlementError, not retried", async () => {
    server.setFault({ kind: "403" });
    expect(await failureOf((await load()).result)).toBeInstanceOf(EntitlementError);
    expect(server.requests).toHaveLength(1);
  });

  it("422 → InvalidRequestError carrying Databento's case and docs", async () => {
    server.setFault({ kind: "422", endpoints: ["metadata.get_cost"] });
    const error = (await failureOf((await load()).result)) as InvalidRequestError;
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.details).toMatchObject({ status: 422, case: "data_end_after_available_end" });
    expect(count("timeseries.get_range")).toBe(0);
  });

  it("429 once → waits Retry-After (1 s) and succeeds", async () => {
    server.setFault({ kind: "429", retryAfterSeconds: 1, times: 1 });
    const { result, logs } = await load();
    expect((await result).rows.length).toBeGreaterThan(0);
    expect(count("metadata.get_dataset_range")).toBe(2);
    expect(logs.some((l) => l.message.includes("retrying metadata.get_dataset_range in 1000 ms"))).toBe(true);
  });

  it("429 persisting → RateLimitError(retryAfterMs) after max_retries + 1 tries", async () => {
    server.setFault({ kind: "429", retryAfterSeconds: 1 });
    const error = await failureOf((await load({ max_retries: 1 })).result);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(1000);
    expect(server.requests).toHaveLength(2);
  });

  it("429 with a Retry-After beyond max_retry_delay_ms → RateLimitError at once, for the registry to schedule", async () => {
    server.setFault({ kind: "429", retryAfterSeconds: 120 });
    const error = await failureOf((await load({ max_retry_delay_ms: 5000 })).result);
    expect((error as RateLimitError).retryAfterMs).toBe(120_000);
    expect(server.requests).toHaveLength(1);
  });

  it("503 persisting → ServiceUnavailableError after a bounded 3 tries; once → recovers", async () => {
    server.setFault({ kind: "503" });
    expect(await failureOf((await load()).result)).toBeInstanceOf(ServiceUnavailableError);
    expect(server.requests).toHaveLength(3);
    server.requests.length = 0;
    server.setFault({ kind: "503", times: 1 });
    expect((await (await load()).result).rows.length).toBeGreaterThan(0);
  });

  it("slow drip → TimeoutError after read_timeout_ms of silence; the data is never returned", async () => {
    server.setFault({ kind: "slow", bytesPerChunk: 64, delayMs: 1500 });
    const error = await failureOf((await load({ read_timeout_ms: 300 })).result);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toContain("read_timeout_ms");
  });

  it("slow drip within the read timeout still completes", async () => {
    server.setFault({ kind: "slow", bytesPerChunk: 4096, delayMs: 5, endpoints: ["timeseries.get_range"], times: 1 });
    const { result } = await load();
    expect((await result).complete).toBe(true);
  });

  it("a stalled or cut JSON answer gets the same treatment as a data body", async () => {
    server.setFault({ kind: "slow", bytesPerChunk: 8, delayMs: 1000, endpoints: ["metadata.get_dataset_range"] });
    expect(await failureOf((await load({ read_timeout_ms: 300 })).result)).toBeInstanceOf(TimeoutError);
    server.setFault({ kind: "reset", afterBytes: 1, endpoints: ["metadata.get_cost"] });
    expect(await failureOf((await load()).result)).toBeInstanceOf(IncompleteDataError);
    expect(count("timeseries.get_range")).toBe(0);
  });

  it("a load tried again after a failure replays what it already received: nothing is bought twice", async () => {
    const spend = new SpendLedger(null);
    const controller = new AbortController();
    const source = await databento.create(configSchema.parse({ api_key: CANARY_KEY, base_url: server.url, max_retries: 0 }), {
      log: silentLogger,
      spend,
      now: () => new Date(),
      // The first try fails once definitions and statistics are in, as a cut connection would.
      progress: (update) => {
        if (update.stage.startsWith("trades")) controller.abort(new Error("cut"));
      },
    });
    const request = { product: "NQ", asOf: "2026-11-19T22:00:00Z" };
    await failureOf(source.load(request, { signal: controller.signal }));
    const ranges = () => server.requests.filter((r) => r.path === "/v0/timeseries.get_range");
    const key = (r: { form: Record<string, string> }) => [r.form.schema, r.form.symbols, r.form.start, r.form.end].join("|");
    const firstTry = ranges();
    expect(firstTry.map((r) => r.form.schema)).toEqual(["definition", "statistics"]);
    server.requests.length = 0;
    const retried = await source.load(request, { signal: signal() });
    expect(retried.rows.length).toBeGreaterThan(0);
    const secondTry = ranges();
    expect(secondTry.map((r) => r.form.schema)[0]).toBe("trades");
    // Neither the definitions nor the options' statistics are requested again (the futures' are new).
    expect(secondTry.filter((r) => firstTry.some((f) => key(f) === key(r)))).toEqual([]);
    expect(spend.entries.filter((e) => e.what.startsWith("definition"))).toHaveLength(1);
    await source.close?.();
  });

  it("connection reset mid-body → IncompleteDataError", async () => {
    server.setFault({ kind: "reset" });
    const error = await failureOf((await load()).result);
    expect(error).toBeInstanceOf(IncompleteDataError);
    expect(error.message).toContain("incomplete");
  });

  it("truncated zstd (a clean but short body) → IncompleteDataError, with or without the record-count check", async () => {
    for (const verify of [true, false]) {
      for (const keepFraction of [0.3, 0.9]) {
        server.setFault({ kind: "truncate", keepFraction });
        const error = await failureOf((await load({ verify_record_count: verify })).result);
        expect(error, `verify=${verify} keep=${keepFraction}`).toBeInstanceOf(IncompleteDataError);
      }
    }
  });

  it("206 (a parent that does not resolve) → complete = false and a warning, not hidden", async () => {
    const { result, logs } = await load({ parent_symbols: ["NQ.OPT", "ZZ9.OPT"], discover_parents: false });
    const answer = await result;
    expect(answer.complete).toBe(false);
    expect(answer.warnings!.some((w) => w.includes("206"))).toBe(true);
    expect(answer.warnings!.some((w) => w.includes("ZZ9.OPT"))).toBe(true);
    expect(logs.some((l) => l.level === "warn" && l.message.includes("206"))).toBe(true);
  });

  it("X-Warning headers become result warnings and log lines", async () => {
    const { result, logs } = await load();
    const answer = await result;
    expect(answer.warnings!.some((w) => w.includes("reduced quality") && w.includes("2026-11-20 (degraded)"))).toBe(true);
    expect(logs.some((l) => l.level === "warn" && l.message.startsWith("Databento warning on"))).toBe(true);
  });

  it("an abort during a slow body → AbortedError promptly", async () => {
    server.setFault({ kind: "slow", bytesPerChunk: 16, delayMs: 500 });
    const controller = new AbortController();
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: server.url });
    const pending = source.load({ product: "NQ" }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 150);
    expect(await failureOf(pending)).toBeInstanceOf(AbortedError);
  });
});

describe("transport failures", () => {
  let silent: Server;
  let url: string;
  beforeAll(async () => {
    // Accepts connections and never answers.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("no response headers within timeout_ms → TimeoutError, retried a bounded number of times", async () => {
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: url, timeout_ms: 150, max_retries: 1 });
    const error = await failureOf(source.load({ product: "NQ" }, { signal: signal() }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toContain("timeout_ms");
  });

  it("connection refused → NetworkError", async () => {
    const closed = await startLocalDatabentoServer({ contracts: 4 });
    const deadUrl = closed.url;
    await closed.close();
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: deadUrl, max_retries: 1 });
    const error = await failureOf(source.load({ product: "NQ" }, { signal: signal() }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toContain("ECONNREFUSED");
  });
});
