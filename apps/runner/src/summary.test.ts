import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CSV_COLUMNS } from "./outputs.js";
import { runProfile } from "./run.js";
import { renderSummary } from "./summary.js";
import { writeFakeProfile } from "./test-plugin.js";

const temps: string[] = [];
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-summary-"));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  while (temps.length) rmSync(temps.pop()!, { recursive: true, force: true });
});

describe("summary and outputs (issue 9)", () => {
  it("prints every underlying with price, basis and time, the as-of and why, and estimated vs spent per source and in total", async () => {
    const dir = workspace();
    const profilePath = writeFakeProfile(dir, { asOfReason: "the market is closed; the last complete moment is the 16:00 close" });
    const { summary, exitCode } = await runProfile({ profilePath, env: {} });
    expect(exitCode).toBe(0);
    const text = renderSummary(summary);
    expect(text).toMatch(/NQZ6 @ 21010\.25 \(mid, 2026-11-20T20:59:58(\.000)?Z\) · 1 expiration, 4 contracts/);
    expect(text).toMatch(/NQH7 @ 21250\.5 \(settlement, 2026-11-19T21:15:00(\.000)?Z\)/);
    expect(text).toMatch(/as-of reason\s+the market is closed; the last complete moment is the 16:00 close/);
    expect(text).toMatch(/fake\s+ANSWERED\s+off\s+1\s+\d+ ms\s+\$0\.50\s+\$0\.25/);
    expect(text).toMatch(/Spend this run: \$0\.25 spent \(estimated \$0\.50\)/);
    expect(summary.estimatedUsd).toBeCloseTo(0.5, 9);
    expect(summary.spendBySource).toEqual([{ source: "fake", estimatedUsd: 0.5, spentUsd: 0.25 }]);
    expect(summary.chain!.optionsSummary.underlyings.map((u) => u.symbol)).toEqual(["NQZ6", "NQH7"]);
    expect(summary.chain!.metadata.asOfReason).toMatch(/market is closed/);
  });

  it("writes the request into the chain JSON as metadata.request, and the new contract fields as CSV columns", async () => {
    const dir = workspace();
    const profilePath = writeFakeProfile(dir, {}, { request: { product: "NQ", max_expirations: 2 } });
    const { summary } = await runProfile({ profilePath, env: {}, request: { asOf: "2026-11-20T21:00:00.000Z" } });
    const json = JSON.parse(readFileSync(summary.outputs!.json, "utf8"));
    expect(json.metadata.request).toEqual({ product: "NQ", maxExpirations: 2, asOf: "2026-11-20T21:00:00.000Z" });
    expect(summary.request).toEqual(json.metadata.request);
    const [header, first] = readFileSync(summary.outputs!.csv, "utf8").split("\n");
    expect(header).toBe(CSV_COLUMNS.join(","));
    const cells = Object.fromEntries(CSV_COLUMNS.map((column, i) => [column, first!.split(",")[i]]));
    expect(cells).toMatchObject({
      underlying_price: "21010.25",
      underlying_price_basis: "mid",
      cleared_volume: "42",
      cleared_volume_date: "2026-11-19",
    });
    expect(cells.underlying_price_time).toMatch(/^2026-11-20T20:59:58/);
  });

  it("says INCOMPLETE with each reason, in the table and in --json", async () => {
    const dir = workspace();
    const profilePath = writeFakeProfile(dir, { incompleteReasons: ["the server answered 206: trades cut at 20:41", "series QN4Z6 had no definition"] });
    const { summary, exitCode } = await runProfile({ profilePath, env: {} });
    expect(exitCode).toBe(0);
    expect(summary.incomplete).toBe(true);
    expect(summary.attempts[0]!.outcome).toBe("incomplete");
    const text = renderSummary(summary);
    expect(text).toMatch(/fake\s+ANSWERED \(INCOMPLETE\)/);
    expect(text).toMatch(/INCOMPLETE\s+the server answered 206: trades cut at 20:41/);
    expect(text).toMatch(/INCOMPLETE\s+series QN4Z6 had no definition/);
    expect(summary.notices.join("\n")).toMatch(/INCOMPLETE: the "fake" chain is partial: the server answered 206: trades cut at 20:41; series QN4Z6 had no definition/);
    const json = JSON.parse(JSON.stringify(summary));
    expect(json.chain.metadata.incompleteReasons).toHaveLength(2);
  });

  it("exits 1 when the strict policy refuses an incomplete chain, saying why", async () => {
    const dir = workspace();
    const profilePath = writeFakeProfile(dir, { noQuotes: true }, { fallback: "strict" });
    const { summary, exitCode } = await runProfile({ profilePath, env: {} });
    expect(exitCode).toBe(1);
    expect(summary.ok).toBe(false);
    expect(summary.outputs).toBeNull();
    expect(summary.notices.join("\n")).toMatch(/INCOMPLETE: "fake" answered with a partial chain, refused under the "strict" policy .*hollow chain/);
  });

  it("passes the profile's quality thresholds to the normalizer", async () => {
    const dir = workspace();
    const profilePath = writeFakeProfile(dir, {}, { quality: { stale_quote_minutes: 90, max_missing_bid_ask_share: 0.2 } });
    const { summary } = await runProfile({ profilePath, env: {} });
    expect(summary.chain!.qualityMetrics.staleQuoteThresholdMs).toBe(90 * 60_000);
  });
});

describe("a cache that cannot open (issue 18 item 9)", () => {
  it("warns, runs without the cache, and says so in the summary", async () => {
    const dir = workspace();
    mkdirSync(join(dir, "cache.db")); // a folder where the cache file should be
    const profilePath = writeFakeProfile(dir, {}, { cache: { plugin: "@nq/cache-sqlite", path: "cache.db" } });
    const logs: string[] = [];
    const { summary, exitCode } = await runProfile({ profilePath, env: {}, onLog: (entry) => logs.push(`${entry.level} ${entry.message}`) });
    expect(exitCode).toBe(0);
    expect(summary.cache.enabled).toBe(false);
    expect(summary.cache.unavailable).toBeTruthy();
    expect(logs.join("\n")).toMatch(/warn the cache could not be opened, so this run goes on without it/);
    expect(renderSummary(summary)).toMatch(/cache UNAVAILABLE, this run did not use it/);
    expect(summary.notices.join("\n")).toMatch(/CACHE UNAVAILABLE/);
  });
});

describe("profile fields core validates (one round of errors, deadlines)", () => {
  it("reports every source's bad config at once, each with its path", async () => {
    const dir = workspace();
    const profilePath = writeFakeProfile(dir, {}, {
      data_source_priority: ["a", "b"],
      data_sources: {
        a: { plugin: "@nq/source-saved", config: { include_sample: "yes" } },
        b: { plugin: "@nq/source-saved", config: { include_sample: 3 } },
      },
    });
    const error = (await runProfile({ profilePath, env: {} }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/data_sources\.a\.config\.include_sample/);
    expect(error.message).toMatch(/data_sources\.b\.config\.include_sample/);
  });

  it("gives up on a source past the profile's source_deadline_ms and falls back", async () => {
    const dir = workspace();
    writeFakeProfile(dir, {});
    const profilePath = writeFakeProfile(dir, { mode: "hang" }, {
      source_deadline_ms: 300,
      data_source_priority: ["fake", "saved"],
      data_sources: {
        fake: { plugin: "./fake-plugin.mjs", config: { mode: "hang" } },
        saved: { plugin: "@nq/source-saved", config: { include_sample: true }, cache: false },
      },
    });
    const started = Date.now();
    const { summary, exitCode } = await runProfile({ profilePath, env: {} });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(exitCode).toBe(0);
    expect(summary.source).toBe("saved");
    expect(summary.attempts[0]!.reason).toMatch(/deadline/);
  });
});
