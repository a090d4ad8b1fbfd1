import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadProfile, parseProfile, parseSourceConfig, parseSourceConfigs, readDotenvFiles, toChainRequest } from "./config.js";
import { ConfigError } from "./errors.js";
import { redactSecrets } from "./secrets.js";
import { defineSource } from "./source.js";

const profileDirs: string[] = [];
afterAll(() => {
  for (const dir of profileDirs) rmSync(dir, { recursive: true, force: true });
});

function profileFile(json: unknown, dotenv?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-profile-"));
  profileDirs.push(dir);
  const file = join(dir, "profile.json");
  writeFileSync(file, typeof json === "string" ? json : JSON.stringify(json));
  if (dotenv !== undefined) writeFileSync(join(dir, ".env"), dotenv);
  return file;
}

const minimal = {
  profile_name: "all_sources",
  data_source_priority: ["databento", "saved"],
  data_sources: {
    databento: { plugin: "@nq/source-databento", config: { api_key: "${DATABENTO_API_KEY}", base_url: "${DB_URL:-http://127.0.0.1:9}" } },
    saved: { plugin: "@nq/source-saved", config: { dir: "out" } },
  },
};

describe("profiles", () => {
  it("fills defaults and substitutes variables, from the environment before .env", () => {
    const file = profileFile(minimal, "DATABENTO_API_KEY=db-fromdotenvfromdotenvfromdot12\n# comment\nDB_URL='http://127.0.0.1:1234'\n");
    const loaded = loadProfile(file, { env: { DB_URL: "http://127.0.0.1:5555" } });
    expect(loaded.profile.fallback).toBe("fallback");
    expect(loaded.profile.request).toEqual({ product: "NQ" });
    expect(loaded.profile.data_sources.databento!.enabled).toBe(true);
    expect(loaded.profile.data_sources.databento!.config).toEqual({ api_key: "db-fromdotenvfromdotenvfromdot12", base_url: "http://127.0.0.1:5555" });
    expect(loaded.missingVariables).toEqual({});
    expect(redactSecrets("key=db-fromdotenvfromdotenvfromdot12")).not.toContain("fromdot12");
  });

  it("records a variable that is not set against the source that needs it, instead of failing", () => {
    const loaded = loadProfile(profileFile(minimal), { env: {}, dotenvFiles: [] });
    expect(loaded.missingVariables).toEqual({ databento: ["DATABENTO_API_KEY"] });
    expect(loaded.profile.data_sources.databento!.config).toEqual({ base_url: "http://127.0.0.1:9" });
  });

  it("names the JSON path and the expectation of a wrong field", () => {
    const bad = { ...minimal, data_sources: { ...minimal.data_sources, saved: { plugin: "@nq/source-saved", enabled: "yes" } } };
    const error = (() => {
      try {
        loadProfile(profileFile(bad), { env: {} });
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/data_sources\.saved\.enabled: .*expected boolean/);
    expect(error.path).toBe("data_sources.saved.enabled");
  });

  it("rejects a priority entry that names no source, an unknown field, and a file that is not JSON", () => {
    expect(() => loadProfile(profileFile({ ...minimal, data_source_priority: ["databento", "polygon"] }), { env: {} })).toThrow(
      /data_source_priority\[1\]: names "polygon", which is not a key of "data_sources"/,
    );
    expect(() => loadProfile(profileFile({ ...minimal, fallbak: "strict" }), { env: {} })).toThrow(/fallbak/);
    expect(() => loadProfile(profileFile("{ nope"), { env: {} })).toThrow(/is not valid JSON/);
    expect(() => loadProfile("/definitely/not/here.json")).toThrow(/cannot read the profile/);
  });

  it("fails on an unset variable outside a source's config", () => {
    expect(() => loadProfile(profileFile({ ...minimal, output: { dir: "${OUT_DIR}" } }), { env: {}, dotenvFiles: [] })).toThrow(/output\.dir uses \$\{OUT_DIR\}/);
  });

  it("validates a source's own config with its schema, naming the full path", () => {
    const source = defineSource({
      name: "acme",
      capabilities: {} as never,
      configSchema: z.object({ timeout_ms: z.number() }).strict(),
      create: () => ({ load: async () => ({ rows: [], asOf: new Date() }) }),
    });
    expect(parseSourceConfig(source, "acme", { timeout_ms: 5 }, "p.json")).toEqual({ timeout_ms: 5 });
    expect(() => parseSourceConfig(source, "acme", { timeout_ms: "5" }, "p.json")).toThrow(/data_sources\.acme\.config\.timeout_ms: .*expected number/);
  });

  it("turns the profile's request section into a ChainRequest", () => {
    const loaded = loadProfile(profileFile({ ...minimal, request: { product: "nq", max_expirations: 3, strike_min: 20000 } }), { env: {} });
    expect(toChainRequest(loaded.profile, { asOf: "2026-11-20T21:00:00.000Z" })).toEqual({ product: "NQ", maxExpirations: 3, strikeMin: 20000, asOf: "2026-11-20T21:00:00.000Z" });
  });

  it("reads .env lines with export, quotes and comments", () => {
    const file = profileFile({}, 'export A=1\nB="two words"\nC=three # note\n#D=4\n');
    expect(readDotenvFiles([join(file, "..", ".env")])).toEqual({ A: "1", B: "two words", C: "three" });
  });

  describe("papercuts (issues 17 and 18)", () => {
    const where = { path: "p.json", baseDir: "/" };
    const source = (name: string, shape: z.ZodRawShape) =>
      defineSource({ name, capabilities: {} as never, configSchema: z.object(shape).strict(), create: () => ({ load: async () => ({ rows: [], asOf: new Date() }) }) });
    const fail = (run: () => unknown): ConfigError => {
      try {
        run();
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error("did not throw");
    };

    it("has a per-source deadline, 60 s by default, overridable per source", () => {
      const loaded = parseProfile({ ...minimal, data_sources: { ...minimal.data_sources, saved: { plugin: "x", deadline_ms: 5_000 } } }, { ...where, env: {} });
      expect(loaded.profile.source_deadline_ms).toBe(60_000);
      expect(loaded.profile.data_sources.saved!.deadline_ms).toBe(5_000);
      expect(() => parseProfile({ ...minimal, source_deadline_ms: 0 }, { ...where, env: {} })).toThrow(/source_deadline_ms/);
    });

    it("reports every source's config problems at once, with the top level's in the same round", () => {
      const loaded = parseProfile({ ...minimal, data_sources: { ...minimal.data_sources, databento: { plugin: "x", config: { api_key: "k", timeout_ms: "5" } } } }, { ...where, env: {} });
      const definitions = { databento: source("databento", { api_key: z.string(), timeout_ms: z.number() }), saved: source("saved", { dir: z.number() }), off: null };
      const error = fail(() => parseSourceConfigs(loaded, definitions));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(/data_sources\.databento\.config\.timeout_ms: .*expected number[\s\S]*data_sources\.saved\.config\.dir: .*expected number/);
      expect(error.path).toBe("data_sources.databento.config.timeout_ms");
      const good = parseSourceConfigs(loaded, { databento: source("databento", { api_key: z.string(), timeout_ms: z.string() }) });
      expect(good).toEqual({ databento: { api_key: "k", timeout_ms: "5" } });
      // a source whose variable is not set is left to the runner to skip, not failed
      const unset = loadProfile(profileFile(minimal), { env: {}, dotenvFiles: [] });
      expect(parseSourceConfigs(unset, { databento: definitions.databento })).toEqual({});
      // an unset variable and a wrong field elsewhere: one error, both named
      const both = fail(() => parseProfile({ ...minimal, profile_name: "${NAME}", fallback: "strikt" }, { ...where, env: {} }));
      expect(both.message).toMatch(/profile_name uses \$\{NAME\}, which is not set/);
      expect(both.message).toMatch(/fallback: /);
    });

    it("names the variable and the field when an unset variable empties a required field", () => {
      const error = fail(() => parseProfile({ ...minimal, profile_name: "${PROFILE_NAME}" }, { ...where, env: {} }));
      expect(error.message).toContain("profile_name uses ${PROFILE_NAME}, which is not set");
      expect(error.message).not.toMatch(/received undefined/);
      expect(loadProfile(profileFile(minimal), { env: {}, dotenvFiles: [] }).unsetVariables).toEqual([{ path: "data_sources.databento.config.api_key", variable: "DATABENTO_API_KEY" }]);
    });

    it("substitutes variables inside strings", () => {
      const loaded = parseProfile(
        { ...minimal, output: { dir: "out-${RUN}-x" }, data_sources: { saved: { plugin: "p", config: { url: "https://${HOST}:${PORT:-443}/v0?a=1" } } }, data_source_priority: ["saved"] },
        { ...where, env: { RUN: "r1", HOST: "example.test" } },
      );
      expect(loaded.profile.output.dir).toBe("out-r1-x");
      expect(loaded.profile.data_sources.saved!.config).toEqual({ url: "https://example.test:443/v0?a=1" });
      // a variable set to "" empties its part of a string, not the whole value; alone, it is still "not set"
      const empty = parseProfile(
        { ...minimal, output: { dir: "out-${SUFFIX}" }, data_sources: { saved: { plugin: "p", config: { name: "nq-${TAG}-chain", key: "${KEY}" } } }, data_source_priority: ["saved"] },
        { ...where, env: { SUFFIX: "", TAG: "", KEY: "" } },
      );
      expect(empty.profile.output.dir).toBe("out-");
      expect(empty.profile.data_sources.saved!.config).toEqual({ name: "nq--chain" });
      expect(empty.missingVariables).toEqual({ saved: ["KEY"] });
    });

    it("bounds nesting depth with a ConfigError instead of a RangeError", () => {
      let deep: unknown = "x";
      for (let i = 0; i < 5_000; i++) deep = { a: deep };
      const error = fail(() => parseProfile({ ...minimal, data_sources: { ...minimal.data_sources, saved: { plugin: "p", config: { deep } } } }, { ...where, env: {} }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toMatch(/data_sources\.saved\.config\.deep\.a\.a.*: nested more than 32 levels deep/);
      const file = profileFile(`{"profile_name":${"[".repeat(3000)}${"]".repeat(3000)}}`);
      expect(() => loadProfile(file, { env: {} })).toThrow(/nested more than 32 levels/);
    });

    it("rejects a source named twice in data_source_priority, and a list too long to be real, naming the problem", () => {
      const twice = fail(() => parseProfile({ ...minimal, data_source_priority: ["databento", "saved", "databento", "databento"] }, { ...where, env: {} }));
      expect(twice.message).toMatch(/data_source_priority\[2\]: names "databento" more than once/);
      expect(twice.message.match(/more than once/g)).toHaveLength(1);
      const huge = fail(() => parseProfile({ ...minimal, data_source_priority: Array.from({ length: 100_000 }, () => "saved") }, { ...where, env: {} }));
      expect(huge.message).toMatch(/data_source_priority: lists 100000 names; expected at most 64/);
      const bigFile = profileFile(JSON.stringify({ ...minimal, data_source_priority: Array.from({ length: 200_000 }, () => "saved") }));
      expect(() => loadProfile(bigFile, { env: {} })).toThrow(/a profile is a few KB/);
    });

    it("registers a variable used in a field the schema marks secret, whatever the variable is called", () => {
      const loaded = parseProfile(
        { ...minimal, data_source_priority: ["acme"], data_sources: { acme: { plugin: "p", config: { login: "${ACME_LOGIN}", header: "Bearer ${ACME_BEARER}", url: "http://${ACME_HOST}" } } } },
        { ...where, env: { ACME_LOGIN: "login-0123456789", ACME_BEARER: "bearer-0123456789", ACME_HOST: "host-0123456789" } },
      );
      expect(redactSecrets("login-0123456789 bearer-0123456789")).toBe("login-0123456789 bearer-0123456789");
      const acme = source("acme", { login: z.string().meta({ secret: true }), header: z.string().meta({ secret: true }).optional(), url: z.string() });
      parseSourceConfigs(loaded, { acme });
      expect(redactSecrets("login-0123456789 / bearer-0123456789 / Bearer bearer-0123456789 / host-0123456789")).toBe("***789 / ***789 / ***789 / host-0123456789");
      // and a literal in a secret-marked field, through parseSourceConfig alone
      parseSourceConfig(source("lit", { pass: z.string().meta({ secret: true }) }), "lit", { pass: "literal-0123456789" }, "p.json");
      expect(redactSecrets("literal-0123456789")).toBe("***789");
    });
  });
});

describe("profiles: the history section", () => {
  it("is optional, fills enabled and plugin, and passes plugin fields through", () => {
    expect(loadProfile(profileFile(minimal), { env: {} }).profile.history).toBeUndefined();
    const loaded = loadProfile(profileFile({ ...minimal, history: { path: "../h.db", retention: { max_age_days: 30, max_snapshots_per_profile: 500 } } }), { env: {} });
    expect(loaded.profile.history).toEqual({ enabled: true, plugin: "@nq/cache-sqlite", path: "../h.db", retention: { max_age_days: 30, max_snapshots_per_profile: 500 } });
  });

  it("names a wrong retention field and what was expected", () => {
    expect(() => loadProfile(profileFile({ ...minimal, history: { retention: { max_snapshots_per_profile: 0 } } }), { env: {} })).toThrow(
      /history\.retention\.max_snapshots_per_profile: expected at least 1/,
    );
    expect(() => loadProfile(profileFile({ ...minimal, history: { retention: { max_age_days: -1 } } }), { env: {} })).toThrow(/history\.retention\.max_age_days: expected a positive number of days/);
    expect(() => loadProfile(profileFile({ ...minimal, history: { retention: { max_days: 3 } } }), { env: {} })).toThrow(/history\.retention: .*max_days/);
    expect(() => loadProfile(profileFile({ ...minimal, history: { enabled: "no" } }), { env: {} })).toThrow(/history\.enabled: .*expected boolean/);
  });
});
