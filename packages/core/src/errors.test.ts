import { describe, expect, it } from "vitest";
import {
  AuthError,
  CostLimitError,
  EntitlementError,
  IncompleteDataError,
  NetworkError,
  RateLimitError,
  SourceError,
  TimeoutError,
  toSourceError,
  UnexpectedSourceError,
  AbortedError,
} from "./errors.js";
import { registerSecret } from "./secrets.js";

describe("source errors", () => {
  it("split into retryable (network, timeout, rate limit, incomplete) and not (auth, entitlement, cost)", () => {
    expect(new NetworkError("s", "m").retryable).toBe(true);
    expect(new TimeoutError("s", "m", { timeoutMs: 5 }).retryable).toBe(true);
    expect(new RateLimitError("s", "m", { retryAfterMs: 2000 })).toMatchObject({ retryable: true, retryAfterMs: 2000, kind: "rate_limit" });
    expect(new RateLimitError("s", "m")).toBeInstanceOf(NetworkError);
    expect(new IncompleteDataError("s", "m").retryable).toBe(true);
    expect(new AuthError("s", "m").retryable).toBe(false);
    expect(new EntitlementError("s", "m").retryable).toBe(false);
    expect(new CostLimitError("s", "m", { estimatedUsd: 2, limitUsd: 1 })).toMatchObject({ retryable: false, estimatedUsd: 2, limitUsd: 1 });
  });

  it("name the source in the message and keep the cause", () => {
    const cause = new Error("socket hang up");
    const error = new NetworkError("databento", "connection lost; try again", { cause, details: { status: 503 } });
    expect(error.message).toBe("databento: connection lost; try again");
    expect(error.name).toBe("NetworkError");
    expect((error.cause as Error).message).toBe("socket hang up");
    expect(error.toJSON()).toMatchObject({ name: "NetworkError", kind: "network", source: "databento", details: { status: 503 } });
  });

  it("never carry a registered secret, in the message, the details or the cause", () => {
    const key = "db-CANARYcanaryCANARYcanary12345";
    registerSecret(key);
    const error = new AuthError("databento", `key ${key} was refused`, { cause: new Error(`401 for ${key}`), details: { auth: key } });
    const everything = `${error.message} ${JSON.stringify(error.toJSON())} ${(error.cause as Error).message} ${(error.cause as Error).stack}`;
    expect(everything).not.toContain(key);
    expect(error.message).toContain("***345");
  });

  it("classify foreign errors: typed pass through, aborts become AbortedError, socket codes become NetworkError, the rest are bugs", () => {
    const typed = new AuthError("s", "m");
    expect(toSourceError("s", typed)).toBe(typed);
    const abort = new DOMException("aborted", "AbortError");
    expect(toSourceError("s", abort)).toBeInstanceOf(AbortedError);
    expect(toSourceError("s", Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBeInstanceOf(NetworkError);
    expect(toSourceError("s", new TypeError("terminated", { cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }) }))).toBeInstanceOf(NetworkError);
    const bug = toSourceError("s", new TypeError("x is undefined"));
    expect(bug).toBeInstanceOf(UnexpectedSourceError);
    expect(bug.retryable).toBe(false);
    expect(bug).toBeInstanceOf(SourceError);
  });
});
