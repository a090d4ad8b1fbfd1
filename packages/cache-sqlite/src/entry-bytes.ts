/**
 * The bytes of an entry: the chain's JSON, measured as it is made so a chain over `max_entry_bytes` is
 * refused after serializing at most that much (a 10^6-contract chain is not turned into a 500 MB string
 * just to be thrown away). Its sha256 (@nq/core's sha256Hex) is what every read verifies.
 */
import { randomUUID } from "node:crypto";
import type { OptionsChain } from "@nq/core";

export type SerializedChain = { fits: true; json: string; bytes: number } | { fits: false; measuredBytes: number };

/**
 * `JSON.stringify(chain)`, byte for byte, or `fits: false` as soon as it would exceed `limitBytes`
 * (`measuredBytes` is how far it got). The contracts are serialized one at a time and spliced into the
 * rest of the chain at the place `JSON.stringify` puts them.
 */
export function serializeChainWithin(chain: OptionsChain, limitBytes: number): SerializedChain {
  if (!Array.isArray(chain.contracts)) return whole(JSON.stringify(chain), limitBytes);
  const marker = JSON.stringify(`nq-cache-contracts-${randomUUID()}`);
  const shell = JSON.stringify({ ...chain, contracts: JSON.parse(marker) as string });
  const at = shell.indexOf(marker);
  if (at < 0 || shell.indexOf(marker, at + 1) >= 0) return whole(JSON.stringify(chain), limitBytes);
  let bytes = Buffer.byteLength(shell) - Buffer.byteLength(marker) + 2; // the brackets
  const pieces: string[] = [];
  for (const contract of chain.contracts) {
    // Inside an array, JSON.stringify writes a value it cannot represent (undefined, a function) as null.
    const piece = (JSON.stringify(contract) as string | undefined) ?? "null";
    bytes += Buffer.byteLength(piece) + (pieces.length > 0 ? 1 : 0);
    if (bytes > limitBytes) return { fits: false, measuredBytes: bytes };
    pieces.push(piece);
  }
  return { fits: true, json: `${shell.slice(0, at)}[${pieces.join(",")}]${shell.slice(at + marker.length)}`, bytes };
}

function whole(json: string, limitBytes: number): SerializedChain {
  const bytes = Buffer.byteLength(json);
  return bytes > limitBytes ? { fits: false, measuredBytes: bytes } : { fits: true, json, bytes };
}
