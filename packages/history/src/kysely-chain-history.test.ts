import { describeChainHistoryConformance, historyTestChain } from "@nq/core/testing";
import { describe, expect, it } from "vitest";
import { sqliteHistoryFixture } from "./test-support/sqlite-history.js";

describeChainHistoryConformance("kysely on SQLite (better-sqlite3), multi-row INSERTs through kysely", { open: () => sqliteHistoryFixture() });
describeChainHistoryConformance("kysely on SQLite (better-sqlite3), the native prepared INSERT", { open: () => sqliteHistoryFixture({ native: true }) });

// Batches of one row per statement and pages of seven rows: the multi-row and keyset paths are exercised
// at their edges, whatever the defaults.
describeChainHistoryConformance("kysely on SQLite, tiny batches and pages", { open: () => sqliteHistoryFixture({ maxBindParameters: 19, pageSize: 7 }) });

describe("SQLite's native path writes quote rows a hundred to a statement", () => {
  const strikes = Array.from({ length: 64 }, (_, i) => 19000 + i * 25);
  it("keeps a chain of full batches and a tail whole and in order, and a bad contract after a full batch leaves nothing", async () => {
    const fixture = await sqliteHistoryFixture({ native: true });
    try {
      // 2 expirations × 64 strikes × 2 rights = 256 contracts, + 1: two full batches and a tail of 57.
      const chain = historyTestChain({ asOf: "2026-11-20T21:00:00Z", strikes, extraContract: { symbol: "NQZ6 C99999", strike: 99999 } });
      expect(chain.contracts.length).toBe(257);
      const appended = await fixture.history.append({ profile: "p", chain, recordedAt: new Date() });
      expect((await fixture.history.getSnapshot(appended.id))?.contracts).toEqual(chain.contracts);

      const bad = historyTestChain({ asOf: "2026-11-21T21:00:00Z", strikes, seed: 2 });
      bad.contracts[150] = { ...bad.contracts[150]!, bid: Number.NaN };
      await expect(fixture.history.append({ profile: "p", chain: bad, recordedAt: new Date() })).rejects.toThrow(/contract #151 \(.*\): bid must be a finite number/);
      expect((await fixture.history.listSnapshots()).map((snapshot) => snapshot.id)).toEqual([appended.id]);
      const next = historyTestChain({ asOf: "2026-11-22T21:00:00Z", strikes, seed: 3 });
      const after = await fixture.history.append({ profile: "p", chain: next, recordedAt: new Date() });
      expect((await fixture.history.getSnapshot(after.id))?.contracts).toEqual(next.contracts);
    } finally {
      await fixture.cleanup();
    }
  });
});
