/** Shared by this package's tests: a canary key, a context that collects logs and progress, a config helper. */
import { createLogger, type LogEntry, type ProgressUpdate, type SourceContext, SpendLedger } from "@nq/core";
import { configSchema, type PolygonConfig, type ResolvedConfig } from "../config.js";

/** The key every test server accepts; it must never appear in an error, a log line or a result. */
export const CANARY_KEY = "pgCANARYkey0123456789abcdefCANARY";
export const OTHER_KEY = "pgOTHERkey0123456789abcdefOTHER00";

export function testConfig(baseUrl: string, extra: Partial<PolygonConfig> = {}): ResolvedConfig {
  return configSchema.parse({ api_key: CANARY_KEY, base_url: baseUrl, allow_proxy: true, rate_limit: null, ...extra });
}

export function testContext(now: () => Date = () => new Date()): SourceContext & { logs: LogEntry[]; updates: ProgressUpdate[] } {
  const logs: LogEntry[] = [];
  const updates: ProgressUpdate[] = [];
  return { log: createLogger((entry) => logs.push(entry), "polygon"), spend: new SpendLedger(null), now, progress: (u) => updates.push(u), logs, updates };
}

export const signal = () => new AbortController().signal;
