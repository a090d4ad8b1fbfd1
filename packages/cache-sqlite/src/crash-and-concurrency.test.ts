/**
 * Real processes on a real file: a writer killed with SIGKILL in the middle of a transaction, and two
 * writers at once. These run the built package (see test-support/cache-writer-process.mjs).
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { cacheKeyFor } from "@nq/core";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteCache } from "./index.js";
import { useTempFolders } from "./test-support/temp-folder.js";
import { startWriter, type WriterProcess } from "./test-support/writer-process.js";

const tempFolder = useTempFolders();
const running: WriterProcess[] = [];
afterEach(() => {
  for (const writer of running.splice(0)) if (writer.child.exitCode === null && writer.child.signalCode === null) writer.child.kill("SIGKILL");
});
const start = (options: Parameters<typeof startWriter>[0]) => {
  const writer = startWriter(options);
  running.push(writer);
  return writer;
};

const keyOf = (prefix: string, i: number) =>
  cacheKeyFor(prefix, { product: "NQ", asOf: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });
const readAt = new Date("2026-01-01T00:00:00Z");
const commits = (writer: WriterProcess) =>
  writer.lines.filter((line) => line.startsWith("committed ")).map((line) => line.split(" ").slice(1).map(Number) as [number, number]);
const committedIndexes = (writer: WriterProcess) => commits(writer).map(([index]) => index);

async function storedIndexes(file: string, prefix: string, upTo: number): Promise<number[]> {
  const cache = await openSqliteCache({ path: file });
  const found: number[] = [];
  for (let i = 0; i < upTo; i += 1) {
    const entry = await cache.get(keyOf(prefix, i), readAt);
    if (entry) {
      // What is there is whole: the chain parses and has every contract it was written with.
      expect(entry.chain.contracts.length).toBe(entry.chain.optionsSummary.total);
      found.push(i);
    }
  }
  expect(await cache.integrityCheck()).toEqual([]);
  await cache.close();
  return found;
}

describe("a writer killed with SIGKILL", () => {
  it("mid-transaction (after the row is written, before COMMIT): the file opens cleanly with every committed entry and not the torn one", async () => {
    const file = join(tempFolder(), "cache.db");
    // The torn entry (~21 MB of JSON) is larger than the page cache better-sqlite3 sets up (16 MB), so SQLite
    // spills uncommitted pages into the WAL: the kill lands with part of an uncommitted entry on disk. The
    // five committed entries take under 3 MB of WAL.
    const writer = start({ file, prefix: "killed", count: 10, contracts: 1000, hangBeforeCommitAt: 5, hangContracts: 40_000 });
    await writer.waitFor(/^in-transaction 5$/, 40_000);
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(5_000_000);
    expect(committedIndexes(writer)).toEqual([0, 1, 2, 3, 4]);
    writer.child.kill("SIGKILL");
    expect(await writer.exit).toMatchObject({ signal: "SIGKILL" });

    expect(await storedIndexes(file, "killed", 10)).toEqual([0, 1, 2, 3, 4]);
    // And the file takes writes again.
    const cache = await openSqliteCache({ path: file });
    const entry = (await cache.get(keyOf("killed", 0), readAt))!;
    await cache.set(keyOf("killed", 5), { chain: entry.chain, fetchedAt: readAt, costUsd: 0 });
    expect(await cache.get(keyOf("killed", 5), readAt)).not.toBeNull();
    await cache.close();
  }, 60_000);

  it("at an arbitrary moment of a stream of large writes: every entry it reported committed is there, whole", async () => {
    const file = join(tempFolder(), "cache.db");
    const writer = start({ file, prefix: "stream", count: 40, contracts: 4000 });
    await writer.waitFor(/^committed 3 /);
    writer.child.kill("SIGKILL");
    await writer.exit;
    const reported = committedIndexes(writer);
    const stored = await storedIndexes(file, "stream", 40);
    expect(stored.length).toBeGreaterThanOrEqual(4);
    expect(stored).toEqual(expect.arrayContaining(reported));
    // Entries are written in order, so what is stored is a prefix: nothing after a gap.
    expect(stored).toEqual(stored.map((_, i) => i));
  }, 60_000);
});

describe("two writers at once", () => {
  it("both succeed: 200 entries, no busy error surfaced, on a file neither had created", async () => {
    const file = join(tempFolder(), "fresh", "cache.db");
    const writers = ["alpha", "beta"].map((prefix) => start({ file, prefix, count: 100, contracts: 40, waitForGo: true }));
    await Promise.all(writers.map((writer) => writer.waitFor(/^ready$/)));
    for (const writer of writers) writer.child.stdin!.write("go\n");
    const exits = await Promise.all(writers.map((writer) => writer.exit));
    for (const [index, writer] of writers.entries()) {
      expect(exits[index], writer.stderr()).toEqual({ code: 0, signal: null });
      expect(writer.stderr()).not.toMatch(/busy|locked/i);
      expect(writer.lines.at(-1)).toBe("done");
    }
    // They really overlapped: each wrote while the other was writing.
    const [alpha, beta] = writers.map((writer) => commits(writer).map(([, at]) => at));
    expect(alpha![0]!).toBeLessThanOrEqual(beta!.at(-1)!);
    expect(beta![0]!).toBeLessThanOrEqual(alpha!.at(-1)!);
    const cache = await openSqliteCache({ path: file });
    expect((await cache.stats(readAt)).entries).toBe(200);
    await cache.close();
    expect(await storedIndexes(file, "alpha", 100)).toHaveLength(100);
    expect(await storedIndexes(file, "beta", 100)).toHaveLength(100);
  }, 60_000);
});
