/**
 * Stage 2 of 3 (Historical API) — extract: ask Databento for the chain's raw records.
 *
 * Order matters for cost. Free calls first (dataset range, symbology); then the whole plan is priced
 * and approved before anything is bought (cost-guard.ts); then definitions; then market data for the
 * selected options only — statistics, the session's trades, and the book at as-of in two steps (the
 * last few minutes for every option, then the rest of the session for the quiet ones that had no
 * record there) — and the same for each option's underlying future. Every request is priced exactly
 * again just before it is sent. Data already received in this source instance is never bought twice:
 * a retried load replays it.
 */
import { IncompleteDataError, type Logger, NoDataError, type SourceContext } from "@nq/core";
import type { DbnRecord } from "@nq/dbn";
import { ChainRecords, type OptionDefinition } from "./chain-records.js";
import type { ChainSchema } from "./config.js";
import { type CostGuard, describeQuery, type PlannedRequest } from "./cost-guard.js";
import { chainWindows, resolveAsOf, type TimeWindow } from "./date-range.js";
import { decodeInto } from "./dbn-stream.js";
import type { HistoricalClient, RangeQuery, SType } from "./historical/client.js";
import { isNqOption, selectInstruments } from "./instrument-selection.js";
import type { ChainQuery } from "./query.js";
import { resolveSeriesParents } from "./series-parents.js";

/** Databento accepts at most 2,000 symbols per request. */
const MAX_SYMBOLS_PER_REQUEST = 2000;
/** The parent of every NQ future: the upper bound the plan prices the underlyings' data with. */
const NQ_FUTURES_PARENT = "NQ.FUT";

export interface ExtractedChain {
  records: ChainRecords;
  selected: OptionDefinition[];
  asOf: Date;
  asOfReason: string | null;
  warnings: string[];
  /** The feed's own quality warnings (X-Warning), kept apart: they shorten the chain's cache life. */
  qualityWarnings: string[];
  incompleteReasons: string[];
}

/** What one source instance has already bought, by request: a retried load replays it instead of paying again. */
export type PurchaseMemo = Map<string, DbnRecord[]>;

export interface HistoricalDeps {
  client: HistoricalClient;
  guard: CostGuard;
  log: Logger;
  progress: SourceContext["progress"];
  source: string;
  now: Date;
  verifyRecordCount: boolean;
  purchased: PurchaseMemo;
}

export async function extractFromHistorical(query: ChainQuery, deps: HistoricalDeps, signal: AbortSignal): Promise<ExtractedChain> {
  const { client, log, source } = deps;
  const range = await client.getDatasetRange(query.dataset, signal);
  const resolved = resolveAsOf(query.asOf, range, deps.now, source, query.dataset);
  const asOf = resolved.asOf;
  const windows = chainWindows(asOf, query.quoteWindowMinutes, range, query.quoteSchema);
  const warnings = [...resolved.notes, ...windows.notes];
  for (const note of [...(resolved.reason ? [resolved.reason] : []), ...warnings]) log.info(note);
  const toNs = (date: Date) => BigInt(date.getTime()) * 1_000_000n;
  const records = new ChainRecords({ asOfNs: toNs(asOf), sessionOpenNs: toNs(windows.session.opensAt) });
  records.tradesCoverSession = windows.tradesCoverSession;
  const qualityWarnings: string[] = [];
  const incompleteReasons: string[] = [];
  let bytesRequests = 0;

  const definitionWindow = windows.definition;
  if (!definitionWindow) throw new NoDataError(source, `${query.dataset} has no instrument definitions up to ${asOf.toISOString()}`);
  const parents = [
    ...query.parentSymbols,
    ...(await resolveSeriesParents(client, { dataset: query.dataset, candidates: query.candidateParents, day: definitionWindow.start }, log, signal)),
  ];
  const wants = (schema: ChainSchema) => query.schemas.includes(schema as never);

  // ---- the plan, priced before anything is bought ----
  const rangeQuery = (schema: ChainSchema, symbols: string[], stypeIn: SType, window: TimeWindow): RangeQuery => ({
    dataset: query.dataset,
    schema,
    symbols,
    stypeIn,
    start: window.start,
    end: window.end,
  });
  const plan: PlannedRequest[] = [{ purpose: "option definitions", query: rangeQuery("definition", parents, "parent", definitionWindow) }];
  const marketSteps = planMarketSteps(query, windows, wants);
  for (const step of marketSteps) plan.push({ purpose: `${step.purpose} (options)`, query: rangeQuery(step.schema, parents, "parent", step.window) });
  if (query.underlyingPrices) {
    for (const step of underlyingSteps(query, windows)) plan.push({ purpose: `${step.purpose} (underlying futures)`, query: rangeQuery(step.schema, [NQ_FUTURES_PARENT], "parent", step.window) });
  }
  await deps.guard.approvePlan(plan, signal);

  const totalSteps = plan.length;
  let stepsDone = 0;
  /** `forOptions` false: the futures' data says nothing about which option fields were read. */
  const fetchRange = async (purpose: string, rq: RangeQuery, forOptions = true): Promise<void> => {
    const what = describeQuery(rq);
    deps.progress?.({ stage: `${rq.schema}: ${purpose}`, done: stepsDone, total: totalSteps, spendUsd: deps.guard.spentUsd });
    const memoKey = JSON.stringify({ ...rq, start: rq.start.toISOString(), end: rq.end.toISOString() });
    const replay = deps.purchased.get(memoKey);
    if (replay) {
      for (const record of replay) records.add(record);
      if (forOptions) records.markRead(rq.schema);
      log.info(`${what}: ${replay.length} records already received in this run, not bought again`);
      return;
    }
    const authorized = await deps.guard.authorize(rq, signal);
    const expected = deps.verifyRecordCount ? await client.getRecordCount(rq, signal) : null;
    const stream = await client.getRange(rq, signal);
    deps.guard.record(authorized);
    bytesRequests += 1;
    warnings.push(...stream.warnings);
    qualityWarnings.push(...stream.warnings.filter((w) => /quality|degraded/i.test(w)));
    if (stream.partial) incompleteReasons.push(`Databento answered HTTP 206 to ${rq.schema} (${purpose}): only some of the symbols resolved`);
    const kept: DbnRecord[] = [];
    const sink = { add: (record: DbnRecord) => (records.add(record), kept.push(record)) };
    const summary = await decodeInto(stream.chunks, sink, `timeseries.get_range ${rq.schema}`, source);
    const unresolved = [...(summary.metadata?.partial ?? []), ...(summary.metadata?.not_found ?? [])];
    if (unresolved.length > 0) incompleteReasons.push(`${rq.schema} (${purpose}): Databento could not resolve ${unresolved.join(", ")}; their data is missing`);
    // A 206 already says the answer is partial; its count may include what did not resolve.
    if (expected !== null && !stream.partial && summary.records < expected) {
      throw new IncompleteDataError(source, `${what}: received ${summary.records} records but Databento counted ${expected}; the stream was cut short. Try again`, {
        details: { schema: rq.schema, received: summary.records, expected },
      });
    }
    deps.purchased.set(memoKey, kept);
    if (forOptions) records.markRead(rq.schema);
    stepsDone += 1;
    log.info(`${what}: ${summary.records} records`);
  };

  await fetchRange("option definitions", rangeQuery("definition", parents, "parent", definitionWindow));
  const options = [...records.definitions.values()].filter(isNqOption);
  const selected = selectInstruments(options, query.filters, asOf);
  if (selected.length === 0) {
    throw new NoDataError(
      source,
      `no NQ option in ${parents.join(", ")} on ${definitionWindow.start.toISOString().slice(0, 10)} matches the request (${options.length} NQ options defined; filters ${JSON.stringify(query.filters)}); widen the expirations or strike window`,
    );
  }
  const optionIds = selected.map((d) => d.instrumentId);
  const futureIds = query.underlyingPrices ? [...new Set(selected.map((d) => d.underlyingId).filter((id) => id !== 0))] : [];
  if (query.underlyingPrices && selected.some((d) => d.underlyingId === 0)) {
    warnings.push("some option definitions name no underlying_id; their underlying price is unknown");
  }
  const accepted = new Set([...optionIds, ...futureIds]);
  records.accepts = (id) => accepted.has(id);
  // By parent when nothing was filtered out (fewest requests), else by instrument id (cheapest data).
  const optionBatches: { symbols: string[]; stypeIn: SType }[] =
    selected.length === options.length ? [{ symbols: parents, stypeIn: "parent" }] : byId(optionIds);

  for (const step of marketSteps) {
    if (step.onlyUnquoted) continue;
    for (const batch of optionBatches) await fetchRange(`${step.purpose} (options)`, rangeQuery(step.schema, batch.symbols, batch.stypeIn, step.window));
  }
  for (const step of marketSteps.filter((s) => s.onlyUnquoted)) {
    const quiet = optionIds.filter((id) => !records.quotes.has(id));
    if (quiet.length === 0) continue;
    log.info(`${quiet.length} options had no top-of-book record in the last ${query.quoteWindowMinutes} minutes; looking back to the session's open`);
    for (const batch of byId(quiet)) await fetchRange(`${step.purpose} (options)`, rangeQuery(step.schema, batch.symbols, batch.stypeIn, step.window));
  }
  if (futureIds.length > 0) {
    for (const step of underlyingSteps(query, windows)) {
      const ids = step.onlyUnquoted ? futureIds.filter((id) => !records.quotes.has(id)) : futureIds;
      for (const batch of byId(ids)) await fetchRange(`${step.purpose} (underlying futures)`, rangeQuery(step.schema, batch.symbols, batch.stypeIn, step.window), false);
    }
  }
  deps.progress?.({ stage: "done", done: totalSteps, total: totalSteps, spendUsd: deps.guard.spentUsd });
  log.info(`${bytesRequests} data requests bought`);
  return { records, selected, asOf, asOfReason: resolved.reason, warnings, qualityWarnings, incompleteReasons };
}

interface MarketStep {
  schema: ChainSchema;
  window: TimeWindow;
  purpose: string;
  /** Only for instruments that have no quote yet (the quiet ones). */
  onlyUnquoted: boolean;
}

function planMarketSteps(query: ChainQuery, windows: ReturnType<typeof chainWindows>, wants: (schema: ChainSchema) => boolean): MarketStep[] {
  const steps: MarketStep[] = [];
  if (wants("statistics") && windows.statistics) steps.push({ schema: "statistics", window: windows.statistics, purpose: "settlement, open interest, cleared volume", onlyUnquoted: false });
  if (wants("trades") && windows.trades) steps.push({ schema: "trades", window: windows.trades, purpose: "the session's trades", onlyUnquoted: false });
  if (query.quoteSchema && windows.recentQuotes) {
    steps.push({ schema: query.quoteSchema, window: windows.recentQuotes, purpose: `the book in the last ${query.quoteWindowMinutes} minutes`, onlyUnquoted: false });
  }
  if (query.quoteSchema && windows.earlierQuotes) {
    steps.push({ schema: query.quoteSchema, window: windows.earlierQuotes, purpose: "the book of quiet instruments, from the session's open", onlyUnquoted: true });
  }
  return steps;
}

/** The futures: their book at as-of (two steps, as for options), recent trades (last price) and settlement. */
function underlyingSteps(query: ChainQuery, windows: ReturnType<typeof chainWindows>): MarketStep[] {
  const steps: MarketStep[] = [];
  if (query.quoteSchema && windows.recentQuotes) steps.push({ schema: query.quoteSchema, window: windows.recentQuotes, purpose: "the book at as-of", onlyUnquoted: false });
  if (query.quoteSchema && windows.earlierQuotes) steps.push({ schema: query.quoteSchema, window: windows.earlierQuotes, purpose: "the book, from the session's open", onlyUnquoted: true });
  if (windows.recentQuotes) steps.push({ schema: "trades", window: windows.recentQuotes, purpose: "the last trade", onlyUnquoted: false });
  if (windows.statistics) steps.push({ schema: "statistics", window: windows.statistics, purpose: "settlement", onlyUnquoted: false });
  return steps;
}

function byId(ids: number[]): { symbols: string[]; stypeIn: SType }[] {
  const out: { symbols: string[]; stypeIn: SType }[] = [];
  for (let i = 0; i < ids.length; i += MAX_SYMBOLS_PER_REQUEST) out.push({ symbols: ids.slice(i, i + MAX_SYMBOLS_PER_REQUEST).map(String), stypeIn: "instrument_id" });
  return out;
}

