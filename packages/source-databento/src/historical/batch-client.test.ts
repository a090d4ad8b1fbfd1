/**
 * The batch client against the local server: submit (priced first, refused over the limit), reuse of a
 * job already submitted, polling through queued → done, expiry, and downloads — cut and resumed with
 * Range, a wrong hash refused with nothing left under the final name.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CostLimitError, IncompleteDataError, InvalidRequestError, NoDataError, silentLogger, TimeoutError } from "@nq/core";
import { openDbn } from "@nq/dbn";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "../test-server/index.js";
import { CANARY_KEY, failureOf, signal } from "../test-support/source-harness.js";
import { BatchClient, type BatchJobRequest, timeToNanos } from "./batch-client.js";
import { downloadBatchFile, sha256Of } from "./batch-download.js";
import { HistoricalClient } from "./client.js";

let server: LocalDatabentoServer;
let client: HistoricalClient;
let batch: BatchClient;
const dirs: string[] = [];

beforeAll(async () => {
  server = await startLocalDatabentoServer({ contracts: 8, fixturesDir: null });
  client = new HistoricalClient({ source: "databento", baseUrl: server.url, apiKey: CANARY_KEY, timeoutMs: 10_000, readTimeoutMs: 10_000, maxRetries: 0, maxRetryDelayMs: 1000, log: silentLogger });
  batch = new BatchClient(client, "databento", silentLogger);
});
afterAll(async () => {
  await server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => server.batch.setFault(null));

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-batch-"));
  dirs.push(dir);
  return dir;
}

function request(schema: string, overrides: Partial<BatchJobRequest> = {}): BatchJobRequest {
  return {
    dataset: "GLBX.MDP3",
    schema,
    symbols: ["NQ.OPT"],
    stypeIn: "parent",
    stypeOut: "instrument_id",
    start: new Date("2026-11-17T00:00:00Z"),
    end: new Date("2026-11-19T00:00:00Z"),
    encoding: "dbn",
    compression: "zstd",
    splitDuration: "day",
    splitSymbols: false,
    ...overrides,
  };
}

const submits = () => server.requests.filter((r) => r.path === "/v0/batch.submit_job");
const downloads = (filename: string) => server.requests.filter((r) => r.path.endsWith(`/${filename}`));
const fast = { pollMs: 5, maxPollMs: 20 };

async function doneJob(schema: string, overrides: Partial<BatchJobRequest> = {}) {
  const { job } = await batch.submit(request(schema, overrides), { usd: 100, name: "test limit" }, signal());
  return batch.waitUntilDone(job.id, signal(), fast);
}

describe("submitting and waiting", () => {
  it("prices the whole job first, submits it, and polls it from queued through processing to done", async () => {
    const before = server.requests.length;
    server.batch.setFault({ kind: "stay-queued", times: 2 });
    const { job, pricedUsd } = await batch.submit(request("definition"), { usd: 100, name: "test limit" }, signal());
    expect(job.state).toBe("queued");
    expect(pricedUsd).toBeGreaterThan(0);
    expect(job.costUsd).toBeCloseTo(pricedUsd, 10);
    const states: string[] = [];
    const done = await batch.waitUntilDone(job.id, signal(), { ...fast, onState: (j) => states.push(j.state) });
    expect(done.state).toBe("done");
    expect(states).toEqual(["queued", "queued", "processing", "done"]);
    const paths = server.requests.slice(before).map((r) => r.path);
    // get_cost strictly before submit_job: nothing is bought unpriced.
    expect(paths.indexOf("/v0/metadata.get_cost")).toBeGreaterThanOrEqual(0);
    expect(paths.indexOf("/v0/metadata.get_cost")).toBeLessThan(paths.indexOf("/v0/batch.submit_job"));
    // The job's start/end came back as ISO with nanoseconds and still match what was sent.
    expect(done.startNs).toBe(timeToNanos("2026-11-17T00:00:00Z"));
    expect(done.endNs).toBe(timeToNanos("2026-11-19T00:00:00Z"));
  });

  it("refuses a job over the limit before submitting it, naming the cost and the limit", async () => {
    const before = submits().length;
    const error = await failureOf(batch.submit(request("trades"), { usd: 0.0000001, name: "--max-cost" }, signal()));
    expect(error).toBeInstanceOf(CostLimitError);
    expect(error.message).toMatch(/would cost \$\d+\.\d{4} \(metadata\.get_cost\), over the limit of \$0\.00 \(--max-cost\); nothing was submitted/);
    expect(submits().length).toBe(before);
  });

  it("finds a job already submitted for the same request (not paid again), and not one for another request", async () => {
    const first = await doneJob("statistics");
    const paidBefore = server.spend().costUsd;
    const found = await batch.findReusable(request("statistics"), signal());
    expect(found?.id).toBe(first.id);
    expect(await batch.findReusable(request("statistics", { end: new Date("2026-11-18T00:00:00Z") }), signal())).toBeNull();
    expect(await batch.findReusable(request("statistics", { compression: "none" }), signal())).toBeNull();
    expect(await batch.findReusable(request("statistics", { splitDuration: "none" }), signal())).toBeNull();
    expect(server.spend().costUsd).toBe(paidBefore);
    server.batch.expire(first.id);
    expect(await batch.findReusable(request("statistics"), signal())).toBeNull();
  });

  it("an expired job is a clear NoDataError; a job queued too long a clear TimeoutError", async () => {
    const { job } = await batch.submit(request("definition", { start: new Date("2026-11-16T00:00:00Z") }), { usd: 100, name: "limit" }, signal());
    server.batch.expire(job.id);
    const expired = await failureOf(batch.waitUntilDone(job.id, signal(), fast));
    expect(expired).toBeInstanceOf(NoDataError);
    expect(expired.message).toMatch(new RegExp(`batch job ${job.id} has expired .*files`));

    const { job: stuck } = await batch.submit(request("definition", { start: new Date("2026-11-15T00:00:00Z") }), { usd: 100, name: "limit" }, signal());
    server.batch.setFault({ kind: "stay-queued" });
    const timeout = await failureOf(batch.waitUntilDone(stuck.id, signal(), { ...fast, maxQueuedMs: 60 }));
    expect(timeout).toBeInstanceOf(TimeoutError);
    expect(timeout.message).toMatch(new RegExp(`batch job ${stuck.id} is still queued after .*run again later`));
  });

  it("stops polling when aborted", async () => {
    const { job } = await batch.submit(request("definition", { start: new Date("2026-11-14T00:00:00Z") }), { usd: 100, name: "limit" }, signal());
    server.batch.setFault({ kind: "stay-queued" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 50);
    const error = await failureOf(batch.waitUntilDone(job.id, controller.signal, { pollMs: 10, maxPollMs: 10 }));
    expect(error.name).toBe("AbortedError");
  });
});

describe("files", () => {
  it("lists one zstd DBN file per day with data, whose records lie in [start, end) (end exclusive)", async () => {
    const job = await doneJob("definition", { start: new Date("2026-11-17T00:00:00Z"), end: new Date("2026-11-18T00:00:00Z") });
    const files = await batch.listFiles(job.id, signal());
    const dbn = files.filter((f) => f.filename.endsWith(".dbn.zst"));
    expect(dbn.map((f) => f.filename)).toEqual(["glbx-mdp3-20261117.definition.dbn.zst"]);
    expect(files.map((f) => f.filename)).toContain("metadata.json");
    const dir = folder();
    const got = await downloadBatchFile(client, dbn[0]!, dir, signal(), { log: silentLogger, source: "databento", baseUrl: server.url });
    expect(got).toMatchObject({ bytes: dbn[0]!.size, sha256: dbn[0]!.sha256, alreadyThere: false, resumedRequests: 0 });
    const bytes = readFileSync(got.path);
    expect([...bytes.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    const decoder = openDbn(new Uint8Array(bytes));
    let count = 0;
    for await (const record of decoder) {
      const ts = (record as { ts_recv: bigint }).ts_recv;
      expect(ts >= 1_794_873_600_000_000_000n && ts < 1_794_960_000_000_000_000n).toBe(true);
      count++;
    }
    expect(count).toBeGreaterThan(0);
    expect((await decoder.metadata())?.dataset).toBe("GLBX.MDP3");
  });

  it("resumes a cut download with Range and keeps it only once the SHA-256 matches", async () => {
    const job = await doneJob("trades");
    const file = (await batch.listFiles(job.id, signal())).filter((f) => f.filename.endsWith(".dbn.zst")).sort((a, b) => b.size - a.size)[0]!;
    const cut = Math.floor(file.size / 3);
    expect(cut).toBeGreaterThan(100);
    const dir = folder();
    server.batch.setFault({ kind: "cut", afterBytes: cut, times: 1 });
    const seen: number[] = [];
    const got = await downloadBatchFile(client, file, dir, signal(), { log: silentLogger, source: "databento", baseUrl: server.url, retryDelayMs: 5, onBytes: (have) => seen.push(have) });
    expect(got).toMatchObject({ sha256: file.sha256, bytes: file.size, resumedRequests: 1, fetchedBytes: file.size });
    expect(seen).toContain(cut);
    expect(await sha256Of(join(dir, file.filename))).toBe(file.sha256);
    const log = downloads(file.filename);
    expect(log.map((r) => [r.status, r.range ?? null, r.bytesSent])).toEqual([
      [200, null, cut],
      [206, `bytes=${cut}-${file.size - 1}`, file.size - cut],
    ]);
    expect(readdirSync(dir)).toEqual([file.filename]);
    // Already there and verified: nothing is fetched again.
    const again = await downloadBatchFile(client, file, dir, signal(), { log: silentLogger, source: "databento", baseUrl: server.url });
    expect(again).toMatchObject({ alreadyThere: true, fetchedBytes: 0 });
    expect(downloads(file.filename)).toHaveLength(2);
  });

  it("resumes a .part left by an earlier (killed) run", async () => {
    const job = await doneJob("bbo-1m");
    const file = (await batch.listFiles(job.id, signal())).find((f) => f.filename.endsWith(".dbn.zst"))!;
    const dir = folder();
    const whole = Buffer.from(await (await fetch(file.url, { headers: { authorization: `Basic ${Buffer.from(`${CANARY_KEY}:`).toString("base64")}` } })).arrayBuffer());
    writeFileSync(join(dir, `${file.filename}.part`), whole.subarray(0, 777));
    const got = await downloadBatchFile(client, file, dir, signal(), { log: silentLogger, source: "databento", baseUrl: server.url });
    expect(got).toMatchObject({ fetchedBytes: file.size - 777, resumedRequests: 1 });
    expect(downloads(file.filename).at(-1)?.range).toBe(`bytes=777-${file.size - 1}`);
  });

  it("refuses a file whose SHA-256 stays wrong: a clear error, no file under its name, no part left", async () => {
    const job = await doneJob("statistics", { start: new Date("2026-11-16T00:00:00Z") });
    const file = (await batch.listFiles(job.id, signal())).find((f) => f.filename.endsWith(".dbn.zst"))!;
    const dir = folder();
    const before = downloads(file.filename).length;
    server.batch.setFault({ kind: "corrupt" });
    const error = await failureOf(downloadBatchFile(client, file, dir, signal(), { log: silentLogger, source: "databento", baseUrl: server.url, maxRetries: 2, retryDelayMs: 1 }));
    expect(error).toBeInstanceOf(IncompleteDataError);
    expect(error.message).toMatch(new RegExp(`${file.filename.replaceAll(".", "\\.")} failed its SHA-256 check 3 times \\(expected ${file.sha256}, last got [0-9a-f]{64}\\); nothing was kept`));
    expect(downloads(file.filename).length - before).toBe(3);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a wrong hash once is downloaded again and then kept", async () => {
    const job = await doneJob("statistics", { start: new Date("2026-11-13T00:00:00Z"), end: new Date("2026-11-14T00:00:00Z") });
    const file = (await batch.listFiles(job.id, signal())).find((f) => f.filename.endsWith(".dbn.zst"))!;
    const dir = folder();
    server.batch.setFault({ kind: "corrupt", times: 1 });
    const got = await downloadBatchFile(client, file, dir, signal(), { log: silentLogger, source: "databento", baseUrl: server.url, retryDelayMs: 1 });
    expect(got.sha256).toBe(file.sha256);
    expect(existsSync(join(dir, file.filename))).toBe(true);
  });

  it("never sends the key to a file URL on another origin", async () => {
    const error = await failureOf(
      downloadBatchFile(client, { filename: "x.dbn.zst", size: 1, sha256: "0".repeat(64), url: "http://127.0.0.2:9/x.dbn.zst" }, folder(), signal(), { log: silentLogger, source: "databento", baseUrl: server.url }),
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toMatch(/not sending the API key there/);
  });
});
