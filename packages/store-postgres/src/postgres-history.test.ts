import { randomBytes } from "node:crypto";
import type { ChainHistory } from "@nq/core";
import { describeChainHistoryConformance, historyTestChain } from "@nq/core/testing";
import pg from "pg";
import { expect, it } from "vitest";
import { history, openPostgresHistory, postgresHistoryConfigSchema, StoreUnavailableError } from "./index.js";
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
});
