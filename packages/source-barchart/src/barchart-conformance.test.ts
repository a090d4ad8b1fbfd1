import { BlockedError, ConfigError, IncompleteDataError, NoDataError, RateLimitError } from "@nq/core";
import { describeSourceConformance } from "@nq/core/testing";
import { describe, it } from "vitest";
import { barchartConfigSchema, barchartSource, type BarchartConfig } from "./index.js";
import { browserForTests } from "./test-environment.js";
import { startLocalBarchartSite, type LocalBarchartSite, type SiteFaultKind } from "./test-site/index.js";

const browser = await browserForTests();

if (browser.skip) {
  describe("source conformance: barchart", () => {
    it.skip(`needs a browser — ${browser.message}`, () => {});
  });
} else {
  const sites: LocalBarchartSite[] = [];
  const polite = (site: LocalBarchartSite, extra: Partial<BarchartConfig> = {}): BarchartConfig =>
    barchartConfigSchema.parse({
      base_url: site.url,
      executable_path: browser.path ?? undefined,
      min_interval_ms: 0,
      jitter_ms: 0,
      max_retries: 0,
      timeout_ms: 15_000,
      challenge_wait_ms: 0,
      ...extra,
    });
  const faulty = async (fault: SiteFaultKind) => {
    const site = await startLocalBarchartSite({ fault, weeksPerType: 1 });
    sites.push(site);
    return polite(site);
  };

  describeSourceConformance(barchartSource, {
    request: { product: "NQ", maxExpirations: 2 },
    timeoutMs: 60_000,
    setup: async () => {
      const site = await startLocalBarchartSite({ weeksPerType: 1 });
      sites.push(site);
      return {
        config: polite(site),
        failures: [
          { name: "403 block page", config: await faulty("block"), expected: BlockedError },
          { name: "challenge page", config: await faulty("challenge"), expected: BlockedError },
          { name: "429 rate limit", config: await faulty("rate-limit"), expected: RateLimitError },
          { name: "malformed JSON", config: await faulty("malformed-json"), expected: IncompleteDataError },
          { name: "empty chain", config: await faulty("empty-chain"), expected: NoDataError },
          { name: "no browser", config: polite(site, { executable_path: "/nonexistent/chromium" }), expected: ConfigError },
        ],
        teardown: async () => {
          await Promise.all(sites.map((s) => s.close()));
        },
      };
    },
  });
}
