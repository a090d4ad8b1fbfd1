/** Direct access to a cache file, beside the cache, for tests that damage or inspect it. */
import { Kysely, SqliteDialect } from "kysely";
import type { NativeOpenOptions, NativeSqliteDatabase } from "../native-driver.js";

type Driver = { default: new (file: string, options?: Partial<NativeOpenOptions>) => NativeSqliteDatabase };

export async function openRawDatabase(file: string): Promise<Kysely<any>> {
  const specifier = "better-sqlite3";
  const { default: Database } = (await import(specifier)) as Driver;
  return new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(file, { timeout: 5000 }) }) });
}
