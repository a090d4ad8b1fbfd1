/**
 * The local server against the reference (shared/reference/databento.md §2): paths, auth, status codes,
 * error body shapes, warnings, Retry-After, 206, and DBN bodies. Plain fetch, no client code.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { decodeDbn } from "@nq/dbn";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./index.js";
import { CANARY_KEY, sharedDir } from "../test-support/source-harness.js";

const auth = (key: string) => `Basic ${Buffer.from(`${key}:`).toString("base64")}`;

async function post(server: LocalDatabentoServer, endpoint: string, form: Record<string, string>, key = CANARY_KEY): Promise<Response> {
  return fetch(`${server.url}/v0/${endpoint}`, {
    method: "POST",
    headers: { authorization: auth(key), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

const RANGE = { dataset: "GLBX.MDP3", symbols: "NQ.OPT", stype_in: "parent", start: "2026-11-20T00:00:00Z", end: "2026-11-20T21:00:00Z" };

describe("local Databento server: documented HTTP behaviour", () => {
  let server: LocalDatabentoServer;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 40, apiKeys: [CANARY_KEY], degradedDates: ["2026-11-19"] });
  });
  afterAll(async () => server.close());

  it("listens on 127.0.0.1 and answers get_dataset_range (GET, query string) with start/end/schema", async () => {
    expect(new URL(server.url).hostname).toBe("127.0.0.1");
    const res = await fetch(`${server.url}/v0/metadata.get_dataset_range?dataset=GLBX.MDP3`, { headers: { authorization: auth(CANARY_KEY) } });
    expect(res.status).toBe(200);
    expect(res.headers.get("request-id")).toBeTruthy();
    const body = (await res.json()) as { start: string; end: string; schema: Record<string, { start: string; end: string }> };
    expect(body.end).toBe("2026-11-20T21:00:00.000000000Z");
    expect(body.start).toBe("2019-07-07T00:00:00.000000000Z");
    expect(body.schema.definition).toEqual({ start: body.start, end: body.end });
  });

  it("401 auth_authentication_failed in the structured detail shape, for a missing or unknown key", async () => {
    const none = await fetch(`${server.url}/v0/metadata.get_dataset_range?dataset=GLBX.MDP3`);
    expect(none.status).toBe(401);
    const other = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition" }, "db-Unknown000000000000000000000x");
    expect(other.status).toBe(401);
    const body = (await other.json()) as { detail: Record<string, unknown> };
    expect(body.detail).toMatchObject({ case: "auth_authentication_failed", message: "Authentication failed.", status_code: 401 });
    expect(typeof body.detail.docs).toBe("string");
  });

  it("403 auth_no_dataset_entitlement naming the dataset, for a dataset the key is not licensed for", async () => {
    const res = await post(server, "metadata.get_cost", { ...RANGE, dataset: "XNAS.ITCH", schema: "trades" });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { detail: { case: string; message: string; payload: { dataset: string } } };
    expect(body.detail.case).toBe("auth_no_dataset_entitlement");
    expect(body.detail.message).toContain("XNAS.ITCH");
  });

  it("422 for ranges outside the available data, with the documented cases", async () => {
    const before = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition", start: "2019-01-01", end: "2019-01-02" });
    expect(before.status).toBe(422);
    expect(((await before.json()) as { detail: { case: string; payload: Record<string, string> } }).detail).toMatchObject({
      case: "data_start_before_available_start",
      payload: { available_start: "2019-07-07T00:00:00.000000000Z" },
    });
    const after = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition", end: "2026-11-21T00:00:00Z" });
    expect(((await after.json()) as { detail: { case: string } }).detail.case).toBe("data_end_after_available_end");
    const startAfter = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition", start: "2026-11-22", end: "2026-11-23" });
    expect(((await startAfter.json()) as { detail: { case: string } }).detail.case).toBe("data_start_after_available_end");
  });

  it("422 symbology_invalid_request when NQ.OPT is sent without stype_in=parent", async () => {
    const res = await post(server, "timeseries.get_range", { ...RANGE, stype_in: "raw_symbol", schema: "definition", encoding: "dbn", compression: "zstd" });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { detail: { case: string; message: string } };
    expect(body.detail.case).toBe("symbology_invalid_request");
    expect(body.detail.message).toContain("None of the symbols could be resolved");
  });

  it("get_cost is a JSON number, get_record_count a JSON integer, consistent with the streamed records", async () => {
    const cost = (await (await post(server, "metadata.get_cost", { ...RANGE, schema: "definition", stype_out: "instrument_id" })).json()) as number;
    const count = (await (await post(server, "metadata.get_record_count", { ...RANGE, schema: "definition" })).json()) as number;
    const size = (await (await post(server, "metadata.get_billable_size", { ...RANGE, schema: "definition" })).json()) as number;
    expect(typeof cost).toBe("number");
    expect(cost).toBeGreaterThan(0);
    expect(Number.isInteger(count)).toBe(true);
    expect(size).toBe(count * 520);
    const res = await post(server, "timeseries.get_range", { ...RANGE, schema: "definition", encoding: "dbn", compression: "zstd" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBeNull();
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    const decoded = await decodeDbn(bytes);
    expect(decoded.records.length).toBe(count);
    expect(decoded.metadata?.dataset).toBe("GLBX.MDP3");
    expect(decoded.metadata?.symbols).toEqual(["NQ.OPT"]);
  });

  it("X-Warning is a JSON array of \"Category: message\" strings for degraded days", async () => {
    const res = await post(server, "metadata.get_cost", { ...RANGE, schema: "statistics", start: "2026-11-19", end: "2026-11-20" });
    const warnings = JSON.parse(res.headers.get("x-warning") ?? "null") as string[];
    expect(Array.isArray(warnings)).toBe(true);
    expect(warnings[0]).toMatch(/^Warning: .*2026-11-19 \(degraded\)/);
  });

  it("206 with not_found in the DBN metadata when only some symbols resolve", async () => {
    const res = await post(server, "timeseries.get_range", { ...RANGE, symbols: "NQ.OPT,ZZ9.OPT", schema: "definition", encoding: "dbn", compression: "zstd" });
    expect(res.status).toBe(206);
    const decoded = await decodeDbn(new Uint8Array(await res.arrayBuffer()));
    expect(decoded.metadata?.not_found).toEqual(["ZZ9.OPT"]);
    expect(decoded.records.length).toBeGreaterThan(0);
  });

  it("symbology.resolve answers {result, not_found, …} with d0/d1/s intervals", async () => {
    const res = await post(server, "symbology.resolve", { dataset: "GLBX.MDP3", symbols: "QN4.OPT,Q1A.OPT", stype_in: "parent", stype_out: "instrument_id", start_date: "2026-11-20", end_date: "2026-11-21" });
    const body = (await res.json()) as { result: Record<string, { d0: string; d1: string; s: string }[]>; not_found: string[] };
    expect(body.result["QN4.OPT"]?.[0]).toMatchObject({ d0: "2026-11-20", d1: "2026-11-21" });
    expect(body.not_found).toEqual(["Q1A.OPT"]);
  });

  it("switchable faults: 429 carries Retry-After, 503, and they clear after `times`", async () => {
    server.setFault({ kind: "429", retryAfterSeconds: 7, times: 1 });
    const limited = await post(server, "metadata.get_cost", { ...RANGE, schema: "definition" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(((await limited.json()) as { detail: { status_code: number } }).detail.status_code).toBe(429);
    expect((await post(server, "metadata.get_cost", { ...RANGE, schema: "definition" })).status).toBe(200);
    server.setFault({ kind: "503" });
    expect((await post(server, "metadata.get_cost", { ...RANGE, schema: "definition" })).status).toBe(503);
    server.setFault(null);
  });

  it("records each request's method, path and form, never the key", async () => {
    const last = server.requests.at(-1)!;
    expect(last).toMatchObject({ method: "POST", path: "/v0/metadata.get_cost" });
    expect(last.form.schema).toBe("definition");
    expect(JSON.stringify(server.requests)).not.toContain(CANARY_KEY);
  });

  it("rate limits per key and family when configured", async () => {
    const limited = await startLocalDatabentoServer({ contracts: 4, rateLimits: { metadata: 2 } });
    try {
      // Ten at once: even if they straddle a second boundary, at most 2 + 2 can pass.
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(limited, "metadata.get_cost", { ...RANGE, schema: "definition" })));
      const statuses = answers.map((res) => res.status);
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(4);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(6);
      expect(answers.find((res) => res.status === 429)?.headers.get("retry-after")).toBe("1");
    } finally {
      await limited.close();
    }
  });
});

const shared = sharedDir();
const fixtureDir = shared ? join(shared, "fixtures/databento/databento-python/GLBX.MDP3") : null;

describe.skipIf(!shared)("local Databento server: real fixtures from ../shared (skipped when NQ_SHARED_DIR / ../shared is absent)", () => {
  it("serves the upstream ESH1 definition file byte for byte for the request that produced it", async () => {
    expect(fixtureDir).not.toBeNull();
    // No option: the fixtures are found in ../shared by default.
    const server = await startLocalDatabentoServer();
    try {
      const res = await post(server, "timeseries.get_range", {
        dataset: "GLBX.MDP3",
        symbols: "ESH1",
        stype_in: "raw_symbol",
        schema: "definition",
        start: "2020-12-28",
        end: "2020-12-29",
        encoding: "dbn",
        compression: "zstd",
      });
      expect(res.status).toBe(200);
      const served = new Uint8Array(await res.arrayBuffer());
      const original = new Uint8Array(await readFile(join(fixtureDir!, "test_data.definition.dbn.zst")));
      expect(Buffer.from(served).equals(Buffer.from(original))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
