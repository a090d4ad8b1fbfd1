/**
 * From a config to a connection pool: `${VARIABLE}` substitution in the URL, a location to show that never
 * holds the password, TLS options, and the `pg` driver — a peer dependency loaded on first open, typed here
 * only as far as this package uses it (kysely's pattern), so the package installs without it.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { registerSecret } from "@nq/core";
import type { ConnectionConfig } from "./config.js";


/** The slice of pg's Pool this package uses (kysely's PostgresDialect needs connect/end). */
export interface PgPool {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  on(event: "error", listener: (error: Error) => void): unknown;
}

export interface PgQueryResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
  command?: string;
}

export interface PgPoolClient {
  query(text: string, values?: unknown[]): Promise<PgQueryResult>;
  release(destroy?: boolean | Error): void;
}

/** The slice of pg's Client: the LISTEN connection of single flight. */
export interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<PgQueryResult>;
  end(): Promise<void>;
  on(event: "notification", listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "end", listener: () => void): unknown;
}

export interface PgConnectionOptions {
  connectionString: string;
  max?: number;
  ssl?: false | { ca?: string; rejectUnauthorized: boolean };
  connectionTimeoutMillis?: number;
  idleTimeoutMillis?: number;
  application_name?: string;
  /** Server settings for every connection ("-c search_path=nq"). */
  options?: string;
}

export interface PgModule {
  Pool: new (options: PgConnectionOptions) => PgPool;
  Client: new (options: PgConnectionOptions) => PgClient;
}

let loaded: Promise<PgModule> | null = null;

/** The `pg` driver; rejects with what to install when it is missing. */
export function loadPg(): Promise<PgModule> {
  loaded ??= import("pg").then(
    (module: { default?: unknown }) => (module.default ?? module) as PgModule,
    (error: unknown) => {
      loaded = null;
      throw new Error(`the PostgreSQL driver "pg" is not installed (${(error as Error).message}); install it beside @nq/store-postgres: pnpm add pg`, { cause: error });
    },
  );
  return loaded;
}

/** A resolved connection: what to hand pg, and how to name it without secrets. */
export interface ResolvedConnection {
  options: PgConnectionOptions;
  /** postgres://user@host:port/database (schema name) — never the password. */
  location: string;
  schema: string;
  /** The password (and the whole URL) to keep out of every message. */
  secrets: string[];
}

export class ConnectionConfigError extends Error {
  override readonly name = "ConnectionConfigError";
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VARIABLE}` and `${VARIABLE:-default}` from `env`. An unset variable without a default is a
 * `ConnectionConfigError` naming it (never the rest of the URL, which may hold a password).
 */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv, field = "url"): string {
  const missing: string[] = [];
  const out = text.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined && value !== "") return value;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return "";
  });
  if (missing.length > 0) {
    throw new ConnectionConfigError(`${field} uses \${${missing.join("}, ${")}}, which ${missing.length === 1 ? "is" : "are"} not set in the environment (set ${missing.join(", ")}, e.g. in the profile's .env file)`);
  }
  return out;
}

export function resolveConnection(config: ConnectionConfig, options: { baseDir: string; env?: NodeJS.ProcessEnv; applicationName: string }): ResolvedConnection {
  const url = substituteEnv(config.url, options.env ?? process.env);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConnectionConfigError(`url is not a valid URL; expected postgres://user:password@host:port/database`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new ConnectionConfigError(`url must start with postgres:// or postgresql://, got ${parsed.protocol}//`);
  }
  if (!parsed.hostname && !parsed.searchParams.get("host")) throw new ConnectionConfigError("url names no host; expected postgres://user:password@host:port/database");
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!database) throw new ConnectionConfigError("url names no database; expected postgres://user:password@host:port/database");
  const tlsParams = [...parsed.searchParams.keys()].filter((name) => name.startsWith("ssl"));
  if (tlsParams.length > 0) {
    throw new ConnectionConfigError(`url sets ${tlsParams.join(", ")}; use the tls section instead (enabled, ca_file, reject_unauthorized), so TLS is configured in one place`);
  }
  const password = decodeURIComponent(parsed.password);
  const secrets = [url, password, parsed.password].filter((secret) => secret.length > 0);
  for (const secret of secrets) registerSecret(secret);
  const user = decodeURIComponent(parsed.username) || "(default user)";
  const host = parsed.hostname || parsed.searchParams.get("host") || "";
  const location = `postgres://${encodeURIComponent(user)}@${host}${parsed.port ? `:${parsed.port}` : ""}/${database} (schema ${config.schema})`;

  let ssl: PgConnectionOptions["ssl"] = false;
  if (config.tls.enabled) {
    ssl = { rejectUnauthorized: config.tls.reject_unauthorized };
    if (config.tls.ca_file) {
      const caFile = isAbsolute(config.tls.ca_file) ? config.tls.ca_file : resolve(options.baseDir, config.tls.ca_file);
      try {
        ssl.ca = readFileSync(caFile, "utf8");
      } catch (error) {
        throw new ConnectionConfigError(`tls.ca_file ${caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); expected a PEM file of certificate authorities`);
      }
      if (!ssl.ca.includes("-----BEGIN CERTIFICATE-----")) throw new ConnectionConfigError(`tls.ca_file ${caFile} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`);
    }
  }
  return {
    options: {
      connectionString: url,
      max: config.pool_size,
      ssl,
      connectionTimeoutMillis: config.connect_timeout_ms,
      idleTimeoutMillis: 30_000,
      application_name: options.applicationName,
      // Every connection works in the configured schema, so migrations and queries name tables unqualified.
      options: `-c search_path=${config.schema}`,
    },
    location,
    schema: config.schema,
    secrets,
  };
}

/** One line, without any of `secrets`, with the error's code when it has one ("ECONNREFUSED: …"). */
export function describeDriverError(error: unknown, secrets: readonly string[]): string {
  const code = (error as { code?: unknown } | null)?.code;
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof AggregateError && error.errors.length > 0 && !message) message = error.errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner))).join("; ");
  if (!message) message = error instanceof Error ? error.name : "unknown error";
  const text = typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
  return redact(text.replace(/\s*\n\s*/g, " ").trim(), secrets);
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}
