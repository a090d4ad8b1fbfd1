import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import pg from "pg";
import { findPostgresBinaries, startPostgresServer } from "./postgres-server.js";
import { describeWithPostgres } from "./with-postgres.js";

async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

describeWithPostgres("the throwaway PostgreSQL server", (server) => {
  it("answers on 127.0.0.1 with password authentication, in the database the URL names", async () => {
    const { url, port, password } = server();
    expect(url).toBe(`postgres://nq:${password}@127.0.0.1:${port}/nq`);
    const rows = await query(url, "select current_database() as db, inet_server_addr()::text as addr, current_setting('server_version_num') as version");
    expect(rows[0]).toMatchObject({ db: "nq", addr: "127.0.0.1/32" });
    expect(Number(rows[0]!.version)).toBeGreaterThanOrEqual(150000);
    await expect(query(url.replace(password, "wrong-password"), "select 1")).rejects.toThrow(/password authentication failed/);
  });

  it("creates further databases on request", async () => {
    const url = await server().createDatabase();
    const rows = await query(url, "select current_database() as db");
    expect(String(rows[0]!.db)).toMatch(/^nq_/);
  });
});

describe("startPostgresServer", () => {
  const found = findPostgresBinaries();
  it.skipIf(!found.available)("stops the server and removes its directory; a second stop is harmless", async () => {
    const server = await startPostgresServer();
    expect(existsSync(server.directory)).toBe(true);
    await server.stop();
    await server.stop();
    expect(existsSync(server.directory)).toBe(false);
    await expect(query(server.url, "select 1")).rejects.toThrow(/ECONNREFUSED/);
  });

  it("says which program is missing and how to install it", () => {
    const missing = findPostgresBinaries("/nonexistent/postgresql/bin");
    expect(missing).toMatchObject({ available: false });
    expect(missing.available ? "" : missing.reason).toMatch(/initdb is not at \/nonexistent\/postgresql\/bin\/initdb \(install Debian's postgresql package/);
  });
});
