/** Shared by the tests: a config for a local server, a context that records logs and progress. */
import { createLogger, type LogEntry, type ProgressUpdate, type SourceContext, SpendLedger } from "@nq/core";
import { configSchema, type ResolvedConfig, type TradovateConfig } from "../config.js";
import { DEFAULT_USER, type LocalTradovateServer } from "../test-server/index.js";

/** The canary credentials: they must never show in an error, a log line or a result. */
export const PASSWORD = DEFAULT_USER.password;
export const SECRET = DEFAULT_USER.sec;

export function localConfig(server: LocalTradovateServer, overrides: Partial<TradovateConfig> = {}): ResolvedConfig {
  return configSchema.parse({
    name: DEFAULT_USER.name,
    password: PASSWORD,
    cid: DEFAULT_USER.cid,
    sec: SECRET,
    app_id: "nq-tests",
    device_id: "test-device-0001",
    rest_url: server.url,
    md_url: server.mdUrl,
    collect_timeout_ms: 5_000,
    settle_ms: 20,
    reconnect_delay_ms: 10,
    request_timeout_ms: 5_000,
    ...overrides,
  });
}

export function recordingContext(): SourceContext & { logs: LogEntry[]; updates: ProgressUpdate[] } {
  const logs: LogEntry[] = [];
  const updates: ProgressUpdate[] = [];
  return {
    log: createLogger((entry) => logs.push(entry), "tradovate"),
    progress: (update) => updates.push(update),
    spend: new SpendLedger(null),
    now: () => new Date(),
    logs,
    updates,
  };
}

export const signal = () => new AbortController().signal;
