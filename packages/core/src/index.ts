/**
 * @nq/core — the contract every @nq package shares.
 *
 * Read in this order: the model a chain normalizes to, the request, the source contract a plugin
 * implements, the errors it throws, the normalizer that validates its rows, the registry that runs
 * sources with fallback, profiles, and the cache contract with the TTL policy every cache store shares.
 */
export type {
  CacheStatus,
  ChainMetadata,
  GreeksSource,
  IvBasis,
  OptionContract,
  OptionRight,
  OptionsChain,
  OptionsSummary,
  Provenance,
  QualityMetrics,
  StrikeRange,
  UnderlyingPriceBasis,
  UnderlyingSummary,
} from "./contract.js";

export { ZoneClock, type ZoneWallClock } from "./zone-clock.js";

export {
  chicagoDate,
  CME_EQUITY_FULL_CLOSURES,
  CME_NQ_OPTION_EXPIRY_TIME_CT,
  cmeSessionFor,
  cmeTradeDate,
  DEFAULT_CME_CALENDAR,
  expirationInstant,
  MS_PER_YEAR_ACT_365,
  globexSessionAt,
  latestCompleteMoment,
  mergeGlobexCalendars,
  nextGlobexOpen,
  previousCmeSession,
  timeToExpiryYears,
  type EarlyClose,
  type GlobexCalendar,
  type GlobexClosedReason,
  type GlobexSession,
  type HolidayHalt,
  type LatestMoment,
} from "./cme-calendar.js";
export { CME_EQUITY_CLOSURES, CME_EQUITY_EARLY_CLOSES, CME_EQUITY_HALTS, CME_HOLIDAY_DATA_YEARS } from "./cme-holidays.js";

export {
  analyticsPrice,
  applyAnalytics,
  black76,
  black76Price,
  contractAnalytics,
  DAYS_PER_YEAR,
  DEFAULT_ANALYTICS_RATE,
  IMPLIED_VOLATILITY_PRICE_TOLERANCE,
  impliedVolatility,
  normalCdf,
  normalPdf,
  type AnalyticsOptions,
  type AnalyticsUnavailableReason,
  type Black76Inputs,
  type Black76Result,
  type ContractAnalytics,
  type ContractAnalyticsInput,
  type ImpliedVolatilityFailure,
  type ImpliedVolatilityInputs,
  type ImpliedVolatilityResult,
  type OptionKind,
} from "./analytics/index.js";

export {
  canonicalContractNames,
  canonicalFutureSymbol,
  cmeOptionRoot,
  formatOptionSymbol,
  FUTURES_MONTH_CODES,
  inferNqOptionRoot,
  NQ_OPTION_SERIES,
  nqOptionSeries,
  parseFutureSymbol,
  parseOptionSymbol,
  resolveContractYear,
  ruleExpiration,
  SymbolError,
  type ContractNames,
  type ContractNamesInput,
  type ExpiryRule,
  type FutureSymbol,
  type NqOptionSeries,
  type OptionSymbol,
} from "./symbology.js";

export { canonicalRequest, DEFAULT_REQUEST, type ChainRequest } from "./request.js";

export {
  assertSourceDefinition,
  defineSource,
  type CheckItem,
  type CheckOptions,
  type CheckResult,
  type CheckStatus,
  type LoadOptions,
  type ProgressUpdate,
  type ProxyInfo,
  type Source,
  type SourceCapabilities,
  type SourceContext,
  type SourceDefinition,
  type SourceResult,
  type SourceRow,
} from "./source.js";

export {
  AbortedError,
  AuthError,
  BlockedError,
  ConfigError,
  CostLimitError,
  EntitlementError,
  IncompleteDataError,
  InvalidRequestError,
  isAbortError,
  isSourceError,
  isSourceErrorOfKind,
  NetworkError,
  NoDataError,
  RateLimitError,
  retryAfterMsOf,
  ServiceUnavailableError,
  SourceError,
  TimeoutError,
  toSourceError,
  UnexpectedSourceError,
  type SourceErrorCode,
  type SourceErrorKind,
  type SourceErrorOptions,
} from "./errors.js";

export { encodingsOf, isSecretFieldName, redactSecrets, registerSecret } from "./secrets.js";
export { createLogger, silentLogger, type LogEntry, type Logger, type LogLevel } from "./logger.js";
export { SpendLedger, type SpendEntry } from "./spend.js";

export {
  DEFAULT_MAX_MISSING_BID_ASK_SHARE,
  isExpiredAt,
  measureQuality,
  normalizeChain,
  NQ_OPTION_MULTIPLIER,
  type NormalizeContext,
} from "./normalize.js";

export {
  DEFAULT_SOURCE_DEADLINE_MS,
  DEGRADED_CACHE_TTL_MS,
  retryDelayMs,
  runSources,
  sleepUnlessAborted,
  withTimeout,
  type Attempt,
  type AttemptOutcome,
  type FallbackPolicy,
  type RegistryEntry,
  type RunOptions,
  type RunResult,
} from "./registry.js";

export {
  loadProfile,
  parseProfile,
  parseSourceConfig,
  parseSourceConfigs,
  PROFILE_LIMITS,
  profileSchema,
  readDotenvFiles,
  toChainRequest,
  type DataSourceConfig,
  type LoadedProfile,
  type LoadProfileOptions,
  type Profile,
} from "./config.js";

export {
  cacheKeyFor,
  sourceCacheIdentity,
  defineCache,
  type CacheContext,
  type CacheDefinition,
  type CacheStats,
  type ChainCache,
  type ChainCacheEntry,
  type ChainCacheKey,
  type ChainCacheWrite,
  type FetchClaim,
  type FetchClaimOptions,
  type ManagedChainCache,
} from "./cache.js";
export {
  createTtlPolicy,
  durationSchema,
  expiresAtUnder,
  marketHoursSchema,
  ttlConfigShape,
  ttlSettingSchema,
  type TtlPolicy,
  type TtlPolicySettings,
  type TtlRule,
  type TtlSetting,
} from "./ttl-policy.js";
export { parseDuration } from "./duration.js";
export { compressRaw, decompressRaw, formatBytes, sha256Hex, type RawEncoding, type StoredRaw } from "./cache-payload.js";
export {
  defineHistory,
  type ChainHistory,
  type HistoryAppend,
  type HistoryContext,
  type HistoryContractFilter,
  type HistoryContractRow,
  type HistoryDefinition,
  type HistoryRetention,
  type HistorySnapshot,
  type HistorySnapshotFilter,
  type OpenInterestPoint,
  type SettlementPoint,
} from "./history.js";

/** The optional `backfill` export of a source plugin: history in bulk behind a resumable manifest. */
export type {
  BackfillCapability,
  BackfillConvertInput,
  BackfillConvertOutput,
  BackfillPayment,
  BackfillProgress,
  BackfillRunOptions,
  BackfillRunResult,
} from "./backfill.js";

/** zod, re-exported so a plugin's config schema uses the same copy core validates with. */
export { z } from "zod";
