/**
 * The source against the local Polygon-compatible server over real HTTP: pagination, the rate limit and
 * 429s (with the registry as the retry layer, resuming where it stopped), a hung server ended by the
 * source's deadline, typed errors, the proxy label, and the key kept out of every message.
 */
import {
  AbortedError,
  AuthError,
  type ChainRequest,
  ConfigError,
  EntitlementError,
  IncompleteDataError,
  InvalidRequestError,
  isAbortError,
  normalizeChain,
  RateLimitError,
  runSources,
  ServiceUnavailableError,
  silentLogger,
  type SourceError,
} from "@nq/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type PolygonSourceResult, polygon, resetThrottles } from "./index.js";
import { type LocalPolygonServer, startLocalPolygonServer } from "./test-server/index.js";
import { CANARY_KEY, signal, testConfig, testContext } from "./test-support/harness.js";
import type { PolygonConfig } from "./config.js";

let server: LocalPolygonServer;
beforeAll(async () => {
  server = await startLocalPolygonServer({ apiKeys: [CANARY_KEY] });
});
afterAll(() => server.close());
afterEach(() => {
  server.setFault(null);
  resetThrottles();
});

async function load(extra: Partial<PolygonConfig> = {}, request: ChainRequest = { product: "NQ" }, on = server) {
  const context = testContext();
  const source = await polygon.create(testConfig(on.url, extra), context);
  try {
    const result = (await source.load(request, { signal: signal() })) as PolygonSourceResult;
    return { result, context };
  } finally {
    await source.close?.();
  }
}

async function failure(extra: Partial<PolygonConfig> = {}, on = server): Promise<SourceError> {
  const error = await load(extra, { product: "NQ" }, on).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, "load() resolved").not.toBeNull();
  return error as SourceError;
}

const since = (n: number) => server.requests.slice(n);

describe("pagination", () => {
  it("follows next_url across 3 pages, re-appending the key, and returns every contract once", async () => {
    const before = server.requests.length;
    const { result, context } = await load();
    const sent = since(before);
    expect(sent.map((r) => [r.page, r.status])).toEqual([
      [1, 200],
      [2, 200],
      [3, 200],
    ]);
    expect(sent.every((r) => r.auth === "query" && r.query.apiKey === "***")).toBe(true);
    // Pages after the first carry only the cursor (which holds the query) and the key.
    for (const r of sent.slice(1)) expect(Object.keys(r.query).sort()).toEqual(["apiKey", "cursor"]);
    expect(sent[0]!.query).toMatchObject({ limit: "250", sort: "expiration_date", order: "asc" });
    const served = server.chain("I:NDX").map((r) => r.details.ticker).sort();
    expect(result.rows.map((r) => r.symbol).sort()).toEqual(served);
    expect(context.updates.map((u) => [u.done, u.total])).toEqual([
      [1, undefined],
      [2, undefined],
      [3, 3],
    ]);
  });

  it("follows a next_url naming another host by its path only, against base_url (and sends the key as a header when asked)", async () => {
    const elsewhere = await startLocalPolygonServer({ apiKeys: [CANARY_KEY], nextUrlOrigin: "http://127.0.0.1:9" });
    try {
      const { result } = await load({ auth: "header" }, { product: "NQ" }, elsewhere);
      expect(elsewhere.requests.map((r) => r.page)).toEqual([1, 2, 3]);
      expect(elsewhere.requests.every((r) => r.auth === "header" && r.query.apiKey === undefined)).toBe(true);
      expect(result.rows.length).toBe(elsewhere.chain().length);
    } finally {
      await elsewhere.close();
    }
  });

  it("stops once the nearest N expirations are complete (pages sorted by expiration) and the chain holds exactly those", async () => {
    const before = server.requests.length;
    const request = { product: "NQ", maxExpirations: 1 };
    const { result } = await load({ page_limit: 50 }, request);
    const pages = since(before).length;
    expect(pages).toBeLessThan(Math.ceil(server.chain().length / 50));
    const chain = normalizeChain(result, { source: "polygon", capabilities: polygon.capabilities, request, fetchedAt: new Date() });
    expect(chain.metadata.complete).toBe(true);
    expect(chain.optionsSummary.expirations).toHaveLength(1);
    const expected = server.chain().filter((r) => r.details.expiration_date === chain.optionsSummary.expirations[0]).length;
    expect(chain.contracts.length).toBe(expected);
  });

  it("a next_url that loops back to a cursor already seen ends the walk, and the chain says it is incomplete", async () => {
    server.setFault({ kind: "loop", page: 2, times: 5 });
    const { result } = await load();
    expect(result.complete).toBe(false);
    expect(result.incompleteReasons!.join()).toMatch(/looping next_url/);
  });

  it("a load called again after a failure resumes at the failed page, not at page 1", async () => {
    const context = testContext();
    const source = await polygon.create(testConfig(server.url), context);
    const before = server.requests.length;
    server.setFault({ kind: "503", page: 3, times: 1 });
    await expect(source.load({ product: "NQ" }, { signal: signal() })).rejects.toBeInstanceOf(ServiceUnavailableError);
    const result = (await source.load({ product: "NQ" }, { signal: signal() })) as PolygonSourceResult;
    await source.close?.();
    expect(since(before).map((r) => [r.page, r.status])).toEqual([
      [1, 200],
      [2, 200],
      [3, 503],
      [3, 200],
    ]);
    expect(result.rows.length).toBe(server.chain().length);
    expect(result.warnings!.join()).toMatch(/more than one try/);
  });
});

describe("rate limits", () => {
  it("a 429 then success, through runSources with retries: Retry-After honoured, pagination resumed, tries counted", async () => {
    server.setFault({ kind: "429", page: 2, retryAfterSeconds: 1, times: 1 });
    const before = server.requests.length;
    const started = Date.now();
    const run = await runSources([{ name: "polygon", definition: polygon, config: testConfig(server.url) }], {
      request: { product: "NQ" },
      policy: "strict",
      log: silentLogger,
      retries: 1,
      random: () => 0,
      allowProxy: true,
    });
    expect(run.ok, JSON.stringify(run.attempts)).toBe(true);
    expect(run.attempts[0]).toMatchObject({ source: "polygon", outcome: "success", tries: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(since(before).map((r) => [r.page, r.status])).toEqual([
      [1, 200],
      [2, 429],
      [2, 200],
      [3, 200],
    ]);
    expect(run.chain!.contracts.length).toBe(server.chain().length);
    expect(run.chain!.metadata.warnings[0]).toBe("PROXY: NDX index options, not NQ futures options");
  });

  it("429 is a RateLimitError with retryAfterMs from Retry-After, or null without one", async () => {
    server.setFault({ kind: "429", retryAfterSeconds: 7 });
    const withHeader = await failure();
    expect(withHeader).toBeInstanceOf(RateLimitError);
    expect((withHeader as RateLimitError).retryAfterMs).toBe(7000);
    resetThrottles();
    server.setFault({ kind: "429" });
    const without = await failure();
    expect((without as RateLimitError).retryAfterMs).toBeNull();
    expect(without.message).toMatch(/5 requests a minute/);
  });

  it("the client-side throttle keeps to rate_limit: the third request waits for the window", async () => {
    const before = server.requests.length;
    const { context } = await load({ rate_limit: { requests: 2, per_seconds: 1 } });
    const sent = since(before);
    expect(sent).toHaveLength(3);
    expect(sent[2]!.at - sent[0]!.at).toBeGreaterThanOrEqual(950);
    expect(context.logs.some((l) => /waiting 1 s for the rate limit/.test(l.message))).toBe(true);
  });

  it("a server-side limit without Retry-After: the registry's retry waits in the throttle, then resumes", async () => {
    const strict = await startLocalPolygonServer({ apiKeys: [CANARY_KEY], rateLimit: { requests: 2, windowMs: 1500 } });
    try {
      const run = await runSources([{ name: "polygon", definition: polygon, config: testConfig(strict.url, { rate_limit: { requests: 2, per_seconds: 0.75 } }) }], {
        request: { product: "NQ" },
        policy: "strict",
        log: silentLogger,
        retries: 2,
        random: () => 0,
        allowProxy: true,
      });
      expect(run.ok, JSON.stringify(run.attempts)).toBe(true);
      expect(strict.requests.filter((r) => r.status === 200).map((r) => r.page)).toEqual([1, 2, 3]);
    } finally {
      await strict.close();
    }
  });

  it("an abort while waiting for the rate limit settles at once", async () => {
    const source = await polygon.create(testConfig(server.url, { rate_limit: { requests: 1, per_seconds: 60 } }), testContext());
    const controller = new AbortController();
    const pending = source.load({ product: "NQ" }, { signal: controller.signal }).then(
      () => null,
      (e: unknown) => e,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    controller.abort();
    const error = await pending;
    expect(Date.now() - started).toBeLessThan(200);
    expect(isAbortError(error)).toBe(true);
    expect(error).toBeInstanceOf(AbortedError);
    await source.close?.();
  });
});

describe("deadlines", () => {
  it("a hung server is ended by the registry's source deadline, and the next source answers", async () => {
    const hung = await startLocalPolygonServer({ apiKeys: [CANARY_KEY] });
    hung.setFault({ kind: "hang" });
    try {
      const started = Date.now();
      const run = await runSources(
        [
          { name: "polygon", definition: polygon, config: testConfig(hung.url) },
          { name: "polygon-backup", definition: polygon, config: testConfig(server.url) },
        ],
        { request: { product: "NQ" }, policy: "fallback", log: silentLogger, retries: 1, sourceDeadlineMs: 600, allowProxy: true },
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(run.attempts[0]).toMatchObject({ source: "polygon", outcome: "failed" });
      expect(run.attempts[0]!.error).toMatchObject({ name: "TimeoutError" });
      expect(run.attempts[0]!.reason).toMatch(/gave up after 600 ms \(the source's deadline\)/);
      expect(run.source).toBe("polygon-backup");
      expect(hung.requests).toHaveLength(1);
    } finally {
      await hung.close();
    }
  });
});

describe("errors", () => {
  it.each([
    ["401", AuthError, /API key was not accepted/],
    ["403", EntitlementError, /Options Starter or higher/],
    ["500", ServiceUnavailableError, /HTTP 500/],
    ["malformed", IncompleteDataError, /not complete JSON/],
  ] as const)("fault %s → a typed error", async (kind, expected, message) => {
    server.setFault({ kind });
    const error = await failure();
    expect(error).toBeInstanceOf(expected);
    expect(error.source).toBe("polygon");
    expect(error.message).toMatch(message);
  });

  it("a plan without options (the free tier) is an EntitlementError, not an auth error", async () => {
    const basic = await startLocalPolygonServer({ apiKeys: [CANARY_KEY], plan: "basic" });
    try {
      const error = await failure({}, basic);
      expect(error).toBeInstanceOf(EntitlementError);
      expect(error.message).toMatch(/NOT_AUTHORIZED.*not entitled/);
    } finally {
      await basic.close();
    }
  });

  it("a server that echoes the request URL (key and all) in its error, on a later page: the key appears nowhere", async () => {
    for (const auth of ["query", "header"] as const) {
      server.setFault({ kind: "echo-url", page: 2 });
      const error = await failure({ auth });
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error.message).toMatch(/page 2 of the I:NDX chain snapshot/);
      const everything = [error.message, error.stack, JSON.stringify(error), JSON.stringify(error.toJSON())].join("\n");
      expect(everything).not.toContain(CANARY_KEY);
      expect(everything).not.toContain(encodeURIComponent(CANARY_KEY));
      server.setFault(null);
    }
  });

  it("no key at all is a ConfigError naming the field", async () => {
    const saved = process.env.POLYGON_API_KEY;
    delete process.env.POLYGON_API_KEY;
    try {
      const config = testConfig(server.url);
      delete config.api_key;
      let thrown: unknown;
      try {
        await polygon.create(config, testContext());
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).path).toBe("data_sources.polygon.config.api_key");
    } finally {
      if (saved !== undefined) process.env.POLYGON_API_KEY = saved;
    }
  });

  it("the key may come from POLYGON_API_KEY", async () => {
    const saved = process.env.POLYGON_API_KEY;
    process.env.POLYGON_API_KEY = CANARY_KEY;
    try {
      const config = testConfig(server.url);
      delete config.api_key;
      const source = await polygon.create(config, testContext());
      const result = await source.load({ product: "NQ" }, { signal: signal() });
      expect(result.rows.length).toBeGreaterThan(0);
    } finally {
      if (saved === undefined) delete process.env.POLYGON_API_KEY;
      else process.env.POLYGON_API_KEY = saved;
    }
  });
});

describe("what the chain is: a labelled proxy with its own terms", () => {
  it("NDX: product NDX, underlying I:NDX with its level, multiplier 100, cash/European, PROXY warning and result.proxy", async () => {
    const { result } = await load();
    expect(result.proxy).toMatchObject({ for: "NQ", underlying: "I:NDX", product: "NDX", multiplier: 100, settlement: "cash", exercise: "european" });
    expect(result.warnings![0]).toBe("PROXY: NDX index options, not NQ futures options");
    expect(result.warnings!.join("\n")).toMatch(/\$100 per index point.*cash-settled, European exercise/);
    expect(result.underlying).toBe("I:NDX");
    expect(result.underlyingPrice).toBe(20_850);
    expect(result.delayed).toBe(true);
    const row = result.rows.find((r) => r.delta !== null)!;
    expect(row).toMatchObject({ product: "NDX", underlying: "I:NDX", multiplier: 100, underlyingPriceBasis: "last" });
    const request = { product: "NQ" };
    const chain = normalizeChain(result, { source: "polygon", capabilities: polygon.capabilities, request, fetchedAt: new Date() });
    expect(chain.contracts.every((c) => c.product === "NDX" && c.multiplier === 100 && c.underlying === "I:NDX")).toBe(true);
    expect(chain.contracts.filter((c) => c.greeksSource === "feed").length).toBeGreaterThan(chain.contracts.length / 2);
    // PM-settled dailies expire at 16:00 New York.
    const daily = chain.contracts.find((c) => c.root === "NDXP")!;
    expect(new Date(daily.expirationTime!).toLocaleTimeString("en-US", { timeZone: "America/New_York", hour12: false })).toBe("16:00:00");
  });

  it("asked for NDX itself, it is not a proxy", async () => {
    const { result } = await load({ allow_proxy: false }, { product: "NDX" });
    expect(result.proxy).toBeNull();
    expect(result.warnings!.join()).not.toMatch(/PROXY/);
  });

  it("without allow_proxy, an NQ request is refused with the reason and the setting to change", async () => {
    const error = await failure({ allow_proxy: false });
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toMatch(/no options on CME futures.*"allow_proxy": true/);
  });

  it("QQQ: physical, American, 100 shares, said so; an NQ strike window cannot select its strikes", async () => {
    const { result } = await load({ underlying: "QQQ" });
    expect(result.proxy).toMatchObject({ underlying: "QQQ", product: "QQQ", settlement: "physical", exercise: "american" });
    expect(result.warnings![0]).toBe("PROXY: QQQ ETF options, not NQ futures options");
    expect(result.warnings!.join("\n")).toMatch(/100 shares per contract.*physically settled.*American exercise/);
    expect(result.underlyingPrice).toBe(507.5);
    const windowed = await load({ underlying: "QQQ" }, { product: "NQ", strikeMin: 20_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(windowed).toBeInstanceOf(InvalidRequestError);
  });

  it("an as-of in the past is refused: a snapshot is the market now", async () => {
    const error = await load({}, { product: "NQ", asOf: "2020-01-02T15:00:00Z" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as Error).message).toMatch(/not history/);
  });

  it("the third Friday's AM (NDX) and PM (NDXP) contracts do not collide: PM kept, the rest counted", async () => {
    const wide = await startLocalPolygonServer({ apiKeys: [CANARY_KEY], dailyExpirations: 25, monthlyExpirations: 1, strikesEachSide: 4 });
    try {
      const { result } = await load({}, { product: "NQ" }, wide);
      const keys = result.rows.map((r) => `${String(r.expiration)}|${String(r.strike)}|${String(r.right)}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(result.warnings!.join()).toMatch(/left out \d+ NDX contract\(s\)/);
      const onlyAm = await load({ roots: ["NDX"] }, { product: "NQ" }, wide);
      expect(new Set(onlyAm.result.rows.map((r) => r.root))).toEqual(new Set(["NDX"]));
    } finally {
      await wide.close();
    }
  });
});
