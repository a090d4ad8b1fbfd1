/** The Historical client on its own: error bodies, warnings, Retry-After, and each endpoint over HTTP. */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthError, EntitlementError, InvalidRequestError, NetworkError, NoDataError, RateLimitError, silentLogger, TimeoutError } from "@nq/core";
import { ChainRecords } from "../chain-records.js";
import { decodeInto } from "../dbn-stream.js";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "../test-server/index.js";
import { CANARY_KEY, sharedDir, signal } from "../test-support/source-harness.js";
import { parseErrorBody, parseRetryAfter, toApiError } from "./api-error.js";
import { HistoricalClient, toNanos } from "./client.js";
import { parseWarningHeader } from "./warnings.js";

describe("Databento error bodies → typed errors", () => {
  const map = (status: number, text: string, retryAfterMs: number | null = null) =>
    toApiError({ source: "databento", endpoint: "timeseries.get_range", status, body: parseErrorBody(text), dataset: "GLBX.MDP3", requestId: "r-1", retryAfterMs });

  it("reads both documented shapes and keeps case, message and docs in details", () => {
    const structured = map(422, JSON.stringify({ detail: { case: "data_start_before_available_start", message: "`start` was before the available start.", status_code: 422, docs: "https://databento.com/docs/x", payload: { available_start: "2019-07-07" } } }));
    expect(structured).toBeInstanceOf(InvalidRequestError);
    expect(structured.details).toEqual({
      status: 422,
      endpoint: "timeseries.get_range",
      case: "data_start_before_available_start",
      message: "`start` was before the available start.",
      docs: "https://databento.com/docs/x",
      payload: { available_start: "2019-07-07" },
      requestId: "r-1",
    });
    const plain = map(401, JSON.stringify({ detail: "Authorization failed: bad key." }));
    expect(plain).toBeInstanceOf(AuthError);
    expect(plain.details).toMatchObject({ case: null, message: "Authorization failed: bad key." });
  });

  it("keeps a readable slice of a non-JSON (HTML) 502 body", () => {
    const error = map(502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.retryable).toBe(true);
    expect(error.details.message).toBe("502 Bad Gateway");
  });

  it("maps statuses: 402/403 entitlement, 408/504 timeout, 429 rate limit, not-yet-published data", () => {
    expect(map(403, JSON.stringify({ detail: { case: "auth_no_dataset_entitlement", message: "No entitlement for dataset GLBX.MDP3" } }))).toBeInstanceOf(EntitlementError);
    expect(map(402, JSON.stringify({ detail: { case: "account_insufficient_funds", message: "Insufficient funds" } }))).toBeInstanceOf(EntitlementError);
    expect(map(504, "")).toBeInstanceOf(TimeoutError);
    const limited = map(429, "{}", 2000) as RateLimitError;
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.retryAfterMs).toBe(2000);
    expect(map(422, JSON.stringify({ detail: { case: "data_start_after_available_end", message: "later" } }))).toBeInstanceOf(NoDataError);
  });

  it("parses Retry-After seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter("soon")).toBeNull();
  });
});

describe("X-Warning", () => {
  it("splits each entry on the first ': ' and keeps non-Warning categories", () => {
    expect(parseWarningHeader(JSON.stringify(["Warning: reduced quality: 2025-09-17 (degraded)", "DeprecationWarning: mode is deprecated"]))).toEqual([
      "reduced quality: 2025-09-17 (degraded)",
      "DeprecationWarning: mode is deprecated",
    ]);
  });
  it("never throws on a malformed header", () => {
    expect(parseWarningHeader("not json")).toEqual(["not json"]);
    expect(parseWarningHeader(JSON.stringify({ odd: 1 }))).toEqual(['{"odd":1}']);
    expect(parseWarningHeader(null)).toEqual([]);
  });
});

describe("HistoricalClient over HTTP", () => {
  let server: LocalDatabentoServer;
  let client: HistoricalClient;
  beforeAll(async () => {
    const shared = sharedDir();
    server = await startLocalDatabentoServer({ contracts: 20, apiKeys: [CANARY_KEY], fixturesDir: shared ? join(shared, "fixtures/databento/databento-python/GLBX.MDP3") : null });
    client = new HistoricalClient({ source: "databento", baseUrl: `${server.url}/`, apiKey: CANARY_KEY, timeoutMs: 5000, readTimeoutMs: 5000, maxRetries: 0, maxRetryDelayMs: 0, log: silentLogger });
  });
  afterAll(async () => server.close());

  it("sends basic auth with the key as user, form-encoded POSTs, and integer-nanosecond times", async () => {
    const query = { dataset: "GLBX.MDP3", schema: "definition", symbols: ["NQ.OPT"], stypeIn: "parent" as const, start: new Date("2026-11-20T00:00:00Z"), end: new Date("2026-11-20T01:00:00Z") };
    const usd = await client.getCost(query, signal());
    const count = await client.getRecordCount(query, signal());
    expect(usd).toBeGreaterThan(0);
    expect(count).toBeGreaterThan(0);
    const sent = server.requests.at(-2)!;
    expect(sent).toMatchObject({ method: "POST", path: "/v0/metadata.get_cost" });
    expect(sent.form).toMatchObject({ start: "1795132800000000000", end: "1795136400000000000", stype_in: "parent", stype_out: "instrument_id", symbols: "NQ.OPT" });
    expect(toNanos(new Date("2026-11-20T00:00:00Z"))).toBe("1795132800000000000");
  });

  it("reads the dataset range with GET", async () => {
    const range = await client.getDatasetRange("GLBX.MDP3", signal());
    expect(range.end.toISOString()).toBe("2026-11-20T21:00:00.000Z");
    expect(range.schemas.trades?.start.toISOString()).toBe("2019-07-07T00:00:00.000Z");
    expect(server.requests.at(-1)!.method).toBe("GET");
  });

  it("resolves symbology and reports what was not found", async () => {
    const resolution = await client.resolveSymbology({ dataset: "GLBX.MDP3", symbols: ["NQ.OPT", "Q1A.OPT"], stypeIn: "parent", stypeOut: "instrument_id", startDate: "2026-11-20" }, signal());
    expect(resolution.result["NQ.OPT"]!.length).toBeGreaterThan(0);
    expect(resolution.notFound).toEqual(["Q1A.OPT"]);
  });

  it.skipIf(!sharedDir())("streams a real Databento DBN file (ESH1 definition) through the decoder (skipped without ../shared)", async () => {
    const query = { dataset: "GLBX.MDP3", schema: "definition", symbols: ["ESH1"], stypeIn: "raw_symbol" as const, start: new Date("2020-12-28T00:00:00Z"), end: new Date("2020-12-29T00:00:00Z") };
    const stream = await client.getRange(query, signal());
    expect(stream.partial).toBe(false);
    const records = new ChainRecords({ asOfNs: 2n ** 63n, sessionOpenNs: 0n });
    const summary = await decodeInto(stream.chunks, records, "ESH1 definition", "databento");
    expect(summary.metadata?.symbols).toEqual(["ESH1"]);
    expect(summary.records).toBe(await client.getRecordCount(query, signal()));
    // ESH1 is a future, not an option: decoded, then left out of the chain.
    expect(records.definitions.size).toBe(0);
    expect(records.ignoredRecords).toBe(summary.records);
  });
});
