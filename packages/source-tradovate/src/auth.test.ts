/** Login, time penalties, renewal and 401s, against the local server. */
import { AuthError, RateLimitError } from "@nq/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetSessions } from "./auth.js";
import { TradovateSource } from "./index.js";
import { startLocalTradovateServer, type LocalTradovateServer } from "./test-server/index.js";
import { localConfig, PASSWORD, recordingContext, SECRET, signal } from "./test-support/harness.js";

const request = { product: "NQ", maxExpirations: 1 };
let server: LocalTradovateServer;
beforeEach(() => resetSessions());
afterEach(() => server?.close());

const logins = () => server.requests.filter((r) => r.path === "/auth/accesstokenrequest");

describe("login", () => {
  it("honours a time penalty: waits p-time, then sends the same body again with the p-ticket", async () => {
    server = await startLocalTradovateServer();
    server.setFaults({ loginPenalty: { pTime: 0.4, times: 1 } });
    const context = recordingContext();
    const source = new TradovateSource(localConfig(server), context);
    const result = await source.load(request, { signal: signal() });
    await source.close();
    expect(result.rows.length).toBeGreaterThan(0);
    const [first, second] = logins();
    expect(logins()).toHaveLength(2);
    expect(first!.body).not.toHaveProperty("p-ticket");
    const { "p-ticket": ticket, ...rest } = second!.body as Record<string, unknown>;
    expect(typeof ticket).toBe("string");
    expect(rest).toEqual(first!.body);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(400 - 5);
    expect(context.logs.some((l) => l.level === "warn" && /time penalty while logging in: waiting 0.4 s/.test(l.message))).toBe(true);
  });

  it("a captcha penalty is a clear AuthError, sent once", async () => {
    server = await startLocalTradovateServer();
    server.setFaults({ loginPenalty: { pTime: 30, captcha: true, times: 5 } });
    const source = new TradovateSource(localConfig(server), recordingContext());
    const error = await source.load(request, { signal: signal() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/captcha.*cannot solve it.*Wait about an hour/);
    expect(logins()).toHaveLength(1);
  });

  it("a penalty longer than max_penalty_wait_ms is a rate limit with the wait, and its ticket is used by the next try", async () => {
    server = await startLocalTradovateServer();
    server.setFaults({ loginPenalty: { pTime: 0.3, times: 1 } });
    const source = new TradovateSource(localConfig(server, { max_penalty_wait_ms: 100 }), recordingContext());
    const error = await source.load(request, { signal: signal() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(300);
    await new Promise((resolve) => setTimeout(resolve, 320));
    const result = await source.load(request, { signal: signal() });
    expect(result.rows.length).toBeGreaterThan(0);
    expect((logins()[1]!.body as Record<string, unknown>)["p-ticket"]).toEqual(expect.any(String));
    await source.close();
  });

  it("a wrong password (HTTP 200 with errorText) is an AuthError that shows neither the password nor the secret", async () => {
    server = await startLocalTradovateServer();
    const source = new TradovateSource(localConfig(server, { password: "wrong-password-123" }), recordingContext());
    const error = (await source.load(request, { signal: signal() }).catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(/Incorrect username or password/);
    expect(JSON.stringify([error.message, error.stack, error.toJSON()])).not.toMatch(new RegExp(`wrong-password-123|${PASSWORD}|${SECRET}`));
  });

  it("a bare 429 on login is a rate limit asking for an hour (the registry falls back rather than wait)", async () => {
    server = await startLocalTradovateServer();
    server.setFaults({ rest429: { paths: ["/auth/accesstokenrequest"], times: 1 } });
    const source = new TradovateSource(localConfig(server), recordingContext());
    const error = (await source.load(request, { signal: signal() }).catch((e: unknown) => e)) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.retryAfterMs).toBe(60 * 60_000);
  });

  it("reads the credentials from the environment when the config leaves them out", async () => {
    server = await startLocalTradovateServer();
    const config = localConfig(server, { name: undefined, password: undefined, cid: undefined, sec: undefined });
    const env = { TRADOVATE_USERNAME: "nq-test", TRADOVATE_PASSWORD: PASSWORD, TRADOVATE_CID: "1234", TRADOVATE_SEC: SECRET };
    const source = new TradovateSource(config, recordingContext(), { env });
    await source.load(request, { signal: signal() });
    expect(logins()[0]!.body).toMatchObject({ name: "nq-test", cid: 1234, appId: "nq-tests", appVersion: "1.0", deviceId: "test-device-0001" });
    expect(() => new TradovateSource(config, recordingContext(), { env: {} })).toThrow(/no user name.*TRADOVATE_USERNAME/);
  });
});

describe("renewal", () => {
  it("renews the token before it expires, mid-run, without logging in again", async () => {
    // Sessions live 1.2 s and every lookup takes 150 ms; the source renews when < 1 s is left.
    server = await startLocalTradovateServer({ tokenLifetimeMs: 1_200, restDelayMs: 150 });
    const source = new TradovateSource(localConfig(server, { renew_before_ms: 1_000 }), recordingContext());
    const result = await source.load({ product: "NQ" }, { signal: signal() });
    await source.close();
    expect(result.complete).toBe(true);
    expect(logins()).toHaveLength(1);
    const renewals = server.requests.filter((r) => r.path === "/auth/renewaccesstoken");
    expect(renewals.length).toBeGreaterThanOrEqual(1);
    expect(renewals.every((r) => r.status === 200)).toBe(true);
    // Lookups after a renewal carry the renewed token, and none was refused.
    const lookups = server.requests.filter((r) => !r.path.startsWith("/auth"));
    expect(lookups.every((r) => r.status === 200 || r.status === 404)).toBe(true);
    expect(new Set(lookups.map((r) => r.auth)).size).toBeGreaterThan(1);
    // The renewal omits mdAccessToken: the socket still authorized with the login's md token.
    expect(server.connections[0]!.authorized).toBe(true);
  });

  it("a session that expired server-side mid-run (401) is renewed or logged in again once, and the run goes on", async () => {
    server = await startLocalTradovateServer();
    server.setFaults({ expireAfterLookups: { count: 3 } });
    const context = recordingContext();
    const source = new TradovateSource(localConfig(server), context);
    const result = await source.load({ product: "NQ" }, { signal: signal() });
    await source.close();
    expect(result.complete).toBe(true);
    expect(server.requests.filter((r) => r.status === 401)).toHaveLength(2); // the lookup and the renewal
    expect(logins()).toHaveLength(2);
    expect(context.logs.some((l) => /access token was refused \(expired\?\); renewing it/.test(l.message))).toBe(true);
  });
});
