/**
 * @nq/core — the contract every @nq package shares.
 *
 * Read in this order: the model a chain normalizes to, the request, the source contract a plugin
 * implements, the errors it throws, the normalizer that validates its rows, the registry that runs
 * sources with fallback, profiles, and the cache contract.
 */
export type {
  CacheStatus,
  ChainMetadata,
  OptionContract,
  OptionRight,
  OptionsChain,
  OptionsSummary,
  Provenance,
  QualityMetrics,
  StrikeRange,
} from "./contract.js";

export { canonicalRequest, DEFAULT_REQUEST, type ChainRequest } from "./request.js";

export {
  assertSourceDefinition,
  defineSource,
  type LoadOptions,
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
  NetworkError,
  NoDataError,
  RateLimitError,
  ServiceUnavailableError,
  SourceError,
  TimeoutError,
  toSourceError,
  UnexpectedSourceError,
  type SourceErrorKind,
  type SourceErrorOptions,
} from "./errors.js";

export { isSecretFieldName, redactSecrets, registerSecret } from "./secrets.js";
export { createLogger, silentLogger, type LogEntry, type Logger, type LogLevel } from "./logger.js";
export { SpendLedger, type SpendEntry } from "./spend.js";

export { measureQuality, normalizeChain, NQ_OPTION_MULTIPLIER, type NormalizeContext } from "./normalize.js";

export {
  runSources,
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
  defineCache,
  type CacheContext,
  type CacheDefinition,
  type CacheStats,
  type ChainCache,
  type ChainCacheEntry,
  type ChainCacheKey,
  type ChainCacheWrite,
  type ManagedChainCache,
} from "./cache.js";

/** zod, re-exported so a plugin's config schema uses the same copy core validates with. */
export { z } from "zod";
