/**
 * File mode: the same chain from a user's .dbn / .dbn.zst batch downloads, no key and no spend; and the
 * real upstream GLBX.MDP3 fixtures read through the same path when ../shared is present.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, InvalidRequestError, normalizeChain, NoDataError } from "@nq/core";
import { databento } from "./index.js";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { downloadDbnFiles } from "./test-support/batch-download.js";
import { CANARY_KEY, failureOf, sharedDir, signal, sourceFor } from "./test-support/source-harness.js";

describe("file mode", () => {
  let server: LocalDatabentoServer;
  let dir: string;
  let files: string[];
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ contracts: 80, apiKeys: [CANARY_KEY] });
    dir = await mkdtemp(join(tmpdir(), "nq-databento-file-mode-"));
    files = [
      ...(await downloadDbnFiles(server, CANARY_KEY, dir, ["definition", "statistics"], "zstd")),
      ...(await downloadDbnFiles(server, CANARY_KEY, dir, ["trades", "bbo-1m"], "none")),
    ];
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("assembles the same chain from files as over HTTP, with no key and $0 spent", async () => {
    const saved = process.env.DATABENTO_API_KEY;
    delete process.env.DATABENTO_API_KEY;
    try {
      const viaFiles = await sourceFor({ files });
      // The files hold no futures: compare without the underlying prices.
      const viaHttp = await sourceFor({ api_key: CANARY_KEY, base_url: server.url, underlying_prices: false });
      const request = { product: "NQ" };
      const normalize = (result: Awaited<ReturnType<typeof viaFiles.source.load>>) =>
        normalizeChain(result, { source: "databento", capabilities: databento.capabilities, request, fetchedAt: new Date(0) });
      const fromFiles = normalize(await viaFiles.source.load(request, { signal: signal() }));
      const fromHttp = normalize(await viaHttp.source.load(request, { signal: signal() }));
      expect(fromFiles.metadata.asOf).toBe("2026-11-20T20:59:59.999Z");
      expect(fromFiles.contracts.length).toBeGreaterThan(0);
      const strip = (chain: typeof fromFiles) => chain.contracts.map(({ provenance: _p, ...rest }) => rest);
      expect(strip(fromFiles)).toEqual(strip(fromHttp));
      expect(viaFiles.spend.totalUsd).toBe(0);
      expect(viaFiles.spend.entries).toHaveLength(1);
    } finally {
      if (saved !== undefined) process.env.DATABENTO_API_KEY = saved;
    }
  });

  it("reads relative files and dir from the profile's folder (context.baseDir)", async () => {
    const names = files.map((file) => file.slice(dir.length + 1));
    const byFiles = await sourceFor({ files: names }, { baseDir: dir });
    const byDir = await sourceFor({ dir: "." }, { baseDir: dir });
    const a = await byFiles.source.load({ product: "NQ" }, { signal: signal() });
    const b = await byDir.source.load({ product: "NQ" }, { signal: signal() });
    expect(a.rows.length).toBeGreaterThan(0);
    expect(b.rows).toEqual(a.rows);
  });

  it("reads a directory (dir), and leaves fields null when their schema has no file", async () => {
    const onlyDefinitions = await mkdtemp(join(tmpdir(), "nq-databento-defs-"));
    try {
      await downloadDbnFiles(server, CANARY_KEY, onlyDefinitions, ["definition"]);
      const { source } = await sourceFor({ dir: onlyDefinitions });
      const result = await source.load({ product: "NQ" }, { signal: signal() });
      expect(result.rows.length).toBeGreaterThan(0);
      expect(result.rows.every((r) => r.volume === null && r.openInterest === null && r.bid === null)).toBe(true);
      expect(result.warnings!.some((w) => w.includes("no local file holds statistics, trades, bbo-1m"))).toBe(true);
    } finally {
      await rm(onlyDefinitions, { recursive: true, force: true });
    }
  });

  it("names a missing file, an empty dir, and a file that is not DBN", async () => {
    const missing = (await failureOf(sourceFor({ files: [join(dir, "nope.dbn.zst")] }).then((h) => h.source.load({ product: "NQ" }, { signal: signal() })))) as ConfigError;
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.path).toBe("data_sources.databento.config.files[0]");
    const empty = await mkdtemp(join(tmpdir(), "nq-databento-empty-"));
    const junk = join(empty, "junk.dbn");
    try {
      expect(await failureOf((await sourceFor({ dir: empty })).source.load({ product: "NQ" }, { signal: signal() }))).toBeInstanceOf(ConfigError);
      await writeFile(junk, "this is not DBN");
      const error = await failureOf((await sourceFor({ files: [junk] })).source.load({ product: "NQ" }, { signal: signal() }));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(error.message).toContain(junk);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

const shared = sharedDir();

describe.skipIf(!shared)("file mode on the real upstream fixtures (skipped when NQ_SHARED_DIR / ../shared is absent)", () => {
  it("decodes Databento's own GLBX.MDP3 files (ESH1, a future) and says there is no NQ option in them", async () => {
    const dir = join(shared!, "fixtures/databento/databento-python/GLBX.MDP3");
    const { source } = await sourceFor({ files: [join(dir, "test_data.definition.dbn.zst"), join(dir, "test_data.statistics.dbn.zst"), join(dir, "test_data.trades.dbn.zst")] });
    const error = await failureOf(source.load({ product: "NQ" }, { signal: signal() }));
    expect(error).toBeInstanceOf(NoDataError);
    expect(error.message).toContain("no NQ option definitions");
  });

  it("reads DBN v1 and v2 definition files (upgraded to v3 shapes)", async () => {
    const dir = join(shared!, "fixtures/databento/dbn");
    for (const file of ["test_data.definition.v1.dbn.zst", "test_data.definition.v2.dbn.zst", "test_data.definition.dbn"]) {
      const { source } = await sourceFor({ files: [join(dir, file)] });
      expect(await failureOf(source.load({ product: "NQ" }, { signal: signal() })), file).toBeInstanceOf(NoDataError);
    }
  });
});
