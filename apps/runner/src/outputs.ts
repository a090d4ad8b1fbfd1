/**
 * Writes the chain as JSON (the standard result, replayable by @nq/source-saved) and CSV (one row per
 * contract, for spreadsheets). Each file is written to a temporary name and renamed into place, so a
 * crash never leaves a half-written chain where a later run would read it.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OptionContract, OptionsChain } from "@nq/core";

export interface WrittenOutputs {
  json: string;
  csv: string;
}

export const CSV_COLUMNS = [
  "symbol",
  "underlying",
  "product",
  "root",
  "expiration",
  "expiration_time",
  "strike",
  "right",
  "bid",
  "ask",
  "bid_size",
  "ask_size",
  "last",
  "volume",
  "open_interest",
  "open_interest_date",
  "settlement",
  "settlement_date",
  "implied_volatility",
  "delta",
  "multiplier",
  "quote_time",
  "raw_strike",
  "source",
  "as_of",
  "fetched_at",
  "delayed",
  "sample",
] as const;

export function writeChainOutputs(chain: OptionsChain, dir: string): WrittenOutputs {
  mkdirSync(dir, { recursive: true });
  const stem = `${chain.metadata.product.toLowerCase()}-${chain.metadata.source}-${compactTime(chain.metadata.asOf)}`;
  const json = join(dir, `${stem}.chain.json`);
  const csv = join(dir, `${stem}.csv`);
  writeAtomically(json, `${JSON.stringify(chain, null, 2)}\n`);
  writeAtomically(csv, chainToCsv(chain.contracts));
  return { json, csv };
}

export function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

export function chainToCsv(contracts: OptionContract[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const c of contracts) {
    const p = c.provenance;
    const cells = [
      c.symbol,
      c.underlying,
      c.product,
      c.root,
      c.expiration,
      c.expirationTime,
      c.strike,
      c.right,
      c.bid,
      c.ask,
      c.bidSize,
      c.askSize,
      c.last,
      c.volume,
      c.openInterest,
      c.openInterestDate,
      c.settlement,
      c.settlementDate,
      c.impliedVolatility,
      c.delta,
      c.multiplier,
      c.quoteTime,
      c.rawStrike,
      p.source,
      p.asOf,
      p.fetchedAt,
      p.delayed,
      p.sample,
    ];
    lines.push(cells.map(csvCell).join(","));
  }
  return `${lines.join("\n")}\n`;
}

/** null → empty cell (unknown), never "0"; quotes only where CSV needs them. */
function csvCell(value: string | number | boolean | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function compactTime(iso: string): string {
  return iso.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}
