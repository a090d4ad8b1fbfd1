/**
 * `mode: "live"` for one-shot runs: connect to the Live gateway, replay from the Globex session's open,
 * answer with the chain as it stands when the replay completes, close. `watch --live` (the runner) keeps
 * a LiveChain open instead.
 */
import { AbortedError, NoDataError, type SourceContext, type SourceResult } from "@nq/core";
import type { ResolvedConfig } from "../config.js";
import type { ChainQuery } from "../query.js";
import { LiveChain } from "./chain.js";
import { LiveClient } from "./client.js";
import { historicalClientFromConfig } from "../historical/from-config.js";
import { resolveSeriesParents } from "../series-parents.js";

/**
 * A LiveClient and LiveChain for this source's config (the runner's watch uses it too). With
 * `discover_parents`, the chain first looks up which NQ weekly and end-of-month parents exist through the
 * Historical API (`base_url`, free `symbology.resolve`) and subscribes to them as well.
 */
export function createLiveChain(config: ResolvedConfig, apiKey: string, query: ChainQuery, context: Pick<SourceContext, "log" | "now">, source = "databento"): LiveChain {
  const [host, port] = config.live_gateway ? splitHostPort(config.live_gateway) : [undefined, undefined];
  const client = new LiveClient({
    apiKey,
    dataset: config.dataset,
    ...(host ? { host, port } : {}),
    compression: config.live_compression,
    heartbeatIntervalS: config.live_heartbeat_interval_s,
    connectTimeoutMs: Math.min(config.timeout_ms, 10_000),
    log: context.log,
    source,
  });
  return new LiveChain({
    client,
    parents: query.parentSymbols,
    // No candidates (discover_parents off): resolveSeriesParents asks nothing.
    discoverParents: (sessionOpen, signal) =>
      resolveSeriesParents(
        historicalClientFromConfig(config, apiKey, context.log, { source }),
        { dataset: query.dataset, candidates: query.candidateParents, day: sessionOpen },
        context.log,
        signal,
      ),
    schemas: query.schemas,
    underlyingPrices: query.underlyingPrices,
    now: context.now,
    sample: config.sample,
  });
}

export async function loadLive(config: ResolvedConfig, apiKey: string, query: ChainQuery, context: SourceContext, signal: AbortSignal, source = "databento"): Promise<SourceResult> {
  const chain = createLiveChain(config, apiKey, query, context, source);
  const onAbort = () => void chain.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    context.progress?.({ stage: "live: connecting and replaying from the session's open" });
    await chain.start();
    await chain.replayCompleted(signal);
    if (signal.aborted) throw new AbortedError(source, "the load was aborted", { cause: signal.reason });
    const result = chain.snapshot(query.filters);
    const stats = chain.measure();
    context.log.info(`Live replay applied: ${stats.records} records, ${stats.definitions} definitions, session ${chain.client.stats.sessionId}`);
    if (result.rows.length === 0) {
      throw new NoDataError(source, `the Live replay of ${query.parentSymbols.join(", ")} gave no NQ option matching the request (${stats.definitions} definitions)`);
    }
    return result;
  } catch (error) {
    if (signal.aborted) throw new AbortedError(source, "the load was aborted", { cause: signal.reason });
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    await chain.close();
  }
}

function splitHostPort(value: string): [string, number] {
  const at = value.lastIndexOf(":");
  return [value.slice(0, at), Number(value.slice(at + 1))];
}
