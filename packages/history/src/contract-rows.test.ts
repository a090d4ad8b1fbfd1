import type { OptionContract } from "@nq/core";
import { describe, expect, it } from "vitest";
import {
  checkContract,
  CONTEXT_FIELDS,
  contextValues,
  INSTRUMENT_FIELDS,
  instrumentValues,
  isContextOf,
  isInstrumentOf,
  pushQuoteValues,
  QUOTE_FIELDS,
  STORED_FIELDS,
  VIEW_COLUMNS,
} from "./contract-rows.js";
import { dialectTraits } from "./dialect.js";

/** A contract whose every field holds a value no other field holds, so a value read from the wrong field shows. */
function distinctContract(): OptionContract {
  const contract: Record<string, unknown> = {};
  STORED_FIELDS.forEach(({ field, type }, i) => (contract[field] = type === "number" ? 1000 + i + 0.25 : `value of ${field}`));
  contract.right = "C";
  contract.provenance = { source: "barchart", asOf: "2026-11-20T21:00:00Z", fetchedAt: "2026-11-20T21:00:03Z", delayed: true, sample: false };
  return contract as unknown as OptionContract;
}
const snapshot = { source: "databento", asOf: "2026-11-20T21:00:00Z", fetchedAt: "2026-11-20T21:00:05Z", delayed: false, sample: false };
const traits = dialectTraits("sqlite");
const read = (contract: OptionContract, fields: readonly { field: keyof OptionContract }[]) => fields.map(({ field }) => contract[field]);

describe("contract rows: the builders that read fields by name agree with the column lists", () => {
  it("builds the instrument, context and quote rows in the lists' order", () => {
    const contract = distinctContract();
    expect(instrumentValues(contract)).toEqual(read(contract, INSTRUMENT_FIELDS));
    expect(contextValues(contract, snapshot, traits)).toEqual([...read(contract, CONTEXT_FIELDS), "barchart", null, "2026-11-20T21:00:03Z", 1, null]);
    const quote: unknown[] = [];
    pushQuoteValues(quote, contract, { snapshotId: 7, ordinal: 3, instrumentId: 11, contextNo: 2 });
    expect(quote).toEqual([7, 3, 11, 2, ...read(contract, QUOTE_FIELDS)]);
  });

  it("stores every field once, and the view has a column for each and for the provenance", () => {
    const fields = STORED_FIELDS.map((f) => f.field).sort();
    const model = Object.keys(distinctContract()).filter((key) => key !== "provenance").sort();
    expect(fields).toEqual(model);
    const viewColumns = VIEW_COLUMNS.map((c) => c.column);
    expect(new Set(viewColumns).size).toBe(viewColumns.length);
    for (const { column } of STORED_FIELDS) expect(viewColumns).toContain(column);
  });

  it("tells an instrument or context apart by any one of its fields", () => {
    const contract = distinctContract();
    const instrument = instrumentValues(contract);
    const context = contextValues(contract, snapshot, traits);
    expect(isInstrumentOf(instrument, contract)).toBe(true);
    expect(isContextOf(context, contract, snapshot, traits)).toBe(true);
    for (const { field, type } of [...INSTRUMENT_FIELDS, ...CONTEXT_FIELDS]) {
      const changed = { ...contract, [field]: type === "number" ? -1 : "other" } as OptionContract;
      expect(isInstrumentOf(instrument, changed) && isContextOf(context, changed, snapshot, traits), field).toBe(false);
    }
    for (const provenance of [{ source: "polygon" }, { asOf: "x" }, { fetchedAt: "y" }, { delayed: false }, { sample: true }]) {
      const changed = { ...contract, provenance: { ...contract.provenance, ...provenance } };
      expect(isContextOf(context, changed, snapshot, traits), JSON.stringify(provenance)).toBe(false);
    }
  });

  it("refuses a value it cannot store, naming the field, and takes null where the model allows it", () => {
    expect(() => checkContract(distinctContract(), 0)).not.toThrow();
    for (const { field, type, notNull } of STORED_FIELDS) {
      const wrong = { ...distinctContract(), [field]: type === "number" ? Number.NaN : 5 } as OptionContract;
      expect(() => checkContract(wrong, 4), field).toThrow(new RegExp(`^contract #5( \\(.*\\))?: ${field} must be ${type === "number" ? "a finite number" : "a string"}`));
      const nulled = { ...distinctContract(), [field]: null } as OptionContract;
      if (notNull) expect(() => checkContract(nulled, 0), field).toThrow(`${field} must be`);
      else if (field !== "right") expect(() => checkContract(nulled, 0), field).not.toThrow();
    }
    expect(() => checkContract({ ...distinctContract(), provenance: { ...distinctContract().provenance, delayed: "no" as never } }, 0)).toThrow("provenance.delayed must be a boolean");
  });
});
