/**
 * Stage 2 of 3 (file mode) — extract: the same chain from a user's own `.dbn` / `.dbn.zst` files (batch
 * downloads), with no key and no spend. Each file's schema comes from its metadata; the as-of time is
 * the request's, else the latest end any file covers.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AbortedError, ConfigError, InvalidRequestError, latestCompleteMoment, NoDataError, cmeSessionFor } from "@nq/core";
import { openDbn, schemaName, UNDEF_TIMESTAMP } from "@nq/dbn";
import { ChainRecords } from "./chain-records.js";
import { SOURCE_NAME } from "./config.js";
import { decodeInto } from "./dbn-stream.js";
import type { ExtractedChain } from "./extract-historical.js";
import { isNqOption, selectInstruments } from "./instrument-selection.js";
import type { ChainQuery } from "./query.js";

const DBN_FILE = /\.dbn(\.zst)?$/i;

/** Relative paths are read from `baseDir`: the profile's folder, not wherever the runner was started. */
export async function listDbnFiles(config: { files?: string[] | undefined; dir?: string | undefined }, baseDir = process.cwd()): Promise<string[]> {
  if (config.dir) {
    const dir = resolve(baseDir, config.dir);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      throw new ConfigError(SOURCE_NAME, `cannot read "dir" ${dir}: ${(error as Error).message}`, { path: `data_sources.${SOURCE_NAME}.config.dir`, cause: error });
    }
    const files = names.filter((name) => DBN_FILE.test(name)).sort().map((name) => join(dir, name));
    if (files.length === 0) throw new ConfigError(SOURCE_NAME, `"dir" ${dir} holds no .dbn or .dbn.zst file`, { path: `data_sources.${SOURCE_NAME}.config.dir` });
    return files;
  }
  const files = (config.files ?? []).map((file) => resolve(baseDir, file));
  for (const [index, file] of files.entries()) {
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      throw new ConfigError(SOURCE_NAME, `"files"[${index}] ${file} does not exist or is not a file; expected a .dbn or .dbn.zst file`, {
        path: `data_sources.${SOURCE_NAME}.config.files[${index}]`,
      });
    }
  }
  return files;
}

export async function extractFromFiles(query: ChainQuery, files: string[], now: Date, signal: AbortSignal): Promise<ExtractedChain> {
  const source = SOURCE_NAME;
  const schemas = new Map<string, string | null>();
  const spans = new Map<string, { start: bigint; end: bigint | null }>();
  let latestEnd: bigint | null = null;
  for (const file of files) {
    const metadata = await openDbn(file).metadata().catch((error: unknown) => {
      throw new InvalidRequestError(source, `${file} is not a readable DBN file: ${(error as Error).message}`, { cause: error });
    });
    schemas.set(file, metadata?.schema === null || metadata?.schema === undefined ? null : (schemaName(metadata.schema) ?? null));
    if (metadata) spans.set(file, { start: metadata.start, end: metadata.end === UNDEF_TIMESTAMP ? null : metadata.end });
    if (metadata && metadata.end !== UNDEF_TIMESTAMP && (latestEnd === null || metadata.end > latestEnd)) latestEnd = metadata.end;
  }
  let asOf: Date;
  let asOfReason: string | null = null;
  if (query.asOf !== undefined) {
    asOf = new Date(query.asOf);
    if (Number.isNaN(asOf.getTime())) throw new InvalidRequestError(source, `the request's asOf "${query.asOf}" is not a valid time; expected ISO 8601`);
  } else {
    // The files' end is exclusive, like the dataset range's: the last complete picture they hold.
    const newest = latestEnd === null ? now : new Date(Number(latestEnd / 1_000_000n) - 1);
    const latest = latestCompleteMoment(newest);
    asOf = latest.asOf;
    asOfReason = `latest: ${latest.reason}; the files cover up to ${latestEnd === null ? "an unstated end" : new Date(Number(latestEnd / 1_000_000n)).toISOString()}`;
  }
  const asOfNs = BigInt(asOf.getTime()) * 1_000_000n;
  const sessionOpenNs = BigInt(cmeSessionFor(asOf).opensAt.getTime()) * 1_000_000n;
  const records = new ChainRecords({ asOfNs, sessionOpenNs });
  // Only trade files spanning the whole session up to as-of make "no trade" a volume of 0.
  records.tradesCoverSession = [...schemas].some(([file, schema]) => {
    const span = spans.get(file);
    return schema === "trades" && span !== undefined && span.start <= sessionOpenNs && (span.end === null || span.end > asOfNs);
  });
  // Definitions first, so the market data of other instruments is not kept.
  const ordered = [...files].sort((a, b) => Number(schemas.get(b) === "definition") - Number(schemas.get(a) === "definition"));
  for (const file of ordered) {
    if (signal.aborted) throw new AbortedError(source, "the load was aborted", { cause: signal.reason });
    const schema = schemas.get(file);
    await decodeInto(file, records, file, source);
    if (schema) records.markRead(schema);
  }
  const options = [...records.definitions.values()].filter(isNqOption);
  if (options.length === 0) throw new NoDataError(source, `no NQ option definitions in ${files.join(", ")}; file mode needs a "definition" file for NQ options`);
  const selected = selectInstruments(options, query.filters, asOf);
  const unused = query.schemas.filter((schema) => ![...schemas.values()].includes(schema));
  const warnings = unused.length > 0 ? [`no local file holds ${unused.join(", ")}; those fields are null`] : [];
  if (records.schemasRead.has("trades") && !records.tradesCoverSession) {
    warnings.push(`the trade files do not cover the whole session up to ${asOf.toISOString()}; options without trades have an unknown (null) volume`);
  }
  return { records, selected, asOf, asOfReason, warnings, qualityWarnings: [], incompleteReasons: [] };
}
