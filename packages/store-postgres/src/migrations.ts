/**
 * Migrations that run once however many processes start together: each opener takes a session-level
 * advisory lock (one key per schema), and under it creates the schema, reads which migrations are applied,
 * and applies the rest, each in its own transaction — all on one connection, so a pool of one cannot
 * deadlock on itself. The second opener waits for the lock, then finds nothing left to do. A table that
 * records a migration this version does not know means a newer @nq/store-postgres made it: refused.
 */
import { type Kysely, type Migration, sql } from "kysely";

/** Named migrations in the order they apply; names sort in that order ("0001_…", "0002_…"). */
export type NamedMigrations = Record<string, Migration>;

export class NewerSchemaError extends Error {
  override readonly name = "NewerSchemaError";
}

/** Namespaces our advisory lock keys, so other software's locks on the same database never collide. */
const LOCK_NAMESPACE = "@nq/store-postgres migrations";

/**
 * Applies the pending migrations of one component ("cache", "history") in `schema`; returns the names it
 * applied. The connection's search_path is `schema`, so migrations create unqualified tables there.
 */
export async function migrateUnderLock(db: Kysely<unknown>, schema: string, component: string, migrations: NamedMigrations): Promise<string[]> {
  const table = sql.id(schema, `${component}_migrations`);
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(hashtext(${LOCK_NAMESPACE}), hashtext(${schema}))`.execute(connection);
    try {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(connection);
      await sql`create table if not exists ${table} (name text primary key, applied_at timestamptz not null default now())`.execute(connection);
      const applied = new Set((await sql<{ name: string }>`select name from ${table}`.execute(connection)).rows.map((row) => row.name));
      const known = Object.keys(migrations).sort();
      const unknown = [...applied].filter((name) => !migrations[name]);
      if (unknown.length > 0) {
        throw new NewerSchemaError(`the ${component} tables in schema ${schema} were migrated by a newer @nq/store-postgres (it applied ${unknown.join(", ")}, which this version does not know)`);
      }
      const done: string[] = [];
      for (const name of known) {
        if (applied.has(name)) continue;
        await sql`begin`.execute(connection);
        try {
          await migrations[name]!.up(connection);
          await sql`insert into ${table} (name) values (${name})`.execute(connection);
          await sql`commit`.execute(connection);
        } catch (error) {
          await sql`rollback`.execute(connection).catch(() => {});
          throw error;
        }
        done.push(name);
      }
      return done;
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${LOCK_NAMESPACE}), hashtext(${schema}))`.execute(connection).catch(() => {});
    }
  });
}
