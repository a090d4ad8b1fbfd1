/**
 * Stage 3 — transform to rows: a capture (pages + raw quotes responses, live or replayed from disk)
 * becomes core's SourceResult. Each series' page gives what the quotes do not: the expiry date, the
 * underlying future and its price, the point value.
 */
import { NoDataError, type SourceResult, type SourceRow } from "@nq/core";
import type { ChainCapture } from "./crawl.js";
import { parseSeriesPage, type SeriesPage } from "./page-parser.js";
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
  const summaries: CaptureSummary[] = [];
  let underlying: string | null = null;
  let underlyingPrice: number | null = null;
  let emptySeries = 0;
  // Rows Barchart sent that did not make it into the result: the chain is then not complete.
  let rowsLost = false;

  for (const captured of capture.series) {
    const page = parseSeriesPage(captured.pageHtml);
    const parsed = parseQuotesResponse(captured.quotesBody);
    for (const problem of parsed.problems) warnings.push(`${captured.seriesCode}: unreadable ${problem}`);
    if (parsed.problems.length > 0) rowsLost = true;
    if (parsed.quotes.length === 0) {
      emptySeries += 1;
      warnings.push(`${captured.seriesCode}: Barchart returned an empty chain`);
      continue;
    }
    if (!page.expiration) {
      warnings.push(`${captured.seriesCode}: ${parsed.quotes.length} rows dropped: the page gave no expiry date`);
      rowsLost = true;
      continue;
    }
    if (parsed.total !== null && parsed.total !== parsed.quotes.length + parsed.problems.length) {
      warnings.push(`${captured.seriesCode}: the response says ${parsed.total} rows but holds ${parsed.quotes.length + parsed.problems.length}`);
      rowsLost = true;
    }
    if (underlying === null) {
      underlying = page.future;
      underlyingPrice = page.underlyingPrice;
    }
    for (const quote of parsed.quotes) rows.push(toSourceRow(quote, page, captured.seriesCode, capture.product));
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
  return {
    rows,
    asOf: capture.fetchedAt,
    delayed: true,
    underlying,
    underlyingPrice,
    complete: !rowsLost,
    warnings,
    rawDataAvailable: Boolean(options.savedTo),
    series: summaries,
  };
}

export function toSourceRow(quote: BarchartQuote, page: SeriesPage, seriesCode: string, product: string): SourceRow {
  return {
    symbol: quote.symbol,
    underlying: page.future,
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
