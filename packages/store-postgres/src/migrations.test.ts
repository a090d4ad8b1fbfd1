/**
 * Migrations under the advisory lock: many processes (here: many pools, each its own sessions) opening a
 * fresh schema at once apply each migration exactly once, and a schema a newer version migrated is refused.
 */
import { Kysely, PostgresDialect, sql, type PostgresPool } from "kysely";
import pg from "pg";
import { expect, it } from "vitest";
import { cacheMigrations, migrateUnderLock, openPostgresCache, StoreUnavailableError } from "./index.js";
import { describeWithPostgres } from "./test-support/with-postgres.js";

function pool(url: string, schema: string): Kysely<unknown> {
  const p = new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` });
  return new Kysely({ dialect: new PostgresDialect({ pool: p as unknown as PostgresPool }) });
}

describeWithPostgres("migrations under an advisory lock", (server) => {
  it("eight openers at once: each migration runs once, every opener gets the finished tables", async () => {
    const schema = "race_migrations";
    const dbs = Array.from({ length: 8 }, () => pool(server().url, schema));
    let runs = 0;
    // A slow migration widens the window in which a second opener would run it too without the lock.
    const migrations = {
      "0001_slow": {
        async up(db: Kysely<unknown>) {
          runs += 1;
          await sql`select pg_sleep(0.3)`.execute(db);
          await sql`create table slow_made (id integer primary key)`.execute(db);
        },
      },
      "0002_after": {
        async up(db: Kysely<unknown>) {
          runs += 1;
          await sql`insert into slow_made (id) values (1)`.execute(db);
        },
      },
    };
    try {
      const applied = await Promise.all(dbs.map((db) => migrateUnderLock(db, schema, "race", migrations)));
      expect(runs).toBe(2);
      expect(applied.flat().sort()).toEqual(["0001_slow", "0002_after"]);
      const made = await sql<{ n: string }>`select count(*)::text as n from slow_made`.execute(dbs[0]!);
      expect(made.rows[0]!.n).toBe("1");
    } finally {
      await Promise.all(dbs.map((db) => db.destroy()));
    }
  });

  it("eight caches opening one fresh schema at once all open and share one set of tables", async () => {
    const caches = await Promise.all(Array.from({ length: 8 }, () => openPostgresCache({ url: server().url, schema: "race_caches", pool_size: 1 })));
    try {
      const db = pool(server().url, "race_caches");
      const applied = await sql<{ name: string }>`select name from cache_migrations`.execute(db);
      expect(applied.rows.map((row) => row.name)).toEqual(Object.keys(cacheMigrations));
      await db.destroy();
      expect((await Promise.all(caches.map((cache) => cache.stats(new Date())))).every((stats) => stats.entries === 0)).toBe(true);
    } finally {
      await Promise.all(caches.map((cache) => cache.close()));
    }
  });

  it("refuses tables migrated by a newer version, saying so", async () => {
    const cache = await openPostgresCache({ url: server().url, schema: "from_the_future" });
    await cache.close();
    const db = pool(server().url, "from_the_future");
    await sql`insert into cache_migrations (name) values ('0099_from_a_newer_version')`.execute(db);
    await db.destroy();
    const error = await openPostgresCache({ url: server().url, schema: "from_the_future" }).then(
      (opened) => opened.close().then(() => null),
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason: "newer-version", code: "NQ_CACHE_UNAVAILABLE" });
    expect((error as Error).message).toMatch(/migrated by a newer @nq\/store-postgres \(it applied 0099_from_a_newer_version/);
  });
});
