/**
 * Stage 3 — transform to rows: a capture (pages + raw quotes responses, live or replayed from disk)
 * becomes core's SourceResult. Each series' page gives what the quotes do not: the expiry date, the
 * underlying future and its price, the point value.
 */
import { NoDataError, type SourceResult, type SourceRow } from "@nq/core";
import type { ChainCapture } from "./crawl.js";
import { parseSeriesPage, type SeriesPage } from "./page-parser.js";
import { dataMoment } from "./query.js";
import { parseQuotesResponse, type BarchartQuote } from "./quotes-parser.js";

const SOURCE = "barchart";
const NQ_POINT_VALUE = 20;

export interface CaptureSummary {
  seriesCode: string;
  expiration: string | null;
  calls: number;
  puts: number;
}

export function captureToResult(capture: ChainCapture, options: { savedTo?: string | null } = {}): SourceResult & { series: CaptureSummary[] } {
  const rows: SourceRow[] = [];
  const warnings = [...capture.notes];
  const incompleteReasons = [...(capture.incompleteReasons ?? [])];
  const summaries: CaptureSummary[] = [];
  let underlying: string | null = null;
  let underlyingPrice: number | null = null;
  let emptySeries = 0;

  for (const captured of capture.series) {
    const page = parseSeriesPage(captured.pageHtml);
    const parsed = parseQuotesResponse(captured.quotesBody);
    for (const problem of parsed.problems) warnings.push(`${captured.seriesCode}: unreadable ${problem}`);
    if (parsed.problems.length > 0) incompleteReasons.push(`${captured.seriesCode}: ${parsed.problems.length} rows of Barchart's answer could not be read`);
    if (parsed.quotes.length === 0) {
      emptySeries += 1;
      warnings.push(`${captured.seriesCode}: Barchart returned an empty chain`);
      incompleteReasons.push(`${captured.seriesCode}: Barchart returned an empty chain for a listed series`);
      continue;
    }
    if (!page.expiration) {
      warnings.push(`${captured.seriesCode}: ${parsed.quotes.length} rows dropped: the page gave no expiry date`);
      incompleteReasons.push(`${captured.seriesCode}: ${parsed.quotes.length} rows dropped: the page gave no expiry date`);
      continue;
    }
    if (parsed.total !== null && parsed.total !== parsed.quotes.length + parsed.problems.length) {
      warnings.push(`${captured.seriesCode}: the response says ${parsed.total} rows but holds ${parsed.quotes.length + parsed.problems.length}`);
      incompleteReasons.push(`${captured.seriesCode}: the response says ${parsed.total} rows but holds ${parsed.quotes.length + parsed.problems.length}`);
    }
    if (underlying === null) {
      underlying = page.future;
      underlyingPrice = page.underlyingPrice;
    }
    const pageTime = captured.pageFetchedAt ?? capture.fetchedAt;
    for (const quote of parsed.quotes) rows.push(toSourceRow(quote, page, captured.seriesCode, capture.product, pageTime));
    summaries.push({
      seriesCode: captured.seriesCode,
      expiration: page.expiration,
      calls: parsed.quotes.filter((q) => q.right === "C").length,
      puts: parsed.quotes.filter((q) => q.right === "P").length,
    });
  }

  if (rows.length === 0) {
    const what =
      capture.series.length === 0
        ? `no series matched the request on ${capture.baseUrl}${capture.notes.length ? ` (${capture.notes.slice(0, 3).join("; ")})` : ""}`
        : `all ${capture.series.length} fetched series came back without rows${emptySeries ? " (empty chains)" : ""}`;
    throw new NoDataError(SOURCE, `no ${capture.product} options data: ${what}. Check the product, the expiries setting and the request's expirations`);
  }
  const { asOf, reason } = asOfOf(capture, rows);
  return {
    rows,
    asOf,
    asOfReason: reason,
    delayed: true,
    underlying,
    underlyingPrice,
    complete: incompleteReasons.length === 0,
    incompleteReasons,
    warnings,
    rawDataAvailable: Boolean(options.savedTo),
    series: summaries,
  };
}

/**
 * The market time a capture shows: its fetch time less Barchart's delay (in the daily break or on a weekend,
 * the last session's close), or the newest exact trade time in it when that is later — never after the fetch.
 */
export function asOfOf(capture: ChainCapture, rows: SourceRow[]): { asOf: string; reason: string } {
  const fetchedAt = new Date(capture.fetchedAt);
  const moment = dataMoment(fetchedAt);
  let newest = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    const at = typeof row.quoteTime === "string" ? Date.parse(row.quoteTime) : Number.NaN;
    if (at > newest) newest = at;
  }
  if (newest > moment.asOf.getTime() && newest <= fetchedAt.getTime()) {
    return { asOf: new Date(newest).toISOString(), reason: `the newest trade in the data (Barchart's data is delayed; fetched ${capture.fetchedAt})` };
  }
  return { asOf: moment.asOf.toISOString(), reason: moment.reason };
}

/**
 * `pageTime`: when the series page was read. The page shows its future's last price without a time, so
 * that is the price's time (an upper bound: Barchart's page is delayed like the chain).
 */
export function toSourceRow(quote: BarchartQuote, page: SeriesPage, seriesCode: string, product: string, pageTime: string | null = null): SourceRow {
  return {
    // Barchart's spelling ("MC7M5|15000C"); core maps it to the CME Globex symbol ("Q2AM5 C15000") and
    // Barchart's series root and two-digit-year future ("MC7", "NQM25") to CME's ("Q2A", "NQM5").
    rawSymbol: quote.symbol,
    underlying: page.future,
    // Each series' own future, as its own page shows it (reference §3.3): weeklies after the roll and EOM
    // series hang off the next quarter, whose price differs from the front month's.
    underlyingPrice: page.underlyingPrice,
    underlyingPriceBasis: page.underlyingPrice === null ? null : "last",
    underlyingPriceTime: page.underlyingPrice === null ? null : pageTime,
    product,
    root: seriesRoot(seriesCode),
    expiration: page.expiration,
    strike: quote.strike,
    right: quote.right,
    bid: quote.bid,
    ask: quote.ask,
    last: quote.last,
    volume: quote.volume,
    openInterest: quote.openInterest,
    settlement: quote.settlement,
    multiplier: page.pointValue ?? NQ_POINT_VALUE,
    // Only a shown time of day is an exact instant; a shown date carries an unreliable epoch.
    quoteTime: quote.tradeTime,
    rawStrike: String(quote.strike),
  };
}

/** "MC7M25" → "MC7", "NQM25" → "NQ": the series root without its month letter and year. */
export function seriesRoot(seriesCode: string): string {
  const match = /^([A-Z0-9]+?)[FGHJKMNQUVXZ]\d{1,2}$/.exec(seriesCode);
  return match ? match[1]! : seriesCode;
}
