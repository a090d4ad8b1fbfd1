/**
 * Opening the cache: the url's `${VARIABLE}`s, TLS options, and the errors a person gets when the server
 * cannot be used — each one line, naming the server without its password.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openPostgresCache, postgresCacheConfigSchema, StoreUnavailableError } from "./index.js";
import { resolveConnection, substituteEnv } from "./connection.js";
import { describeWithPostgres } from "./test-support/with-postgres.js";

function issues(input: unknown): string[] {
  const result = postgresCacheConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

async function openFailure(options: Parameters<typeof openPostgresCache>[0]): Promise<StoreUnavailableError> {
  try {
    const cache = await openPostgresCache(options);
    await cache.close();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreUnavailableError);
    return error as StoreUnavailableError;
  }
  throw new Error("expected the cache not to open");
}

describe("the config", () => {
  it("fills its defaults and takes the whole cache section of a profile", () => {
    const parsed = postgresCacheConfigSchema.parse({ plugin: "@nq/store-postgres", enabled: true, url: "postgres://nq:${NQ_PG_PASSWORD}@db:5432/nq" });
    expect(parsed).toMatchObject({ pool_size: 4, schema: "nq", tls: { enabled: false, reject_unauthorized: true }, ttl: "24h", store_raw: false, connect_timeout_ms: 10_000 });
    expect(parsed.lease_ms).toBeUndefined();
  });

  it("names the field and what was expected", () => {
    expect(issues({})).toContain("url: Invalid input: expected string, received undefined");
    expect(issues({ url: "postgres://h/db", pool_size: 0 }).join("\n")).toMatch(/^pool_size: expected at least 1 connection/m);
    expect(issues({ url: "postgres://h/db", schema: "Bad-Name" }).join("\n")).toMatch(/^schema: expected a lower-case SQL identifier/m);
    expect(issues({ url: "postgres://h/db", ttl: "1 day" }).join("\n")).toMatch(/^ttl: .*"24h"/m);
    expect(issues({ url: "postgres://h/db", lease_ms: 5 }).join("\n")).toMatch(/^lease_ms:/m);
    expect(issues({ url: "postgres://h/db", pasword: "x" }).join("\n")).toMatch(/pasword/);
  });

  it("refuses TLS settings that would be silently ignored", () => {
    expect(issues({ url: "postgres://h/db", tls: { ca_file: "ca.pem" } }).join("\n")).toMatch(/^tls\.ca_file: is set but tls\.enabled is false/m);
    expect(issues({ url: "postgres://h/db", tls: { reject_unauthorized: false } }).join("\n")).toMatch(/^tls\.reject_unauthorized: is false but tls\.enabled is false/m);
    expect(issues({ url: "postgres://h/db", tls: { enabled: true, verify: true } }).join("\n")).toMatch(/verify/);
    expect(() => resolveConnection(postgresCacheConfigSchema.parse({ url: "postgres://u:p@h/db?sslmode=require" }), { baseDir: "/", applicationName: "t" })).toThrow(
      /url sets sslmode; use the tls section instead/,
    );
  });

  it("reads the CA file relative to the profile's folder and says when it is not a PEM file", () => {
    const dir = mkdtempSync(join(tmpdir(), "nq-pg-ca-"));
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    writeFileSync(join(dir, "not-a-ca.txt"), "hello");
    const config = (caFile: string) => postgresCacheConfigSchema.parse({ url: "postgres://u:p@h/db", tls: { enabled: true, ca_file: caFile } });
    expect(resolveConnection(config("ca.pem"), { baseDir: dir, applicationName: "t" }).options.ssl).toMatchObject({ rejectUnauthorized: true, ca: expect.stringContaining("BEGIN CERTIFICATE") });
    expect(() => resolveConnection(config("missing.pem"), { baseDir: dir, applicationName: "t" })).toThrow(new RegExp(`tls\\.ca_file ${join(dir, "missing.pem")} cannot be read \\(ENOENT\\)`));
    expect(() => resolveConnection(config("not-a-ca.txt"), { baseDir: dir, applicationName: "t" })).toThrow(/holds no PEM certificate/);
    rmSync(dir, { recursive: true, force: true });
  });

  it("substitutes ${VARIABLE} and ${VARIABLE:-default}, and names an unset variable without showing the url", () => {
    expect(substituteEnv("postgres://nq:${PW}@${HOST:-db}:5432/nq", { PW: "s3cret" })).toBe("postgres://nq:s3cret@db:5432/nq");
    expect(() => substituteEnv("postgres://nq:${NQ_PG_PASSWORD}@db/nq", {})).toThrow(/^url uses \$\{NQ_PG_PASSWORD\}, which is not set in the environment/);
  });

  it("gives a location without the password", () => {
    const resolved = resolveConnection(postgresCacheConfigSchema.parse({ url: "postgres://nq:${PW}@db.internal:5433/fleet", schema: "desk" }), {
      baseDir: "/",
      env: { PW: "hunter2-secret" },
      applicationName: "t",
    });
    expect(resolved.location).toBe("postgres://nq@db.internal:5433/fleet (schema desk)");
    expect(resolved.options.connectionString).toContain("hunter2-secret");
  });
});

describe("opening without a usable server", () => {
  it("an unset variable in the url is a config error naming it", async () => {
    const error = await openFailure({ url: "postgres://nq:${NQ_TEST_UNSET_PASSWORD}@127.0.0.1:1/nq", env: {} });
    expect(error).toMatchObject({ code: "NQ_CACHE_UNAVAILABLE", reason: "config" });
    expect(error.message).toMatch(/url uses \$\{NQ_TEST_UNSET_PASSWORD\}, which is not set/);
  });

  it("no server at the address: unreachable, with the location and no password", async () => {
    const error = await openFailure({ url: "postgres://nq:${PW}@127.0.0.1:1/nq", env: { PW: "do-not-print-me" }, connect_timeout_ms: 2_000 });
    expect(error).toMatchObject({ code: "NQ_CACHE_UNAVAILABLE", reason: "unreachable" });
    expect(error.message).toMatch(/^cache unavailable: postgres:\/\/nq@127\.0\.0\.1:1\/nq \(schema nq\): .*ECONNREFUSED.*Fix: check that the PostgreSQL server is running/);
    expect(error.message).not.toContain("do-not-print-me");
    expect(error.message.split("\n")).toHaveLength(1);
  });
});

describeWithPostgres("opening against a real server", (server) => {
  it("a wrong password: auth, and the wrong password is not shown", async () => {
    const { port } = server();
    const error = await openFailure({ url: `postgres://nq:wrong-password-123@127.0.0.1:${port}/nq` });
    expect(error).toMatchObject({ reason: "auth" });
    expect(error.message).toMatch(/password authentication failed/);
    expect(error.message).not.toContain("wrong-password-123");
  });

  it("a database that does not exist: named, with how to create it", async () => {
    const error = await openFailure({ url: server().urlFor("no_such_db") });
    expect(error).toMatchObject({ reason: "missing-database" });
    expect(error.message).toMatch(/database "no_such_db" does not exist.*createdb/);
    expect(error.message).not.toContain(server().password);
  });

  it("tls.enabled against a server without TLS fails clearly", async () => {
    const error = await openFailure({ url: server().url, tls: { enabled: true } });
    expect(error.message).toMatch(/does not support SSL/);
  });
});

describeWithPostgres(
  "TLS against a server with a self-signed certificate",
  (server) => {
    it("connects when the certificate is trusted through ca_file, and refuses it otherwise", async () => {
      const { url, caFile } = server();
      const trusted = await openPostgresCache({ url, schema: "tls_ok", tls: { enabled: true, ca_file: caFile! } });
      expect((await trusted.stats(new Date())).entries).toBe(0);
      await trusted.close();

      const untrusted = await openFailure({ url, schema: "tls_refused", tls: { enabled: true } });
      expect(untrusted.message).toMatch(/self[- ]signed certificate/);

      const unchecked = await openPostgresCache({ url, schema: "tls_unchecked", tls: { enabled: true, reject_unauthorized: false } });
      await unchecked.close();
    });
  },
  { tls: true },
);
