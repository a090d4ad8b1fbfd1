import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BlockedError,
  canonicalFutureSymbol,
  cmeOptionRoot,
  IncompleteDataError,
  NoDataError,
  normalizeChain,
  RateLimitError,
  runSources,
  silentLogger,
  TimeoutError,
  type ChainRequest,
  type Source,
  type SourceResult,
} from "@nq/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { barchartConfigSchema, barchartSource, type BarchartConfigInput } from "./index.js";
import { recordingContext } from "./test-context.js";
import { browserForTests, hasBarchartFixtures } from "./test-environment.js";
import { startLocalBarchartSite, type LocalBarchartSite } from "./test-site/index.js";

const browser = await browserForTests();
const signal = () => new AbortController().signal;

/** A fixed Monday afternoon (14:00 CT) for the local site's calendar, ticking a second per reading so each load has its own time. */
const TODAY = "2026-11-16";
let ticks = 0;
const clock = () => new Date(Date.parse("2026-11-16T20:00:00Z") + 1_000 * ticks++);

function configFor(site: LocalBarchartSite, extra: Partial<BarchartConfigInput> = {}) {
  return barchartConfigSchema.parse({
    base_url: site.url,
    executable_path: browser.path ?? undefined,
    min_interval_ms: 0,
    jitter_ms: 0,
    max_retries: 0,
    retry_backoff_ms: 0,
    timeout_ms: 15_000,
    challenge_wait_ms: 0,
    ...extra,
  });
}

function normalized(result: SourceResult, request: ChainRequest = { product: "NQ" }) {
  return normalizeChain(result, { source: "barchart", capabilities: barchartSource.capabilities, request, fetchedAt: new Date() });
}

describe.skipIf(browser.skip)(`Barchart in headless Chromium against the local site (${browser.message})`, () => {
  let site: LocalBarchartSite;
  let saveDir: string;
  let source: Source;
  const context = recordingContext(clock);

  beforeAll(async () => {
    site = await startLocalBarchartSite({ today: TODAY, weeksPerType: 2 });
    saveDir = await mkdtemp(join(tmpdir(), "nq-barchart-save-"));
    source = await barchartSource.create(configFor(site, { save_dir: saveDir }), context);
  });
  afterAll(async () => {
    await source.close?.();
    await site?.close();
    await rm(saveDir, { recursive: true, force: true });
  });

  it("scrapes every listed expiry with one browser and at most 2 requests per expiry after the first page", async () => {
    const before = site.requests.length;
    const result = await source.load({ product: "NQ" }, { signal: signal() });
    const chain = normalized(result);
    const log = site.requests.slice(before);

    const expiries = new Set(site.series.map((s) => s.expiration));
    expect(chain.optionsSummary.expirations).toEqual([...expiries].sort());
    expect(chain.qualityMetrics.invalidRows).toBe(0);
    expect(chain.optionsSummary.calls).toBe(chain.optionsSummary.puts);
    expect(chain.metadata.delayed).toBe(true);
    expect(context.launches()).toBe(1);

    const [first, ...rest] = log;
    expect(first).toMatchObject({ kind: "page", path: "/futures/quotes/NQ*0/options", status: 200 });
    const quotes = rest.filter((r) => r.kind === "quotes");
    expect(quotes).toHaveLength(site.series.length);
    // Pages and quotes requests; the browser's own favicon probes ("other") are not data requests.
    const dataRequests = rest.filter((r) => r.kind !== "other");
    expect(dataRequests.length).toBeLessThanOrEqual(2 * site.series.length);
    expect(dataRequests.filter((r) => r.kind === "page")).toHaveLength(site.series.length - 1);
    // Sent like the page sends it: session cookie, XSRF header, raw=1, a browser UA without "Headless".
    for (const request of quotes) {
      expect(request).toMatchObject({ status: 200, xsrfValid: true, hadSessionCookie: true });
      expect(request.query).toMatchObject({ list: "futures.options", raw: "1", groupBy: "optionType" });
      expect(request.userAgent).not.toMatch(/Headless/);
      expect(request.headerNames).toContain("x-xsrf-token");
      expect(request.headerNames.filter((h) => h.startsWith("x-nq"))).toEqual([]);
    }
    // The page's own chain request was held back: one quotes request per series, no more.
    expect(new Set(quotes.map((q) => q.query.symbol)).size).toBe(quotes.length);

    // Each series' page gave its expiry and underlying; rows carry them.
    for (const s of site.series) {
      // Barchart's codes come out in CME's symbology: MC7M25 → Q2A, NQM25 → NQM5.
      const ofSeries = chain.contracts.filter((c) => c.root === cmeOptionRoot(s.code.replace(/[FGHJKMNQUVXZ]\d\d$/, "")) && c.expiration === s.expiration);
      expect(ofSeries.length, s.code).toBeGreaterThan(0);
      expect(ofSeries.every((c) => c.underlying === canonicalFutureSymbol(s.future, c.provenance.asOf))).toBe(true);
      // …and its own future's price, as that series' page shows it.
      expect(ofSeries.every((c) => c.underlyingPrice === site.prices[s.future] && c.underlyingPriceBasis === "last" && c.underlyingPriceTime !== null), s.code).toBe(true);
    }
    const prices = new Set(chain.contracts.map((c) => `${c.underlying}@${c.underlyingPrice}`));
    expect(new Set(chain.contracts.map((c) => c.underlyingPrice)).size).toBeGreaterThanOrEqual(2);
    expect(prices.size).toBe(new Set(chain.contracts.map((c) => c.underlying)).size);
    // The data's time is before its fetch (Barchart is delayed), never after.
    expect(Date.parse(chain.metadata.asOf)).toBeLessThanOrEqual(Date.parse(String(result.asOf)) + 1);
    expect(Date.parse(String(result.asOf))).toBeLessThan(Date.parse("2026-11-16T20:00:00Z"));
  });

  it("bounds the crawl by maxExpirations, nearest first, and reuses the same browser", async () => {
    const before = site.requests.length;
    const request = { product: "NQ", maxExpirations: 3 };
    const chain = normalized(await source.load(request, { signal: signal() }), request);
    const nearest = [...new Set(site.series.map((s) => s.expiration))].sort().slice(0, 3);
    expect(chain.optionsSummary.expirations).toEqual(nearest);
    expect(site.requests.slice(before).filter((r) => r.kind === "quotes")).toHaveLength(3);
    expect(context.launches()).toBe(1);
  });

  it("fetches only the series types asked for", async () => {
    const only = await barchartSource.create(configFor(site, { expiries: ["friday", "eom"] }), recordingContext(clock));
    try {
      const chain = normalized(await only.load({ product: "NQ" }, { signal: signal() }));
      const wanted = site.series.filter((s) => s.kind === "friday" || s.kind === "eom").map((s) => s.expiration);
      expect(chain.optionsSummary.expirations).toEqual([...new Set(wanted)].sort());
    } finally {
      await only.close?.();
    }
  });

  it("saved every raw response, and replays them offline to the same chain", async () => {
    const folders = await readdir(saveDir);
    expect(folders.length).toBeGreaterThanOrEqual(1);
    const files = await readdir(join(saveDir, folders.sort()[0]!));
    expect(files).toContain("manifest.json");
    expect(files.filter((f) => f.endsWith(".quotes.json"))).toHaveLength(site.series.length);
    expect(files.filter((f) => f.endsWith(".page.html"))).toHaveLength(site.series.length);

    const replay = await barchartSource.create(barchartConfigSchema.parse({ mode: "saved", saved_dir: join(saveDir, folders.sort()[0]!) }), recordingContext(clock));
    const replayed = normalized(await replay.load({ product: "NQ" }, { signal: signal() }));
    await replay.close?.();
    expect(replayed.optionsSummary.expirations).toEqual([...new Set(site.series.map((s) => s.expiration))].sort());
    expect(replayed.qualityMetrics.invalidRows).toBe(0);
    expect(replayed.contracts.length).toBeGreaterThan(100);

    // A relative saved_dir is read from the profile's folder (context.baseDir), not the working directory.
    const relative = await barchartSource.create(barchartConfigSchema.parse({ mode: "saved", saved_dir: folders.sort()[0]! }), { ...recordingContext(clock), baseDir: saveDir });
    const again = normalized(await relative.load({ product: "NQ" }, { signal: signal() }));
    await relative.close?.();
    expect(again.contracts.length).toBe(replayed.contracts.length);
  });

  it("turns each fault of the site into its typed error, without retrying blocks or rate limits", async () => {
    const cases = [
      ["block", BlockedError, /HTTP 403/],
      ["challenge", BlockedError, /challenge/],
      ["rate-limit", RateLimitError, /HTTP 429/],
      ["malformed-json", IncompleteDataError, /malformed JSON/],
      ["empty-chain", NoDataError, /empty chain|no NQ options data/],
    ] as const;
    for (const [fault, expected, message] of cases) {
      site.setFault(fault);
      const before = site.requests.length;
      const error = await source.load({ product: "NQ", maxExpirations: 1 }, { signal: signal() }).then(() => null, (e: unknown) => e);
      const sent = site.requests.slice(before).filter((r) => r.kind !== "other");
      expect(error, fault).toBeInstanceOf(expected);
      expect((error as Error).message, fault).toMatch(message);
      // A refused page is not asked again, nor a bad quotes answer: no loop.
      if (fault === "malformed-json" || fault === "empty-chain") {
        expect(sent.filter((r) => r.kind === "quotes"), fault).toHaveLength(1);
        const pages = sent.filter((r) => r.kind === "page").map((r) => r.path);
        expect(new Set(pages).size, fault).toBe(pages.length);
      } else {
        expect(sent, fault).toHaveLength(1);
      }
    }
    site.setFault({ kind: "rate-limit", retryAfterSeconds: 42 });
    const limited = await source.load({ product: "NQ" }, { signal: signal() }).then(() => null, (e: unknown) => e);
    expect((limited as RateLimitError).retryAfterMs).toBe(42_000);
    site.setFault(null);
    expect(context.launches()).toBe(1);
  });

  it("waits out a challenge that clears itself, and reports one that does not as a block", async () => {
    const patient = await barchartSource.create(configFor(site, { challenge_wait_ms: 5_000 }), recordingContext(clock));
    try {
      site.setFault("challenge-once");
      const chain = normalized(await patient.load({ product: "NQ", maxExpirations: 1 }, { signal: signal() }));
      expect(chain.contracts.length).toBeGreaterThan(0);
      site.setFault("challenge");
      const refused = await barchartSource.create(configFor(site, { challenge_wait_ms: 1_000 }), recordingContext(clock));
      const error = await refused.load({ product: "NQ" }, { signal: signal() }).then(() => null, (e: unknown) => e);
      await refused.close?.();
      expect(error).toBeInstanceOf(BlockedError);
      expect((error as Error).message).toMatch(/challenge/);
    } finally {
      site.setFault(null);
      await patient.close?.();
    }
  });

  it("retries a transient failure a bounded number of times, then says so", async () => {
    const retrying = await barchartSource.create(configFor(site, { max_retries: 2, retry_backoff_ms: 10 }), recordingContext(clock));
    try {
      site.setFault("server-error");
      const before = site.requests.length;
      const error = await retrying.load({ product: "NQ", maxExpirations: 1 }, { signal: signal() }).then(() => null, (e: unknown) => e);
      expect((error as Error).name).toBe("ServiceUnavailableError");
      // One try and two retries of the first page, then it stops.
      expect(site.requests.slice(before).filter((r) => r.kind === "page")).toHaveLength(3);
    } finally {
      site.setFault(null);
      await retrying.close?.();
    }
  });

  it("gives up on a slow site with a TimeoutError", async () => {
    const impatient = await barchartSource.create(configFor(site, { timeout_ms: 700 }), recordingContext(clock));
    try {
      site.setFault({ kind: "slow", delayMs: 2_500 });
      const error = await impatient.load({ product: "NQ", maxExpirations: 1 }, { signal: signal() }).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
    } finally {
      site.setFault(null);
      await impatient.close?.();
    }
  });

  it("with runSources, a blocked Barchart falls back to the next source and the attempt says why", async () => {
    const folders = (await readdir(saveDir)).sort();
    const blockedSite = await startLocalBarchartSite({ fault: "block" });
    try {
      const run = await runSources(
        [
          { name: "barchart", definition: barchartSource as never, config: configFor(blockedSite) },
          { name: "barchart-saved", definition: barchartSource as never, config: barchartConfigSchema.parse({ mode: "saved", saved_dir: join(saveDir, folders[0]!) }) },
        ],
        { request: { product: "NQ" }, policy: "fallback", log: silentLogger, retries: 1, now: clock },
      );
      expect(run.ok).toBe(true);
      expect(run.source).toBe("barchart-saved");
      expect(run.substituted).toBe(true);
      expect(run.attempts[0]).toMatchObject({ source: "barchart", outcome: "failed", tries: 1 });
      expect(run.attempts[0]!.reason).toMatch(/HTTP 403/);
      expect(run.attempts[0]!.error).toMatchObject({ kind: "blocked", retryable: false });
      expect(blockedSite.requests.filter((r) => r.kind !== "other")).toHaveLength(1);
    } finally {
      await blockedSite.close();
    }
  });
});

describe.skipIf(browser.skip)(`Barchart retries, saves and replays (${browser.message})`, () => {
  let site: LocalBarchartSite;
  let saveDir: string;
  beforeAll(async () => {
    site = await startLocalBarchartSite({ today: TODAY, weeksPerType: 1, fixturesDir: null });
    saveDir = await mkdtemp(join(tmpdir(), "nq-barchart-save-"));
  });
  afterAll(async () => {
    await site?.close();
    await rm(saveDir, { recursive: true, force: true });
  });

  it("a retry by the registry reuses the series already fetched and asks again only for the one that failed", async () => {
    const nearest = [...site.series].sort((a, b) => (a.expiration < b.expiration ? -1 : a.expiration > b.expiration ? 1 : 0));
    const victim = nearest[3]!.code;
    site.setFault({ kind: "server-error", on: "quotes", symbol: victim, times: 1 });
    const before = site.requests.length;
    const progress: string[] = [];
    const run = await runSources([{ name: "barchart", definition: barchartSource as never, config: configFor(site, { max_retries: 0 }) }], {
      request: { product: "NQ" },
      policy: "fallback",
      log: silentLogger,
      retries: 1,
      now: clock,
      onProgress: (_name, update) => progress.push(`${update.stage} ${update.done}/${update.total}`),
    });
    site.setFault(null);
    expect(run.ok).toBe(true);
    expect(run.attempts[0]).toMatchObject({ outcome: "success", tries: 2 });
    const quotes = site.requests.slice(before).filter((r) => r.kind === "quotes").map((r) => r.query.symbol);
    // Every series once, the failed one twice: nothing fetched before the failure was fetched again.
    expect(quotes.filter((q) => q === victim)).toHaveLength(2);
    expect(quotes).toHaveLength(site.series.length + 1);
    expect(new Set(quotes).size).toBe(site.series.length);
    const pages = site.requests.slice(before).filter((r) => r.kind === "page").map((r) => r.path);
    expect(pages.length).toBeLessThanOrEqual(site.series.length + 1);
    expect(run.chain!.optionsSummary.expirations).toEqual([...new Set(site.series.map((s) => s.expiration))].sort());
    // And the user saw it go, series by series.
    for (const s of site.series) expect(progress.some((p) => p.startsWith(`series ${s.code} `)), s.code).toBe(true);
  });

  it("saves a partial or failed crawl under a marked name, and replay prefers the newest complete capture and says so", async () => {
    const live = await barchartSource.create(configFor(site, { save_dir: saveDir }), recordingContext(clock));
    try {
      const good = await live.load({ product: "NQ", maxExpirations: 2 }, { signal: signal() });
      expect(good.complete).toBe(true);
      // One listed series comes back empty: the chain is partial.
      const nearest = [...site.series].sort((a, b) => (a.expiration < b.expiration ? -1 : 1));
      site.setFault({ kind: "empty-chain", symbol: nearest[1]!.code });
      const partial = await live.load({ product: "NQ", maxExpirations: 2 }, { signal: signal() });
      expect(partial.complete).toBe(false);
      expect(partial.incompleteReasons!.join(" ")).toMatch(/empty chain/);
      // Every series empty: no data at all.
      site.setFault("empty-chain");
      await expect(live.load({ product: "NQ", maxExpirations: 1 }, { signal: signal() })).rejects.toBeInstanceOf(NoDataError);
    } finally {
      site.setFault(null);
      await live.close?.();
    }
    const folders = (await readdir(saveDir)).sort();
    expect(folders).toHaveLength(3);
    expect(folders[0]).toMatch(/-NQ$/);
    expect(folders[1]).toMatch(/-NQ-partial$/);
    expect(folders[2]).toMatch(/-NQ-failed$/);

    const context = recordingContext();
    const replay = await barchartSource.create(barchartConfigSchema.parse({ mode: "saved", saved_dir: saveDir }), context);
    const replayed = await replay.load({ product: "NQ" }, { signal: signal() });
    expect(replayed.complete).toBe(true);
    expect(replayed.warnings![0]).toMatch(new RegExp(`replayed the complete Barchart capture in .*${folders[0]}, fetched 2026-11-16T`));
    expect(replayed.warnings!.join("\n")).toMatch(/newer partial capture was not replayed/);
    expect(replayed.warnings!.join("\n")).toMatch(/newer failed capture was not replayed/);
    expect(replayed.asOfReason).toMatch(/replay of a capture fetched 2026-11-16T/);
    expect(context.entries.some((e) => /^replaying the complete Barchart capture/.test(e.message))).toBe(true);

    // Pointed at the partial capture itself, replay gives it, saying it is partial.
    const direct = await barchartSource.create(barchartConfigSchema.parse({ mode: "saved", saved_dir: join(saveDir, folders[1]!) }), recordingContext());
    const partialReplay = await direct.load({ product: "NQ" }, { signal: signal() });
    expect(partialReplay.complete).toBe(false);
    expect(partialReplay.incompleteReasons![0]).toMatch(/replayed a partial capture/);
  });
});

describe.skipIf(browser.skip || !hasBarchartFixtures)("the local site serving the real MC7M25 capture", () => {
  it("yields the capture's 293 calls and 293 puts, dated by the page's expiry text", async () => {
    const site = await startLocalBarchartSite({ today: "2025-06-08", weeksPerType: 1 });
    const context = recordingContext(() => new Date("2025-06-09T05:32:18Z"));
    const source = await barchartSource.create(configFor(site, { expiries: ["MC7M25"] }), context);
    try {
      const chain = normalized(await source.load({ product: "NQ" }, { signal: signal() }));
      expect(chain.optionsSummary).toMatchObject({ calls: 293, puts: 293, expirations: ["2025-06-09"], underlying: "NQM5", underlyingPrice: 21745 });
      expect(chain.contracts.every((c) => c.rawSymbol!.startsWith("MC7M5|") && c.symbol.startsWith("Q2AM5 ") && c.root === "Q2A")).toBe(true);
      expect(site.requests.filter((r) => r.kind === "quotes").map((r) => r.query.symbol)).toEqual(["MC7M25"]);
    } finally {
      await source.close?.();
      await site.close();
    }
  });
});
