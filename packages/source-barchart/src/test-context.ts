/**
 * A SourceContext for tests that keeps every log entry, so a test can count browser launches and read
 * what the source said. Used by the test files only (not exported).
 */
import { createLogger, SpendLedger, type LogEntry, type SourceContext } from "@nq/core";

export function recordingContext(now: () => Date = () => new Date()): SourceContext & { entries: LogEntry[]; launches(): number } {
  const entries: LogEntry[] = [];
  return {
    log: createLogger((entry) => entries.push(entry), "barchart"),
    spend: new SpendLedger(null),
    now,
    entries,
    launches: () => entries.filter((e) => /^starting (headless )?browser/.test(e.message)).length,
  };
}
