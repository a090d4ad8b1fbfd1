/** The shared cache store suite from @nq/core/testing (the one @nq/store-postgres runs), on SqliteChainCache. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ManagedChainCache } from "@nq/core";
import { describeChainCacheConformance } from "@nq/core/testing";
import { openSqliteCache } from "./index.js";

describeChainCacheConformance("SQLite (SqliteChainCache)", {
  open: async ({ ttlMs }) => {
    const dir = mkdtempSync(join(tmpdir(), "nq-cache-conformance-"));
    const handles: ManagedChainCache[] = [];
    const openHandle = async () => {
      const cache = await openSqliteCache({ baseDir: dir, ttl: ttlMs / 1000 });
      handles.push(cache);
      return cache;
    };
    return {
      cache: await openHandle(),
      openAnother: openHandle,
      cleanup: async () => {
        for (const cache of handles) await cache.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
