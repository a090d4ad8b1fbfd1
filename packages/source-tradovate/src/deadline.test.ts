/** A hung server is ended by the registry's deadline (sourceDeadlineMs), and the source lets go of its socket. */
import { createLogger, type LogEntry, runSources } from "@nq/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetSessions } from "./auth.js";
import { tradovate } from "./index.js";
import { startLocalTradovateServer, type Faults, type LocalTradovateServer } from "./test-server/index.js";
import { localConfig } from "./test-support/harness.js";

let server: LocalTradovateServer;
beforeEach(() => resetSessions());
afterEach(() => server?.close());

async function runAgainstHang(faults: Faults) {
  server = await startLocalTradovateServer();
  server.setFaults(faults);
  const logs: LogEntry[] = [];
  const started = Date.now();
  const result = await runSources([{ name: "tradovate", definition: tradovate as never, config: localConfig(server, { request_timeout_ms: 60_000, collect_timeout_ms: 60_000 }) }], {
    request: { product: "NQ", maxExpirations: 1 },
    policy: "strict",
    log: createLogger((entry) => logs.push(entry)),
    sourceDeadlineMs: 800,
    retries: 0,
  });
  return { result, elapsed: Date.now() - started, logs };
}

describe("the registry's deadline", () => {
  it.each<[string, Faults]>([
    ["REST lookups that never answer", { hangRest: { paths: ["/contract/deps"] } }],
    ["an authorize that is never answered", { hangAuthorize: true }],
    ["subscriptions that never quote", { hangQuotes: true }],
  ])("ends a load stuck on %s, with a TimeoutError naming the deadline, and the socket is closed", async (_name, faults) => {
    const { result, elapsed } = await runAgainstHang(faults);
    expect(result.ok).toBe(false);
    expect(elapsed).toBeLessThan(5_000);
    const attempt = result.attempts[0]!;
    expect(attempt.outcome).toBe("failed");
    expect(attempt.error).toMatchObject({ name: "TimeoutError" });
    expect(attempt.reason).toMatch(/gave up after 800 ms \(the source's deadline\)/);
    await expect.poll(() => server.openConnections(), { timeout: 2_000 }).toBe(0);
  });
});
