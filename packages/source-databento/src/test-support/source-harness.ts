/**
 * Test harness: a source instance wired to a local server, with its logs and spend captured. Used by
 * this package's tests only (not exported from the package).
 */
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import { existsSync } from "node:fs";
import { createLogger, type LogEntry, type Source, SpendLedger } from "@nq/core";
import { databento, type DatabentoConfig } from "../index.js";
import { configSchema } from "../config.js";

/** A well-formed key that must never appear anywhere: the secret-scan canary. */
export const CANARY_KEY = "db-CanaryKeyZx81vQ0pLm4tRe7uYw2Q";
export const OTHER_KEY = "db-OtherKey0000000000000000AbCdE";

export interface Harness {
  source: Source;
  logs: LogEntry[];
  spend: SpendLedger;
}

export async function sourceFor(config: DatabentoConfig, options: { runLimitUsd?: number | null; now?: Date; baseDir?: string } = {}): Promise<Harness> {
  const logs: LogEntry[] = [];
  const spend = new SpendLedger(options.runLimitUsd ?? null);
  const source = await databento.create(configSchema.parse(config), {
    log: createLogger((entry) => logs.push(entry), "databento"),
    spend,
    now: () => options.now ?? new Date(),
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
  });
  return { source, logs, spend };
}

export function signal(): AbortSignal {
  return new AbortController().signal;
}

export async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a failure, but the promise resolved");
}

/** ../shared, from NQ_SHARED_DIR or next to the repository root; null when absent. */
export function sharedDir(): string | null {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
  const dir = process.env.NQ_SHARED_DIR ?? resolve(repoRoot, "../shared");
  return existsSync(dir) ? dir : null;
}
