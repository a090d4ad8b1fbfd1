/**
 * The history store suite, written once and run against every store (SQLite, PostgreSQL, a third
 * party's): what the runner's `history` command and a SQL reader rely on.
 *
 *   describeChainHistoryConformance("sqlite", { open: async () => ({ history, openAnother, cleanup }) });
 *
 * Each test opens a fresh, empty store through `open` and cleans it up after.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { OptionsChain } from "../contract.js";
import type { ChainHistory, HistoryContractFilter, HistoryContractRow, HistorySnapshot } from "../history.js";
import { historyTestChain, quarterlySymbol } from "./history-chains.js";

export interface ChainHistoryFixture {
  /** A handle on a fresh, empty store. */
  history: ChainHistory;
  /** Another handle on the same store, as a second process would open it. */
  openAnother(): Promise<ChainHistory>;
  /**
   * A handle on the same store whose `append` fails after writing its rows and before committing them
   * (the store's test hook). Without it, the all-or-nothing test relies on a bad row found mid-write.
   */
  openFailingBeforeCommit?(): Promise<ChainHistory>;
  /** Closes what is still open and removes the store (files, schema, database). */
  cleanup(): Promise<void>;
}

export interface ChainHistoryConformanceOptions {
  open(): Promise<ChainHistoryFixture>;
  /** Per-test timeout (a server-backed store may need more). */
  timeoutMs?: number;
}

const DAY_MS = 86_400_000;

/** The snapshot a store must report for an appended chain (the id aside). */
export function expectedSnapshot(profile: string, chain: OptionsChain, recordedAt: Date): Omit<HistorySnapshot, "id"> {
  const { metadata } = chain;
  return {
    profile,
    source: metadata.source,
    product: metadata.product,
    asOf: metadata.asOf,
    fetchedAt: metadata.fetchedAt,
    recordedAt: recordedAt.toISOString(),
    cache: metadata.cache,
    delayed: metadata.delayed,
    sample: metadata.sample,
    complete: metadata.complete,
    proxy: metadata.proxy !== null,
    spendUsd: metadata.spendUsd,
    contractCount: chain.contracts.length,
    qualityMetrics: chain.qualityMetrics,
    incompleteReasons: metadata.incompleteReasons,
    warnings: metadata.warnings,
  };
}

async function collect(rows: AsyncIterable<HistoryContractRow>): Promise<HistoryContractRow[]> {
  const out: HistoryContractRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

function dayAt(day: number, hour = 21): string {
  return new Date(Date.UTC(2026, 10, 2 + day, hour)).toISOString();
}

export function describeChainHistoryConformance(name: string, options: ChainHistoryConformanceOptions): void {
  const timeout = options.timeoutMs ?? 30_000;
  const opened: ChainHistoryFixture[] = [];
  const open = async (): Promise<ChainHistoryFixture> => {
    const fixture = await options.open();
    opened.push(fixture);
    return fixture;
  };
  const recordedAt = new Date("2026-11-20T21:00:07.250Z");

  describe(`chain history conformance: ${name}`, () => {
    afterEach(async () => {
      for (const fixture of opened.splice(0)) await fixture.cleanup();
    }, timeout);

    it(
      "gives back every field of an appended chain exactly: nulls stay null, numbers and time stamps unchanged",
      async () => {
        const { history } = await open();
        const chain = historyTestChain({ asOf: "2026-11-20T21:00:00Z", fetchedAt: "2026-11-20T21:00:05.123456Z" });
        const snapshot = await history.append({ profile: "desk ‘α’", chain, recordedAt });
        expect(snapshot.id).toMatch(/^\d+$/);
        expect(snapshot).toEqual({ id: snapshot.id, ...expectedSnapshot("desk ‘α’", chain, recordedAt) });
        const read = await history.getSnapshot(snapshot.id);
        expect(read?.snapshot).toEqual(snapshot);
        expect(read?.contracts).toEqual(chain.contracts);
        // toEqual treats undefined and absent alike: a stored null must come back as null, and no field may be added.
        for (const [i, contract] of (read?.contracts ?? []).entries()) {
          expect(Object.keys(contract).sort()).toEqual(Object.keys(chain.contracts[i]!).sort());
          for (const [field, value] of Object.entries(chain.contracts[i]!)) {
            expect((contract as unknown as Record<string, unknown>)[field], `${contract.symbol}.${field}`).toStrictEqual(value);
          }
        }
      },
      timeout,
    );

    it(
      "keeps a partial chain's flags and reasons, a cache hit's status, and a chain of thousands of contracts whole and in order",
      async () => {
        const { history } = await open();
        const strikes = Array.from({ length: 400 }, (_, i) => 18000 + i * 5);
        const big = historyTestChain({ asOf: dayAt(1), strikes, expirations: ["2026-12-18", "2027-03-19", "2027-06-18", "2027-09-17"] });
        expect(big.contracts.length).toBe(3200);
        const partial = historyTestChain({ asOf: dayAt(2), complete: false, spendUsd: 0 });
        partial.metadata.cache = "hit";
        partial.metadata.proxy = {
          for: "NQ",
          underlying: "I:NDX",
          product: "NDX",
          kind: "index-options",
          multiplier: 100,
          settlement: "cash",
          exercise: "european",
          label: "PROXY: NDX index options, not NQ futures options",
        };
        const a = await history.append({ profile: "p", chain: big, recordedAt });
        const b = await history.append({ profile: "p", chain: partial, recordedAt });
        expect((await history.getSnapshot(a.id))?.contracts).toEqual(big.contracts);
        expect(b).toMatchObject({ complete: false, cache: "hit", proxy: true, spendUsd: 0, incompleteReasons: partial.metadata.incompleteReasons });
        expect((await history.getSnapshot(b.id))?.snapshot).toEqual(b);
      },
      timeout,
    );

    it(
      "keeps what a contract is exactly as each chain had it: the same symbol with other terms, a contract twice, and a second handle appending the same contracts",
      async () => {
        const fixture = await open();
        const { history } = fixture;
        const first = historyTestChain({ asOf: dayAt(1), seed: 3 });
        // The same symbols the next day, some with other terms: a store that keys what a contract is by its
        // symbol alone would give the first day's terms back for the second day, or the reverse.
        const second = historyTestChain({ asOf: dayAt(2), seed: 4 });
        second.contracts[0] = { ...second.contracts[0]!, rawSymbol: null, multiplier: 5, expirationTime: "2026-12-18T15:30:00.000Z" };
        second.contracts[1] = { ...second.contracts[1]!, rawStrike: "20950.5", underlying: "NQZ6-other" };
        second.contracts[2] = { ...second.contracts[2]!, strike: 20950.25 };
        // The same contract twice in one chain, once with the other terms (stored as given, in order).
        second.contracts.push({ ...second.contracts[0]! }, { ...first.contracts[0]! });
        const a = await history.append({ profile: "p", chain: first, recordedAt });
        const b = await history.append({ profile: "p", chain: second, recordedAt });
        expect((await history.getSnapshot(a.id))?.contracts).toEqual(first.contracts);
        expect((await history.getSnapshot(b.id))?.contracts).toEqual(second.contracts);
        const symbol = first.contracts[0]!.symbol;
        const rows = await collect(history.contracts({ symbol }));
        expect(rows.map((row) => [row.snapshotId, row.contract])).toEqual([
          [a.id, first.contracts[0]],
          [b.id, second.contracts[0]],
          [b.id, second.contracts[second.contracts.length - 2]],
          [b.id, second.contracts[second.contracts.length - 1]],
        ]);

        // A second handle (another process) knows nothing yet: it appends the same contracts and reads the others' rows.
        const another = await fixture.openAnother();
        const third = historyTestChain({ asOf: dayAt(3), seed: 5 });
        const c = await another.append({ profile: "p", chain: third, recordedAt });
        expect((await another.getSnapshot(c.id))?.contracts).toEqual(third.contracts);
        expect((await another.getSnapshot(b.id))?.contracts).toEqual(second.contracts);
        expect((await history.getSnapshot(c.id))?.contracts).toEqual(third.contracts);
        const series = await history.settlementSeries({ symbol });
        expect(series.map((point) => [point.snapshotId, point.settlement])).toEqual([
          [a.id, first.contracts[0]!.settlement],
          [b.id, second.contracts[0]!.settlement],
          [b.id, second.contracts[second.contracts.length - 2]!.settlement],
          [b.id, second.contracts[second.contracts.length - 1]!.settlement],
          [c.id, third.contracts[0]!.settlement],
        ]);
      },
      timeout,
    );

    it(
      "answers null for an id it does not hold",
      async () => {
        const { history } = await open();
        const s = await history.append({ profile: "p", chain: historyTestChain({ asOf: dayAt(0) }), recordedAt });
        expect(await history.getSnapshot(String(Number(s.id) + 1000))).toBeNull();
        expect(await history.getSnapshot("not-an-id")).toBeNull();
        expect(await history.getSnapshot("")).toBeNull();
      },
      timeout,
    );

    it(
      "lists snapshots newest first and filters by profile, source, asOf range and limit",
      async () => {
        const { history } = await open();
        const appended: HistorySnapshot[] = [];
        for (const [day, profile, source] of [
          [3, "a", "databento"],
          [1, "a", "barchart"],
          [2, "b", "databento"],
          [5, "a", "databento"],
          [4, "b", "barchart"],
        ] as const) {
          appended.push(await history.append({ profile, chain: historyTestChain({ asOf: dayAt(day), source, seed: day }), recordedAt }));
        }
        const asOfs = (list: HistorySnapshot[]) => list.map((s) => s.asOf);
        expect(asOfs(await history.listSnapshots())).toEqual([dayAt(5), dayAt(4), dayAt(3), dayAt(2), dayAt(1)]);
        expect(asOfs(await history.listSnapshots({ profile: "a" }))).toEqual([dayAt(5), dayAt(3), dayAt(1)]);
        expect(asOfs(await history.listSnapshots({ source: "barchart" }))).toEqual([dayAt(4), dayAt(1)]);
        expect(asOfs(await history.listSnapshots({ from: dayAt(2), to: dayAt(4) }))).toEqual([dayAt(3), dayAt(2)]);
        expect(asOfs(await history.listSnapshots({ profile: "a", source: "databento", limit: 1 }))).toEqual([dayAt(5)]);
        expect(await history.listSnapshots({ profile: "nobody" })).toEqual([]);
        // The same asOf twice: the later append first.
        const again = await history.append({ profile: "a", chain: historyTestChain({ asOf: dayAt(5), seed: 9 }), recordedAt });
        expect((await history.listSnapshots({ limit: 2 })).map((s) => s.id)).toEqual([again.id, appended[3]!.id]);
        // Listed snapshots are the ones getSnapshot reads.
        for (const listed of await history.listSnapshots()) expect((await history.getSnapshot(listed.id))?.snapshot).toEqual(listed);
      },
      timeout,
    );

    it(
      "rejects a filter time that is not an instant, naming it",
      async () => {
        const { history } = await open();
        await expect(history.listSnapshots({ from: "last tuesday" })).rejects.toThrow(/from/);
        await expect(collect(history.contracts({ to: "2026-13-45" }))).rejects.toThrow(/to/);
      },
      timeout,
    );

    it(
      "streams contract rows in asOf order, then append order, then the chain's order, filtered by symbol, expiration and range",
      async () => {
        const { history } = await open();
        const chains = [3, 1, 2].map((day) => historyTestChain({ asOf: dayAt(day), seed: day }));
        const snapshots: HistorySnapshot[] = [];
        for (const chain of chains) snapshots.push(await history.append({ profile: "p", chain, recordedAt }));
        const all = await collect(history.contracts({}));
        const expected = [1, 2, 0].flatMap((i) => chains[i]!.contracts.map((contract) => ({ snapshotId: snapshots[i]!.id, asOf: chains[i]!.metadata.asOf, source: "databento", contract })));
        expect(all).toEqual(expected);

        const symbol = quarterlySymbol("2027-03-19", "P", 21000);
        const bySymbol = await collect(history.contracts({ symbol }));
        expect(bySymbol.map((row) => [row.asOf, row.contract.symbol])).toEqual([dayAt(1), dayAt(2), dayAt(3)].map((asOf) => [asOf, symbol]));
        const byExpiration = await collect(history.contracts({ expiration: "2026-12-18", from: dayAt(2) }));
        expect(byExpiration).toHaveLength(2 * 6);
        expect(byExpiration.every((row) => row.contract.expiration === "2026-12-18" && row.asOf >= dayAt(2))).toBe(true);
        expect(await collect(history.contracts({ profile: "other" }))).toEqual([]);
        expect(await collect(history.contracts({ limit: 5 }))).toEqual(expected.slice(0, 5));
      },
      timeout,
    );

    it(
      "releases what a stream held when the reader stops early, so the store goes on working",
      async () => {
        const { history } = await open();
        const strikes = Array.from({ length: 300 }, (_, i) => 19000 + i * 5);
        for (const day of [1, 2]) await history.append({ profile: "p", chain: historyTestChain({ asOf: dayAt(day), strikes, seed: day }), recordedAt });
        let seen = 0;
        for await (const _row of history.contracts({})) {
          seen += 1;
          if (seen === 10) break;
        }
        expect(seen).toBe(10);
        const third = await history.append({ profile: "p", chain: historyTestChain({ asOf: dayAt(3), seed: 3 }), recordedAt });
        expect((await history.listSnapshots({ limit: 1 }))[0]?.id).toBe(third.id);
        expect((await collect(history.contracts({}))).length).toBe(2 * 1200 + 12);
      },
      timeout,
    );

    it(
      "answers open interest by strike for one expiration over time, and one contract's settlement series",
      async () => {
        const { history } = await open();
        const chains = [1, 2, 3].map((day) => historyTestChain({ asOf: dayAt(day), seed: day }));
        const snapshots: HistorySnapshot[] = [];
        for (const chain of chains) snapshots.push(await history.append({ profile: "p", chain, recordedAt }));
        await history.append({ profile: "q", chain: historyTestChain({ asOf: dayAt(2), seed: 7, source: "barchart" }), recordedAt });

        const points = await history.openInterestByStrike({ expiration: "2026-12-18", profile: "p" });
        const expected = chains.flatMap((chain, i) =>
          chain.contracts
            .filter((c) => c.expiration === "2026-12-18")
            .sort((x, y) => x.strike - y.strike || (x.right === y.right ? 0 : x.right === "C" ? -1 : 1))
            .map((c) => ({
              snapshotId: snapshots[i]!.id,
              asOf: chain.metadata.asOf,
              openInterestDate: c.openInterestDate,
              strike: c.strike,
              right: c.right === "C" ? "call" : "put",
              openInterest: c.openInterest,
            })),
        );
        expect(points).toEqual(expected);
        const puts = await history.openInterestByStrike({ expiration: "2026-12-18", right: "put", profile: "p", from: dayAt(2), to: dayAt(3) });
        expect(puts).toEqual(expected.filter((p) => p.right === "put" && p.asOf === dayAt(2)));
        expect(await history.openInterestByStrike({ expiration: "2026-12-18", source: "barchart" })).toHaveLength(6);
        expect(await history.openInterestByStrike({ expiration: "2031-01-17" })).toEqual([]);

        const symbol = quarterlySymbol("2026-12-18", "C", 21025.5);
        const series = await history.settlementSeries({ symbol, profile: "p" });
        expect(series).toEqual(
          chains.map((chain, i) => {
            const c = chain.contracts.find((x) => x.symbol === symbol)!;
            return { snapshotId: snapshots[i]!.id, asOf: chain.metadata.asOf, settlementDate: c.settlementDate, settlement: c.settlement };
          }),
        );
        expect(series.some((point) => point.settlement === null)).toBe(false);
        expect((await history.settlementSeries({ symbol, from: dayAt(3) })).map((p) => p.asOf)).toEqual([dayAt(3)]);
        expect(await history.settlementSeries({ symbol: "NQZ6 C99999" })).toEqual([]);
      },
      timeout,
    );

    it(
      "applies retention: snapshots older than max_age_days and beyond the newest N per profile go, with their contracts",
      async () => {
        const { history } = await open();
        const ids: Record<string, string> = {};
        for (const [day, profile] of [
          [1, "a"],
          [2, "a"],
          [3, "a"],
          [4, "a"],
          [2, "b"],
          [4, "b"],
        ] as const) {
          ids[`${profile}${day}`] = (await history.append({ profile, chain: historyTestChain({ asOf: dayAt(day), seed: day }), recordedAt })).id;
        }
        const now = new Date(Date.parse(dayAt(10)));
        // Nothing is older than 9 days: asOf of day 1 is exactly 9 days before now, which is kept.
        expect(await history.applyRetention({ maxAgeDays: 9 }, now)).toBe(0);
        expect(await history.applyRetention({ maxAgeDays: 7.5 }, now)).toBe(3);
        expect((await history.listSnapshots()).map((s) => s.id).sort()).toEqual([ids.a3, ids.a4, ids.b4].sort());
        expect(await history.getSnapshot(ids.a1!)).toBeNull();
        expect(await history.applyRetention({ maxSnapshotsPerProfile: 1 }, now)).toBe(1);
        expect((await history.listSnapshots()).map((s) => s.id).sort()).toEqual([ids.a4, ids.b4].sort());
        // The contracts of deleted snapshots are gone too.
        const rows = await collect(history.contracts({}));
        expect(new Set(rows.map((row) => row.snapshotId))).toEqual(new Set([ids.a4, ids.b4]));
        expect(rows).toHaveLength(24);
        expect(await history.openInterestByStrike({ expiration: "2026-12-18" })).toHaveLength(12);
        expect(await history.applyRetention({}, now)).toBe(0);
        expect(await history.applyRetention({ maxAgeDays: 0, maxSnapshotsPerProfile: 5 }, new Date(now.getTime() + 30 * DAY_MS))).toBe(2);
        expect(await history.listSnapshots()).toEqual([]);
      },
      timeout,
    );

    it(
      "rejects a chain with a bad contract with an error naming it, and writes nothing of it",
      async () => {
        const { history } = await open();
        const kept = await history.append({ profile: "p", chain: historyTestChain({ asOf: dayAt(1) }), recordedAt });
        const strikes = Array.from({ length: 500 }, (_, i) => 18000 + i * 5);
        for (const extraContract of [{ strike: Number.NaN }, { symbol: null as unknown as string }, { bid: Number.POSITIVE_INFINITY }]) {
          const bad = historyTestChain({ asOf: dayAt(2), strikes, extraContract });
          await expect(history.append({ profile: "p", chain: bad, recordedAt })).rejects.toThrow(/strike|symbol|bid/);
        }
        expect((await history.listSnapshots()).map((s) => s.id)).toEqual([kept.id]);
        expect(await collect(history.contracts({}))).toHaveLength(12);
      },
      timeout,
    );

    it(
      "leaves nothing half-written when an append fails after writing its rows",
      async (context) => {
        const fixture = await open();
        if (!fixture.openFailingBeforeCommit) return context.skip();
        const failing = await fixture.openFailingBeforeCommit();
        const strikes = Array.from({ length: 500 }, (_, i) => 18000 + i * 5);
        await expect(failing.append({ profile: "p", chain: historyTestChain({ asOf: dayAt(2), strikes }), recordedAt })).rejects.toThrow();
        await failing.close();
        expect(await fixture.history.listSnapshots()).toEqual([]);
        expect(await collect(fixture.history.contracts({}))).toEqual([]);
        const next = await fixture.history.append({ profile: "p", chain: historyTestChain({ asOf: dayAt(3) }), recordedAt });
        expect((await fixture.history.getSnapshot(next.id))?.contracts).toHaveLength(12);
      },
      timeout,
    );

    it(
      "takes concurrent appends from two handles on one store, each whole under its own id",
      async () => {
        const fixture = await open();
        const strikes = Array.from({ length: 100 }, (_, i) => 20000 + i * 5);
        // The second handle opens (and checks its schema) while the first is writing.
        const [other, first] = await Promise.all([
          fixture.openAnother(),
          fixture.history.append({ profile: "p", chain: historyTestChain({ asOf: dayAt(20), strikes: Array.from({ length: 1000 }, (_, i) => 15000 + i * 5) }), recordedAt }),
        ]);
        try {
          expect((await other.getSnapshot(first.id))?.contracts).toHaveLength(4000);
          const chains = Array.from({ length: 8 }, (_, i) => historyTestChain({ asOf: dayAt(i), seed: i, strikes }));
          const appended = await Promise.all(chains.map((chain, i) => (i % 2 === 0 ? fixture.history : other).append({ profile: "p", chain, recordedAt })));
          expect(new Set(appended.map((s) => s.id)).size).toBe(8);
          for (const [i, snapshot] of appended.entries()) {
            expect((await other.getSnapshot(snapshot.id))?.contracts).toEqual(chains[i]!.contracts);
          }
          expect(await fixture.history.listSnapshots()).toHaveLength(9);
          const filter: HistoryContractFilter = { symbol: quarterlySymbol("2027-03-19", "C", 20100) };
          expect((await collect(fixture.history.contracts(filter))).map((row) => row.asOf)).toEqual(chains.map((c) => c.metadata.asOf));
        } finally {
          await other.close();
        }
      },
      timeout,
    );

    it(
      "says it is closed when used after close, and closes twice without complaint",
      async () => {
        const fixture = await open();
        const other = await fixture.openAnother();
        await other.append({ profile: "p", chain: historyTestChain({ asOf: dayAt(1) }), recordedAt });
        await other.close();
        await other.close();
        await expect(other.append({ profile: "p", chain: historyTestChain({ asOf: dayAt(2) }), recordedAt })).rejects.toThrow(/closed/);
        await expect(other.listSnapshots()).rejects.toThrow(/closed/);
        await expect(collect(other.contracts({}))).rejects.toThrow(/closed/);
        // The store itself is untouched by one handle closing.
        expect(await fixture.history.listSnapshots()).toHaveLength(1);
        expect(typeof fixture.history.location).toBe("string");
      },
      timeout,
    );
  });
}
