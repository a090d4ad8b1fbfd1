/**
 * The canary key never surfaces: not in logs, errors (message, stack, JSON, details, cause), results,
 * spend entries, nor the server's request log. Every path that touches the key is exercised.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "@nq/core";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, failureOf, signal, sourceFor } from "./test-support/source-harness.js";

const serialize = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error) parts.push(e.message, String(e.stack), serialize(e), serialize((e as { details?: unknown }).details));
    else parts.push(String(e));
  }
  return parts.join("\n");
}

describe("the API key never appears in logs, errors or outputs", () => {
  let server: LocalDatabentoServer;
  const haystack: string[] = [];

  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 40, apiKeys: [CANARY_KEY] });
  });
  afterAll(async () => server.close());

  it("across a successful load, every fault, a refused key and a malformed key", async () => {
    const run = async (config: Record<string, unknown>, fault: Parameters<LocalDatabentoServer["setFault"]>[0] = null) => {
      server.setFault(fault);
      const harness = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, max_retries: 0, read_timeout_ms: 300, ...config }).catch((error: unknown) => {
        haystack.push(errorText(error));
        return null;
      });
      if (!harness) return;
      try {
        const result = await harness.source.load({ product: "NQ" }, { signal: signal() });
        haystack.push(serialize(result));
      } catch (error) {
        haystack.push(errorText(error));
      }
      haystack.push(serialize(harness.logs), serialize(harness.spend.entries));
    };
    await run({});
    for (const kind of ["401", "403", "422", "429", "503", "reset", "truncate"] as const) await run({}, { kind });
    await run({}, { kind: "slow", bytesPerChunk: 32, delayMs: 1000 });
    await run({ cost_limits: { definition: 0 } });
    await run({ base_url: "http://127.0.0.1:9" });
    server.setFault(null);
    // A malformed key: the ConfigError must not echo it either.
    const malformed = `${CANARY_KEY}!`;
    const error = await failureOf(sourceFor({ api_key: malformed, base_url: server.url }));
    expect(error).toBeInstanceOf(ConfigError);
    haystack.push(errorText(error));
    haystack.push(serialize(server.requests));

    const text = haystack.join("\n");
    expect(text.length).toBeGreaterThan(10_000);
    expect(text.includes(CANARY_KEY), "the canary key leaked").toBe(false);
    expect(text.includes(CANARY_KEY.slice(3)), "the canary key's body leaked").toBe(false);
    expect(text.includes(Buffer.from(`${CANARY_KEY}:`).toString("base64")), "the Basic credentials leaked").toBe(false);
  });
});
