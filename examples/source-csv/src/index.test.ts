import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidRequestError, NoDataError, normalizeChain, SpendLedger, silentLogger } from "@nq/core";
import { describeSourceConformance } from "@nq/core/testing";
import { generateSampleChain } from "@nq/source-saved";
import { describe, expect, it } from "vitest";
import csvSource from "./index.js";

const AS_OF = "2026-11-20T21:00:00.000Z";

/** A CSV as a broker export might look: header row, a few columns in its own order, blanks for unknown. */
function writeCsv(dir: string): string {
  const contracts = generateSampleChain().contracts.filter((c) => c.expiration === "2026-12-18");
  const lines = ["expiration,strike,right,bid,ask,open_interest,volume,settlement"];
  for (const c of contracts) lines.push([c.expiration, c.strike, c.right, c.bid ?? "", c.ask, c.openInterest, c.volume, c.settlement].join(","));
  const file = join(dir, "chain.csv");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

describeSourceConformance(csvSource, {
  setup: () => {
    const dir = mkdtempSync(join(tmpdir(), "acme-csv-"));
    const file = writeCsv(dir);
    writeFileSync(join(dir, "empty.csv"), "strike,right\n");
    writeFileSync(join(dir, "headless.csv"), "a,b\n1,2\n");
    return {
      config: { file, as_of: AS_OF },
      failures: [
        { name: "a file with no rows", config: { file: join(dir, "empty.csv"), as_of: AS_OF }, expected: NoDataError },
        { name: "a file with no strike column", config: { file: join(dir, "headless.csv"), as_of: AS_OF }, expected: InvalidRequestError },
        { name: "a missing file", config: { file: join(dir, "nope.csv"), as_of: AS_OF }, expected: InvalidRequestError },
      ],
      teardown: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});

describe("acme-csv", () => {
  it("reads the columns it finds and leaves the others unknown (null)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "acme-csv-"));
    try {
      const source = await csvSource.create({ file: writeCsv(dir), as_of: AS_OF }, { log: silentLogger, spend: new SpendLedger(), now: () => new Date() });
      const result = await source.load({ product: "NQ" }, { signal: new AbortController().signal });
      const chain = normalizeChain(result, { source: "acme-csv", capabilities: csvSource.capabilities, request: { product: "NQ" }, fetchedAt: new Date() });
      const expected = generateSampleChain().contracts.filter((c) => c.expiration === "2026-12-18");
      expect(chain.contracts).toHaveLength(expected.length);
      const atm = chain.contracts.find((c) => c.strike === 25400 && c.right === "C")!;
      const original = expected.find((c) => c.strike === 25400 && c.right === "C")!;
      expect([atm.bid, atm.ask, atm.openInterest, atm.settlement]).toEqual([original.bid, original.ask, original.openInterest, original.settlement]);
      expect(atm.delta).toBeNull();
      expect(atm.impliedVolatility).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
