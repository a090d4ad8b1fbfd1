import { randomBytes } from "node:crypto";
import type { ChainHistory } from "@nq/core";
import { describeChainHistoryConformance, historyTestChain } from "@nq/core/testing";
import { historyMigrations, type HistoryDatabase } from "@nq/history";
import { CompiledQuery, Kysely, PostgresDialect, type PostgresPool } from "kysely";
import pg from "pg";
import { expect, it } from "vitest";
import { history, migrateUnderLock, openPostgresHistory, postgresHistoryConfigSchema, StoreUnavailableError } from "./index.js";
import { describeWithPostgres } from "./test-support/with-postgres.js";

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

describeWithPostgres("the PostgreSQL history", (server) => {
  describeChainHistoryConformance("postgres", {
    timeoutMs: 60_000,
    open: async () => {
      const schema = `h_${randomBytes(6).toString("hex")}`;
      const url = server().url;
      const handles: ChainHistory[] = [];
      const opened = async (extra: Parameters<typeof openPostgresHistory>[0] = { url }) => {
        const handle = await openPostgresHistory({ ...extra, url, schema });
        handles.push(handle);
        return handle;
      };
      return {
        history: await opened(),
        openAnother: () => opened(),
        openFailingBeforeCommit: () =>
          opened({
            url,
            beforeCommit: () => {
              throw new Error("failing on purpose before COMMIT");
            },
          }),
        cleanup: async () => {
          await Promise.all(handles.map((handle) => handle.close()));
          await dropSchema(url, schema);
        },
      };
    },
  });

  it("the plugin opens from a profile's history section, with its retention, in the configured schema", async () => {
    const config = postgresHistoryConfigSchema.parse({ plugin: "@nq/store-postgres", url: server().url, schema: "plugin_history", retention: { max_snapshots_per_profile: 2 } });
    const store = await history.create(config, { log: { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } } as never, baseDir: "/", now: () => new Date() });
    try {
      expect(store.location).toBe(`postgres://nq@127.0.0.1:${server().port}/nq (schema plugin_history)`);
      for (let seed = 1; seed <= 3; seed += 1) {
        await store.append({ profile: "desk", chain: historyTestChain({ asOf: `2026-11-2${seed}T21:00:00.000Z`, seed }), recordedAt: new Date(`2026-11-2${seed}T21:01:00.000Z`) });
      }
      expect((store as ChainHistory & { retention?: unknown }).retention).toEqual({ maxSnapshotsPerProfile: 2 });
      expect(await store.applyRetention({ maxSnapshotsPerProfile: 2 }, new Date("2026-11-24T00:00:00Z"))).toBe(1);
      expect((await store.listSnapshots()).map((snapshot) => snapshot.asOf)).toEqual(["2026-11-23T21:00:00.000Z", "2026-11-22T21:00:00.000Z"]);
    } finally {
      await store.close();
      await dropSchema(server().url, "plugin_history");
    }
  });

  it("read_only opens without migrating: a schema with no history is an unavailable store that says what is missing", async () => {
    const error = await openPostgresHistory({ url: server().url, schema: "never_made", read_only: true }).then(
      (store) => store.close().then(() => null),
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ code: "NQ_HISTORY_UNAVAILABLE", reason: "missing" });
    expect((error as Error).message).toMatch(/schema never_made holds no history yet \(read_only opens never create it\)/);
    // …and it created nothing.
    const client = new pg.Client({ connectionString: server().url });
    await client.connect();
    const made = await client.query("select count(*)::int as n from information_schema.schemata where schema_name = 'never_made'");
    await client.end();
    expect(made.rows[0]!.n).toBe(0);
  });
  it("carries a history written under migration 0001 into the split tables, NULLs compared as equal", async () => {
    const url = server().url;
    const [current, old] = [`h_${randomBytes(6).toString("hex")}`, `h_${randomBytes(6).toString("hex")}`];
    const inSchema = (schema: string) =>
      new Kysely<HistoryDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` }) as unknown as PostgresPool }) });
    const chains = [1, 2].map((seed) => historyTestChain({ asOf: `2026-11-2${seed}T21:00:00.000Z`, seed }));
    chains[1]!.contracts[0] = { ...chains[1]!.contracts[0]!, multiplier: 5, rawSymbol: null };
    chains[1]!.contracts.push({ ...chains[1]!.contracts[1]! });
    // 0001's rows for these chains are what the view gives today: the view has 0001's columns.
    const writer = await openPostgresHistory({ url, schema: current });
    const ids: string[] = [];
    for (const chain of chains) ids.push((await writer.append({ profile: "p", chain, recordedAt: new Date("2026-11-22T21:00:07Z") })).id);
    await writer.close();
    const source = inSchema(current);
    const snapshots = await source.selectFrom("nq_history_snapshots").selectAll().orderBy("id").execute();
    const contracts = await source.selectFrom("nq_history_contracts").selectAll().orderBy("snapshot_id").orderBy("ordinal").execute();
    await source.destroy();

    const all = await historyMigrations("postgres").getMigrations();
    const target = inSchema(old);
    try {
      await migrateUnderLock(target as unknown as Kysely<unknown>, old, "history", { "0001-history-snapshots-and-contracts": all["0001-history-snapshots-and-contracts"]! });
      // The ids are GENERATED ALWAYS: kept as they were only with OVERRIDING SYSTEM VALUE.
      const insertSnapshots = target.insertInto("nq_history_snapshots").values(snapshots as never).compile();
      await target.executeQuery(CompiledQuery.raw(insertSnapshots.sql.replace(") values (", ") overriding system value values ("), [...insertSnapshots.parameters]));
      await target.executeQuery(CompiledQuery.raw(`select setval(pg_get_serial_sequence('nq_history_snapshots', 'id'), (select max(id) from nq_history_snapshots))`));
      await target.insertInto("nq_history_contracts").values(contracts as never).execute();
      const migrated = await openPostgresHistory({ url, schema: old });
      for (const [i, chain] of chains.entries()) expect((await migrated.getSnapshot(ids[i]!))?.contracts).toEqual(chain.contracts);
      const next = historyTestChain({ asOf: "2026-11-23T21:00:00.000Z", seed: 3 });
      const appended = await migrated.append({ profile: "p", chain: next, recordedAt: new Date() });
      expect((await migrated.getSnapshot(appended.id))?.contracts).toEqual(next.contracts);
      await migrated.close();
      const instruments = await target.selectFrom("nq_history_instruments").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
      // The first chain's instruments, plus the one whose terms changed; the repeated contract adds none, nor does the next day.
      expect(Number(instruments.n)).toBe(chains[0]!.contracts.length + 1);
    } finally {
      await target.destroy();
      await dropSchema(url, current);
      await dropSchema(url, old);
    }
  });
});
