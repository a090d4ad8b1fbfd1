/**
 * @nq/source-saved — the offline source. It replays chains that earlier runs saved (the runner writes
 * `*.chain.json` files), and can fall back to the generated NQ sample chain this package ships, so the
 * toolkit runs on a fresh machine with no keys and no network.
 *
 * A replay is never live data and never passes for more than it is: every chain it returns is marked
 * delayed, keeps its original as-of time, names the file and the source it was first loaded from, keeps
 * the `sample` flag of generated data, and is replayed only for a request its saved scope covers and an
 * as-of time it matches (or is flagged `STALE` within a documented tolerance).
 */
import { basename, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AbortedError, defineSource, NoDataError, z, type ChainRequest, type SourceResult, type SourceRow } from "@nq/core";
import { checkSaved } from "./check.js";
import { readSavedChain, scanSavedChains, type SavedChain } from "./saved-chain-files.js";
import { contentScope, describeExpirations, describeRequest, recordedScope, scopeShortfall, type ChainScope } from "./scope.js";

export { generateSampleChain, generateSampleRows, DEFAULT_SAMPLE_OPTIONS, strikeLadder, type SampleChainOptions, type SampleSeries } from "./sample-chain.js";
export { CHAIN_FILE_SUFFIX, readSavedChain, scanSavedChains, type SavedChain } from "./saved-chain-files.js";
export { contentScope, describeRequest, recordedScope, scopeShortfall, type ChainContent, type ChainScope } from "./scope.js";

/** The generated sample chain shipped in this package. */
export const SAMPLE_CHAIN_FILE = fileURLToPath(new URL("../samples/nq-sample.chain.json", import.meta.url));

/** Default for `as_of_tolerance_hours`: a normal weekend (Friday's close to Monday morning) fits inside it. */
export const DEFAULT_AS_OF_TOLERANCE_HOURS = 72;

const HOUR_MS = 3600_000;

const configSchema = z
  .object({
    /** Folder of `*.chain.json` files, relative to the profile. Absent: only the sample (if allowed). */
    dir: z.string().min(1).optional(),
    /** Use the shipped sample chain when no saved chain matches. */
    include_sample: z.boolean().default(false),
    /** Ignore saved chains whose as-of time is older than this many hours before the request (or now); null for no limit. */
    max_age_hours: z.number().positive().nullable().default(null),
    /**
     * With a requested as-of: a chain at most this many hours older is replayed and flagged STALE, an older
     * one is refused. Without one: the newest chain is replayed, flagged STALE when older than this.
     */
    as_of_tolerance_hours: z.number().nonnegative().default(DEFAULT_AS_OF_TOLERANCE_HOURS),
  })
  .strict();

export type SavedSourceConfig = z.infer<typeof configSchema>;

/** A saved chain weighed against the request: usable (with a STALE note or none) or not, and why. */
interface Candidate {
  saved: SavedChain;
  sample: boolean;
  scope: ChainScope;
  asOfMs: number;
  verdict: { ok: true; stale: string | null } | { ok: false; reason: string };
}

export const savedSource = defineSource({
  name: "saved",
  check: (config, context, { product }) => checkSaved(config, { product, now: context.now(), ...(context.baseDir ? { baseDir: context.baseDir } : {}) }),
  description: "Replays options chains saved by earlier runs, only for requests they cover; offline, free, never live.",
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
    const now = () => context.now().getTime();
    return {
      async load(request, { signal }) {
        if (signal.aborted) throw new AbortedError("saved", "the load was aborted");
        const warnings: string[] = [];
        const candidates: Candidate[] = [];
        if (dir !== null) {
          const scan = scanSavedChains(dir);
          warnings.push(...scan.warnings);
          for (const saved of scan.chains) candidates.push(assess(saved, false, request, config, now()));
        }
        let chosen = best(candidates);
        let sampleCandidate: Candidate | null = null;
        if (!chosen && config.include_sample) {
          const sample = readSavedChain(SAMPLE_CHAIN_FILE);
          if (typeof sample === "string") throw new NoDataError("saved", `the shipped sample chain cannot be read (${sample}); reinstall @nq/source-saved`);
          sampleCandidate = assess({ file: SAMPLE_CHAIN_FILE, chain: sample }, true, request, config, now());
          chosen = best([sampleCandidate]);
        }
        if (signal.aborted) throw new AbortedError("saved", "the load was aborted");
        if (!chosen) throw new NoDataError("saved", noMatchMessage(request, dir, candidates, sampleCandidate, config.include_sample));
        const passedOver = candidates.filter((c) => !c.verdict.ok && c.asOfMs >= chosen.asOfMs && c.saved.chain.metadata.product.toUpperCase() === request.product.toUpperCase());
        if (passedOver.length) warnings.push(`passed over ${passedOver.length} saved chain${passedOver.length > 1 ? "s" : ""} as new or newer: ${listCandidates(passedOver)}`);
        return toResult(chosen, warnings);
      },
      async close() {},
    };
  },
});

export default savedSource;

/** Whether one saved chain can answer the request, by product, completeness, as-of time and scope. */
function assess(saved: SavedChain, shippedSample: boolean, request: ChainRequest, config: SavedSourceConfig, nowMs: number): Candidate {
  const meta = saved.chain.metadata;
  const sample = meta.sample || saved.chain.contracts.some((c) => (c.provenance as { sample?: unknown } | undefined)?.sample === true);
  // The shipped sample is the whole generated chain by construction; a runner's file says what it answered
  // in metadata.request; any other file is taken to hold exactly its own expirations and strike range.
  const scope = shippedSample
    ? recordedScope({})
    : meta.request
      ? recordedScope(meta.request)
      : contentScope({ expirations: saved.chain.optionsSummary.expirations, strikeRange: saved.chain.strikeRange, contracts: saved.chain.contracts });
  const asOfMs = Date.parse(meta.asOf);
  const candidate = (verdict: Candidate["verdict"]): Candidate => ({ saved, sample, scope, asOfMs, verdict });
  const refuse = (reason: string) => candidate({ ok: false, reason });

  if (meta.product.toUpperCase() !== request.product.toUpperCase()) return refuse(`a ${meta.product} chain`);
  // A proxy chain (NDX options standing in for NQ) is never replayed as the product itself.
  if (meta.proxy) return refuse(`a proxy chain (${meta.proxy.label})`);
  if (!meta.complete) return refuse("incomplete (its source said the data was partial)");

  const tolerance = config.as_of_tolerance_hours * HOUR_MS;
  const maxAge = config.max_age_hours === null ? null : config.max_age_hours * HOUR_MS;
  let stale: string | null = null;
  if (request.asOf !== undefined) {
    const wanted = Date.parse(request.asOf);
    const asked = Number.isNaN(wanted) ? request.asOf : new Date(wanted).toISOString();
    if (asOfMs > wanted) return refuse(`as of ${meta.asOf}, after the asked ${asked}`);
    const gap = wanted - asOfMs;
    // A run that asked for this very as-of answered it with this chain: replaying it is the same answer.
    const sameQuestion = scope.asOf !== undefined && Date.parse(scope.asOf) === wanted;
    if (!sameQuestion && gap > tolerance) return refuse(`as of ${meta.asOf}, ${duration(gap)} before the asked ${asked} (as_of_tolerance_hours is ${config.as_of_tolerance_hours})`);
    if (maxAge !== null && gap > maxAge) return refuse(`as of ${meta.asOf}, older than max_age_hours (${config.max_age_hours}) before the asked ${asked}`);
    if (!sameQuestion && gap > 0) stale = `STALE: asked as of ${asked}; replaying ${basename(saved.file)} as of ${meta.asOf}, ${duration(gap)} earlier (within as_of_tolerance_hours ${config.as_of_tolerance_hours})`;
  } else {
    // The sample's as-of time is part of the fiction: its age says nothing about the market.
    const age = nowMs - asOfMs;
    if (!sample && maxAge !== null && age > maxAge) return refuse(`as of ${meta.asOf}, older than max_age_hours (${config.max_age_hours})`);
    if (!sample && age > tolerance) stale = `STALE: the newest usable saved chain, ${basename(saved.file)}, is as of ${meta.asOf}, ${duration(age)} ago (over as_of_tolerance_hours ${config.as_of_tolerance_hours})`;
  }

  const shortfall = scopeShortfall(scope, request, { expirations: saved.chain.optionsSummary.expirations, strikeRange: saved.chain.strikeRange, contracts: saved.chain.contracts });
  if (shortfall.length) {
    const unrecorded = scope.basis === "content" ? " (the file does not record the request it answered, so it is taken to hold only what is in it)" : "";
    return refuse(`narrower than asked: ${shortfall.join("; ")}${unrecorded}`);
  }
  return candidate({ ok: true, stale });
}

/** The newest usable chain; market data before sample data at the same as-of; then by file name. */
function best(candidates: Candidate[]): Candidate | null {
  const usable = candidates.filter((c) => c.verdict.ok);
  usable.sort((a, b) => b.asOfMs - a.asOfMs || Number(a.sample) - Number(b.sample) || (a.saved.file < b.saved.file ? 1 : -1));
  return usable[0] ?? null;
}

function noMatchMessage(request: ChainRequest, dir: string | null, candidates: Candidate[], sample: Candidate | null, includeSample: boolean): string {
  const asked = `asked: ${request.product.toUpperCase()}, ${describeRequest(request)}`;
  const parts: string[] = [];
  if (dir === null) parts.push("no folder is configured (set config.dir)");
  else if (candidates.length === 0) parts.push(`no saved ${request.product} chain in ${dir}`);
  else parts.push(`no saved ${request.product} chain in ${dir} matches the request (${asked}); available: ${listCandidates(candidates)}`);
  if (sample && !sample.verdict.ok) parts.push(`the generated sample (as of ${sample.saved.chain.metadata.asOf}) does not match either: ${sample.verdict.reason}`);
  const hint = includeSample
    ? "run once with a live source for this request to save one"
    : `run once with a live source for this request to save one, or set "include_sample": true to use the generated sample`;
  return `${parts.join("; ")}${dir === null || candidates.length === 0 ? ` (${asked})` : ""}; ${hint}`;
}

/** "a.chain.json as of … (why not)", newest first, at most eight named. */
function listCandidates(candidates: Candidate[]): string {
  const sorted = [...candidates].sort((a, b) => b.asOfMs - a.asOfMs);
  const named = sorted.slice(0, 8).map((c) => {
    const meta = c.saved.chain.metadata;
    const what = `${basename(c.saved.file)} (${meta.product}${c.sample ? " sample" : ""} as of ${meta.asOf}, ${scopeSummary(c.scope)})`;
    return c.verdict.ok ? what : `${what}: ${c.verdict.reason}`;
  });
  return named.join("; ") + (sorted.length > 8 ? `; and ${sorted.length - 8} more` : "");
}

function scopeSummary(scope: ChainScope): string {
  if (scope.basis === "content") return `scope not recorded; holds ${describeExpirations(scope)}${scope.strikeMin === undefined ? "" : `, strikes ${scope.strikeMin}–${scope.strikeMax}`}`;
  return `saved for ${describeRequest(scope)}`;
}

function duration(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 120) return `${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 72) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} days`;
}

const COMPUTED_ANALYTICS_FIELDS = ["impliedVolatility", "ivBasis", "delta", "gamma", "theta", "vega", "greeksSource"] as const;

function toResult({ saved: { file, chain }, sample, scope, verdict }: Candidate, warnings: string[]): SourceResult {
  const meta = chain.metadata;
  const origin = sample
    ? `SAMPLE DATA (generated, not market data) from ${file}, as of ${meta.asOf}`
    : `replayed from ${file}: loaded from ${meta.source} at ${meta.fetchedAt}, as of ${meta.asOf}${meta.delayed ? " (delayed at the time)" : ""}; ${scopeSummary(scope)}`;
  const rows = chain.contracts.map((contract) => {
    // Every field of the saved contract but its provenance (the replay gets its own, marked delayed).
    const { provenance: _provenance, ...row } = contract;
    // Values core computed when the chain was saved are computed again (with this run's analytics rate),
    // not passed off as the feed's; a feed's own values (or a file from before greeksSource) stay the feed's.
    if (row.greeksSource === "computed") {
      for (const field of COMPUTED_ANALYTICS_FIELDS) delete row[field];
    }
    return row as SourceRow;
  });
  const stale = verdict.ok && verdict.stale ? [verdict.stale] : [];
  return {
    rows,
    asOf: meta.asOf,
    delayed: true,
    sample,
    underlying: chain.optionsSummary.underlying,
    underlyingPrice: chain.optionsSummary.underlyingPrice,
    complete: true,
    warnings: [origin, ...stale, ...meta.warnings.filter((w) => !w.startsWith("SAMPLE DATA")), ...warnings],
    rawDataAvailable: true,
  };
}
export { checkSaved, type SavedCheckOptions } from "./check.js";
