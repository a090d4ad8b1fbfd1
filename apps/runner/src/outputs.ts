/**
 * Writes the chain as JSON (the standard result, replayable by @nq/source-saved) and CSV (one row per
 * contract, for spreadsheets). Both are streamed contract by contract with backpressure, so a chain of a
 * million contracts is written in bounded memory (one `JSON.stringify` of the whole chain would not even
 * fit in a string). Each file is written to `<name>.<pid>.tmp` and renamed into place, so a crash never
 * leaves a half-written chain where a later run would read it; a failed write removes its temporary file,
 * and temporary files left by runs that were killed (their pid is gone) are removed at the next start.
 */
import { chmod, mkdir, open, readdir, rename, unlink } from "node:fs/promises";
import { createWriteStream, existsSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ChainRequest, OptionContract, OptionsChain } from "@nq/core";
import { renderChainHtml, type RunContext } from "@nq/report";

export interface WrittenOutputs {
  json: string;
  csv: string;
  /** The chain page (`<stem>.chain.html`); absent when not asked for, null when it could not be made (see htmlError). */
  html?: string | null;
  /** Why the page was not written; the JSON and CSV were. */
  htmlError?: string | null;
}

/** Above this many contracts no page is made (it is built in memory); the JSON and CSV are still written. */
export const HTML_MAX_CONTRACTS = 250_000;

/** Output files are readable by everyone, writable by their owner, whatever the umask says. */
export const OUTPUT_FILE_MODE = 0o644;

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
  "gamma",
  "theta",
  "vega",
  "iv_basis",
  "greeks_source",
  "multiplier",
  "quote_time",
  "raw_strike",
  "raw_symbol",
  "underlying_price",
  "underlying_price_basis",
  "underlying_price_time",
  "cleared_volume",
  "cleared_volume_date",
  "source",
  "as_of",
  "fetched_at",
  "delayed",
  "sample",
] as const;

/** A file that could not be written, with the system's code (ENOSPC, EACCES…) and what to do. */
export class OutputError extends Error {
  override readonly name = "OutputError";
  constructor(
    readonly file: string,
    readonly code: string | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, file: this.file, code: this.code, message: this.message };
  }
}

/**
 * A chain to write: everything but the contracts is small; the contracts may be any iterable that can be
 * iterated twice (JSON, then CSV) — an array, or an object whose `[Symbol.iterator]` makes a fresh generator.
 */
export type ChainToWrite = Omit<OptionsChain, "contracts"> & { contracts: Iterable<OptionContract> };

export interface WriteOptions {
  /** The request the chain answered; written as `metadata.request` so a replay can check its scope. */
  request?: ChainRequest;
  signal?: AbortSignal;
  /**
   * Also write `<stem>.chain.html`, the self-contained chain page (@nq/report), with what the run knew for its
   * banner (substitution, spend). A page that cannot be made is reported in `htmlError`, not thrown.
   */
  html?: boolean | { run?: RunContext };
}

/** Temporary files of this process that are being written: removed on a signal before exiting. */
const activeTemporaries = new Set<string>();

/** Removes this process's unfinished temporary files now (for a signal handler that is about to exit). */
export function removeActiveTemporaries(): void {
  for (const file of activeTemporaries) {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
  activeTemporaries.clear();
}

/** `nq-databento-20261120T210000Z`; generated data says so in its name: `nq-saved-sample-…`. */
export function outputStem(chain: { metadata: { product: string; source: string; asOf: string; sample?: boolean } }): string {
  return `${chain.metadata.product.toLowerCase()}-${chain.metadata.source}${chain.metadata.sample ? "-sample" : ""}-${compactTime(chain.metadata.asOf)}`;
}

export async function writeChainOutputs(chain: ChainToWrite, dir: string, options: WriteOptions = {}): Promise<WrittenOutputs> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw outputError(dir, error, "cannot create the output folder");
  }
  await removeStaleTemporaries(dir);
  const stem = outputStem(chain);
  const json = join(dir, `${stem}.chain.json`);
  const csv = join(dir, `${stem}.csv`);
  const metadata = options.request ? { ...chain.metadata, request: options.request } : chain.metadata;
  const withRequest: ChainToWrite = { ...chain, metadata };
  await writeAtomically(json, () => chainJsonChunks(withRequest), options.signal);
  await writeAtomically(csv, () => csvChunks(chain.contracts), options.signal);
  if (!options.html) return { json, csv };
  return { json, csv, ...(await writeChainHtml(chain, join(dir, `${stem}.chain.html`), options)) };
}

async function writeChainHtml(chain: ChainToWrite, file: string, options: WriteOptions): Promise<Pick<WrittenOutputs, "html" | "htmlError">> {
  if (chain.optionsSummary.total > HTML_MAX_CONTRACTS) {
    return { html: null, htmlError: `no chain page: ${chain.optionsSummary.total} contracts is more than the page is made for (${HTML_MAX_CONTRACTS})` };
  }
  try {
    const run = typeof options.html === "object" ? options.html.run : undefined;
    const page = renderChainHtml(chain, run ? { run } : {});
    await writeAtomically(file, () => [page], options.signal);
    return { html: file, htmlError: null };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { html: null, htmlError: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Streams `chunks()` into `<file>.<pid>.tmp`, sets its mode, flushes it to disk, and renames it over `file`. On any failure
 * the temporary file is removed and an OutputError says which file, why, and what to do.
 */
export async function writeAtomically(file: string, chunks: () => Iterable<string> | AsyncIterable<string>, signal?: AbortSignal): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  activeTemporaries.add(temporary);
  try {
    await pipeline(Readable.from(batched(chunks()), { objectMode: false }), createWriteStream(temporary, { mode: OUTPUT_FILE_MODE }), signal ? { signal } : {});
    await chmod(temporary, OUTPUT_FILE_MODE);
    // On disk before it takes the real name: a power cut never leaves a renamed but empty file.
    const handle = await open(temporary, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    if (error instanceof OutputError) throw error;
    throw outputError(file, error, "cannot write");
  } finally {
    activeTemporaries.delete(temporary);
  }
}

/**
 * Removes `*.<pid>.tmp` files in `dir` whose process is no longer running (runs that were killed while
 * writing). A file whose pid is alive belongs to a run in progress and is left alone. Returns what it removed.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = /\.(\d+)\.tmp$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    try {
      await unlink(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // someone else removed it, or we may not: leave it
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Test hook: `NQ_RUNNER_TEST_WRITE_DELAY_MS` slows writing down so a test can kill the runner mid-write. */
const WRITE_DELAY_MS = Number(process.env.NQ_RUNNER_TEST_WRITE_DELAY_MS ?? 0) || 0;
const BATCH_CHARS = 64 * 1024;

/** Joins small strings into ~64 KiB chunks: fewer writes, same bounded memory. */
async function* batched(chunks: Iterable<string> | AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of chunks) {
    buffer += chunk;
    if (buffer.length >= BATCH_CHARS) {
      yield buffer;
      buffer = "";
      if (WRITE_DELAY_MS > 0) await new Promise((resolve) => setTimeout(resolve, WRITE_DELAY_MS));
    }
  }
  if (buffer) yield buffer;
}

/**
 * The chain as `JSON.stringify(chain, null, 2)` would write it (byte for byte), one contract at a time.
 */
export function* chainJsonChunks(chain: ChainToWrite): Generator<string> {
  yield "{";
  let first = true;
  for (const [key, value] of Object.entries(chain)) {
    if (key === "contracts" || value === undefined) continue;
    yield `${first ? "" : ","}\n  ${JSON.stringify(key)}: ${indent(JSON.stringify(value, null, 2), "  ")}`;
    first = false;
  }
  yield `${first ? "" : ","}\n  "contracts": [`;
  let any = false;
  for (const contract of chain.contracts) {
    yield `${any ? "," : ""}\n    ${indent(JSON.stringify(contract, null, 2), "    ")}`;
    any = true;
  }
  yield any ? "\n  ]\n}\n" : "]\n}\n";
}

function indent(text: string, by: string): string {
  return text.includes("\n") ? text.replace(/\n/g, `\n${by}`) : text;
}

export function* csvChunks(contracts: Iterable<OptionContract>): Generator<string> {
  yield `${CSV_COLUMNS.join(",")}\n`;
  for (const contract of contracts) yield `${csvRow(contract)}\n`;
}

export function chainToCsv(contracts: Iterable<OptionContract>): string {
  return [...csvChunks(contracts)].join("");
}

/** One contract as a CSV line (no newline), in CSV_COLUMNS order. */
export function csvRow(c: OptionContract): string {
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
    // Chains saved before the analytics existed have none of these: empty cells.
    c.gamma ?? null,
    c.theta ?? null,
    c.vega ?? null,
    c.ivBasis ?? null,
    c.greeksSource ?? null,
    c.multiplier,
    c.quoteTime,
    c.rawStrike,
    // A saved chain from before rawSymbol existed has none: an empty cell.
    c.rawSymbol ?? null,
    c.underlyingPrice,
    c.underlyingPriceBasis,
    c.underlyingPriceTime,
    c.clearedVolume,
    c.clearedVolumeDate,
    p.source,
    p.asOf,
    p.fetchedAt,
    p.delayed,
    p.sample,
  ];
  return cells.map(csvCell).join(",");
}

/** null or undefined → empty cell (unknown), never "0"; quotes only where CSV needs them. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function compactTime(iso: string): string {
  return iso.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

function outputError(file: string, error: unknown, doing: string): OutputError {
  const code = (error as NodeJS.ErrnoException | null)?.code ?? null;
  const detail =
    code === "ENOSPC"
      ? "the disk is full; free some space or choose another folder with --out"
      : code === "EDQUOT"
        ? "the disk quota is exhausted; free some space or choose another folder with --out"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied; make the folder writable or choose another with --out"
          : code === "EROFS"
            ? "the file system is read-only; choose another folder with --out"
            : code === "ENOTDIR" || code === "EEXIST"
              ? "a file is in the way of the output folder; choose another with --out"
              : code === "ABORT_ERR"
                ? "the run was interrupted while writing"
                : (error instanceof Error ? error.message : String(error));
  return new OutputError(file, code, `${doing} ${file}: ${detail}${code && code !== "ABORT_ERR" ? ` (${code})` : ""}`, { cause: error });
}
