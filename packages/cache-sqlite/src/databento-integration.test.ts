/**
 * With the real Databento source against its local Databento-compatible server: the server's request log
 * proves that the second run, answered from the cache, sent no request at all (so paid nothing).
 */
import { createLogger, runSources, SpendLedger, type RegistryEntry, type SourceDefinition } from "@nq/core";
import { describe, expect, it } from "vitest";
import sqliteCache from "./index.js";
import { useTempFolders } from "./test-support/temp-folder.js";

// Only the slice used here is typed, so this package's typecheck does not wait on the other package's build.
interface DatabentoModule {
  databento: SourceDefinition<unknown>;
}
interface ServerModule {
  startLocalDatabentoServer(options: { contracts: number }): Promise<{ url: string; requests: unknown[]; close(): Promise<void> }>;
}

// Imported from the built package, as every workspace package is; the suite says so when it is not built.
const [sourcePackage, serverPackage] = ["@nq/source-databento", "@nq/source-databento/test-server"];
const databento = await Promise.all([import(sourcePackage), import(serverPackage)]).then(
  ([source, server]) => ({ source: source as DatabentoModule, server: server as ServerModule }),
  () => null,
);

const tempFolder = useTempFolders();

describe.skipIf(databento === null)("with @nq/source-databento and its local server (skipped when that package is not built: run pnpm build)", () => {
  it("the second run is served from the cache: the server sees no request and nothing is spent", async () => {
    const { source, server: serverModule } = databento!;
    const server = await serverModule.startLocalDatabentoServer({ contracts: 200 });
    const log = createLogger(() => {});
    const definition = source.databento;
    const entry: RegistryEntry = {
      name: "databento",
      definition,
      config: definition.configSchema.parse({ api_key: `db-${"CacheTest".padEnd(29, "0")}`, base_url: server.url }),
    };
    const dir = tempFolder();
    const run = async () => {
      const cache = await sqliteCache.create(sqliteCache.configSchema.parse({ ttl: "market-hours" }), { log, baseDir: dir, now: () => new Date() });
      const spend = new SpendLedger(null);
      try {
        return { result: await runSources([entry], { request: { product: "NQ" }, policy: "strict", log, cache, spend }), spend };
      } finally {
        await cache.close();
      }
    };
    try {
      const first = await run();
      const afterFirst = server.requests.length;
      expect(first.result.ok).toBe(true);
      expect(afterFirst).toBeGreaterThan(0);
      expect(first.spend.totalUsd).toBeGreaterThan(0);

      const second = await run();
      expect(second.result.attempts[0]).toMatchObject({ outcome: "success", cache: "hit", spendUsd: 0 });
      expect(server.requests.length).toBe(afterFirst);
      expect(second.spend.totalUsd).toBe(0);
      expect(second.result.chain!.contracts).toEqual(first.result.chain!.contracts);
    } finally {
      await server.close();
    }
  });
});
