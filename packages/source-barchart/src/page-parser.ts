/**
 * A Barchart futures-options series page (HTML) → what the scraper needs from it. Pure, so it is tested
 * on the real page excerpt and reused when saved pages are replayed.
 *
 * What the page tells us and nothing else does reliably (reference §1, §2, §4):
 *  - the series-type dropdown and the expiry dropdown: the series that exist, with their URLs (codes are
 *    read, never computed: the weekly roots follow no rule we can trust);
 *  - the quotes table's `data-api-config`: the exact request the page's own script sends;
 *  - `data-options.itm.lastPrice`: the underlying future's price;
 *  - "N Days to expiration on MM/DD/YY": the only trustworthy expiry date;
 *  - "Price Value of Option point: $20": the multiplier.
 */

export interface SeriesLink {
  /** The label as shown ("Monday Weekly Options", "Week 3: Jun 2025"). */
  label: string;
  /** The page path ("/futures/quotes/NQM25/options/MC7M25"). */
  path: string;
  selected: boolean;
  /** The underlying future in the path ("NQM25"). */
  future: string;
  /** The series code: the last path segment, or the future itself for the monthly page ("MC7M25", "NQM25"). */
  seriesCode: string;
}

/** The request the page's own quotes table sends, as its `data-api-config` says. */
export interface QuotesApiConfig {
  method: string;
  symbol: string;
  list: string;
  fields?: string;
  meta?: string;
  groupBy?: string;
  orderBy?: string;
  orderDir?: string;
  [key: string]: string | undefined;
}

export interface SeriesPage {
  title: string | null;
  canonicalPath: string | null;
  seriesTypes: SeriesLink[];
  seriesExpiries: SeriesLink[];
  apiConfig: QuotesApiConfig | null;
  /** The series this page shows (from the api config, else the selected expiry, else the canonical path). */
  seriesCode: string | null;
  future: string | null;
  /** The series type label of this page ("Monday Weekly Options"). */
  seriesType: string | null;
  underlyingPrice: number | null;
  /** YYYY-MM-DD from "N Days to expiration on MM/DD/YY". */
  expiration: string | null;
  daysToExpiration: number | null;
  /** Dollars per option point ("Price Value of Option point: $20"). */
  pointValue: number | null;
  /**
   * What is wrong with the page's series dropdowns, one sentence each: a series-type dropdown that holds
   * only a placeholder option (rendered before the page's script filled it in), or none at all. The
   * crawl cannot see the other series then, and says the chain is incomplete.
   */
  toolbarProblems: string[];
}

const OPTIONS_PATH = /^\/futures\/quotes\/([^/?#]+)\/options(?:\/([^/?#]+))?\/?(?:[?#].*)?$/;

export function parseSeriesPage(html: string): SeriesPage {
  const selects = readSelects(html);
  // Found by its "Monthly Options" entry, not its id or class: Barchart renamed the class once already.
  const typeSelect = selects.find(({ options }) => options.some((o) => /monthly options/i.test(o.label)) && options.every((o) => o.link));
  const expirySelect = selects.find(({ options }) => options !== typeSelect?.options && options.length > 0 && options.every((o) => o.link));
  const seriesTypes = (typeSelect?.options ?? []).map((o) => o.link!);
  const seriesExpiries = (expirySelect?.options ?? []).map((o) => o.link!);
  const toolbarProblems: string[] = [];
  if (!typeSelect) {
    // Named like Barchart's own ("Options Type", #…dropdown-type) but holding no series page links.
    const named = selects.find(({ attributes }) => /options\s*type/i.test(readAttribute(attributes, "aria-label") ?? "") || /dropdown-type/i.test(readAttribute(attributes, "id") ?? ""));
    if (named) {
      const labels = named.options.map((o) => JSON.stringify(o.label)).join(", ") || "no options";
      toolbarProblems.push(`the series-type dropdown lists no series types (${labels}): a placeholder the page's script had not filled in`);
    } else if (selects.some(({ options }) => options.some((o) => o.link))) {
      toolbarProblems.push("the page has no series-type dropdown");
    }
  }
  if (!expirySelect) {
    const named = selects.find(({ attributes }) => /dropdown-month/i.test(readAttribute(attributes, "id") ?? ""));
    if (named && named !== typeSelect) {
      const labels = named.options.map((o) => JSON.stringify(o.label)).join(", ") || "no options";
      toolbarProblems.push(`the expiry dropdown lists no series (${labels}): a placeholder the page's script had not filled in`);
    }
  }

  const table = readQuotesTable(html);
  const canonicalPath = readCanonicalPath(html);
  const canonicalLink = canonicalPath ? linkFor(canonicalPath, "", false) : null;
  const selectedExpiry = seriesExpiries.find((link) => link.selected) ?? null;
  const selectedType = seriesTypes.find((link) => link.selected) ?? null;

  const seriesCode = table.apiConfig?.symbol ?? selectedExpiry?.seriesCode ?? canonicalLink?.seriesCode ?? null;
  const futureFromLinks = [canonicalLink, selectedExpiry, selectedType].find((link) => link && link.seriesCode === seriesCode)?.future;
  const text = visibleText(html);
  const expiry = /(\d+)\s+Days?\s+to\s+expiration\s+on\s+(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})/i.exec(text);
  const pointValue = /Price\s+Value\s+of\s+Option\s+point:\s*\$\s*([\d,]+(?:\.\d+)?)/i.exec(text);
  return {
    title: readTitle(html),
    canonicalPath,
    seriesTypes,
    seriesExpiries,
    apiConfig: table.apiConfig,
    seriesCode,
    future: futureFromLinks ?? canonicalLink?.future ?? selectedExpiry?.future ?? null,
    seriesType: selectedType?.label ?? null,
    underlyingPrice: table.underlyingPrice,
    expiration: expiry ? `${expiry[4]!.length === 2 ? `20${expiry[4]}` : expiry[4]}-${pad(expiry[2]!)}-${pad(expiry[3]!)}` : null,
    daysToExpiration: expiry ? Number(expiry[1]) : null,
    pointValue: pointValue ? Number(pointValue[1]!.replace(/,/g, "")) : null,
    toolbarProblems,
  };
}

/** Splits an options-page path into its future and series code; null when it is not one. */
export function linkFor(path: string, label: string, selected: boolean): SeriesLink | null {
  const pathname = path.replace(/^https?:\/\/[^/]+/i, "");
  const match = OPTIONS_PATH.exec(pathname);
  if (!match) return null;
  const future = decodeURIComponent(match[1]!);
  const seriesCode = match[2] ? decodeURIComponent(match[2]) : future;
  return { label, path: pathname.replace(/[?#].*$/, ""), selected, future, seriesCode };
}

interface SelectOption {
  label: string;
  value: string;
  selected: boolean;
  link: SeriesLink | null;
}

function readSelects(html: string): { attributes: string; options: SelectOption[] }[] {
  const selects: { attributes: string; options: SelectOption[] }[] = [];
  for (const select of html.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/gi)) {
    const options: SelectOption[] = [];
    for (const option of select[2]!.matchAll(/<option\b([^>]*)>([\s\S]*?)<\/option>/gi)) {
      const attributes = option[1]!;
      const value = readAttribute(attributes, "value") ?? "";
      const label = decodeEntities(option[2]!.replace(/<[^>]*>/g, "")).replace(/\s+/g, " ").trim();
      const selected = /\sselected(?:\s|=|$)/i.test(` ${attributes}`);
      options.push({ label, value, selected, link: linkFor(value, label, selected) });
    }
    selects.push({ attributes: select[1]!, options });
  }
  return selects;
}

function readQuotesTable(html: string): { apiConfig: QuotesApiConfig | null; underlyingPrice: number | null } {
  for (const tag of html.matchAll(/<[a-z][\w-]*\b[^>]*\sdata-api-config\s*=\s*"[^"]*"[^>]*>/gi)) {
    const apiJson = parseJsonAttribute(tag[0], "data-api-config");
    const api = (apiJson as { api?: Record<string, unknown> } | null)?.api;
    if (!api || typeof api.symbol !== "string" || api.list !== "futures.options") continue;
    const apiConfig: QuotesApiConfig = { method: "quotes", symbol: api.symbol, list: "futures.options" };
    for (const [key, value] of Object.entries(api)) if (typeof value === "string") apiConfig[key] = value;
    const options = parseJsonAttribute(tag[0], "data-options") as { itm?: { lastPrice?: unknown } } | null;
    const price = options?.itm?.lastPrice;
    return { apiConfig, underlyingPrice: typeof price === "number" && Number.isFinite(price) && price > 0 ? price : null };
  }
  return { apiConfig: null, underlyingPrice: null };
}

function parseJsonAttribute(tag: string, name: string): unknown {
  const value = readAttribute(tag, name);
  if (value === null) return null;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

function readAttribute(tag: string, name: string): string | null {
  const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, "i").exec(tag);
  if (!match) return null;
  return decodeEntities(match[1] ?? match[2] ?? "");
}

function readCanonicalPath(html: string): string | null {
  for (const tag of html.matchAll(/<link\b[^>]*>/gi)) {
    if (/\srel\s*=\s*["']canonical["']/i.test(tag[0])) {
      const href = readAttribute(tag[0], "href");
      if (href) return href.replace(/^https?:\/\/[^/]+/i, "");
    }
  }
  return null;
}

export function readTitle(html: string): string | null {
  const match = /<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  return match ? decodeEntities(match[1]!).replace(/\s+/g, " ").trim() : null;
}

/** The page's text, without scripts, styles and tags, whitespace collapsed. */
export function visibleText(html: string): string {
  return decodeEntities(
    html
      .replace(/<script\b[\s\S]*?<\/script>/gi, " ")
      .replace(/<style\b[\s\S]*?<\/style>/gi, " ")
      .replace(/<!--[\s\S]*?-->/g, " ")
      .replace(/<[^>]*>/g, " "),
  )
    .replace(/\s+/g, " ")
    .trim();
}

const NAMED_ENTITIES: Record<string, string> = { quot: '"', amp: "&", lt: "<", gt: ">", apos: "'", nbsp: " " };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === "#") {
      const code = entity[1] === "x" || entity[1] === "X" ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

function pad(value: string): string {
  return value.padStart(2, "0");
}
