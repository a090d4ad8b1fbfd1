/**
 * Stage 1 — transform the query: a ChainRequest plus the config become a crawl plan (where to start,
 * which series are wanted, how many expiries, what "today" is), and a series page's own
 * `data-api-config` becomes the quotes URL the page itself would call.
 */
import { cmeTradeDate, InvalidRequestError, latestCompleteMoment, type ChainRequest } from "@nq/core";
import type { BarchartConfig, SeriesTypeName } from "./config.js";
import type { QuotesApiConfig, SeriesLink } from "./page-parser.js";

const SOURCE = "barchart";

/** Barchart's free pages are delayed about 10–20 minutes (reference §5.2); the data's time is at most fetch time less this. */
export const BARCHART_DELAY_MS = 10 * 60_000;

/**
 * The market moment a fetch at `fetchedAt` shows: during a session, the fetch time less Barchart's delay;
 * in the daily break, on a weekend or a holiday, the close of the last session. Never after `fetchedAt`.
 */
export function dataMoment(fetchedAt: Date): { asOf: Date; reason: string } {
  const latest = latestCompleteMoment(fetchedAt, BARCHART_DELAY_MS);
  return { asOf: latest.asOf, reason: `Barchart's free data is delayed ~${BARCHART_DELAY_MS / 60_000} minutes; fetched ${fetchedAt.toISOString()}, so ${latest.reason}` };
}

export interface CrawlPlan {
  baseUrl: string;
  product: string;
  /** The first page: the futures options page that lists the series. */
  startUrl: string;
  /** Series types wanted (by label); null = all. */
  seriesTypes: SeriesTypeName[] | null;
  /** Series codes wanted; null = all. */
  seriesCodes: Set<string> | null;
  /** Only these expirations (YYYY-MM-DD), when the request names some. */
  expirations: Set<string> | null;
  maxExpirations: number | null;
  /** The market moment the crawl's data shows (see dataMoment): "expired" is decided at this instant. */
  asOf: Date;
  /** The CME trade date of `asOf` (America/Chicago; from 17:00 CT it is the next day's): series that expired before it are not fetched. */
  today: string;
}

export function planCrawl(request: ChainRequest, config: BarchartConfig, now: Date): CrawlPlan {
  const product = request.product.trim().toUpperCase();
  if (!/^[A-Z0-9]{1,6}$/.test(product)) {
    throw new InvalidRequestError(SOURCE, `product ${JSON.stringify(request.product)} is not a futures root such as "NQ"`);
  }
  if (request.maxExpirations !== undefined && (!Number.isInteger(request.maxExpirations) || request.maxExpirations < 1)) {
    throw new InvalidRequestError(SOURCE, `maxExpirations must be a positive integer, got ${request.maxExpirations}`);
  }
  const baseUrl = config.base_url.replace(/\/+$/, "");
  const future = config.future ?? `${product}*0`;
  const selectors = config.expiries === "listed" ? [] : config.expiries;
  const types = selectors.filter((s): s is SeriesTypeName => /^[a-z]+$/.test(s));
  const codes = selectors.filter((s) => /^[A-Z0-9]+$/.test(s));
  const moment = dataMoment(now).asOf;
  return {
    baseUrl,
    product,
    startUrl: seriesPageUrl(baseUrl, `/futures/quotes/${future}/options`),
    seriesTypes: types.length > 0 ? types : codes.length > 0 ? [] : null,
    seriesCodes: codes.length > 0 ? new Set(codes) : null,
    expirations: request.expirations?.length ? new Set(request.expirations) : null,
    maxExpirations: request.maxExpirations ?? null,
    asOf: moment,
    today: cmeTradeDate(moment),
  };
}

/** The merged, all-strikes view: the layout does not change the data request, `allRows` keeps every strike. */
export function seriesPageUrl(baseUrl: string, path: string): string {
  return `${baseUrl}${path}?futuresOptionsView=merged&moneyness=allRows`;
}

/** Which named type a dropdown label belongs to ("Monday Weekly Options" → monday, weekly). */
export function typeNamesOf(label: string): SeriesTypeName[] {
  const l = label.toLowerCase();
  if (l.includes("monthly")) return ["monthly"];
  if (l.includes("eom") || l.includes("end of month") || l.includes("end-of-month")) return ["eom"];
  const days: SeriesTypeName[] = ["monday", "tuesday", "wednesday", "thursday", "friday"];
  const day = days.find((d) => l.includes(d));
  return day ? [day, "weekly"] : l.includes("weekly") ? ["weekly"] : [];
}

/** Is a series type lane wanted at all? Code filters need every lane (a code may be in any of them). */
export function wantsType(plan: CrawlPlan, link: SeriesLink | null): boolean {
  if (plan.seriesTypes === null || plan.seriesCodes !== null) return true;
  if (!link) return true;
  const names = typeNamesOf(link.label);
  return names.some((name) => plan.seriesTypes!.includes(name));
}

export function wantsSeries(plan: CrawlPlan, laneLink: SeriesLink | null, seriesCode: string): boolean {
  if (plan.seriesCodes && plan.seriesCodes.has(seriesCode)) return true;
  if (plan.seriesTypes === null) return plan.seriesCodes === null;
  if (!laneLink) return false;
  return typeNamesOf(laneLink.label).some((name) => plan.seriesTypes!.includes(name));
}

/** The documented field set (reference §3.1), used when a page carries no data-api-config. */
const DEFAULT_API = {
  method: "quotes",
  list: "futures.options",
  fields:
    "strike,openPrice,highPrice,lowPrice,lastPrice,priceChange,bidPrice,askPrice,volume,openInterest,premium,tradeTime,longSymbol,optionType,symbol",
  meta: "field.shortName,field.description,field.type",
  groupBy: "optionType",
  orderBy: "strike",
  orderDir: "asc",
} as const;

/** The quotes request the page's own script sends, plus `raw=1` for unformatted numbers. */
export function quotesUrl(baseUrl: string, api: QuotesApiConfig | null, seriesCode: string): string {
  const config: QuotesApiConfig = api ?? { ...DEFAULT_API, symbol: seriesCode };
  const method = /^[a-z-]+$/i.test(config.method) ? config.method : "quotes";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(config)) {
    if (key !== "method" && typeof value === "string") params.set(key, value);
  }
  params.set("raw", "1");
  return `${baseUrl}/proxies/core-api/v1/${method}/get?${params.toString()}`;
}
