/**
 * Opening a store, the same way for the cache and the history: resolve the config (a bad one names the
 * field), load the driver, make the pool (whose idle-connection errors are logged, never thrown at the
 * process), and bring the tables up to date under the advisory lock. Any failure is one
 * `StoreUnavailableError` naming the server without its password.
 */
import { Kysely, PostgresDialect, type PostgresPool } from "kysely";
import type { Logger } from "@nq/core";
import type { ConnectionConfig } from "./config.js";
import { ConnectionConfigError, loadPg, resolveConnection, type PgClient, type PgModule, type ResolvedConnection } from "./connection.js";
import { classify, StoreUnavailableError } from "./errors.js";
import { migrateUnderLock, NewerSchemaError, type NamedMigrations } from "./migrations.js";


export interface OpenStoreContext {
  baseDir: string;
  log: Logger;
  /** Where `${VARIABLE}`s in the url come from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Another driver with pg's shape; default: pg, loaded on first open. */
  pg?: PgModule;
}

export interface OpenedStore<DB> {
  db: Kysely<DB>;
  connection: ResolvedConnection;
  openClient(): PgClient;
}

export async function openStore<DB>(
  what: "cache" | "history",
  config: ConnectionConfig,
  context: OpenStoreContext,
  migrations: { component: string; migrations: NamedMigrations } | null,
): Promise<OpenedStore<DB>> {
  let connection: ResolvedConnection;
  try {
    connection = resolveConnection(config, { baseDir: context.baseDir, env: context.env ?? process.env, applicationName: `@nq/store-postgres ${what}` });
  } catch (error) {
    if (!(error instanceof ConnectionConfigError)) throw error;
    throw new StoreUnavailableError(what, "PostgreSQL", error.message, { reason: "config", fix: `correct the ${what} section of the profile` });
  }
  let pg: PgModule;
  try {
    pg = context.pg ?? (await loadPg());
  } catch (error) {
    throw new StoreUnavailableError(what, connection.location, (error as Error).message, { reason: "driver", fix: "pnpm add pg", cause: error });
  }
  const pool = new pg.Pool(connection.options);
  // An idle connection that breaks (the server restarts) emits 'error' on the pool; unhandled, it would end the process.
  pool.on("error", (error) => context.log.warn(`a ${what} connection to ${connection.location} broke while idle: ${classify(error, connection.secrets).problem}`));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: pool as unknown as PostgresPool }) });
  if (migrations) {
    try {
      const applied = await migrateUnderLock(db as unknown as Kysely<unknown>, connection.schema, migrations.component, migrations.migrations);
      if (applied.length > 0) context.log.debug(`${connection.location}: applied ${what} migrations ${applied.join(", ")}`);
    } catch (error) {
      await db.destroy().catch(() => {});
      if (error instanceof NewerSchemaError) {
        throw new StoreUnavailableError(what, connection.location, error.message, { reason: "newer-version", fix: "upgrade @nq/store-postgres on this machine, or use another schema", cause: error });
      }
      const { reason, problem, fix } = classify(error, connection.secrets);
      throw new StoreUnavailableError(what, connection.location, problem, { reason, fix, cause: error });
    }
  }
  return {
    db,
    connection,
    openClient: () => {
      const client = new pg.Client(connection.options);
      return client;
    },
  };
}
