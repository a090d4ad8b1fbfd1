/**
 * @nq/ops — operating @nq day to day, as a library: compare two normalized chains field by field, the
 * alert rules (budget share, source failures, data-quality degradation) and their sinks (alerts.jsonl,
 * webhook), the profile sections they read (`budget`, `alerts`, `compare`) and budget month arithmetic.
 * The runner's `compare`, `usage` and after-run alerts are built on it; the persistent spend ledger is
 * in @nq/cache-sqlite.
 */
export {
  COMPARE_FIELDS,
  compareChains,
  comparisonSummary,
  comparisonToCsv,
  DEFAULT_TOLERANCES,
  withinTolerance,
  type ChainSide,
  type CompareField,
  type CompareOptions,
  type ComparedContract,
  type ComparisonReport,
  type Difference,
  type ExpiryComparison,
  type FieldStats,
  type FieldStatus,
  type Tolerance,
} from "./compare.js";
export {
  evaluateAlerts,
  memoryAlertStore,
  type Alert,
  type AlertInput,
  type AlertRule,
  type AlertSeverity,
  type AlertStore,
  type QualitySnapshot,
  type SourceTry,
} from "./alerts.js";
export { appendAlertLog, dispatchAlerts, postWebhook, type DispatchOptions, type DispatchResult, type WebhookOptions, type WebhookResult } from "./sinks.js";
export {
  alertRulesSchema,
  alertsSchema,
  budgetSchema,
  compareSettingsSchema,
  defaultAlertSettings,
  OPS_SECTION_KEYS,
  opsSectionsSchema,
  splitOpsSections,
  webhookSchema,
  type AlertRules,
  type AlertSettings,
  type BudgetSettings,
  type CompareSettings,
  type OpsSections,
  type WebhookSettings,
} from "./config.js";
export { monthWindow, projectMonthSpend, type MonthWindow } from "./budget.js";
