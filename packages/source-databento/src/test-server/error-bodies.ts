/**
 * Error bodies in Databento's structured shape (reference §2.5):
 * `{"detail": {"case", "message", "status_code", "docs", "payload"}}`.
 */
export type ErrorCase =
  | "auth_authentication_failed"
  | "auth_no_dataset_entitlement"
  | "data_start_before_available_start"
  | "data_start_after_available_end"
  | "data_end_after_available_end"
  | "data_end_before_start"
  | "data_schema_not_fully_available"
  | "symbology_invalid_request"
  | "dataset_not_found"
  | "validation_failed"
  | "rate_limit_exceeded"
  | "gateway_unavailable"
  | "internal_error"
  | "not_found";

const DOCS = "https://databento.com/docs/api-historical/basics/errors";

export function errorBody(errorCase: ErrorCase, status: number, message: string, payload: Record<string, unknown> = {}) {
  return { detail: { case: errorCase, message, status_code: status, docs: DOCS, payload } };
}
