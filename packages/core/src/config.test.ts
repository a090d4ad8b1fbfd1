import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadProfile, parseSourceConfig, readDotenvFiles, toChainRequest } from "./config.js";
import { ConfigError } from "./errors.js";
import { redactSecrets } from "./secrets.js";
import { defineSource } from "./source.js";

function profileFile(json: unknown, dotenv?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-profile-"));
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
});
