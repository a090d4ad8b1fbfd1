import { NoDataError, normalizeChain, silentLogger, type ProgressUpdate } from "@nq/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SeriesFetcher } from "./browser-session.js";
import { barchartConfigSchema } from "./config.js";
import { barchartSource } from "./index.js";
import { crawlChain, newCrawlMemo, type CrawlMemo } from "./crawl.js";
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

  const crawl = async (
    request: Parameters<typeof planCrawl>[0],
    config: Record<string, unknown> = {},
    now = new Date("2026-11-16T15:00:00Z"),
    extra: { fetcher?: ReturnType<typeof httpFetcher>; progress?: (update: ProgressUpdate) => void; memo?: CrawlMemo } = {},
  ) => {
    const fetcher = extra.fetcher ?? httpFetcher();
    const plan = planCrawl(request, barchartConfigSchema.parse({ base_url: site.url, ...config }), now);
    const capture = await crawlChain(fetcher, plan, {
      signal: new AbortController().signal,
      log: silentLogger,
      now: () => now,
      ...(extra.progress ? { progress: extra.progress } : {}),
      ...(extra.memo ? { memo: extra.memo } : {}),
    });
    return { capture, fetcher };
  };

  it("decides 'expired' on the CME trade date: at 20:30 CT Monday, Monday's series have expired", async () => {
    // 2026-11-16 is a Monday; 20:30 CST is 02:30 UTC on the 17th. The evening session trades for Tuesday.
    const evening = new Date("2026-11-17T02:30:00Z");
    const monday = site.series.filter((s) => s.expiration === "2026-11-16");
    expect(monday.length).toBeGreaterThan(0);
    const { capture } = await crawl({ product: "NQ" }, {}, evening);
    for (const s of monday) {
      expect(capture.series.map((c) => c.seriesCode)).not.toContain(s.code);
      expect(capture.notes.some((n) => n.startsWith(`${s.code}: expired on 2026-11-16`))).toBe(true);
    }
    // maxExpirations counts from Tuesday, as the normalizer does: nothing it would drop is fetched.
    const bounded = await crawl({ product: "NQ", maxExpirations: 2 }, {}, evening);
    const result = captureToResult(bounded.capture);
    const chain = normalizeChain(result, { source: "barchart", capabilities: barchartSource.capabilities, request: { product: "NQ", maxExpirations: 2 }, fetchedAt: evening });
    const dates = [...new Set(site.series.map((s) => s.expiration))].filter((d) => d >= "2026-11-17").sort().slice(0, 2);
    expect(chain.optionsSummary.expirations).toEqual(dates);
    expect(chain.qualityMetrics.filteredRows).toBe(0);
  });

  it("carries each series' own future and its price on every contract, and dates the chain no later than its fetch", async () => {
    const { capture } = await crawl({ product: "NQ" });
    const result = captureToResult(capture);
    const futures = new Set(site.series.map((s) => s.future));
    expect(futures.size).toBeGreaterThanOrEqual(2);
    const seen = new Map<unknown, Set<unknown>>();
    for (const row of result.rows) {
      const series = site.series.find((s) => row.root === s.code.replace(/[FGHJKMNQUVXZ]\d\d$/, "") && row.expiration === s.expiration)!;
      expect(row.underlying).toBe(series.future);
      expect(row.underlyingPrice).toBe(site.prices[series.future]);
      expect(row.underlyingPriceBasis).toBe("last");
      expect(typeof row.underlyingPriceTime).toBe("string");
      seen.set(row.underlying, (seen.get(row.underlying) ?? new Set()).add(row.underlyingPrice));
    }
    // At least two futures with two different prices in one crawl, one price per future.
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(new Set([...seen.values()].map((prices) => [...prices][0])).size).toBe(seen.size);
    for (const prices of seen.values()) expect(prices.size).toBe(1);
    // The data is delayed: its time is before the fetch, never after.
    expect(Date.parse(result.asOf as string)).toBeLessThanOrEqual(Date.parse(capture.fetchedAt));
    expect(Date.parse(result.asOf as string)).toBeGreaterThanOrEqual(Date.parse(capture.fetchedAt) - 20 * 60_000);
    expect(result.asOfReason).toMatch(/delayed/);
  });

  it("reports progress per series", async () => {
    const updates: ProgressUpdate[] = [];
    const { capture } = await crawl({ product: "NQ" }, {}, undefined, { progress: (u) => updates.push(u) });
    const codes = capture.series.map((s) => s.seriesCode);
    expect(codes.length).toBeGreaterThan(5);
    for (const [index, code] of codes.entries()) {
      const mine = updates.filter((u) => u.stage === `series ${code}`);
      expect(mine.length, code).toBeGreaterThan(0);
      expect(mine.at(-1)!.done).toBe(index + 1);
    }
    for (const u of updates) expect(u.total!).toBeGreaterThanOrEqual(u.done!);
    expect(updates.at(-1)).toMatchObject({ done: codes.length, total: codes.length });
    expect(updates.at(-1)!.bytes).toBeGreaterThan(0);
  });

  it("a retry with the same memo asks only for the series that failed and those after it", async () => {
    const failing = httpFetcher();
    const victim = [...site.series].sort((a, b) => (a.expiration < b.expiration ? -1 : 1))[3]!.code;
    const quotesAsked: string[] = [];
    let failed = false;
    const flaky = {
      ...failing,
      loaded: failing.loaded,
      loadPage: failing.loadPage,
      async fetchQuotes(url: string, signal: AbortSignal) {
        const symbol = new URL(url).searchParams.get("symbol")!;
        quotesAsked.push(symbol);
        if (symbol === victim && !failed) {
          failed = true;
          throw new Error("503 once");
        }
        return failing.fetchQuotes(url, signal);
      },
    };
    const memo = newCrawlMemo();
    await expect(crawl({ product: "NQ" }, {}, undefined, { fetcher: flaky, memo })).rejects.toThrow("503 once");
    const before = { quotes: quotesAsked.length, pages: failing.loaded.length };
    expect(before.quotes).toBe(4);
    const { capture } = await crawl({ product: "NQ" }, {}, undefined, { fetcher: flaky, memo });
    expect(capture.series).toHaveLength(site.series.length);
    const retried = quotesAsked.slice(before.quotes);
    expect(retried[0]).toBe(victim);
    expect(retried).toHaveLength(site.series.length - 3);
    // Pages already read are not loaded again (one reload, for fresh cookies, before the first request).
    const reloaded = failing.loaded.slice(before.pages);
    const first = failing.loaded.slice(0, before.pages);
    expect(reloaded.filter((p) => first.includes(p)).length).toBeLessThanOrEqual(1);
  });

  it("a series-type dropdown holding only a placeholder makes the capture incomplete, with the reason", async () => {
    const plain = httpFetcher();
    const placeholder = {
      ...plain,
      loaded: plain.loaded,
      fetchQuotes: plain.fetchQuotes,
      async loadPage(url: string, signal: AbortSignal) {
        const page = await plain.loadPage(url, signal);
        // As when the page's script has not filled the dropdown in yet.
        const html = page.html.replace(/(<select[^>]*id="bc-options-toolbar__dropdown-type"[^>]*>)[\s\S]*?<\/select>/, '$1<option value="">Options Type</option></select>');
        return { ...page, html };
      },
    };
    const { capture } = await crawl({ product: "NQ" }, {}, undefined, { fetcher: placeholder });
    expect(capture.series.length).toBeLessThan(site.series.length);
    const result = captureToResult(capture);
    expect(result.complete).toBe(false);
    expect(result.incompleteReasons!.join("\n")).toMatch(/series-type dropdown lists no series types \("Options Type"\)/);
    const chain = normalizeChain(result, { source: "barchart", capabilities: barchartSource.capabilities, request: { product: "NQ" }, fetchedAt: new Date("2026-11-16T15:00:00Z") });
    expect(chain.metadata.complete).toBe(false);
  });

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
    const later = new Date("2026-11-23T15:00:00Z"); // Monday 09:00 CT: trade date 2026-11-23
    const { capture } = await crawl({ product: "NQ" }, {}, later);
    const expired = site.series.filter((s) => s.expiration < "2026-11-23");
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
