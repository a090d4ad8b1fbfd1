/** What a user asks for. Every source gets the same request; the normalizer applies the filters again. */
export interface ChainRequest {
  /** The product, "NQ". */
  product: string;
  /** Only these expirations (YYYY-MM-DD); all when absent. */
  expirations?: string[];
  /** Only the nearest N expirations on or after `asOf` (applied after `expirations`). */
  maxExpirations?: number;
  /** Only strikes within [min, max] index points. */
  strikeMin?: number;
  strikeMax?: number;
  /** The market time wanted (ISO 8601). Absent: the latest the source has. */
  asOf?: string;
}

export const DEFAULT_REQUEST: ChainRequest = { product: "NQ" };

/** A stable, order-independent JSON form of a request: the cache key is a hash of it. */
export function canonicalRequest(request: ChainRequest): string {
  const normalized: Record<string, unknown> = { product: request.product.toUpperCase() };
  if (request.expirations?.length) normalized.expirations = [...new Set(request.expirations)].sort();
  if (request.maxExpirations !== undefined) normalized.maxExpirations = request.maxExpirations;
  if (request.strikeMin !== undefined) normalized.strikeMin = request.strikeMin;
  if (request.strikeMax !== undefined) normalized.strikeMax = request.strikeMax;
  if (request.asOf !== undefined) normalized.asOf = new Date(request.asOf).toISOString();
  return JSON.stringify(normalized, Object.keys(normalized).sort());
}
