import { redactSecrets } from "./secrets.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogEntry {
  level: LogLevel;
  source: string | null;
  message: string;
  fields?: Record<string, unknown>;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose entries name this source. */
  child(source: string): Logger;
}

/** A logger that hands each (redacted) entry to a sink: the runner prints them, tests collect them. */
export function createLogger(sink: (entry: LogEntry) => void, source: string | null = null): Logger {
  const emit = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    const entry: LogEntry = { level, source, message: redactSecrets(message) };
    if (fields) entry.fields = JSON.parse(redactSecrets(JSON.stringify(fields))) as Record<string, unknown>;
    sink(entry);
  };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (child) => createLogger(sink, child),
  };
}

export const silentLogger: Logger = createLogger(() => {});
