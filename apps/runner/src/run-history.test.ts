/**
 * Appending a run's chain to history, against test doubles of the ChainHistory contract: what the summary is
 * told, and that no failure of the store escapes (the built CLI against the real SQLite store is in
 * commands/history-cli.test.ts).
 */
import { createLogger, z, type ChainHistory, type HistoryRetention, type LogEntry, type OptionsChain } from "@nq/core";
import { describe, expect, it } from "vitest";
import { recordChainInHistory, type ProfileHistory } from "./run-history.js";

const chain = { metadata: { source: "saved", asOf: "2026-11-20T21:00:00.000Z", cache: "hit" }, contracts: [] } as unknown as OptionsChain;
const now = () => new Date("2026-11-21T00:00:00Z");

interface Calls {
  appended: { profile: string; chain: OptionsChain; recordedAt: Date }[];
  retention: HistoryRetention[];
  closed: number;
}

function store(calls: Calls, behaviour: { append?: "fail"; retention?: "fail"; storeRetention?: HistoryRetention } = {}): ChainHistory {
  const unused = () => Promise.reject(new Error("not used by this test"));
  return {
    location: "/var/nq/history.db",
    ...(behaviour.storeRetention ? { retention: behaviour.storeRetention } : {}),
    append: async (input) => {
      if (behaviour.append === "fail") throw new Error("SQLITE_READONLY: attempt to write a readonly database");
      calls.appended.push(input);
      return { id: "41" } as Awaited<ReturnType<ChainHistory["append"]>>;
    },
    listSnapshots: unused,
    getSnapshot: unused,
    contracts: () => ({ [Symbol.asyncIterator]: () => ({ next: unused }) }),
    openInterestByStrike: unused,
    settlementSeries: unused,
    applyRetention: async (retention) => {
      if (behaviour.retention === "fail") throw new Error("database is locked");
      calls.retention.push(retention);
      return 3;
    },
    close: async () => {
      calls.closed += 1;
    },
  };
}

function found(create: () => unknown, retention: HistoryRetention = {}): ProfileHistory {
  return { definition: { name: "double", configSchema: z.object({}), create: create as never }, config: {}, specifier: "./double.mjs", retention };
}

function run(definition: ProfileHistory | null, chainToAppend: OptionsChain | null = chain) {
  const logs: LogEntry[] = [];
  const outcome = recordChainInHistory({ found: definition, offNote: "off (--no-history)", profile: "desk", chain: chainToAppend, baseDir: "/tmp", now, log: createLogger((entry) => logs.push(entry)) });
  return { outcome, logs };
}

const fresh = (): Calls => ({ appended: [], retention: [], closed: 0 });

describe("appending a run's chain to history", () => {
  it("appends with the profile's name and the run's clock, applies the profile's retention, and closes the store", async () => {
    const calls = fresh();
    const { outcome, logs } = run(found(() => store(calls), { maxSnapshotsPerProfile: 10 }));
    expect(await outcome).toEqual({ enabled: true, written: true, snapshotId: "41", location: "/var/nq/history.db", removedByRetention: 3, note: null, error: null });
    expect(calls.appended).toEqual([{ profile: "desk", chain, recordedAt: now() }]);
    expect(calls.retention).toEqual([{ maxSnapshotsPerProfile: 10 }]);
    expect(calls.closed).toBe(1);
    expect(logs.filter((l) => l.level === "warn")).toEqual([]);
  });

  it("the store's own retention applies when the profile section gives none; the profile's wins field by field", async () => {
    const calls = fresh();
    await run(found(() => store(calls, { storeRetention: { maxAgeDays: 30, maxSnapshotsPerProfile: 5 } }), { maxSnapshotsPerProfile: 9 })).outcome;
    expect(calls.retention).toEqual([{ maxAgeDays: 30, maxSnapshotsPerProfile: 9 }]);
    const none = fresh();
    const { outcome } = run(found(() => store(none)));
    expect((await outcome).removedByRetention).toBe(0);
    expect(none.retention).toEqual([]);
  });

  it("off, or no chain: nothing is opened, and the note says why", async () => {
    expect(await run(null).outcome).toMatchObject({ enabled: false, written: false, note: "off (--no-history)", error: null });
    let opened = 0;
    expect(await run(found(() => (opened++, store(fresh()))), null).outcome).toMatchObject({ enabled: true, written: false, note: "no chain to append", error: null });
    expect(opened).toBe(0);
  });

  it("a store that cannot be opened: a warning and the reason, never a throw", async () => {
    const { outcome, logs } = run(
      found(() => {
        throw new Error("cannot open /ro/history.db: EACCES");
      }),
    );
    expect(await outcome).toMatchObject({ written: false, snapshotId: null, error: "the history store could not be opened: cannot open /ro/history.db: EACCES" });
    expect(logs).toContainEqual(expect.objectContaining({ level: "warn", source: "history", message: expect.stringMatching(/^not written: .*EACCES/) }));
  });

  it("a plugin whose create returns something else (a cache): named, closed, not used", async () => {
    let closed = false;
    const cacheLike = { location: "/x/cache.db", get: () => null, close: async () => void (closed = true) };
    const { outcome } = run(found(() => cacheLike));
    expect((await outcome).error).toMatch(/the history plugin "\.\/double\.mjs" created something that is not a ChainHistory \(missing: append, listSnapshots, getSnapshot, contracts/);
    expect(closed).toBe(true);
  });

  it("a failed append: the reason, the store still closed, retention not applied", async () => {
    const calls = fresh();
    const { outcome, logs } = run(found(() => store(calls, { append: "fail" }), { maxAgeDays: 1 }));
    expect(await outcome).toMatchObject({ written: false, location: "/var/nq/history.db", error: expect.stringMatching(/could not be appended to \/var\/nq\/history\.db: SQLITE_READONLY/) });
    expect(calls.retention).toEqual([]);
    expect(calls.closed).toBe(1);
    expect(logs.some((l) => l.level === "warn")).toBe(true);
  });

  it("retention that fails after the append: the snapshot counts as written, the failure is said", async () => {
    const { outcome } = run(found(() => store(fresh(), { retention: "fail" }), { maxAgeDays: 1 }));
    expect(await outcome).toMatchObject({ written: true, snapshotId: "41", error: expect.stringMatching(/appended, but the retention policy could not be applied: database is locked/) });
  });
});
