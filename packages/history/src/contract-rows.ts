/**
 * An OptionContract and its rows. A contract is stored in three parts, so that an append binds mostly
 * numbers (binding text is what an SQLite insert spends its time on):
 *  - its instrument — what the contract is (symbol, expiration, strike, right, multiplier…), the same every
 *    day — one row shared by every snapshot that holds the identical instrument;
 *  - its quote context — what its quote was taken against and how its analytics were made (the underlying's
 *    price and time, the dates of settlement, OI and cleared volume, IV basis, greeks source, provenance
 *    where it differs from the snapshot's) — one row per distinct context within a snapshot;
 *  - its quote — the numbers of the day and the quote time — one row per contract per snapshot.
 * The view `nq_history_contracts` joins them back into one row per contract with a column per field.
 * Validation happens here, before anything is written: a number that SQL cannot keep exactly (NaN,
 * ±Infinity) or a missing required field is refused with the field's name.
 */
import type { OptionContract, Provenance } from "@nq/core";
import type { ColumnKind, DialectTraits } from "./dialect.js";
import type { ContractTable, InstrumentTable, QuoteContextTable, QuoteTable } from "./schema.js";

interface ColumnSpec<T> {
  column: keyof T & string;
  kind: ColumnKind;
  notNull: boolean;
}

type FieldType = "string" | "number";
/** A stored column and the OptionContract field it holds. */
interface FieldColumn<T> extends ColumnSpec<T> {
  field: keyof OptionContract;
  type: FieldType;
}

const field = <T>(column: keyof T & string, fieldName: keyof OptionContract, type: FieldType, required = false): FieldColumn<T> => ({
  column,
  field: fieldName,
  type,
  kind: type === "number" ? "double" : "text",
  notNull: required,
});

/** What a contract is: identical for the same instrument in every snapshot. */
export const INSTRUMENT_FIELDS: readonly FieldColumn<InstrumentTable>[] = [
  field("symbol", "symbol", "string", true),
  field("raw_symbol", "rawSymbol", "string"),
  field("underlying", "underlying", "string", true),
  field("product", "product", "string", true),
  field("root", "root", "string", true),
  field("expiration", "expiration", "string", true),
  field("expiration_time", "expirationTime", "string"),
  field("strike", "strike", "number", true),
  field("option_right", "right", "string", true),
  field("multiplier", "multiplier", "number", true),
  field("raw_strike", "rawStrike", "string"),
];

/** What a quote was taken against; shared by many contracts of one snapshot. */
export const CONTEXT_FIELDS: readonly FieldColumn<QuoteContextTable>[] = [
  field("underlying_price", "underlyingPrice", "number"),
  field("underlying_price_basis", "underlyingPriceBasis", "string"),
  field("underlying_price_time", "underlyingPriceTime", "string"),
  field("cleared_volume_date", "clearedVolumeDate", "string"),
  field("open_interest_date", "openInterestDate", "string"),
  field("settlement_date", "settlementDate", "string"),
  field("iv_basis", "ivBasis", "string"),
  field("greeks_source", "greeksSource", "string"),
];

/** The provenance columns of a context: null where the contract's provenance equals the snapshot's. */
export const PROVENANCE_COLUMNS: readonly ColumnSpec<QuoteContextTable>[] = [
  { column: "provenance_source", kind: "text", notNull: false },
  { column: "provenance_as_of", kind: "text", notNull: false },
  { column: "provenance_fetched_at", kind: "text", notNull: false },
  { column: "provenance_delayed", kind: "boolean", notNull: false },
  { column: "provenance_sample", kind: "boolean", notNull: false },
];

/** The day's numbers of one contract. */
export const QUOTE_FIELDS: readonly FieldColumn<QuoteTable>[] = [
  field("bid", "bid", "number"),
  field("ask", "ask", "number"),
  field("bid_size", "bidSize", "number"),
  field("ask_size", "askSize", "number"),
  field("last", "last", "number"),
  field("volume", "volume", "number"),
  field("cleared_volume", "clearedVolume", "number"),
  field("open_interest", "openInterest", "number"),
  field("settlement", "settlement", "number"),
  field("implied_volatility", "impliedVolatility", "number"),
  field("delta", "delta", "number"),
  field("gamma", "gamma", "number"),
  field("theta", "theta", "number"),
  field("vega", "vega", "number"),
  field("quote_time", "quoteTime", "string"),
];

/** A quote row's place: its snapshot, its position in the chain, and the instrument and context it uses. */
export const QUOTE_KEY_COLUMNS: readonly ColumnSpec<QuoteTable>[] = [
  { column: "snapshot_id", kind: "bigint", notNull: true },
  { column: "ordinal", kind: "integer", notNull: true },
  { column: "instrument_id", kind: "bigint", notNull: true },
  { column: "context_no", kind: "integer", notNull: true },
];
export const QUOTE_COLUMNS: readonly ColumnSpec<QuoteTable>[] = [...QUOTE_KEY_COLUMNS, ...QUOTE_FIELDS];
export const CONTEXT_COLUMNS: readonly ColumnSpec<QuoteContextTable>[] = [
  { column: "snapshot_id", kind: "bigint", notNull: true },
  { column: "context_no", kind: "integer", notNull: true },
  ...CONTEXT_FIELDS,
  ...PROVENANCE_COLUMNS,
];

/** Which table of the view each of its columns comes from, in the model's field order (the view's columns). */
export const VIEW_COLUMNS: readonly { column: keyof ContractTable & string; from: "q" | "s" | "i" | "x" }[] = [
  { column: "snapshot_id", from: "q" },
  { column: "ordinal", from: "q" },
  { column: "as_of_ms", from: "s" },
  { column: "symbol", from: "i" },
  { column: "raw_symbol", from: "i" },
  { column: "underlying", from: "i" },
  { column: "underlying_price", from: "x" },
  { column: "underlying_price_basis", from: "x" },
  { column: "underlying_price_time", from: "x" },
  { column: "product", from: "i" },
  { column: "root", from: "i" },
  { column: "expiration", from: "i" },
  { column: "expiration_time", from: "i" },
  { column: "strike", from: "i" },
  { column: "option_right", from: "i" },
  { column: "bid", from: "q" },
  { column: "ask", from: "q" },
  { column: "bid_size", from: "q" },
  { column: "ask_size", from: "q" },
  { column: "last", from: "q" },
  { column: "volume", from: "q" },
  { column: "cleared_volume", from: "q" },
  { column: "cleared_volume_date", from: "x" },
  { column: "open_interest", from: "q" },
  { column: "open_interest_date", from: "x" },
  { column: "settlement", from: "q" },
  { column: "settlement_date", from: "x" },
  { column: "implied_volatility", from: "q" },
  { column: "iv_basis", from: "x" },
  { column: "delta", from: "q" },
  { column: "gamma", from: "q" },
  { column: "theta", from: "q" },
  { column: "vega", from: "q" },
  { column: "greeks_source", from: "x" },
  { column: "multiplier", from: "i" },
  { column: "quote_time", from: "q" },
  { column: "raw_strike", from: "i" },
  { column: "provenance_source", from: "x" },
  { column: "provenance_as_of", from: "x" },
  { column: "provenance_fetched_at", from: "x" },
  { column: "provenance_delayed", from: "x" },
  { column: "provenance_sample", from: "x" },
];

/** Every OptionContract field but provenance, with the column that stores it. */
export const STORED_FIELDS: readonly FieldColumn<unknown>[] = [...INSTRUMENT_FIELDS, ...CONTEXT_FIELDS, ...QUOTE_FIELDS] as FieldColumn<unknown>[];

/** What a contract's provenance is compared with: the chain's own. */
export type SnapshotProvenance = Omit<Provenance, never>;

/**
 * Throws a TypeError naming the contract and field when a value cannot be stored as it is. The fields are
 * read by name, not from the lists above: a loop over field names makes every read a dynamic lookup, which
 * measured as a large share of an append's CPU. `contract-rows.test.ts` proves both cover the same fields.
 */
export function checkContract(contract: OptionContract, index: number): void {
  if (typeof contract !== "object" || contract === null) throw new TypeError(`contract #${index + 1}: expected an OptionContract object, got ${String(contract)}`);
  const c = contract;
  const ok =
    text(c.symbol, true) &&
    text(c.rawSymbol, false) &&
    text(c.underlying, true) &&
    text(c.product, true) &&
    text(c.root, true) &&
    text(c.expiration, true) &&
    text(c.expirationTime, false) &&
    finite(c.strike, true) &&
    text(c.right, true) &&
    finite(c.multiplier, true) &&
    text(c.rawStrike, false) &&
    finite(c.underlyingPrice, false) &&
    text(c.underlyingPriceBasis, false) &&
    text(c.underlyingPriceTime, false) &&
    text(c.clearedVolumeDate, false) &&
    text(c.openInterestDate, false) &&
    text(c.settlementDate, false) &&
    text(c.ivBasis, false) &&
    text(c.greeksSource, false) &&
    finite(c.bid, false) &&
    finite(c.ask, false) &&
    finite(c.bidSize, false) &&
    finite(c.askSize, false) &&
    finite(c.last, false) &&
    finite(c.volume, false) &&
    finite(c.clearedVolume, false) &&
    finite(c.openInterest, false) &&
    finite(c.settlement, false) &&
    finite(c.impliedVolatility, false) &&
    finite(c.delta, false) &&
    finite(c.gamma, false) &&
    finite(c.theta, false) &&
    finite(c.vega, false) &&
    text(c.quoteTime, false);
  if (!ok) explainContract(contract, index);
  if (contract.right !== "C" && contract.right !== "P") throw new TypeError(`${where(contract, index)}: right must be "C" or "P", got ${describe(contract.right)}`);
  const p = contract.provenance;
  if (typeof p !== "object" || p === null) throw new TypeError(`${where(contract, index)}: provenance must be an object, got ${describe(p)}`);
  if (typeof p.source !== "string" || typeof p.asOf !== "string" || typeof p.fetchedAt !== "string" || typeof p.delayed !== "boolean" || typeof p.sample !== "boolean") {
    for (const name of ["source", "asOf", "fetchedAt"] as const) {
      if (typeof p[name] !== "string") throw new TypeError(`${where(contract, index)}: provenance.${name} must be a string, got ${describe(p[name])}`);
    }
    for (const name of ["delayed", "sample"] as const) {
      if (typeof p[name] !== "boolean") throw new TypeError(`${where(contract, index)}: provenance.${name} must be a boolean, got ${describe(p[name])}`);
    }
  }
}

const text = (value: unknown, required: boolean): boolean => typeof value === "string" || (!required && value === null);
const finite = (value: unknown, required: boolean): boolean => (typeof value === "number" && Number.isFinite(value)) || (!required && value === null);
const where = (contract: OptionContract, index: number) => `contract #${index + 1}${typeof contract?.symbol === "string" ? ` (${contract.symbol})` : ""}`;

/** The slow path of checkContract: finds the first field that failed and says what was expected. */
function explainContract(contract: OptionContract, index: number): never {
  for (const { field: name, type, notNull: required } of STORED_FIELDS) {
    const value = contract[name];
    if (type === "number" ? finite(value, required) : text(value, required)) continue;
    const expected = type === "number" ? "a finite number" : "a string";
    throw new TypeError(`${where(contract, index)}: ${name} must be ${expected}${required ? "" : " or null"}, got ${describe(value)}`);
  }
  throw new TypeError(`${where(contract, index)}: a field cannot be stored as it is`);
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : value === undefined ? "nothing" : String(value);
}

// The row builders below read each field by name, in the order of the lists above (see checkContract for
// why); contract-rows.test.ts proves the orders agree.

/** The instrument's values, in INSTRUMENT_FIELDS order. */
export function instrumentValues(c: OptionContract): unknown[] {
  return [c.symbol, c.rawSymbol, c.underlying, c.product, c.root, c.expiration, c.expirationTime, c.strike, c.right, c.multiplier, c.rawStrike];
}

/** Whether a stored instrument's values (INSTRUMENT_FIELDS order) are this contract's, without building its row. */
export function isInstrumentOf(v: readonly unknown[], c: OptionContract): boolean {
  return (
    v[0] === c.symbol &&
    v[7] === c.strike &&
    v[8] === c.right &&
    v[5] === c.expiration &&
    v[1] === c.rawSymbol &&
    v[2] === c.underlying &&
    v[3] === c.product &&
    v[4] === c.root &&
    v[6] === c.expirationTime &&
    v[9] === c.multiplier &&
    v[10] === c.rawStrike
  );
}

/** The context's values, in CONTEXT_FIELDS + PROVENANCE_COLUMNS order (provenance null where it is the snapshot's). */
export function contextValues(c: OptionContract, snapshot: SnapshotProvenance, traits: DialectTraits): unknown[] {
  const p = c.provenance;
  return [
    c.underlyingPrice,
    c.underlyingPriceBasis,
    c.underlyingPriceTime,
    c.clearedVolumeDate,
    c.openInterestDate,
    c.settlementDate,
    c.ivBasis,
    c.greeksSource,
    p.source === snapshot.source ? null : p.source,
    p.asOf === snapshot.asOf ? null : p.asOf,
    p.fetchedAt === snapshot.fetchedAt ? null : p.fetchedAt,
    p.delayed === snapshot.delayed ? null : traits.encodeBoolean(p.delayed),
    p.sample === snapshot.sample ? null : traits.encodeBoolean(p.sample),
  ];
}

/** Whether a context's values (as contextValues builds them) are this contract's, without building them. */
export function isContextOf(v: readonly unknown[], c: OptionContract, snapshot: SnapshotProvenance, traits: DialectTraits): boolean {
  const p = c.provenance;
  return (
    v[0] === c.underlyingPrice &&
    v[1] === c.underlyingPriceBasis &&
    v[2] === c.underlyingPriceTime &&
    v[3] === c.clearedVolumeDate &&
    v[4] === c.openInterestDate &&
    v[5] === c.settlementDate &&
    v[6] === c.ivBasis &&
    v[7] === c.greeksSource &&
    v[8] === (p.source === snapshot.source ? null : p.source) &&
    v[9] === (p.asOf === snapshot.asOf ? null : p.asOf) &&
    v[10] === (p.fetchedAt === snapshot.fetchedAt ? null : p.fetchedAt) &&
    v[11] === (p.delayed === snapshot.delayed ? null : traits.encodeBoolean(p.delayed)) &&
    v[12] === (p.sample === snapshot.sample ? null : traits.encodeBoolean(p.sample))
  );
}

/** Appends the quote row's values, in QUOTE_COLUMNS order, to `out`. */
export function pushQuoteValues(out: unknown[], c: OptionContract, place: { snapshotId: number; ordinal: number; instrumentId: number; contextNo: number }): void {
  out.push(
    place.snapshotId,
    place.ordinal,
    place.instrumentId,
    place.contextNo,
    c.bid,
    c.ask,
    c.bidSize,
    c.askSize,
    c.last,
    c.volume,
    c.clearedVolume,
    c.openInterest,
    c.settlement,
    c.impliedVolatility,
    c.delta,
    c.gamma,
    c.theta,
    c.vega,
    c.quoteTime,
  );
}

/** Same values, compared as stored: strings and numbers by value, null as null. */
export function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

export type ContractRow = { [K in keyof ContractTable]: unknown };

const FIELD_OF_COLUMN = new Map<string, FieldColumn<unknown>>(STORED_FIELDS.map((f) => [f.column as string, f]));

/** The contract a row of the view holds, in the model's field order. */
export function contractFromRow(row: ContractRow, snapshot: SnapshotProvenance): OptionContract {
  const contract: Record<string, unknown> = {};
  for (const { column } of VIEW_COLUMNS) {
    const spec = FIELD_OF_COLUMN.get(column);
    if (!spec) continue;
    const value = row[column];
    contract[spec.field] = value === null || value === undefined ? null : spec.type === "number" ? Number(value) : value;
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
