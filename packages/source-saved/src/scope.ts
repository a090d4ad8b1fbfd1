/**
 * What a saved chain can honestly answer. A chain saved by a narrowed run (`--max-expirations 2`, a strike
 * window, a list of expirations) holds only part of the chain; replayed for a wider request it would look
 * like the whole chain. So every saved chain has a scope — the request it answered — and is replayed only
 * for a request inside that scope.
 *
 * The scope is `metadata.request` (the `ChainRequest` the run asked for) when the file records it. A file
 * that does not (written before runners recorded it) is taken to hold exactly what is in it: its listed
 * expirations and its strike range. Such a file can answer a request that names those expirations and a
 * strike window inside that range, never a request for the whole chain.
 */
import type { ChainRequest } from "@nq/core";

/** The request a saved chain answered, or what it can be shown to hold. */
export interface ChainScope {
  /** "recorded": from the file's `metadata.request` (or the shipped sample, full by construction). */
  basis: "recorded" | "content";
  expirations?: string[];
  maxExpirations?: number;
  strikeMin?: number;
  strikeMax?: number;
  /** The as-of time the run asked for (recorded scopes only; absent: it asked for the latest). */
  asOf?: string;
}

/** What the scope check reads of a saved chain's content. */
export interface ChainContent {
  expirations: string[];
  strikeRange: { min: number; max: number } | null;
  contracts: { expiration?: unknown; strike?: unknown }[];
}

export function recordedScope(request: Omit<ChainRequest, "product">): ChainScope {
  const scope: ChainScope = { basis: "recorded" };
  if (request.expirations?.length) scope.expirations = [...new Set(request.expirations)].sort();
  if (request.maxExpirations !== undefined) scope.maxExpirations = request.maxExpirations;
  if (request.strikeMin !== undefined) scope.strikeMin = request.strikeMin;
  if (request.strikeMax !== undefined) scope.strikeMax = request.strikeMax;
  if (request.asOf !== undefined) scope.asOf = request.asOf;
  return scope;
}

/** A file without a recorded request: it holds its own expirations and strike range, and no more is known. */
export function contentScope(content: ChainContent): ChainScope {
  const scope: ChainScope = { basis: "content", expirations: [...content.expirations].sort() };
  if (content.strikeRange) {
    scope.strikeMin = content.strikeRange.min;
    scope.strikeMax = content.strikeRange.max;
  }
  return scope;
}

/**
 * Why a chain saved with `scope` cannot answer `request` (one reason a line), or an empty list when every
 * contract the request would select from the full chain is in the file.
 */
export function scopeShortfall(scope: ChainScope, request: ChainRequest, content: ChainContent): string[] {
  const reasons: string[] = [];
  const wantMin = request.strikeMin ?? Number.NEGATIVE_INFINITY;
  const wantMax = request.strikeMax ?? Number.POSITIVE_INFINITY;
  const haveMin = scope.strikeMin ?? Number.NEGATIVE_INFINITY;
  const haveMax = scope.strikeMax ?? Number.POSITIVE_INFINITY;
  if (wantMin < haveMin || wantMax > haveMax) {
    reasons.push(`it holds strikes ${strikeWindow(scope.strikeMin, scope.strikeMax)} only; asked: ${strikeWindow(request.strikeMin, request.strikeMax)}`);
  }

  const narrowedExpirations = scope.expirations !== undefined || scope.maxExpirations !== undefined;
  if (narrowedExpirations) {
    const held = new Set(content.expirations);
    const listed = new Set(scope.expirations ?? []);
    if (request.expirations?.length) {
      // A listed expiration is covered when the file has it, or when the run asked for it by name and
      // was not capped (then the feed simply had no such expiration).
      const missing = request.expirations.filter((e) => !held.has(e) && !(scope.maxExpirations === undefined && listed.has(e)));
      if (missing.length) reasons.push(`it does not hold expiration${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (it was saved for ${describeExpirations(scope)})`);
    } else if (scope.expirations !== undefined) {
      reasons.push(`it was saved for ${describeExpirations(scope)}; asked: ${describeExpirations(request)}`);
    } else if (request.maxExpirations === undefined || request.maxExpirations > scope.maxExpirations!) {
      reasons.push(`it was saved for ${describeExpirations(scope)}; asked: ${describeExpirations(request)}`);
    } else if (wantMin > haveMin || wantMax < haveMax) {
      // The nearest N under a narrower strike window may skip an expiration with no strike in it and
      // reach past the file's last one: only when every held expiration has a strike in the window is
      // the answer the same as from the full chain.
      const inWindow = new Set(
        content.contracts
          .filter((c) => typeof c.strike === "number" && c.strike >= wantMin && c.strike <= wantMax)
          .map((c) => String(c.expiration)),
      );
      const empty = content.expirations.filter((e) => !inWindow.has(e));
      if (empty.length) reasons.push(`expiration${empty.length > 1 ? "s" : ""} ${empty.join(", ")} ha${empty.length > 1 ? "ve" : "s"} no strike in the asked window, so the nearest ${request.maxExpirations} may lie past what it holds`);
    }
  }
  return reasons;
}

/** "all expirations, all strikes", "the nearest 2 expirations, strikes 20000–22000, as of …". */
export function describeRequest(request: Omit<ChainRequest, "product"> & { product?: string }): string {
  const parts = [describeExpirations(request), request.strikeMin === undefined && request.strikeMax === undefined ? "all strikes" : `strikes ${strikeWindow(request.strikeMin, request.strikeMax)}`];
  parts.push(request.asOf === undefined ? "the latest as-of" : `as of ${request.asOf}`);
  return parts.join(", ");
}

export function describeExpirations(request: { expirations?: string[]; maxExpirations?: number }): string {
  const list = request.expirations?.length ? `expirations ${request.expirations.join(", ")}` : null;
  const cap = request.maxExpirations !== undefined ? `the nearest ${request.maxExpirations} expiration${request.maxExpirations === 1 ? "" : "s"}` : null;
  if (list && cap) return `${cap} of ${list}`;
  return list ?? cap ?? "all expirations";
}

function strikeWindow(min: number | undefined, max: number | undefined): string {
  if (min === undefined && max === undefined) return "(all)";
  if (min === undefined) return `up to ${max}`;
  if (max === undefined) return `from ${min}`;
  return `${min}–${max}`;
}
