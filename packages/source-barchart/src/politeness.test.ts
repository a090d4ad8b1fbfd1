import { AbortedError, BlockedError, NetworkError, RateLimitError } from "@nq/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RequestSpacer, untilAborted, withRetries } from "./politeness.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("politeness", () => {
  it("spaces requests by the minimum interval plus jitter", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const spacer = new RequestSpacer(1_000, 500, () => 0.5);
    const signal = new AbortController().signal;
    await spacer.next(signal); // the first request goes at once
    let second = false;
    const pending = spacer.next(signal).then(() => (second = true));
    await vi.advanceTimersByTimeAsync(1_249);
    expect(second).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(second).toBe(true);
  });

  it("retries transient failures a bounded number of times, never a block or a rate limit", async () => {
    const signal = new AbortController().signal;
    let calls = 0;
    const failing = () => {
      calls += 1;
      return Promise.reject(new NetworkError("barchart", "reset"));
    };
    await expect(withRetries(failing, { maxRetries: 2, backoffMs: 1 }, signal)).rejects.toBeInstanceOf(NetworkError);
    expect(calls).toBe(3);
    for (const refusal of [new BlockedError("barchart", "403"), new RateLimitError("barchart", "429")]) {
      calls = 0;
      await expect(
        withRetries(() => {
          calls += 1;
          return Promise.reject(refusal);
        }, { maxRetries: 5, backoffMs: 1 }, signal),
      ).rejects.toBe(refusal);
      expect(calls).toBe(1);
    }
  });

  it("gives up waiting as soon as the load is aborted", async () => {
    const controller = new AbortController();
    const never = new Promise<never>(() => {});
    const waiting = untilAborted(never, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
  });
});
