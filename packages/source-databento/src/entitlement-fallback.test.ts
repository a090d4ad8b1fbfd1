/**
 * 403 auth_no_dataset_entitlement → EntitlementError naming the dataset and the licence, and what core's
 * registry does with it: under "fallback" the next source answers and the attempt keeps the reason;
 * under "strict" the run fails.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, EntitlementError, type RegistryEntry, runSources, type SourceDefinition } from "@nq/core";
import { databento } from "./index.js";
import { configSchema } from "./config.js";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { downloadDbnFiles } from "./test-support/batch-download.js";
import { CANARY_KEY, failureOf, signal, sourceFor } from "./test-support/source-harness.js";

describe("403 entitlement", () => {
  let unlicensed: LocalDatabentoServer;
  let licensed: LocalDatabentoServer;
  let dir: string;
  let entries: RegistryEntry[];

  beforeAll(async () => {
    unlicensed = await startLocalDatabentoServer({ contracts: 60, apiKeys: [CANARY_KEY], entitledDatasets: [] });
    licensed = await startLocalDatabentoServer({ contracts: 60, apiKeys: [CANARY_KEY] });
    dir = await mkdtemp(join(tmpdir(), "nq-databento-files-"));
    await downloadDbnFiles(licensed, CANARY_KEY, dir);
    entries = [
      { name: "databento", definition: databento as SourceDefinition<unknown>, config: configSchema.parse({ api_key: CANARY_KEY, base_url: unlicensed.url }) },
      // The second source: the same plugin in file mode, reading a user's batch downloads.
      { name: "databento-files", definition: databento as SourceDefinition<unknown>, config: configSchema.parse({ dir }) },
    ];
  });
  afterAll(async () => {
    await Promise.all([unlicensed.close(), licensed.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("is an EntitlementError naming the dataset and the licence, with Databento's case, message and docs", async () => {
    const { source } = await sourceFor({ api_key: CANARY_KEY, base_url: unlicensed.url });
    const error = await failureOf(source.load({ product: "NQ" }, { signal: signal() }));
    expect(error).toBeInstanceOf(EntitlementError);
    expect(error.message).toContain("GLBX.MDP3");
    expect(error.message).toMatch(/licen[cs]e/);
    const details = (error as EntitlementError).details;
    expect(details).toMatchObject({ status: 403, case: "auth_no_dataset_entitlement", message: "No entitlement for dataset GLBX.MDP3." });
    expect(String(details.docs)).toMatch(/^https:\/\/databento\.com\/docs/);
    // Not retried: one request, then the error.
    expect(unlicensed.requests.length).toBe(1);
  });

  it("fallback: the second source answers and the first attempt records the entitlement reason", async () => {
    const logs: string[] = [];
    const run = await runSources(entries, { request: { product: "NQ" }, policy: "fallback", log: createLogger((e) => logs.push(e.message)), retries: 1 });
    expect(run.ok).toBe(true);
    expect(run.source).toBe("databento-files");
    expect(run.substituted).toBe(true);
    expect(run.chain!.contracts.length).toBeGreaterThan(0);
    const [first, second] = run.attempts;
    expect(first).toMatchObject({ source: "databento", outcome: "failed", tries: 1 });
    expect(first!.reason).toContain("no licence (entitlement) for dataset GLBX.MDP3");
    expect(first!.error).toMatchObject({ kind: "entitlement" });
    expect(second).toMatchObject({ source: "databento-files", outcome: "success" });
  });

  it("strict: the run fails loudly with the entitlement error and the second source is not tried", async () => {
    const run = await runSources(entries, { request: { product: "NQ" }, policy: "strict", log: createLogger(() => {}) });
    expect(run.ok).toBe(false);
    expect(run.chain).toBeNull();
    expect(run.attempts[0]).toMatchObject({ source: "databento", outcome: "failed" });
    expect(run.attempts[0]!.error).toMatchObject({ kind: "entitlement", name: "EntitlementError" });
    expect(run.attempts[1]).toMatchObject({ source: "databento-files", outcome: "skipped" });
  });
});
