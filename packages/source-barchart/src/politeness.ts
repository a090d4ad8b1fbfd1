/**
 * Politeness toward Barchart: a minimum, jittered pause between any two requests of a run, and bounded
 * retries with a growing pause for transient failures only. A block or a rate limit is never retried
 * here: it goes straight back to the runner, which falls back to the next source instead of hammering.
 */
import { AbortedError, BlockedError, RateLimitError, sleepUnlessAborted, type SourceError } from "@nq/core";

const SOURCE = "barchart";

export class RequestSpacer {
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly minIntervalMs: number,
    private readonly jitterMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Waits until the next request may go out, then books it. */
  async next(signal: AbortSignal): Promise<void> {
    const gap = this.minIntervalMs + Math.floor(this.random() * this.jitterMs);
    const wait = this.last + gap - performance.now();
    if (wait > 0) await sleep(wait, signal);
    this.last = performance.now();
  }
}

export interface RetryPolicy {
  maxRetries: number;
  backoffMs: number;
  onRetry?: (error: SourceError, attempt: number, delayMs: number) => void;
}

/** Runs `task`, retrying retryable SourceErrors (not blocks, not rate limits) with a linear backoff. */
export async function withRetries<T>(task: () => Promise<T>, policy: RetryPolicy, signal: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (error) {
      const typed = error as SourceError;
      const retryable = typed?.retryable === true && !(error instanceof RateLimitError) && !(error instanceof BlockedError);
      if (!retryable || attempt > policy.maxRetries || signal.aborted) throw error;
      const delay = policy.backoffMs * attempt;
      policy.onRetry?.(typed, attempt, delay);
      await sleep(delay, signal);
    }
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AbortedError(SOURCE, "the load was aborted", { cause: signal.reason });
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return sleepUnlessAborted(ms, signal, (cause) => new AbortedError(SOURCE, "the load was aborted", { cause }));
}

/** Settles with `work`, or rejects with AbortedError as soon as the signal fires (work is left to finish). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(new AbortedError(SOURCE, "the load was aborted", { cause: signal.reason }));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(new AbortedError(SOURCE, "the load was aborted", { cause: signal.reason }));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
