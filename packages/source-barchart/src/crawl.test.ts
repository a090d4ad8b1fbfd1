import { NoDataError, silentLogger } from "@nq/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SeriesFetcher } from "./browser-session.js";
import { barchartConfigSchema } from "./config.js";
import { crawlChain } from "./crawl.js";
import { planCrawl } from "./query.js";
import { captureToResult } from "./rows.js";
import { startLocalBarchartSite, type LocalBarchartSite } from "./test-site/index.js";

/**
 * The crawl's choices (which pages, in which order, which series) checked without a browser: this
 * fetcher talks plain HTTP to the local site, keeping its cookies like a page would.
 */
function httpFetcher(): SeriesFetcher & { loaded: string[] } {
  const jar = new Map<string, string>();
  const loaded: string[] = [];
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  return {
    loaded,
    async loadPage(url) {
      loaded.push(new URL(url).pathname);
      const response = await fetch(url, { headers: { cookie: cookieHeader() } });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair] = cookie.split(";");
        const index = pair!.indexOf("=");
        jar.set(pair!.slice(0, index), pair!.slice(index + 1));
      }
      return { url, html: await response.text() };
    },
    async fetchQuotes(url) {
      const token = decodeURIComponent(jar.get("XSRF-TOKEN") ?? "");
      const response = await fetch(url, { headers: { cookie: cookieHeader(), "x-xsrf-token": token } });
      return { url, body: await response.text() };
    },
  };
}

describe("the crawl over the listed series", () => {
  let site: LocalBarchartSite;
  beforeAll(async () => {
    site = await startLocalBarchartSite({ today: "2026-11-16", weeksPerType: 2, fixturesDir: null });
  });
  afterAll(() => site.close());

  const crawl = async (request: Parameters<typeof planCrawl>[0], config: Record<string, unknown> = {}, now = new Date("2026-11-16T15:00:00Z")) => {
    const fetcher = httpFetcher();
    const plan = planCrawl(request, barchartConfigSchema.parse({ base_url: site.url, ...config }), now);
    const capture = await crawlChain(fetcher, plan, new AbortController().signal, silentLogger, () => now);
    return { capture, fetcher };
  };

  it("takes the nearest expiries across all series types, in date order", async () => {
    const { capture } = await crawl({ product: "NQ", maxExpirations: 4 });
    const nearest = [...site.series].sort((a, b) => (a.expiration < b.expiration ? -1 : 1)).slice(0, 4);
    expect(capture.series.map((s) => s.seriesCode)).toEqual(nearest.map((s) => s.code));
  });

  it("fetches only the requested expiration dates and the requested codes", async () => {
    const friday = site.series.find((s) => s.kind === "friday")!;
    const { capture } = await crawl({ product: "NQ", expirations: [friday.expiration] });
    expect(capture.series.map((s) => s.seriesCode)).toEqual([friday.code]);

    const eom = site.series.find((s) => s.kind === "eom")!;
    const byCode = await crawl({ product: "NQ" }, { expiries: [eom.code] });
    expect(byCode.capture.series.map((s) => s.seriesCode)).toEqual([eom.code]);
    // Codes are found from each type's first page; other listed series are not loaded.
    expect(byCode.fetcher.loaded.length).toBeLessThanOrEqual(1 + new Set(site.series.map((s) => s.kind)).size);
  });

  it("skips series that expired before today and says so", async () => {
    const later = new Date("2026-11-21T15:00:00Z");
    const { capture } = await crawl({ product: "NQ" }, {}, later);
    const expired = site.series.filter((s) => s.expiration < "2026-11-21");
    expect(expired.length).toBeGreaterThan(0);
    expect(capture.series.map((s) => s.seriesCode)).not.toContain(expired[0]!.code);
    expect(capture.notes.some((n) => n.includes(`${expired[0]!.code}: expired on ${expired[0]!.expiration}`))).toBe(true);
  });

  it("turns a capture into rows, and an empty selection into NoDataError", async () => {
    const { capture } = await crawl({ product: "NQ", maxExpirations: 1 });
    const result = captureToResult(capture);
    expect(result.rows.length).toBeGreaterThan(20);
    expect(result.complete).toBe(true);
    const broken = { ...capture, series: capture.series.map((s) => ({ ...s, pageHtml: s.pageHtml.replace(/to expiration on/g, "until") })) };
    expect(() => captureToResult(broken)).toThrow(NoDataError);
    const nothing = await crawl({ product: "NQ", expirations: ["2030-01-01"] });
    expect(() => captureToResult(nothing.capture)).toThrow(/no series matched the request/);
  });
});
