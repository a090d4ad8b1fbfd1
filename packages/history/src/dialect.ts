/**
 * What differs between the dialects: the column types, how a boolean and a bind parameter are written,
 * and how many parameters one statement may carry. Every query is otherwise the same kysely query.
 */
import type { ColumnDataType } from "kysely";

export type HistoryDialect = "sqlite" | "postgres";

/** The kinds of column history uses; each dialect names its own type for them. */
export type ColumnKind = "text" | "double" | "bigint" | "integer" | "boolean";

export interface DialectTraits {
  name: HistoryDialect;
  columnType(kind: ColumnKind): ColumnDataType;
  encodeBoolean(value: boolean): number | boolean;
  /** The n-th (1-based) bind parameter in raw SQL. */
  placeholder(n: number): string;
  /** SQLite's default SQLITE_MAX_VARIABLE_NUMBER (32766 since 3.32); the PostgreSQL protocol's 65535. */
  maxBindParameters: number;
}

const sqliteTypes: Record<ColumnKind, ColumnDataType> = { text: "text", double: "real", bigint: "integer", integer: "integer", boolean: "integer" };
const postgresTypes: Record<ColumnKind, ColumnDataType> = { text: "text", double: "double precision", bigint: "bigint", integer: "integer", boolean: "boolean" };

export function dialectTraits(dialect: HistoryDialect): DialectTraits {
  if (dialect === "sqlite") {
    return { name: dialect, columnType: (kind) => sqliteTypes[kind], encodeBoolean: (value) => (value ? 1 : 0), placeholder: () => "?", maxBindParameters: 32_766 };
  }
  if (dialect === "postgres") {
    return { name: dialect, columnType: (kind) => postgresTypes[kind], encodeBoolean: (value) => value, placeholder: (n) => `$${n}`, maxBindParameters: 65_535 };
  }
  throw new TypeError(`unknown history dialect ${JSON.stringify(dialect)}: expected "sqlite" or "postgres"`);
}
