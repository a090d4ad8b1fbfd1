/**
 * The client-side rate limit: at most `requests` per `per_seconds` per key and host, shared by every
 * instance in the process (the provider counts per key, not per instance). Free keys get 5 requests a
 * minute and no remaining/reset headers (reference §7), so the client must keep count itself. A 429 also
 * holds the window shut until the server's Retry-After (or, without one, one request's share of it).
 */
import { createHash } from "node:crypto";
import { AbortedError, sleepUnlessAborted } from "@nq/core";
import { SOURCE_NAME } from "./config.js";

export interface RateLimit {
  requests: number;
  per_seconds: number;
}

interface Window {
  sent: number[];
  blockedUntil: number;
  /** 429s without Retry-After in a row: each holds twice as long as the one before. */
  strikes: number;
}

const WINDOWS = new Map<string, Window>();

export class Throttle {
  private readonly window: Window;
  private readonly windowMs: number;

  constructor(
    origin: string,
    apiKey: string,
    private readonly limit: RateLimit | null,
    private readonly clock: () => number = Date.now,
  ) {
    // The key is hashed: the map must not hold the credential itself.
    const id = `${origin}|${createHash("sha256").update(apiKey).digest("hex").slice(0, 16)}`;
    let window = WINDOWS.get(id);
    if (!window) WINDOWS.set(id, (window = { sent: [], blockedUntil: 0, strikes: 0 }));
    this.window = window;
    this.windowMs = limit ? limit.per_seconds * 1000 : 0;
  }

  /** How long the next request would have to wait now, in ms (0: it may go). */
  waitMs(): number {
    const now = this.clock();
    let wait = Math.max(0, this.window.blockedUntil - now);
    if (this.limit) {
      this.window.sent = this.window.sent.filter((at) => at > now - this.windowMs);
      if (this.window.sent.length >= this.limit.requests) wait = Math.max(wait, this.window.sent[0]! + this.windowMs - now);
    }
    return wait;
  }

  /** Waits for a free slot (abortably) and takes it. `onWait` hears of every pause. */
  async take(signal: AbortSignal, onWait?: (ms: number) => void): Promise<void> {
    for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) {
      onWait?.(wait);
      await sleep(wait, signal);
    }
    if (this.limit) this.window.sent.push(this.clock());
  }

  /**
   * The server said 429: nothing goes before its Retry-After. Without one (free keys get none, reportedly),
   * one request's share of the window (1 s with no limit configured), doubled for each 429 in a row and at
   * most the whole window (60 s): the server's count is stricter than the configured one.
   */
  rateLimited(retryAfterMs: number | null): void {
    let hold = retryAfterMs;
    if (hold === null) {
      this.window.strikes += 1;
      const share = this.limit ? this.windowMs / this.limit.requests : 1000;
      hold = Math.min(share * 2 ** (this.window.strikes - 1), this.limit ? this.windowMs : 60_000);
    }
    this.window.blockedUntil = Math.max(this.window.blockedUntil, this.clock() + hold);
  }

  /** A request was answered: the server's count is not over. */
  answered(): void {
    this.window.strikes = 0;
  }
}

/** Forgets every window (tests). */
export function resetThrottles(): void {
  WINDOWS.clear();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return sleepUnlessAborted(ms, signal, (cause) => new AbortedError(SOURCE_NAME, "the load was aborted while waiting for the rate limit", { cause }));
}
