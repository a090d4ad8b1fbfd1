/**
 * @nq/store-postgres/test-support — a throwaway PostgreSQL server for tests and benchmarks (this package's
 * and any other's): `startPostgresServer()` for scripts, `describeWithPostgres()` for vitest suites.
 */
export {
  DEFAULT_POSTGRES_BIN_DIR,
  findPostgresBinaries,
  startPostgresServer,
  type PostgresBinaries,
  type PostgresServer,
  type StartPostgresOptions,
} from "./postgres-server.js";
export { describeWithPostgres, type ServerHandle } from "./with-postgres.js";
