/**
 * Vitest glue for suites that need a real PostgreSQL: `describeWithPostgres(name, (server) => { … })`
 * starts one server for the suite (beforeAll) and stops it afterwards (afterAll, which vitest runs also
 * when tests fail). Without the server programs the suite is skipped with the reason in its name — except
 * under CI=true, where it fails: CI must always run these tests (`.ci/run` installs postgresql).
 */
import { afterAll, beforeAll, describe } from "vitest";
import { findPostgresBinaries, startPostgresServer, type PostgresServer, type StartPostgresOptions } from "./postgres-server.js";

/** The running server; reading it before `beforeAll` has run is a mistake and throws. */
export type ServerHandle = () => PostgresServer;

export function describeWithPostgres(name: string, body: (server: ServerHandle) => void, options: StartPostgresOptions = {}): void {
  const found = findPostgresBinaries(options.binDir);
  const mustRun = process.env.CI === "true";
  if (!found.available && !mustRun) {
    describe.skip(`${name} — skipped: ${found.reason}`, () => body(() => {
      throw new Error("no PostgreSQL server: the suite is skipped");
    }));
    return;
  }
  describe(name, () => {
    let server: PostgresServer | null = null;
    beforeAll(async () => {
      if (!found.available) throw new Error(`CI=true requires a real PostgreSQL for these tests, but ${found.reason}`);
      server = await startPostgresServer(options);
    });
    afterAll(async () => {
      await server?.stop();
    });
    body(() => {
      if (!server) throw new Error("the PostgreSQL server is not running (beforeAll failed or has not run yet)");
      return server;
    });
  });
}
