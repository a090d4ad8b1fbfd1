import { describe, expect, it } from "vitest";
import { sqliteCacheConfigSchema } from "./config.js";

describe("the config schema", () => {
  it("fills every default from an empty object", () => {
    expect(sqliteCacheConfigSchema.parse({})).toEqual({
      path: "outputs/cache.db",
      ttl: "24h",
      ttl_by_source: {},
      market_hours: { open_ttl: "5m", holidays: [], early_closes: [] },
      store_raw: false,
      busy_timeout_ms: 5000,
      max_entry_bytes: 64 * 1024 * 1024,
      read_only: false,
    });
  });

  it("accepts the whole `cache` object of a profile, plugin and enabled included", () => {
    const parsed = sqliteCacheConfigSchema.parse({ enabled: true, plugin: "@nq/cache-sqlite", ttl: "market-hours", ttl_by_source: { saved: 3600 } });
    expect(parsed.ttl).toBe("market-hours");
    expect(parsed.ttl_by_source).toEqual({ saved: 3600 });
  });

  it("names the field and the expectation when a value is wrong", () => {
    const messages = (input: unknown) => {
      const result = sqliteCacheConfigSchema.safeParse(input);
      return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    };
    expect(messages({ ttl: "1 day" }).join("\n")).toMatch(/^ttl: .*"24h"/m);
    expect(messages({ market_hours: { holidays: ["2026-02-30"] } }).join("\n")).toMatch(/market_hours\.holidays\.0: expected a real calendar date/);
    expect(messages({ market_hours: { early_closes: [{ date: "2026-11-27", close: "12.15" }] } }).join("\n")).toMatch(/close: expected a time as HH:MM/);
    expect(messages({ busy_timeout_ms: -1 }).join("\n")).toMatch(/^busy_timeout_ms:/m);
    expect(messages({ store_raw: "yes" }).join("\n")).toMatch(/^store_raw:/m);
    expect(messages({ tll: "24h" }).join("\n")).toMatch(/tll/);
  });
});
