import { InvalidRequestError } from "@nq/core";
import { describe, expect, it } from "vitest";
import { barchartConfigSchema } from "./config.js";
import { planCrawl, typeNamesOf } from "./query.js";

const config = (extra: Record<string, unknown> = {}) => barchartConfigSchema.parse(extra);

describe("the crawl plan", () => {
  it("starts at the front-month options page and takes 'today' in Chicago", () => {
    // 03:00 UTC on the 21st is still the 20th in Chicago.
    const plan = planCrawl({ product: "nq", maxExpirations: 3 }, config(), new Date("2026-11-21T03:00:00Z"));
    expect(plan).toMatchObject({ product: "NQ", startUrl: "https://www.barchart.com/futures/quotes/NQ*0/options?futuresOptionsView=merged&moneyness=allRows", maxExpirations: 3, today: "2026-11-20", seriesTypes: null, seriesCodes: null });
  });

  it("takes 'today' as the CME trade date: at 20:30 CT Monday (the evening session) it is Tuesday", () => {
    // 2026-11-16 is a Monday; 20:30 CST is 02:30 UTC on the 17th, and the calendar date in Chicago is still the 16th.
    const plan = planCrawl({ product: "NQ" }, config(), new Date("2026-11-17T02:30:00Z"));
    expect(plan.today).toBe("2026-11-17");
    // The data's moment is the fetch less Barchart's delay, never after it.
    expect(plan.asOf.toISOString()).toBe("2026-11-17T02:20:00.000Z");
  });

  it("splits expiries into series types and codes", () => {
    const plan = planCrawl({ product: "NQ" }, config({ expiries: ["weekly", "MC7M25"], future: "NQZ26" }), new Date());
    expect(plan.seriesTypes).toEqual(["weekly"]);
    expect([...plan.seriesCodes!]).toEqual(["MC7M25"]);
    expect(plan.startUrl).toContain("/futures/quotes/NQZ26/options");
    expect(typeNamesOf("Thursday Weekly Options")).toEqual(["thursday", "weekly"]);
    expect(typeNamesOf("EOM Options")).toEqual(["eom"]);
  });

  it("rejects a request it cannot serve with a clear error", () => {
    expect(() => planCrawl({ product: "N Q" }, config(), new Date())).toThrow(InvalidRequestError);
    expect(() => planCrawl({ product: "NQ", maxExpirations: 0 }, config(), new Date())).toThrow(/maxExpirations/);
  });
});

describe("the config", () => {
  it("has polite defaults", () => {
    expect(config()).toMatchObject({ mode: "live", base_url: "https://www.barchart.com", headless: true, min_interval_ms: 3000, jitter_ms: 2000, max_retries: 0, expiries: "listed" });
  });

  it("names the wrong field", () => {
    const saved = barchartConfigSchema.safeParse({ mode: "saved" });
    expect(saved.success).toBe(false);
    expect(saved.error!.issues[0]!.path).toEqual(["saved_dir"]);
    expect(barchartConfigSchema.safeParse({ expiries: ["sometimes"] }).success).toBe(false);
    expect(barchartConfigSchema.safeParse({ base_url: "barchart.com" }).success).toBe(false);
    expect(barchartConfigSchema.safeParse({ min_interval: 5 }).success).toBe(false);
  });
});
