/**
 * Databento's error answers → @nq/core's typed errors. The registry decides retry or fallback from the
 * class alone, so the mapping is by HTTP status first and by Databento's `case` where it says more.
 * Databento's own `case`, `message` and `docs` are kept in `details` for whoever debugs it.
 */
import {
  AuthError,
  EntitlementError,
  InvalidRequestError,
  NetworkError,
  NoDataError,
  RateLimitError,
  ServiceUnavailableError,
  type SourceError,
  TimeoutError,
} from "@nq/core";

/** The body of a Databento error: `{"detail": "text"}` or `{"detail": {case, message, status_code, docs, payload}}`. */
export interface ApiErrorBody {
  case: string | null;
  message: string;
  docs: string | null;
  payload: Record<string, unknown> | null;
}

export function parseErrorBody(text: string): ApiErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // An HTML 502 page or a proxy's text: keep a readable slice of it.
    return { case: null, message: squeeze(text) || "(empty body)", docs: null, payload: null };
  }
  const detail = (json as { detail?: unknown } | null)?.detail;
  if (typeof detail === "string") return { case: null, message: detail, docs: null, payload: null };
  if (typeof detail === "object" && detail !== null) {
    const d = detail as Record<string, unknown>;
    return {
      case: typeof d.case === "string" ? d.case : null,
      message: typeof d.message === "string" ? d.message : JSON.stringify(detail),
      docs: typeof d.docs === "string" ? d.docs : null,
      payload: typeof d.payload === "object" && d.payload !== null ? (d.payload as Record<string, unknown>) : null,
    };
  }
  return { case: null, message: squeeze(text), docs: null, payload: null };
}

export interface ErrorContext {
  source: string;
  endpoint: string;
  status: number;
  body: ApiErrorBody;
  dataset: string | null;
  requestId: string | null;
  /** Parsed Retry-After, for 429. */
  retryAfterMs: number | null;
}

export function toApiError(context: ErrorContext): SourceError {
  const { source, endpoint, status, body, dataset, requestId } = context;
  const details: Record<string, unknown> = {
    status,
    endpoint,
    case: body.case,
    message: body.message,
    docs: body.docs,
    payload: body.payload,
    requestId,
  };
  const said = `Databento answered ${status}${body.case ? ` ${body.case}` : ""} to ${endpoint}: "${body.message}"`;
  const docs = body.docs ? ` (see ${body.docs})` : "";
  const datasetName = dataset ?? "the dataset";

  if (status === 401) {
    return new AuthError(source, `${said}. The API key was refused: check "api_key" / DATABENTO_API_KEY against the Databento portal${docs}`, { details });
  }
  if (status === 403 || status === 402 || body.case === "auth_no_dataset_entitlement" || body.case?.startsWith("license_")) {
    const what =
      status === 402
        ? `the account cannot pay for ${datasetName} data (payment or insufficient funds)`
        : `this API key has no licence (entitlement) for dataset ${datasetName}`;
    return new EntitlementError(source, `${said}. ${what}: add the ${datasetName} licence in the Databento portal, or let another source answer${docs}`, { details });
  }
  if (status === 429) {
    const wait = context.retryAfterMs === null ? "" : ` (Retry-After ${Math.round(context.retryAfterMs / 1000)} s)`;
    return new RateLimitError(source, `${said}. Rate limit exceeded${wait}; wait and try again, or make fewer requests`, {
      details,
      retryAfterMs: context.retryAfterMs,
    });
  }
  if (status === 408 || status === 504) {
    return new TimeoutError(source, `${said}. The request timed out at Databento's side; try again later`, { details });
  }
  if (status === 503) {
    return new ServiceUnavailableError(source, `${said}. Databento's gateway is offline or overloaded; try again later`, { details });
  }
  if (status >= 500) {
    return new NetworkError(source, `${said}. A server-side failure; try again later`, { details });
  }
  if (body.case === "data_start_after_available_end") {
    return new NoDataError(source, `${said}. The data for this time is not published yet; ask for an earlier time or try later${docs}`, { details });
  }
  return new InvalidRequestError(source, `${said}. The request was refused as invalid; fix the request or the config${docs}`, { details });
}

/** Retry-After in seconds (or an HTTP date) → milliseconds; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function squeeze(text: string): string {
  const plain = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return plain.length > 300 ? `${plain.slice(0, 300)}…` : plain;
}
