/**
 * An OptionContract and its row: one column per field, in one fixed order shared by the migration and the
 * batched insert. Validation happens here, before anything is written: a number that SQL cannot keep
 * exactly (NaN, ±Infinity) or a missing required field is refused with the field's name.
 */
import type { OptionContract, Provenance } from "@nq/core";
import type { ColumnKind, DialectTraits } from "./dialect.js";
import type { ContractTable } from "./schema.js";

interface ColumnSpec {
  column: keyof ContractTable;
  kind: ColumnKind;
  notNull: boolean;
}

const spec = (column: keyof ContractTable, kind: ColumnKind, notNull = false): ColumnSpec => ({ column, kind, notNull });

export const CONTRACT_COLUMNS: readonly ColumnSpec[] = [
  spec("snapshot_id", "bigint", true),
  spec("ordinal", "integer", true),
  spec("as_of_ms", "bigint", true),
  spec("symbol", "text", true),
  spec("raw_symbol", "text"),
  spec("underlying", "text", true),
  spec("underlying_price", "double"),
  spec("underlying_price_basis", "text"),
  spec("underlying_price_time", "text"),
  spec("product", "text", true),
  spec("root", "text", true),
  spec("expiration", "text", true),
  spec("expiration_time", "text"),
  spec("strike", "double", true),
  spec("option_right", "text", true),
  spec("bid", "double"),
  spec("ask", "double"),
  spec("bid_size", "double"),
  spec("ask_size", "double"),
  spec("last", "double"),
  spec("volume", "double"),
  spec("cleared_volume", "double"),
  spec("cleared_volume_date", "text"),
  spec("open_interest", "double"),
  spec("open_interest_date", "text"),
  spec("settlement", "double"),
  spec("settlement_date", "text"),
  spec("implied_volatility", "double"),
  spec("iv_basis", "text"),
  spec("delta", "double"),
  spec("gamma", "double"),
  spec("theta", "double"),
  spec("vega", "double"),
  spec("greeks_source", "text"),
  spec("multiplier", "double", true),
  spec("quote_time", "text"),
  spec("raw_strike", "text"),
  spec("provenance_source", "text"),
  spec("provenance_as_of", "text"),
  spec("provenance_fetched_at", "text"),
  spec("provenance_delayed", "boolean"),
  spec("provenance_sample", "boolean"),
];

/** Which OptionContract field each value column holds (the first three columns are the row's place). */
const FIELDS: [keyof OptionContract, "string" | "number", boolean][] = [
  ["symbol", "string", true],
  ["rawSymbol", "string", false],
  ["underlying", "string", true],
  ["underlyingPrice", "number", false],
  ["underlyingPriceBasis", "string", false],
  ["underlyingPriceTime", "string", false],
  ["product", "string", true],
  ["root", "string", true],
  ["expiration", "string", true],
  ["expirationTime", "string", false],
  ["strike", "number", true],
  ["right", "string", true],
  ["bid", "number", false],
  ["ask", "number", false],
  ["bidSize", "number", false],
  ["askSize", "number", false],
  ["last", "number", false],
  ["volume", "number", false],
  ["clearedVolume", "number", false],
  ["clearedVolumeDate", "string", false],
  ["openInterest", "number", false],
  ["openInterestDate", "string", false],
  ["settlement", "number", false],
  ["settlementDate", "string", false],
  ["impliedVolatility", "number", false],
  ["ivBasis", "string", false],
  ["delta", "number", false],
  ["gamma", "number", false],
  ["theta", "number", false],
  ["vega", "number", false],
  ["greeksSource", "string", false],
  ["multiplier", "number", true],
  ["quoteTime", "string", false],
  ["rawStrike", "string", false],
];

/** What a contract's provenance is compared with: the chain's own. */
export type SnapshotProvenance = Omit<Provenance, never>;

/** Throws a TypeError naming the contract and field when a value cannot be stored as it is. */
export function checkContract(contract: OptionContract, index: number): void {
  const where = () => `contract #${index + 1}${typeof contract?.symbol === "string" ? ` (${contract.symbol})` : ""}`;
  if (typeof contract !== "object" || contract === null) throw new TypeError(`${where()}: expected an OptionContract object, got ${String(contract)}`);
  for (const [field, type, required] of FIELDS) {
    const value = contract[field];
    if (value === null && !required) continue;
    if (type === "number" ? typeof value === "number" && Number.isFinite(value) : typeof value === "string") continue;
    const expected = type === "number" ? "a finite number" : "a string";
    throw new TypeError(`${where()}: ${field} must be ${expected}${required ? "" : " or null"}, got ${describe(value)}`);
  }
  if (contract.right !== "C" && contract.right !== "P") throw new TypeError(`${where()}: right must be "C" or "P", got ${describe(contract.right)}`);
  const p = contract.provenance;
  if (typeof p !== "object" || p === null) throw new TypeError(`${where()}: provenance must be an object, got ${describe(p)}`);
  for (const field of ["source", "asOf", "fetchedAt"] as const) {
    if (typeof p[field] !== "string") throw new TypeError(`${where()}: provenance.${field} must be a string, got ${describe(p[field])}`);
  }
  for (const field of ["delayed", "sample"] as const) {
    if (typeof p[field] !== "boolean") throw new TypeError(`${where()}: provenance.${field} must be a boolean, got ${describe(p[field])}`);
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : value === undefined ? "nothing" : String(value);
}

/** Appends the contract's values, in CONTRACT_COLUMNS order, to `out` (one flat array per statement). */
export function pushContractValues(
  out: unknown[],
  contract: OptionContract,
  place: { snapshotId: number | string; ordinal: number; asOfMs: number },
  snapshot: SnapshotProvenance,
  traits: DialectTraits,
): void {
  out.push(place.snapshotId, place.ordinal, place.asOfMs);
  for (const [field] of FIELDS) out.push(contract[field]);
  const p = contract.provenance;
  out.push(
    p.source === snapshot.source ? null : p.source,
    p.asOf === snapshot.asOf ? null : p.asOf,
    p.fetchedAt === snapshot.fetchedAt ? null : p.fetchedAt,
    p.delayed === snapshot.delayed ? null : traits.encodeBoolean(p.delayed),
    p.sample === snapshot.sample ? null : traits.encodeBoolean(p.sample),
  );
}

export type ContractRow = { [K in keyof ContractTable]: unknown };

/** The contract a stored row holds, in the model's field order. */
export function contractFromRow(row: ContractRow, snapshot: SnapshotProvenance): OptionContract {
  const contract: Record<string, unknown> = {};
  for (const [i, [field, type]] of FIELDS.entries()) {
    const value = row[CONTRACT_COLUMNS[i + 3]!.column];
    contract[field] = value === null || value === undefined ? null : type === "number" ? Number(value) : value;
  }
  contract.provenance = {
    source: (row.provenance_source as string | null) ?? snapshot.source,
    asOf: (row.provenance_as_of as string | null) ?? snapshot.asOf,
    fetchedAt: (row.provenance_fetched_at as string | null) ?? snapshot.fetchedAt,
    delayed: row.provenance_delayed === null || row.provenance_delayed === undefined ? snapshot.delayed : Boolean(row.provenance_delayed),
    sample: row.provenance_sample === null || row.provenance_sample === undefined ? snapshot.sample : Boolean(row.provenance_sample),
  } satisfies Provenance;
  return contract as unknown as OptionContract;
}
