import { AbortedError, sleepUnlessAborted } from "@nq/core";
import { SOURCE_NAME } from "./config.js";

export function abortedError(cause?: unknown): AbortedError {
  return new AbortedError(SOURCE_NAME, "the load was aborted", cause === undefined ? {} : { cause });
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortedError(signal.reason);
}

/** Waits `ms`, or rejects with AbortedError as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return sleepUnlessAborted(ms, signal, abortedError);
}
