import { parseFutureSymbol, parseOptionSymbol } from "@nq/core";
import { describe, expect, it } from "vitest";
import { canonicalSymbol } from "./symbols.js";

const asOf = new Date("2024-06-01T00:00:00Z");

describe("canonicalSymbol", () => {
  it("answers null for a digit-first string without asking core, and core refuses every one of them too", () => {
    for (const raw of ["1000", "42140317", " 7", "0NQM4", "1NQM4 C18000", "9 NQM4"]) {
      expect(canonicalSymbol(raw, asOf)).toBeNull();
      expect(() => parseOptionSymbol(raw, asOf)).toThrow();
      expect(() => parseFutureSymbol(raw, asOf)).toThrow();
    }
  });

  it("still reads options and futures through core", () => {
    expect(canonicalSymbol("NQM4 C18000", asOf)).toBe(parseOptionSymbol("NQM4 C18000", asOf).symbol);
    expect(canonicalSymbol("NQU4", asOf)).toBe(parseFutureSymbol("NQU4", asOf).symbol);
    expect(canonicalSymbol("ESU4 P5000", asOf)).toBeNull();
  });
});
