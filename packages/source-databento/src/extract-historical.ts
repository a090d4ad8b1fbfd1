/**
 * Stage 2 of 3 (Historical API) — extract: ask Databento for the chain's raw records. Order matters
 * for cost: the free calls first (dataset range, symbology), then definitions, then market data for the
 * selected instruments only, each priced by the cost guard before it is sent.
 */
import { IncompleteDataError, type Logger, NoDataError } from "@nq/core";
import { ChainRecords, type OptionDefinition } from "./chain-records.js";
import type { ChainSchema } from "./config.js";
import { type CostGuard, describeQuery } from "./cost-guard.js";
import { chainWindows, resolveAsOf, type TimeWindow } from "./date-range.js";
import { decodeInto } from "./dbn-stream.js";
import type { HistoricalClient, RangeQuery, SType } from "./historical/client.js";
import { isNqOption, selectInstruments } from "./instrument-selection.js";
import type { ChainQuery } from "./query.js";

/** Databento accepts at most 2,000 symbols per request. */
const MAX_SYMBOLS_PER_REQUEST = 2000;

export interface ExtractedChain {
  records: ChainRecords;
  selected: OptionDefinition[];
  asOf: Date;
  warnings: string[];
  complete: boolean;
}

export interface HistoricalDeps {
  client: HistoricalClient;
  guard: CostGuard;
  log: Logger;
  source: string;
  now: Date;
  verifyRecordCount: boolean;
}

export async function extractFromHistorical(query: ChainQuery, deps: HistoricalDeps, signal: AbortSignal): Promise<ExtractedChain> {
  const { client, log, source } = deps;
  const range = await client.getDatasetRange(query.dataset, signal);
  const { asOf, notes: asOfNotes } = resolveAsOf(query.asOf, range, deps.now, source, query.dataset);
  const { windows, notes: windowNotes } = chainWindows(asOf, query.quoteWindowMinutes, range);
  const warnings = [...asOfNotes.filter((note) => note.includes("instead of")), ...windowNotes];
  for (const note of [...asOfNotes, ...windowNotes]) log.info(note);
  const asOfNs = BigInt(asOf.getTime()) * 1_000_000n;
  const startNs = (w: TimeWindow | null) => (w ? BigInt(w.start.getTime()) * 1_000_000n : asOfNs);
  const records = new ChainRecords({ asOfNs, tradesFromNs: startNs(windows.trades), quotesFromNs: startNs(windows["mbp-1"] ?? windows["bbo-1m"]) });
  const state = { complete: true };

  const fetchRange = async (schema: ChainSchema, symbols: string[], stypeIn: SType, window: TimeWindow): Promise<void> => {
    const rangeQuery: RangeQuery = { dataset: query.dataset, schema, symbols, stypeIn, start: window.start, end: window.end };
    const what = describeQuery(rangeQuery);
    const authorized = await deps.guard.authorize(rangeQuery, signal);
    const expected = deps.verifyRecordCount ? await client.getRecordCount(rangeQuery, signal) : null;
    const stream = await client.getRange(rangeQuery, signal);
    deps.guard.record(authorized);
    warnings.push(...stream.warnings);
    if (stream.partial) state.complete = false;
    const summary = await decodeInto(stream.chunks, records, `timeseries.get_range ${schema}`, source);
    const unresolved = [...(summary.metadata?.partial ?? []), ...(summary.metadata?.not_found ?? [])];
    if (unresolved.length > 0) {
      state.complete = false;
      warnings.push(`${what}: Databento could not fully resolve ${unresolved.join(", ")}; their data is missing`);
    }
    if (expected !== null && summary.records < expected) {
      throw new IncompleteDataError(
        source,
        `${what}: received ${summary.records} records but Databento counted ${expected}; the stream was cut short. Try again`,
        { details: { schema, received: summary.records, expected } },
      );
    }
    records.markRead(schema);
    log.info(`${what}: ${summary.records} records`);
  };

  const definitionWindow = windows.definition;
  if (!definitionWindow) throw new NoDataError(source, `${query.dataset} has no instrument definitions up to ${asOf.toISOString()}`);
  const parents = [...query.parentSymbols, ...(await discoverParents(query, definitionWindow, deps, signal))];
  await fetchRange("definition", parents, "parent", definitionWindow);

  const options = [...records.definitions.values()].filter(isNqOption);
  const selected = selectInstruments(options, query.filters, asOf);
  if (selected.length === 0) {
    throw new NoDataError(
      source,
      `no NQ option in ${parents.join(", ")} on ${definitionWindow.start.toISOString().slice(0, 10)} matches the request (${options.length} NQ options defined; filters ${JSON.stringify(query.filters)}); widen the expirations or strike window`,
    );
  }
  const selectedIds = new Set(selected.map((d) => d.instrumentId));
  records.accepts = (id) => selectedIds.has(id);
  // By parent when nothing was filtered out (fewest requests), else by instrument id (cheapest data).
  const batches: { symbols: string[]; stypeIn: SType }[] =
    selected.length === options.length
      ? [{ symbols: parents, stypeIn: "parent" }]
      : chunk(selected.map((d) => String(d.instrumentId)), MAX_SYMBOLS_PER_REQUEST).map((symbols) => ({ symbols, stypeIn: "instrument_id" }));

  for (const schema of query.schemas) {
    const window = windows[schema];
    if (!window) continue;
    for (const batch of batches) await fetchRange(schema, batch.symbols, batch.stypeIn, window);
  }
  return { records, selected, asOf, warnings, complete: state.complete };
}

/** The NQ series parents (weeklies, end-of-month) that exist on the day, found through free symbology. */
async function discoverParents(query: ChainQuery, window: TimeWindow, deps: HistoricalDeps, signal: AbortSignal): Promise<string[]> {
  if (query.candidateParents.length === 0) return [];
  const startDate = window.start.toISOString().slice(0, 10);
  const endDate = new Date(window.start.getTime() + 86_400_000).toISOString().slice(0, 10);
  try {
    const resolution = await deps.client.resolveSymbology(
      { dataset: query.dataset, symbols: query.candidateParents, stypeIn: "parent", stypeOut: "instrument_id", startDate, endDate },
      signal,
    );
    const found = query.candidateParents.filter((parent) => (resolution.result[parent]?.length ?? 0) > 0);
    deps.log.info(`series parents found on ${startDate}: ${found.join(", ") || "none"}`);
    return found;
  } catch (error) {
    // Discovery is a convenience: the configured parents still make a chain.
    if ((error as { kind?: string }).kind === "invalid_request") {
      deps.log.info(`no series parents resolved on ${startDate}`);
      return [];
    }
    throw error;
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
