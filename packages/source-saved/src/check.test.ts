import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkSaved } from "./check.js";
import { readSavedChain, SAMPLE_CHAIN_FILE } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "nq-saved-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checkSaved", () => {
  it("names the newest complete chain and its as-of; an empty folder is not ready unless the sample is allowed", async () => {
    const empty = await checkSaved({ dir });
    expect(empty.ready).toBe(false);
    expect((await checkSaved({ dir, include_sample: true })).ready).toBe(true);

    const sample = readSavedChain(SAMPLE_CHAIN_FILE);
    if (typeof sample === "string") throw new Error(sample);
    for (const [name, asOf] of [["a.chain.json", "2026-11-18T21:00:00.000Z"], ["b.chain.json", "2026-11-19T21:00:00.000Z"]] as const) {
      writeFileSync(join(dir, name), JSON.stringify({ ...sample, metadata: { ...sample.metadata, sample: false, source: "databento", asOf } }));
    }
    const result = await checkSaved({ dir }, { now: new Date("2026-11-20T09:00:00Z") });
    expect(result.ready).toBe(true);
    expect(result.items[0]!.data).toMatchObject({ complete: 2, newestAsOf: "2026-11-19T21:00:00.000Z" });
    expect(result.items[0]!.detail).toContain("b.chain.json as of 2026-11-19T21:00:00.000Z (12.0 h ago, from databento)");
  });
});
