import type { Logger } from "@nq/core";
import { type ResolvedConfig, SOURCE_NAME } from "../config.js";
import { HistoricalClient, type HistoricalClientOptions } from "./client.js";

/** The Historical client a source's config describes (base URL, timeouts, retries); `overrides` for the callers that differ. */
export function historicalClientFromConfig(config: ResolvedConfig, apiKey: string, log: Logger, overrides: Partial<HistoricalClientOptions> = {}): HistoricalClient {
  return new HistoricalClient({
    source: SOURCE_NAME,
    baseUrl: config.base_url,
    apiKey,
    timeoutMs: config.timeout_ms,
    readTimeoutMs: config.read_timeout_ms,
    maxRetries: config.max_retries,
    maxRetryDelayMs: config.max_retry_delay_ms,
    log,
    ...overrides,
  });
}
