/**
 * @nq/source-databento — NQ options chains from Databento (dataset GLBX.MDP3), the primary, paid source.
 *
 * A load runs three stages, one file each:
 *   1. query.ts               ChainRequest + config → what to ask for
 *   2. extract-historical.ts  the Historical HTTP API, every paid request priced first by the cost guard
 *      extract-files.ts       or the user's own .dbn/.dbn.zst files (no key, no spend)
 *   3. rows.ts                definitions ⋈ statistics ⋈ trades ⋈ quotes → SourceRows for core to normalize
 *
 * The local Databento-compatible server for tests and demos is at "@nq/source-databento/test-server".
 */
import { AbortedError, type BackfillCapability, defineSource, type Source, type SourceContext, type SourceResult } from "@nq/core";
import { checkDatabento } from "./check.js";
import { cacheIdentity, configSchema, type ResolvedConfig, resolveApiKey, SOURCE_NAME } from "./config.js";
import { CostGuard } from "./cost-guard.js";
import { extractFromFiles, listDbnFiles } from "./extract-files.js";
import { type ExtractedChain, extractFromHistorical, type PurchaseMemo } from "./extract-historical.js";
import { historicalClientFromConfig } from "./historical/from-config.js";
import { type ChainQuery, toChainQuery } from "./query.js";
import { referenceDateNotes, toSourceRows } from "./rows.js";
import { loadLive } from "./live/load.js";
import { BACKFILL_SCHEMAS, DEFAULT_BACKFILL_SCHEMAS, runBackfill } from "./backfill.js";

export const databento = defineSource({
  name: SOURCE_NAME,
  description: "Databento Historical API (CME Globex GLBX.MDP3): NQ options definitions, settlement, open interest, volume and quotes; paid per byte, guarded by cost limits. Also reads local .dbn files.",
  capabilities: {
    chain: true,
    quotes: true,
    openInterest: true,
    settlement: true,
    volume: true,
    greeks: false,
    impliedVolatility: false,
    streaming: true,
    needsCredentials: true,
    costsMoney: true,
    delayed: false,
  },
  configSchema,
  cacheIdentity,
  check: (config, context, { signal }) => checkDatabento(config, { signal, ...(context.baseDir ? { baseDir: context.baseDir } : {}) }),
  create(config: ResolvedConfig, context: SourceContext): Source {
    const fileMode = config.files !== undefined || config.dir !== undefined;
    // Checked (and registered as a secret) before any request can be made.
    const apiKey = fileMode ? null : resolveApiKey(config);
    // Lives as long as the source: a load retried after a failure replays what was already bought.
    const purchased: PurchaseMemo = new Map();
    let closed = false;
    return {
      async load(request, { signal }): Promise<SourceResult> {
        if (signal.aborted || closed) throw new AbortedError(SOURCE_NAME, closed ? "the source was closed" : "the load was aborted", { cause: signal.reason });
        const query = toChainQuery(request, config, SOURCE_NAME);
        if (apiKey !== null && config.mode === "live") return loadLive(config, apiKey, query, context, signal, SOURCE_NAME);
        const extracted = apiKey === null ? await loadFiles(config, query, context, signal) : await loadHistorical(config, apiKey, query, context, purchased, signal);
        return toResult(extracted, config);
      },
      async close() {
        closed = true;
        purchased.clear();
      },
    };
  },
});

export default databento;

async function loadHistorical(
  config: ResolvedConfig,
  apiKey: string,
  query: ChainQuery,
  context: SourceContext,
  purchased: PurchaseMemo,
  signal: AbortSignal,
): Promise<ExtractedChain> {
  const client = historicalClientFromConfig(config, apiKey, context.log);
  const guard = new CostGuard(config, client, context.spend, context.log, SOURCE_NAME);
  try {
    return await extractFromHistorical(
      query,
      { client, guard, log: context.log, progress: context.progress, source: SOURCE_NAME, now: context.now(), verifyRecordCount: config.verify_record_count, purchased },
      signal,
    );
  } finally {
    context.log.info(`spent $${guard.spentUsd.toFixed(4)} on this load`);
  }
}

async function loadFiles(config: ResolvedConfig, query: ChainQuery, context: SourceContext, signal: AbortSignal): Promise<ExtractedChain> {
  const files = await listDbnFiles(config, context.baseDir);
  context.log.info(`reading ${files.length} local DBN file(s)`);
  const extracted = await extractFromFiles(query, files, context.now(), signal);
  context.spend.record(SOURCE_NAME, `local DBN files (${files.length})`, 0);
  return extracted;
}

function toResult(extracted: ExtractedChain, config: ResolvedConfig): SourceResult {
  return {
    rows: toSourceRows(extracted.selected, extracted.records),
    asOf: extracted.asOf,
    ...(extracted.asOfReason ? { asOfReason: extracted.asOfReason } : {}),
    delayed: false,
    sample: config.sample,
    complete: extracted.incompleteReasons.length === 0,
    incompleteReasons: extracted.incompleteReasons,
    qualityWarnings: extracted.qualityWarnings,
    warnings: [...extracted.warnings, ...referenceDateNotes(extracted.selected, extracted.records)],
    rawDataAvailable: false,
  };
}

/**
 * The history backfill the runner's `backfill` command drives without naming this source: batch jobs →
 * verified DBN files → the caller's converter (backfill.ts).
 */
export const backfill = {
  source: SOURCE_NAME,
  description: "Databento batch jobs (one per schema, one file per day), SHA-256-verified downloads resumed with Range, a resumable manifest",
  schemas: BACKFILL_SCHEMAS,
  defaultSchemas: DEFAULT_BACKFILL_SCHEMAS,
  run: runBackfill,
} satisfies BackfillCapability;

export { toSourceRows, underlyingPriceOf } from "./rows.js";
export { ChainRecords, type OptionDefinition } from "./chain-records.js";
export { cacheIdentity, configSchema, DEFAULT_BASE_URL, DEFAULT_COST_LIMITS, DEFAULT_DATASET, type DatabentoConfig, resolveApiKey } from "./config.js";
export { HistoricalClient, type DatasetRange, type HistoricalClientOptions, type RangeQuery, type RangeStream, type SymbologyResolution } from "./historical/client.js";
export { NQ_SERIES_PARENTS } from "./query.js";
export { LiveClient, LiveChain, cramResponse, gatewayHost, subscriptionLines, gatewayError, MAX_SYMBOLS_PER_LINE } from "./live/index.js";
export type { LiveClientOptions, LiveClientStats, LiveClientEvents, ReconnectPolicy, LiveChainOptions, LiveChainStats, Subscription as LiveSubscription, LiveCompression } from "./live/index.js";
export { createLiveChain } from "./live/load.js";
export { toChainQuery, type ChainQuery } from "./query.js";
export { checkDatabento, type DatabentoCheckOptions } from "./check.js";
export { runBackfill, BACKFILL_SCHEMAS, type BackfillOptions, type BackfillPayment, type BackfillProgress, type BackfillResult, type ConvertInput, type ConvertOutput } from "./backfill.js";
export { MANIFEST_FILE, type BackfillManifest, type ManifestFile, type ManifestJob } from "./backfill-manifest.js";
export { BatchClient, type BatchFile, type BatchJob, type BatchJobRequest, type JobState, type WaitOptions } from "./historical/batch-client.js";
export { downloadBatchFile, type DownloadedFile, type DownloadOptions } from "./historical/batch-download.js";
