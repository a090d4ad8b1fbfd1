import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSeriesPage } from "../page-parser.js";
import { parseQuotesResponse } from "../quotes-parser.js";
import { barchartFixturesDir, hasBarchartFixtures } from "../test-environment.js";
import { startLocalBarchartSite, type LocalBarchartSite } from "./index.js";

describe("the local Barchart-like site", () => {
  let site: LocalBarchartSite;
  beforeAll(async () => {
    site = await startLocalBarchartSite({ today: "2025-06-08", weeksPerType: 3 });
  });
  afterAll(() => site.close());

  it.skipIf(!hasBarchartFixtures)("renders the same series toolbar as the real captured page of that day", async () => {
    const real = parseSeriesPage(readFileSync(join(barchartFixturesDir, "page_NQM25_MC7M25_2025-06-08.excerpt.html"), "utf8"));
    const local = parseSeriesPage(await (await fetch(`${site.url}/futures/quotes/NQM25/options/MC7M25`)).text());
    expect(local.seriesTypes.map((t) => [t.label, t.seriesCode, t.future])).toEqual(real.seriesTypes.map((t) => [t.label, t.seriesCode, t.future]));
    expect(local.seriesExpiries.map((e) => [e.label, e.path])).toEqual(real.seriesExpiries.map((e) => [e.label, e.path]));
    expect(local).toMatchObject({ seriesCode: real.seriesCode, future: real.future, expiration: real.expiration, pointValue: real.pointValue });
    expect(local.apiConfig).toMatchObject({ symbol: "MC7M25", list: "futures.options", groupBy: "optionType" });
  });

  it("sets the session and XSRF cookies, and its endpoint refuses a request without them", async () => {
    const page = await fetch(`${site.url}/futures/quotes/NQ*0/options`);
    const cookies = page.headers.getSetCookie();
    expect(cookies.map((c) => c.split("=")[0])).toEqual(["XSRF-TOKEN", "laravel_session", "laravel_token", "market"]);
    const api = `${site.url}/proxies/core-api/v1/quotes/get?symbol=MC7M25&list=futures.options&groupBy=optionType&raw=1`;
    expect((await fetch(api)).status).toBe(419);
    const jar = cookies.map((c) => c.split(";")[0]).join("; ");
    const token = decodeURIComponent(/XSRF-TOKEN=([^;]*)/.exec(jar)![1]!);
    expect((await fetch(api, { headers: { cookie: jar, "x-xsrf-token": "wrong" } })).status).toBe(419);
    const ok = await fetch(api, { headers: { cookie: jar, "x-xsrf-token": token } });
    expect(ok.status).toBe(200);
    const parsed = parseQuotesResponse(await ok.text());
    expect(parsed.quotes.length).toBeGreaterThan(0);
    expect(site.requests.at(-1)).toMatchObject({ kind: "quotes", xsrfValid: true, status: 200 });
  });

  it.skipIf(!hasBarchartFixtures)("answers a series with a real capture byte for byte", async () => {
    const page = await fetch(`${site.url}/futures/quotes/NQM25/options/MC7M25`);
    const jar = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const token = decodeURIComponent(/XSRF-TOKEN=([^;]*)/.exec(jar)![1]!);
    const body = await (await fetch(`${site.url}/proxies/core-api/v1/quotes/get?symbol=MC7M25&list=futures.options&raw=1`, { headers: { cookie: jar, "x-xsrf-token": token } })).text();
    expect(body).toBe(readFileSync(join(barchartFixturesDir, "quotes_MC7M25_2025-06-08.json"), "utf8"));
  });

  it("generates data with Barchart's quirks for series without a capture", async () => {
    const page = await fetch(`${site.url}/futures/quotes/NQM25/options/MQ2M25`);
    const jar = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const token = decodeURIComponent(/XSRF-TOKEN=([^;]*)/.exec(jar)![1]!);
    const json = (await (await fetch(`${site.url}/proxies/core-api/v1/quotes/get?symbol=MQ2M25&list=futures.options&raw=1`, { headers: { cookie: jar, "x-xsrf-token": token } })).json()) as {
      data: { Call: Record<string, unknown>[]; Put: Record<string, unknown>[] };
    };
    const rows = [...json.data.Call, ...json.data.Put];
    expect(rows.some((r) => r.bidPrice === "N/A" && (r.raw as Record<string, unknown>).bidPrice === 0)).toBe(true);
    expect(rows.some((r) => String(r.lastPrice).endsWith("s"))).toBe(true);
    expect(rows.some((r) => r.priceChange === "unch")).toBe(true);
    expect(rows.some((r) => /^\d\d:\d\d CT$/.test(String(r.tradeTime)))).toBe(true);
    expect(rows.some((r) => (r.raw as Record<string, unknown>).volume === null)).toBe(true);
    expect(rows.some((r) => String(r.strike).includes(","))).toBe(true);
  });

  it("switches faults on and off", async () => {
    site.setFault("block");
    expect((await fetch(`${site.url}/futures/quotes/NQ*0/options`)).status).toBe(403);
    site.setFault({ kind: "rate-limit", retryAfterSeconds: 7 });
    const limited = await fetch(`${site.url}/futures/quotes/NQ*0/options`);
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "7"]);
    site.setFault(null);
    expect((await fetch(`${site.url}/futures/quotes/NQ*0/options`)).status).toBe(200);
  });
});
