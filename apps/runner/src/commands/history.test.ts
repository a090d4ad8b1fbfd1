/**
 * The `history` command's reading, rendering, export and flag parsing, against an in-memory test double of
 * the ChainHistory contract (the built CLI against the real SQLite store is in history-cli.test.ts).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChainHistory, HistoryContractRow, HistorySnapshot, OptionContract } from "@nq/core";
import { afterAll, describe, expect, it } from "vitest";
import { OutputError } from "../outputs.js";
import { canonicalSymbol, EXPORT_CSV_COLUMNS, exportHistory, parseBound, parseSnapshotId, renderOpenInterest, renderSettlements, renderSnapshot, renderSnapshotList, snapshotDocument } from "./history.js";

const dir = mkdtempSync(join(tmpdir(), "nq-history-command-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function contract(strike: number, right: "C" | "P", values: Partial<OptionContract> = {}): OptionContract {
  return {
    symbol: `NQZ6 ${right}${strike}`,
    rawSymbol: null,
    underlying: "NQZ6",
    underlyingPrice: 21010.25,
    underlyingPriceBasis: "mid",
    underlyingPriceTime: "2026-11-20T20:59:58Z",
    product: "NQ",
    root: "NQ",
    expiration: "2026-12-18",
    expirationTime: null,
    strike,
    right,
    bid: 100,
    ask: 101,
    bidSize: null,
    askSize: null,
    last: null,
    volume: 42,
    clearedVolume: null,
    clearedVolumeDate: null,
    openInterest: 7,
    openInterestDate: "2026-11-19",
    settlement: 99.5,
    settlementDate: "2026-11-19",
    impliedVolatility: 0.2125,
    ivBasis: "mid",
    delta: 0.51234,
    gamma: null,
    theta: null,
    vega: null,
    greeksSource: "computed",
    multiplier: 20,
    quoteTime: null,
    rawStrike: null,
    provenance: { source: "databento", asOf: "2026-11-20T21:00:00.000Z", fetchedAt: "2026-11-20T21:00:05.000Z", delayed: false, sample: false },
    ...values,
  };
}

function snapshot(values: Partial<HistorySnapshot> = {}): HistorySnapshot {
  return {
    id: "7",
    profile: "desk",
    source: "databento",
    product: "NQ",
    asOf: "2026-11-20T21:00:00.000Z",
    fetchedAt: "2026-11-20T21:00:05.000Z",
    recordedAt: "2026-11-20T21:00:06.000Z",
    cache: "miss",
    delayed: false,
    sample: false,
    complete: true,
    proxy: false,
    spendUsd: 0.4321,
    contractCount: 2,
    qualityMetrics: {
      rowsReceived: 2,
      validContracts: 2,
      invalidRows: 0,
      invalidReasons: {},
      duplicateRows: 0,
      conflictingDuplicates: 0,
      filteredRows: 0,
      missingBidAskShare: 0.25,
      crossedQuotes: 0,
      zeroOpenInterestShare: 0,
      missingOpenInterestShare: 0,
      staleQuotes: 0,
      futureQuoteTimes: 0,
      staleQuoteThresholdMs: 900_000,
      analyticsUnavailable: {},
    },
    incompleteReasons: [],
    warnings: [],
    ...values,
  };
}

/** Only `contracts` and `location` are used by the export; the rest of the contract is not exercised here. */
function streamingStore(rows: () => AsyncIterable<HistoryContractRow>): ChainHistory {
  const unused = () => Promise.reject(new Error("not used by this test"));
  return {
    location: "/tmp/test-double.db",
    append: unused,
    listSnapshots: unused,
    getSnapshot: unused,
    contracts: rows,
    openInterestByStrike: unused,
    settlementSeries: unused,
    applyRetention: unused,
    close: () => Promise.resolve(),
  };
}

describe("history list and show", () => {
  it("lists snapshots with id, as-of, source, cache, contracts, complete, flags and spend", () => {
    const text = renderSnapshotList(
      [snapshot(), snapshot({ id: "8", cache: "hit", spendUsd: 0, complete: false, delayed: true, sample: true, proxy: true, source: "polygon", contractCount: 1234 })],
      { location: "/x/history.db", withProfile: false },
    );
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\s+id\s+as of\s+source\s+cache\s+contracts\s+complete\s+flags\s+spend$/);
    expect(lines[1]).toMatch(/^\s+7\s+2026-11-20T21:00:00\.000Z\s+databento\s+miss\s+2\s+yes\s+—\s+\$0\.43$/);
    expect(lines[2]).toMatch(/^\s+8\s+2026-11-20T21:00:00\.000Z\s+polygon\s+hit\s+1234\s+NO\s+DELAYED,SAMPLE,PROXY\s+\$0\.00$/);
    expect(lines[3]).toBe("2 snapshots · /x/history.db");
    expect(renderSnapshotList([snapshot()], { location: "/x", withProfile: true })).toMatch(/id\s+profile\s+as of[\s\S]*7\s+desk\s+2026/);
    expect(renderSnapshotList([], { location: "/x/history.db", withProfile: false })).toBe("no snapshots in /x/history.db match\n");
  });

  it("shows one snapshot's provenance, quality and contracts; --json is a chain-like document", () => {
    const contracts = [contract(21000, "C"), contract(21000, "P", { bid: null, ask: null, impliedVolatility: null, delta: null })];
    const document = snapshotDocument(snapshot({ cache: "hit", complete: false, incompleteReasons: ["HTTP 206: partial"], warnings: ["a note"] }), contracts);
    expect(document.metadata).toMatchObject({ source: "databento", cache: "hit", complete: false, incompleteReasons: ["HTTP 206: partial"], spendUsd: 0.4321 });
    expect(document.snapshot).toEqual({ id: "7", profile: "desk", recordedAt: "2026-11-20T21:00:06.000Z", contractCount: 2 });
    expect(document.contracts).toBe(contracts);
    const text = renderSnapshot(document, "/x/history.db");
    expect(text).toMatch(/^snapshot 7 · profile "desk" · \/x\/history\.db/);
    expect(text).toMatch(/cache\s+hit \(served from the cache\)/);
    expect(text).toMatch(/complete\s+NO: HTTP 206: partial/);
    expect(text).toMatch(/missing bid\/ask\s+25\.0%/);
    expect(text).toMatch(/note\s+a note/);
    expect(text).toMatch(/NQZ6 C21000\s+2026-12-18\s+21000\s+C\s+100\s+101\s+—\s+42\s+7\s+99\.5\s+21\.3%\s+0\.512/);
    // Unknown is a dash, never 0.
    expect(text).toMatch(/NQZ6 P21000\s+2026-12-18\s+21000\s+P\s+—\s+—\s+—\s+42\s+7\s+99\.5\s+—\s+—/);
  });
});

describe("history query rendering", () => {
  it("open interest by strike: one line per snapshot, strike and right; unknown OI is a dash", () => {
    const text = renderOpenInterest(
      [
        { snapshotId: "1", asOf: "2026-11-19T21:00:00.000Z", openInterestDate: "2026-11-18", strike: 21000, right: "call", openInterest: 120 },
        { snapshotId: "2", asOf: "2026-11-20T21:00:00.000Z", openInterestDate: null, strike: 21000, right: "call", openInterest: null },
      ],
      { expiration: "2026-12-18", location: "/x" },
    );
    expect(text.split("\n")[0]).toBe("open interest by strike · expiration 2026-12-18 · /x");
    expect(text).toMatch(/2026-11-19T21:00:00\.000Z\s+21000\s+call\s+120\s+2026-11-18\s+1/);
    expect(text).toMatch(/2026-11-20T21:00:00\.000Z\s+21000\s+call\s+—\s+—\s+2/);
    expect(renderOpenInterest([], { expiration: "2026-12-18", location: "/x" })).toMatch(/no open interest for expiration 2026-12-18/);
  });

  it("settlement series", () => {
    const text = renderSettlements([{ snapshotId: "3", asOf: "2026-11-20T21:00:00.000Z", settlementDate: "2026-11-19", settlement: 412.25 }], { symbol: "NQH7 C21500", location: "/x" });
    expect(text).toMatch(/settlement series · NQH7 C21500 · \/x/);
    expect(text).toMatch(/2026-11-20T21:00:00\.000Z\s+412\.25\s+2026-11-19\s+3/);
    expect(renderSettlements([], { symbol: "NQH7 C21500", location: "/x" })).toMatch(/no snapshot in \/x holds NQH7 C21500/);
  });
});

describe("history export", () => {
  const rows = (n: number, onRow?: (i: number) => void) =>
    async function* (): AsyncGenerator<HistoryContractRow> {
      for (let i = 0; i < n; i++) {
        onRow?.(i);
        yield { snapshotId: String(1 + Math.floor(i / 100)), asOf: "2026-11-20T21:00:00.000Z", source: "databento", contract: contract(20000 + i, i % 2 ? "P" : "C", i === 0 ? { rawSymbol: 'odd, "quoted"' } : {}) };
      }
    };

  it("CSV: the header is the column names, one line per row, quoting where CSV needs it; no temporary file left", async () => {
    const file = join(dir, "export.csv");
    const result = await exportHistory(streamingStore(rows(250)), {}, "csv", file);
    expect(result).toEqual({ file, format: "csv", rows: 250, location: "/tmp/test-double.db" });
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe(EXPORT_CSV_COLUMNS.join(","));
    expect(lines).toHaveLength(251);
    const first = lines[1]!;
    expect(first.startsWith("1,2026-11-20T21:00:00.000Z,NQZ6 C20000,NQZ6,NQ,NQ,2026-12-18,,20000,C,100,101,")).toBe(true);
    expect(first).toContain('"odd, ""quoted"""');
    expect(lines[250]!.startsWith("3,")).toBe(true);
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("JSON: an array of { snapshotId, asOf, source, contract }; an empty range is []", async () => {
    const file = join(dir, "export.json");
    await exportHistory(streamingStore(rows(3)), {}, "json", file);
    const parsed = JSON.parse(readFileSync(file, "utf8")) as HistoryContractRow[];
    expect(parsed).toHaveLength(3);
    expect(parsed[2]).toMatchObject({ snapshotId: "1", asOf: "2026-11-20T21:00:00.000Z", source: "databento", contract: { symbol: "NQZ6 C20002", strike: 20002 } });
    await exportHistory(streamingStore(rows(0)), {}, "json", file);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual([]);
  });

  it("streams: the file is being written while the store is still yielding rows", async () => {
    const file = join(dir, "stream.csv");
    let sizeMidway = -1;
    const temporary = `${file}.${process.pid}.tmp`;
    await exportHistory(
      streamingStore(rows(20_000, (i) => {
        if (i === 15_000) sizeMidway = existsSync(temporary) ? statSync(temporary).size : 0;
      })),
      {},
      "csv",
      file,
    );
    const total = statSync(file).size;
    expect(sizeMidway).toBeGreaterThan(total / 2);
    expect(sizeMidway).toBeLessThan(total);
  });

  it("a file in the way: an OutputError naming the file, the old file untouched, nothing temporary left", async () => {
    const blocker = join(dir, "blocker");
    writeFileSync(blocker, "not a folder");
    await expect(exportHistory(streamingStore(rows(10)), {}, "csv", join(blocker, "x.csv"))).rejects.toBeInstanceOf(OutputError);
    const existing = join(dir, "kept.csv");
    writeFileSync(existing, "previous export\n");
    const failing = streamingStore(async function* () {
      yield* rows(5)();
      throw new Error("the database went away");
    });
    await expect(exportHistory(failing, {}, "csv", existing)).rejects.toThrow(/kept\.csv.*the database went away/);
    expect(readFileSync(existing, "utf8")).toBe("previous export\n");
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});

describe("history flags", () => {
  it("--from/--to: a UTC day (--to includes it whole) or an instant with its offset", () => {
    expect(parseBound("2026-11-20", "from")).toBe("2026-11-20T00:00:00.000Z");
    expect(parseBound("2026-11-20", "to")).toBe("2026-11-21T00:00:00.000Z");
    expect(parseBound("2026-11-20T15:00:00-06:00", "to")).toBe("2026-11-20T21:00:00.000Z");
    for (const bad of ["yesterday", "2026-02-30", "2026-11-20T21:00", "20261120", ""]) expect(() => parseBound(bad, "from")).toThrow(/expected a UTC date YYYY-MM-DD .* got/);
  });

  it("ids are whole numbers; symbols in CME or Barchart spelling become canonical", () => {
    expect(parseSnapshotId("42")).toBe("42");
    expect(parseSnapshotId("007")).toBe("7");
    for (const bad of ["abc", "-1", "0", "1.5", "12345678901234567890"]) expect(() => parseSnapshotId(bad)).toThrow(/expected a snapshot id, a whole number/);
    expect(canonicalSymbol(" nqh7   c21500 ", new Date("2026-11-20T00:00:00Z"))).toBe("NQH7 C21500");
    expect(canonicalSymbol("MQ4Z6|21000C", new Date("2026-11-20T00:00:00Z"))).toBe("QN4Z6 C21000");
    expect(canonicalSymbol("O:NDX261218C21000")).toBe("O:NDX261218C21000");
    expect(() => canonicalSymbol("  ")).toThrow(/expected an option symbol/);
  });
});
