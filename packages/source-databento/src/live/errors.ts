/**
 * Gateway failures as @nq/core's typed errors. ErrorMsg codes (reference §4.9): 1 auth failed, 2 key
 * deactivated, 3 connection limit, 4 symbol resolution failed, 5 invalid subscription, 6 internal error,
 * 7 records skipped after slow reading. Retryable ones (3, 6, 7 and dropped connections) are what the
 * client reconnects after; the others end the stream.
 */
import {
  AuthError,
  IncompleteDataError,
  InvalidRequestError,
  NetworkError,
  RateLimitError,
  ServiceUnavailableError,
  type SourceError,
} from "@nq/core";

export const GATEWAY_ERROR_CODES: Record<number, string> = {
  1: "authentication failed",
  2: "API key deactivated",
  3: "connection limit exceeded",
  4: "symbol resolution failed",
  5: "invalid subscription",
  6: "internal error",
  7: "records skipped after slow reading",
};

export function gatewayError(source: string, code: number, text: string): SourceError {
  const what = GATEWAY_ERROR_CODES[code] ?? `error code ${code}`;
  const message = `the Live gateway reported ${what}: ${text}`;
  const details = { gatewayCode: code };
  switch (code) {
    case 1:
    case 2:
      return new AuthError(source, `${message}. Check the API key and its Live entitlement`, { details });
    case 3:
      return new RateLimitError(source, `${message}. Close other Live sessions of this key`, { details });
    case 4:
    case 5:
      return new InvalidRequestError(source, `${message}. Check the subscription's schema and symbols`, { details });
    case 7:
      return new IncompleteDataError(source, `${message}; the gap is refilled from the last record seen`, { details });
    case 6:
      return new ServiceUnavailableError(source, message, { details });
    default:
      return new NetworkError(source, message, { details });
  }
}
