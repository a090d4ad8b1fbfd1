/**
 * Test support (not part of the build): writes a tiny source plugin (.mjs, no imports but node:fs) and a
 * profile that names it, so tests can drive the runner — in process or as the built CLI — through exactly
 * the paths a third-party plugin takes. What the plugin does is set by its `config.mode`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export const FAKE_PLUGIN = `
import { writeFileSync } from "node:fs";
const caps = { chain: true, quotes: true, openInterest: true, settlement: true, volume: true, greeks: false,
  impliedVolatility: false, streaming: false, needsCredentials: false, costsMoney: true, delayed: false };
function rows(config) {
  const out = [];
  const futures = [["NQZ6", "2026-12-18", 21010.25, "mid", "2026-11-20T20:59:58Z"], ["NQH7", "2027-03-19", 21250.5, "settlement", "2026-11-19T21:15:00Z"]];
  for (const [underlying, expiration, price, basis, time] of futures) {
    for (const strike of [21000, 21100]) {
      for (const right of ["C", "P"]) {
        out.push({ underlying, expiration, strike, right, bid: config.noQuotes ? null : 100, ask: config.noQuotes ? null : 101,
          underlyingPrice: price, underlyingPriceBasis: basis, underlyingPriceTime: time,
          clearedVolume: 42, clearedVolumeDate: "2026-11-19", openInterest: 7 });
      }
    }
  }
  return out;
}
export default {
  name: "fake",
  capabilities: caps,
  configSchema: { safeParse: (value) => ({ success: true, data: value ?? {} }) },
  create(config, context) {
    let closed = false;
    return {
      async load(request, { signal }) {
        if (config.mode === "hang") {
          context.progress?.({ stage: "waiting for a server that never answers" });
          context.log.warn("fake: started, and will hang");
          setInterval(() => {}, 1000);
          return new Promise(() => {});
        }
        if (config.mode === "fail") throw Object.assign(new Error("fake failure"), { code: "ECONNREFUSED" });
        context.spend.estimate("fake", "plan", 0.5);
        context.progress?.({ stage: "series NQZ6", done: 1, total: 2, bytes: 2048, spendUsd: 0 });
        context.spend.record("fake", "bought", 0.25);
        context.progress?.({ stage: "series NQH7", done: 2, total: 2, bytes: 4096, spendUsd: 0.25 });
        return {
          rows: rows(config),
          asOf: "2026-11-20T21:00:00Z",
          ...(config.asOfReason ? { asOfReason: config.asOfReason } : {}),
          ...(config.incompleteReasons ? { incompleteReasons: config.incompleteReasons, complete: false } : {}),
        };
      },
      async close() {
        if (!closed && config.closeMarker) writeFileSync(config.closeMarker, "closed");
        closed = true;
      },
    };
  },
};
`;

/** Writes fake-plugin.mjs and profile.json into `dir`; returns the profile's path. */
export function writeFakeProfile(dir: string, config: Record<string, unknown>, profile: Record<string, unknown> = {}): string {
  writeFileSync(join(dir, "fake-plugin.mjs"), FAKE_PLUGIN);
  const file = join(dir, "profile.json");
  writeFileSync(
    file,
    JSON.stringify({
      profile_name: "fake",
      data_source_priority: ["fake"],
      data_sources: { fake: { plugin: "./fake-plugin.mjs", config } },
      output: { dir: "out" },
      ...profile,
    }),
  );
  return file;
}
