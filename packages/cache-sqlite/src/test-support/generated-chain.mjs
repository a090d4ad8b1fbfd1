/**
 * Test and bench material: an NQ-shaped chain of any size, made by running generated rows through core's
 * own normalizer (so it is exactly what the registry would hand the cache). Not market data, not a source.
 */
import { normalizeChain } from "@nq/core";

const CAPABILITIES = {
  chain: true,
  quotes: true,
  openInterest: true,
  settlement: true,
  volume: true,
  greeks: false,
  impliedVolatility: false,
  streaming: false,
  needsCredentials: false,
  costsMoney: false,
  delayed: false,
};

/** `contracts` rows (half calls, half puts) spread over ten expirations, with a few unknown (null) fields. */
export function generatedRows(contracts, seed = 1) {
  const expirations = ["2026-11-27", "2026-12-04", "2026-12-11", "2026-12-18", "2027-01-15", "2027-02-19", "2027-03-19", "2027-06-18", "2027-09-17", "2027-12-17"];
  const rows = [];
  const pairs = Math.ceil(contracts / 2);
  for (let i = 0; i < pairs; i += 1) {
    const expiration = expirations[i % expirations.length];
    const strike = 15000 + Math.floor(i / expirations.length) * 5;
    for (const right of ["C", "P"]) {
      if (rows.length === contracts) break;
      const wobble = ((i * 7919 + seed * 104729) % 1000) / 100;
      rows.push({
        // No feed spelling: the normalizer names each contract canonically from its root and expiration.
        underlying: "NQZ6",
        product: "NQ",
        root: "NQ",
        expiration,
        expirationTime: `${expiration}T21:00:00.000Z`,
        strike,
        right,
        bid: 10 + wobble,
        ask: 10.5 + wobble,
        bidSize: 1 + (i % 9),
        askSize: 2 + (i % 7),
        last: i % 5 === 0 ? null : 10.25 + wobble,
        volume: i % 13,
        openInterest: i % 3 === 0 ? null : i % 401,
        settlement: 10.1 + wobble,
        multiplier: 20,
        quoteTime: "2026-11-20T20:59:58.123Z",
        rawStrike: `${strike}.000000000`,
      });
    }
  }
  return rows;
}

export function generatedSourceResult(contracts, seed = 1) {
  return { rows: generatedRows(contracts, seed), asOf: "2026-11-20T21:00:00.000Z", underlyingPrice: 21012.25 };
}

export function generatedChain(contracts, { source = "generated", seed = 1, fetchedAt = new Date("2026-11-20T21:00:05.000Z"), request = { product: "NQ" } } = {}) {
  return normalizeChain(generatedSourceResult(contracts, seed), { source, capabilities: CAPABILITIES, request, fetchedAt, cache: "miss" });
}
