import { describe, expect, it } from "vitest";
import {
  AuthError,
  CostLimitError,
  EntitlementError,
  IncompleteDataError,
  InvalidRequestError,
  NetworkError,
  RateLimitError,
  SourceError,
  TimeoutError,
  toSourceError,
  UnexpectedSourceError,
  AbortedError,
  isAbortError,
  isSourceError,
  isSourceErrorOfKind,
  retryAfterMsOf,
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

  describe("identity that survives another copy of @nq/core", () => {
    /** What another copy's error looks like from here: same fields and brand, a different class. */
    function foreign(kind: string, code: string, retryable: boolean, extra: Record<string, unknown> = {}): Error {
      class AuthError extends Error {}
      const error = Object.assign(new AuthError(`acme: ${kind} from another copy`), { kind, code, retryable, source: "acme", details: {}, ...extra });
      Object.defineProperty(Object.getPrototypeOf(error), Symbol.for("@nq/core/SourceError"), { value: 1 });
      return error;
    }

    it("recognises a branded error from another copy by its fields, in every guard and in instanceof", () => {
      const auth = foreign("auth", "auth", false);
      expect(isSourceError(auth)).toBe(true);
      expect(toSourceError("acme", auth)).toBe(auth);
      expect(auth).toBeInstanceOf(AuthError);
      expect(auth).toBeInstanceOf(SourceError);
      expect(auth).not.toBeInstanceOf(NetworkError);
      const limited = foreign("rate_limit", "rate_limit", true, { retryAfterMs: 1500 });
      expect(isSourceErrorOfKind(limited, "rate_limit")).toBe(true);
      expect(isSourceErrorOfKind(limited, "network")).toBe(true);
      expect(isSourceErrorOfKind(limited, "auth")).toBe(false);
      expect(limited).toBeInstanceOf(RateLimitError);
      expect(limited).toBeInstanceOf(NetworkError);
      expect(retryAfterMsOf(limited)).toBe(1500);
      expect(isAbortError(foreign("aborted", "aborted", false))).toBe(true);
    });

    it("does not take a lookalike without the brand for a branded one, but rebuilds an older copy's typed error", () => {
      const old = Object.assign(new Error("acme: HTTP 429"), { name: "RateLimitError", kind: "rate_limit", retryable: true, source: "acme", retryAfterMs: 2000, details: {} });
      expect(isSourceError(old)).toBe(false);
      const adopted = toSourceError("acme", old);
      expect(adopted).toBeInstanceOf(RateLimitError);
      expect(adopted.message).toBe("acme: HTTP 429");
      expect(retryAfterMsOf(adopted)).toBe(2000);
      const bug = Object.assign(new Error("acme: unexpected failure: x"), { name: "UnexpectedSourceError", kind: "invalid_request", retryable: false, source: "acme" });
      expect(toSourceError("acme", bug)).toBeInstanceOf(UnexpectedSourceError);
      expect(toSourceError("acme", { kind: "auth", retryable: false, source: "acme" })).toBeInstanceOf(UnexpectedSourceError);
    });

    it("keeps a code finer than kind, and a plugin's own subclass keeps ordinary instanceof", () => {
      expect(new UnexpectedSourceError("s", "m")).toMatchObject({ kind: "invalid_request", code: "unexpected" });
      expect(new UnexpectedSourceError("s", "m")).not.toBeInstanceOf(InvalidRequestError);
      expect(new TimeoutError("s", "m").toJSON()).toMatchObject({ kind: "timeout", code: "timeout" });
      class VendorAuthError extends AuthError {}
      const vendor = new VendorAuthError("s", "m");
      expect(vendor).toMatchObject({ code: "auth", name: "VendorAuthError" });
      expect(vendor).toBeInstanceOf(AuthError);
      expect(new AuthError("s", "m")).not.toBeInstanceOf(VendorAuthError);
      class BrowserGoneError extends SourceError {
        readonly kind = "unavailable" as const;
        readonly retryable = false;
      }
      const gone = new BrowserGoneError("s", "m");
      expect(gone.code).toBe("unavailable");
      expect(isSourceErrorOfKind(gone, "unavailable")).toBe(true);
      expect(gone).not.toBeInstanceOf(UnexpectedSourceError);
      expect(gone).not.toBeInstanceOf(NetworkError);
    });

    it("turns a DOMException TimeoutError (AbortSignal.timeout, withTimeout) into a retryable TimeoutError", () => {
      expect(toSourceError("s", new DOMException("timed out", "TimeoutError"))).toMatchObject({ code: "timeout", retryable: true });
    });
  });
});
