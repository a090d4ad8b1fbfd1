/**
 * @nq/source-saved — the offline source. It replays chains that earlier runs saved (the runner writes
 * `*.chain.json` files), and can fall back to the generated NQ sample chain this package ships, so the
 * toolkit runs on a fresh machine with no keys and no network.
 *
 * A replay is never live data: every chain it returns is marked delayed, keeps its original as-of time,
 * names the source it was first loaded from, and keeps the `sample` flag of generated data.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AbortedError, defineSource, NoDataError, z, type ChainRequest, type SourceResult, type SourceRow } from "@nq/core";
import { readSavedChain, scanSavedChains, type SavedChain } from "./saved-chain-files.js";

export { generateSampleChain, generateSampleRows, DEFAULT_SAMPLE_OPTIONS, strikeLadder, type SampleChainOptions, type SampleSeries } from "./sample-chain.js";
export { black76, normalCdf } from "./black76.js";
export { CHAIN_FILE_SUFFIX, readSavedChain, scanSavedChains } from "./saved-chain-files.js";

/** The generated sample chain shipped in this package. */
export const SAMPLE_CHAIN_FILE = fileURLToPath(new URL("../samples/nq-sample.chain.json", import.meta.url));

const configSchema = z
  .object({
    /** Folder of `*.chain.json` files, relative to the profile. Absent: only the sample (if allowed). */
    dir: z.string().min(1).optional(),
    /** Use the shipped sample chain when no saved chain matches. */
    include_sample: z.boolean().default(false),
    /** Ignore saved chains whose as-of time is older than this many hours before the request; null for no limit. */
    max_age_hours: z.number().positive().nullable().default(null),
  })
  .strict();

export type SavedSourceConfig = z.infer<typeof configSchema>;

export const savedSource = defineSource({
  name: "saved",
  description: "Replays options chains saved by earlier runs; offline, free, never live.",
  capabilities: {
    chain: true,
    quotes: true,
    openInterest: true,
    settlement: true,
    volume: true,
    greeks: true,
    impliedVolatility: true,
    streaming: false,
    needsCredentials: false,
    costsMoney: false,
    delayed: true,
  },
  configSchema,
  create(config, context) {
    const dir = config.dir === undefined ? null : isAbsolute(config.dir) ? config.dir : resolve(context.baseDir ?? process.cwd(), config.dir);
    return {
      async load(request, { signal }) {
        if (signal.aborted) throw new AbortedError("saved", "the load was aborted");
        const warnings: string[] = [];
        const candidates: SavedChain[] = [];
        if (dir !== null) {
          const scan = scanSavedChains(dir);
          warnings.push(...scan.warnings);
          candidates.push(...scan.chains);
        }
        let chosen = pickChain(candidates, request, config.max_age_hours);
        if (!chosen && config.include_sample) {
          const sample = readSavedChain(SAMPLE_CHAIN_FILE);
          if (typeof sample === "string") throw new NoDataError("saved", `the shipped sample chain cannot be read (${sample}); reinstall @nq/source-saved`);
          chosen = pickChain([{ file: SAMPLE_CHAIN_FILE, chain: sample }], { product: request.product }, null);
        }
        if (signal.aborted) throw new AbortedError("saved", "the load was aborted");
        if (!chosen) {
          const where = dir === null ? "no folder is configured (set config.dir)" : `no saved ${request.product} chain in ${dir} matches the request`;
          throw new NoDataError("saved", `${where}; run once with a live source to save one, or set "include_sample": true to use the generated sample`);
        }
        return toResult(chosen, warnings);
      },
      async close() {},
    };
  },
});

export default savedSource;

/** The newest saved chain for the product at or before the requested time, within the age limit. */
function pickChain(chains: SavedChain[], request: ChainRequest, maxAgeHours: number | null): SavedChain | null {
  const wantedTime = request.asOf ? Date.parse(request.asOf) : Number.POSITIVE_INFINITY;
  const eligible = chains.filter(({ chain }) => {
    const asOf = Date.parse(chain.metadata.asOf);
    if (chain.metadata.product.toUpperCase() !== request.product.toUpperCase() || Number.isNaN(asOf) || asOf > wantedTime) return false;
    if (!chain.metadata.complete) return false;
    if (maxAgeHours !== null) {
      const reference = Number.isFinite(wantedTime) ? wantedTime : Date.now();
      if (reference - asOf > maxAgeHours * 3600_000) return false;
    }
    return true;
  });
  eligible.sort((a, b) => Date.parse(b.chain.metadata.asOf) - Date.parse(a.chain.metadata.asOf) || (a.file < b.file ? 1 : -1));
  return eligible[0] ?? null;
}

const ROW_FIELDS: (keyof SourceRow)[] = [
  "symbol",
  "underlying",
  "product",
  "root",
  "expiration",
  "expirationTime",
  "strike",
  "right",
  "bid",
  "ask",
  "bidSize",
  "askSize",
  "last",
  "volume",
  "openInterest",
  "openInterestDate",
  "settlement",
  "settlementDate",
  "impliedVolatility",
  "delta",
  "multiplier",
  "quoteTime",
  "rawStrike",
];

function toResult({ file, chain }: SavedChain, warnings: string[]): SourceResult {
  const meta = chain.metadata;
  const origin = meta.sample
    ? `SAMPLE DATA (generated, not market data) from ${file}`
    : `replayed from ${file}: loaded from ${meta.source} at ${meta.fetchedAt}, as of ${meta.asOf}${meta.delayed ? " (delayed at the time)" : ""}`;
  const rows = chain.contracts.map((contract) => {
    const row: SourceRow = {};
    for (const field of ROW_FIELDS) if (field in contract) row[field] = contract[field];
    return row;
  });
  return {
    rows,
    asOf: meta.asOf,
    delayed: true,
    sample: meta.sample,
    underlying: chain.optionsSummary.underlying,
    underlyingPrice: chain.optionsSummary.underlyingPrice,
    complete: true,
    warnings: [origin, ...meta.warnings.filter((w) => !w.startsWith("SAMPLE DATA")), ...warnings],
    rawDataAvailable: true,
  };
}
