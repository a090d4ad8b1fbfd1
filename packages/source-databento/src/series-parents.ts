/**
 * The NQ weekly and end-of-month option parents (`NQ_SERIES_PARENTS`) that exist on a day, found through
 * the Historical API's `symbology.resolve`, which is free. The Historical mode asks about its definitions'
 * day; the Live mode about the session it replays, before it subscribes.
 */
import type { Logger } from "@nq/core";
import type { HistoricalClient } from "./historical/client.js";

export async function resolveSeriesParents(
  client: Pick<HistoricalClient, "resolveSymbology">,
  query: { dataset: string; candidates: string[]; day: Date },
  log: Logger,
  signal: AbortSignal,
): Promise<string[]> {
  if (query.candidates.length === 0) return [];
  const startDate = query.day.toISOString().slice(0, 10);
  const endDate = new Date(query.day.getTime() + 86_400_000).toISOString().slice(0, 10);
  try {
    const resolution = await client.resolveSymbology(
      { dataset: query.dataset, symbols: query.candidates, stypeIn: "parent", stypeOut: "instrument_id", startDate, endDate },
      signal,
    );
    const found = query.candidates.filter((parent) => (resolution.result[parent]?.length ?? 0) > 0);
    log.info(`series parents found on ${startDate}: ${found.join(", ") || "none"}`);
    return found;
  } catch (error) {
    // Databento answers 422 when none of the symbols resolves: none of them exists that day.
    if ((error as { kind?: string }).kind === "invalid_request") {
      log.info(`no series parents resolved on ${startDate}`);
      return [];
    }
    throw error;
  }
}
