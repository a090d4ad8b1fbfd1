/**
 * Whether a cache row's bytes are still the ones written: the chain's JSON and the raw payload are checked
 * against the sha256 stored with them (encoding and hashing are @nq/core's, shared with every store).
 */
import { sha256Hex } from "@nq/core";

/** Why the stored bytes do not match their checksums, or null when they do. */
export function checksumMismatch(chainJson: string, chainSha256: string, raw: Uint8Array | null, rawSha256: string | null): string | null {
  const actual = sha256Hex(Buffer.from(chainJson, "utf8"));
  if (actual !== chainSha256) return `chain sha256 ${actual.slice(0, 12)}…, stored ${String(chainSha256).slice(0, 12)}…`;
  if ((raw === null) !== (rawSha256 === null)) return raw === null ? "its raw payload is missing" : "its raw payload has no checksum";
  if (raw !== null && sha256Hex(raw) !== rawSha256) return "raw payload sha256 differs from the stored one";
  return null;
}
