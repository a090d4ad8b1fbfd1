/**
 * @nq/report — a normalized options chain as one self-contained HTML page (provenance banner, open interest
 * and volume by strike, IV smile, put/call ratios, max pain, sortable chain table, quality), and the parts
 * it is made of, for other pages (compare) to reuse.
 */
export { renderChainHtml, renderReportHtml, renderFlags, renderFacts, escapeHtml, type RenderOptions, type LiveOptions } from "./html.js";
export { buildReportData, bannerFlags, formatTime, type ChainForReport, type RunContext, type BuildOptions } from "./model.js";
export { atmStrike, maxPainStrike, putCallRatio, mostCommon, type SideTotals } from "./analytics.js";
export {
  REPORT_DATA_VERSION,
  encodeColumn,
  decodeColumn,
  encodeStrikes,
  decodeStrikes,
  decodeSide,
  type ReportData,
  type EncodedExpiry,
  type EncodedSide,
  type DecodedSide,
  type ExpiryStats,
  type BannerFlag,
  type BannerFact,
  type FlagTone,
  type IvCode,
} from "./data.js";
