import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSeriesPage } from "./page-parser.js";
import { quotesUrl } from "./query.js";
import { barchartFixturesDir, fixturesSkipMessage, hasBarchartFixtures } from "./test-environment.js";

describe.skipIf(!hasBarchartFixtures)(`the real page excerpt (${hasBarchartFixtures ? "present" : fixturesSkipMessage})`, () => {
  const html = hasBarchartFixtures ? readFileSync(join(barchartFixturesDir, "page_NQM25_MC7M25_2025-06-08.excerpt.html"), "utf8") : "";

  it("reads the series types with their URLs, including the EOM series on another future", () => {
    const page = parseSeriesPage(html);
    expect(page.seriesTypes.map((t) => [t.label, t.seriesCode, t.future])).toEqual([
      ["Monthly Options", "NQM25", "NQM25"],
      ["EOM Options", "MQ6M25", "NQU25"],
      ["Friday Weekly Options", "MQ2M25", "NQM25"],
      ["Monday Weekly Options", "MC7M25", "NQM25"],
      ["Tuesday Weekly Options", "MM2M25", "NQM25"],
      ["Wednesday Weekly Options", "MC2M25", "NQM25"],
      ["Thursday Weekly Options", "MM7M25", "NQM25"],
    ]);
    expect(page.seriesTypes.find((t) => t.selected)?.label).toBe("Monday Weekly Options");
    expect(page.seriesExpiries.map((e) => [e.label, e.path, e.selected])).toEqual([
      ["Week 2: Jun 2025", "/futures/quotes/NQM25/options/MC7M25", true],
      ["Week 3: Jun 2025", "/futures/quotes/NQU25/options/MC8M25", false],
      ["Week 4: Jun 2025", "/futures/quotes/NQU25/options/MC9M25", false],
    ]);
  });

  it("reads the expiry, the point value, the underlying and the page's own quotes request", () => {
    const page = parseSeriesPage(html);
    expect(page).toMatchObject({
      seriesCode: "MC7M25",
      future: "NQM25",
      seriesType: "Monday Weekly Options",
      expiration: "2025-06-09",
      daysToExpiration: 1,
      pointValue: 20,
      underlyingPrice: 21745,
      canonicalPath: "/futures/quotes/NQM25/options/MC7M25",
    });
    expect(page.apiConfig).toMatchObject({ method: "quotes", symbol: "MC7M25", list: "futures.options", groupBy: "optionType", orderBy: "strike", orderDir: "asc" });
    const url = new URL(quotesUrl("https://www.barchart.com", page.apiConfig, "MC7M25"));
    expect(url.pathname).toBe("/proxies/core-api/v1/quotes/get");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ symbol: "MC7M25", list: "futures.options", raw: "1", fields: page.apiConfig!.fields });
  });
});

describe("pages that are not series pages", () => {
  it("returns nothing it cannot see, rather than guessing", () => {
    const page = parseSeriesPage("<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>");
    expect(page).toMatchObject({ seriesCode: null, expiration: null, apiConfig: null, underlyingPrice: null, seriesTypes: [], seriesExpiries: [] });
  });
});
