/**
 * @nq/report — a normalized options chain as one self-contained HTML page (provenance banner, open interest
 * and volume by strike, IV smile, put/call ratios, max pain, sortable chain table, quality), and the parts
 * it is made of, for other pages to reuse; and the compare page of two chains (`renderComparePage`).
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
export {
  renderComparePage,
  buildCompareData,
  renderCountsTable,
  COMPARE_FIELD_LABELS,
  type ComparisonForReport,
  type CompareSideForReport,
  type CompareDifferenceForReport,
  type CompareContractValues,
  type ComparePageOptions,
} from "./compare.js";
export {
  COMPARE_DATA_VERSION,
  CHART_FIELDS,
  type CompareData,
  type CompareEncodedExpiry,
  type CompareEncodedSide,
  type CompareFieldCounts,
  type CompareSideView,
  type CompareCode,
  type ChartField,
} from "./compare-data.js";
