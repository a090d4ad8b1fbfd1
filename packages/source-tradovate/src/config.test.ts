/** The config schema: defaults, URLs per environment, secret fields, and errors that name the field. */
import { ConfigError, parseSourceConfig, redactSecrets } from "@nq/core";
import { describe, expect, it } from "vitest";
import { cacheIdentity, configSchema, mdUrlOf, resolveCredentials, restUrlOf, stableDeviceId } from "./config.js";
import { tradovate } from "./index.js";

describe("config", () => {
  it("defaults to the demo environment and the reference's URLs", () => {
    const config = configSchema.parse({});
    expect(restUrlOf(config)).toBe("https://demo.tradovateapi.com/v1");
    expect(mdUrlOf(config)).toBe("wss://md.tradovateapi.com/v1/websocket");
    expect(restUrlOf(configSchema.parse({ environment: "live" }))).toBe("https://live.tradovateapi.com/v1");
    expect(config).toMatchObject({ heartbeat_ms: 2_500, renew_before_ms: 15 * 60_000, md_token: "md", authorize_format: "raw", subscribe_endpoint: "md/subscribeQuote", future_product: "NQ" });
  });

  it("marks password and sec secret: a profile's values are redacted everywhere", () => {
    parseSourceConfig(tradovate, "tradovate", { name: "u", password: "profile-password-xyz", sec: "profile-secret-abc", cid: 7 }, "p.json");
    expect(redactSecrets("profile-password-xyz / profile-secret-abc")).not.toMatch(/profile-password-xyz|profile-secret-abc/);
  });

  it("rejects bad values with the field's path", () => {
    expect(() => parseSourceConfig(tradovate, "tradovate", { heartbeat_ms: 5_000 }, "p.json")).toThrow(/data_sources\.tradovate\.config\.heartbeat_ms/);
    expect(() => parseSourceConfig(tradovate, "tradovate", { option_name_pattern: "(" }, "p.json")).toThrow(/option_name_pattern/);
    expect(() => parseSourceConfig(tradovate, "tradovate", { environment: "paper" }, "p.json")).toThrow(ConfigError);
  });

  it("needs both cid and sec or neither, and a numeric cid unless cid_type is string", () => {
    const base = { name: "u", password: "pw-123456" };
    expect(() => resolveCredentials(configSchema.parse({ ...base, cid: 5 }), {})).toThrow(/give both "cid" and "sec"/);
    expect(() => resolveCredentials(configSchema.parse({ ...base, cid: "abc", sec: "s-123456" }), {})).toThrow(/numeric id/);
    expect(resolveCredentials(configSchema.parse({ ...base, cid: "abc", sec: "s-123456", cid_type: "string" }), {}).cid).toBe("abc");
    expect(resolveCredentials(configSchema.parse({ ...base, cid: "42", sec: "s-123456" }), {}).cid).toBe(42);
  });

  it("derives a stable device id when none is given", () => {
    expect(stableDeviceId("u")).toBe(stableDeviceId("u"));
    expect(stableDeviceId("u")).not.toBe(stableDeviceId("v"));
    expect(stableDeviceId("u")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("keeps credentials and timings out of the cache identity", () => {
    const a = cacheIdentity(configSchema.parse({ name: "a", password: "one", collect_timeout_ms: 1_000 }));
    const b = cacheIdentity(configSchema.parse({ name: "b", password: "two", collect_timeout_ms: 9_000 }));
    expect(a).toEqual(b);
    expect(cacheIdentity(configSchema.parse({ environment: "live" }))).not.toEqual(a);
  });
});
