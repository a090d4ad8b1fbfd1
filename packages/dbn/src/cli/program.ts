import { open } from "node:fs/promises";
import packageJson from "../../package.json" with { type: "json" };
import type { Readable, Writable } from "node:stream";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { schemaFromName, schemaRType, type Schema } from "../constants.js";
import { DbnDecoder, type DecodeOptions } from "../decoder.js";
import { DbnDecodeError } from "../errors.js";
import { DbnEncoder } from "../encoder.js";
import { mergeRecords } from "../merge.js";
import type { Metadata } from "../metadata.js";
import type { DbnRecord, DbnRecordV3 } from "../records/types.js";
import { CsvEncoder } from "../text/csv.js";
import { metadataToJson, recordToJson } from "../text/json.js";
import { TsSymbolMap } from "../symbology.js";
import { zstdCompress } from "../zstd-compress.js";

export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

interface CliOptions {
  output?: string;
  json?: boolean;
  csv?: boolean;
  dbn?: boolean;
  zstd?: boolean;
  force?: boolean;
  metadata?: boolean;
  pretty?: boolean;
  mapSymbols?: boolean;
  limit?: number;
  upgrade?: boolean;
  inputFragment?: boolean;
  inputZstdFragment?: boolean;
  fragment?: boolean;
  zstdFragment?: boolean;
  inputDbnVersion?: number;
  schema?: Schema;
  omitHeader?: boolean;
}

type Encoding = "json" | "csv" | "dbn";

const VERSION: string = packageJson.version;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

function dbnVersion(value: string): number {
  const n = Number(value);
  if (n !== 1 && n !== 2 && n !== 3) throw new InvalidArgumentError("must be 1, 2 or 3");
  return n;
}

function schemaOption(value: string): Schema {
  const schema = schemaFromName(value);
  if (schema === undefined) throw new InvalidArgumentError(`unknown schema '${value}'`);
  return schema;
}

function buildProgram(): Command {
  const json = new Option("-J, --json", "output newline-delimited JSON");
  const csv = new Option("-C, --csv", "output CSV").conflicts(["json", "dbn"]);
  const dbn = new Option("-D, --dbn", "output DBN (version 3)").conflicts("json");
  const metadata = new Option("-m, --metadata", "output the metadata instead of the records (JSON only)").conflicts(["csv", "dbn", "limit"]);
  const fragment = new Option("--input-fragment", "the input is a DBN fragment (records without metadata)").conflicts(["metadata", "dbn"]);
  const zstdFragment = new Option("--input-zstd-fragment", "the input is a zstd-compressed DBN fragment").conflicts(["metadata", "dbn"]);
  return new Command("nq-dbn")
    .description("Converts Databento DBN files (v1, v2, v3) to JSON, CSV or DBN v3: a drop-in for the common flags of Databento's `dbn` CLI")
    .version(VERSION)
    .argument("<files...>", "DBN files (zstd or not) to convert; '-' reads standard input")
    .option("-o, --output <file>", "write to FILE instead of standard output")
    .addOption(json)
    .addOption(csv)
    .addOption(dbn)
    .option("-z, --zstd", "zstd-compress the output")
    .option("-f, --force", "overwrite an existing output file")
    .addOption(metadata)
    .option("-p, --pretty", "ISO 8601 timestamps, decimal prices and indented JSON")
    .option("-s, --map-symbols", "add a symbol column/field from the metadata's symbol mappings")
    .option("-l, --limit <n>", "output at most N records", positiveInt)
    .option("-u, --upgrade", "upgrade DBN v1/v2 records to version 3")
    .addOption(fragment)
    .addOption(zstdFragment)
    // The names older `dbn` releases used for the same two flags.
    .addOption(new Option("--fragment").hideHelp().conflicts(["metadata", "dbn"]))
    .addOption(new Option("--zstd-fragment").hideHelp().conflicts(["metadata", "dbn"]))
    .option("--input-dbn-version <version>", "DBN version of a fragment input (default 3)", dbnVersion)
    .option("--schema <schema>", "only output records of this schema", schemaOption)
    .option("--omit-header", "do not write the CSV header row")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
}

function inferEncoding(options: CliOptions): { encoding: Encoding; zstd: boolean } {
  const zstd = options.zstd ?? false;
  if (options.json) return { encoding: "json", zstd };
  if (options.csv) return { encoding: "csv", zstd };
  if (options.dbn) return { encoding: "dbn", zstd };
  const out = options.output;
  if (!out) throw new UsageError("Unable to infer output encoding when no output was specified; pass --json, --csv or --dbn");
  for (const [suffix, encoding, compressed] of [
    [".dbn.zst", "dbn", true], [".dbn", "dbn", false], [".csv.zst", "csv", true], [".csv", "csv", false],
    [".json.zst", "json", true], [".json", "json", false],
  ] as const) {
    if (out.endsWith(suffix)) return { encoding, zstd: compressed || zstd };
  }
  throw new UsageError(`Unable to infer output encoding from output path '${out}'`);
}

class UsageError extends Error {}

/** Buffers text/bytes into large writes; each write waits for its callback (errors, backpressure). */
class OutputSink {
  private parts: (string | Uint8Array)[] = [];
  private size = 0;
  constructor(
    private readonly stream: Writable,
    private readonly zstd: boolean,
  ) {}

  async write(part: string | Uint8Array): Promise<void> {
    this.parts.push(part);
    this.size += part.length;
    if (this.size >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    let bytes: Uint8Array = Buffer.concat(this.parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
    this.parts = [];
    this.size = 0;
    if (this.zstd) bytes = zstdCompress(bytes);
    await new Promise<void>((resolve, reject) => this.stream.write(bytes, (error) => (error ? reject(error) : resolve())));
  }
}

/** Opens the output file; refuses to replace an existing one without --force, as `dbn` does. */
async function openOutput(path: string, force: boolean): Promise<Writable> {
  try {
    const handle = await open(path, force ? "w" : "wx");
    return handle.createWriteStream();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError("Output file exists. Pass --force flag to overwrite the existing file.");
    throw new UsageError(`Unable to open output file '${path}': ${(error as Error).message}`);
  }
}

function isFragment(options: CliOptions): boolean {
  return Boolean(options.inputFragment || options.inputZstdFragment || options.fragment || options.zstdFragment);
}

async function openInputs(files: string[], options: CliOptions, io: CliIo): Promise<{ decoders: DbnDecoder[]; metadata: Metadata[] }> {
  const decodeOptions: DecodeOptions = {
    fragment: isFragment(options),
    version: options.inputDbnVersion ?? 3,
    upgrade: options.upgrade,
    compression: options.inputZstdFragment || options.zstdFragment ? "zstd" : "auto",
  };
  const decoders = files.map((file) => new DbnDecoder(file === "-" ? io.stdin : file, decodeOptions));
  const metadata: Metadata[] = [];
  for (const decoder of decoders) {
    const m = await decoder.metadata();
    if (m) metadata.push(m);
  }
  return { decoders, metadata };
}

/** Combines the metadata of several inputs: first file's header, union of symbols and mappings. */
function mergeMetadata(all: Metadata[]): Metadata | null {
  const [first, ...rest] = all;
  if (!first) return null;
  if (rest.length === 0) return first;
  const union = (key: "symbols" | "partial" | "not_found") => [...new Set(all.flatMap((m) => m[key]))];
  return {
    ...first,
    schema: all.every((m) => m.schema === first.schema) ? first.schema : null,
    start: all.reduce((min, m) => (m.start < min ? m.start : min), first.start),
    end: all.reduce((max, m) => (m.end > max ? m.end : max), first.end),
    symbols: union("symbols"),
    partial: union("partial"),
    not_found: union("not_found"),
    mappings: all.flatMap((m) => m.mappings),
  };
}

async function convert(files: string[], options: CliOptions, io: CliIo): Promise<void> {
  const { encoding, zstd } = inferEncoding(options);
  if (options.metadata && encoding !== "json") throw new UsageError("Metadata flag is only valid with JSON encoding");
  const fragment = isFragment(options);
  if (options.metadata && fragment) throw new UsageError("a fragment input has no metadata");
  if (options.mapSymbols && fragment) throw new UsageError("--map-symbols needs metadata; a fragment has none");
  if (files.filter((f) => f === "-").length > 1) throw new UsageError("standard input can only be read once");

  if (fragment && encoding === "dbn") throw new UsageError("a fragment input has no metadata to write DBN with; use --json or --csv");
  const target = options.output ? await openOutput(options.output, options.force ?? false) : io.stdout;
  const sink = new OutputSink(target, zstd && encoding !== "dbn");
  try {
    const { decoders, metadata: all } = await openInputs(files, options, io);
    const metadata = mergeMetadata(all);
    const version = options.upgrade ? 3 : (metadata?.version ?? options.inputDbnVersion ?? 3);
    const pretty = options.pretty ?? false;
    if (options.metadata) {
      await sink.write(`${metadataToJson(metadata!, { prettyTs: pretty, indent: pretty })}\n`);
      return;
    }
    const wanted = options.schema === undefined ? undefined : schemaRType(options.schema);
    const symbolMap = options.mapSymbols && metadata ? new TsSymbolMap(metadata) : null;
    const records: AsyncIterable<DbnRecord> = decoders.length === 1 ? decoders[0]! : mergeRecords(decoders);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    let count = 0;

    if (encoding === "dbn") {
      if (version !== 3) throw new UsageError(`DBN output is version 3: pass --upgrade to convert DBN v${version} input`);
      let outMetadata = metadata && options.schema !== undefined ? { ...metadata, schema: options.schema } : metadata;
      // As `dbn` does, a --limit is recorded in the output's metadata.
      if (outMetadata && options.limit !== undefined && (outMetadata.limit === 0n || outMetadata.limit > BigInt(options.limit))) {
        outMetadata = { ...outMetadata, limit: BigInt(options.limit) };
      }
      const chunks: Uint8Array[] = [];
      const encoder = new DbnEncoder(outMetadata, (chunk) => chunks.push(chunk), { zstd });
      const drain = async () => {
        for (const chunk of chunks.splice(0)) await sink.write(chunk);
      };
      for await (const record of records) {
        if (count >= limit) break;
        if (wanted !== undefined && record.hd.rtype !== wanted) continue;
        encoder.write(record as DbnRecordV3);
        count++;
        await drain();
      }
      encoder.end();
      await drain();
      return;
    }

    const csvMetadata = metadata && options.schema !== undefined ? { ...metadata, schema: options.schema } : metadata;
    const csv =
      encoding === "csv"
        ? new CsvEncoder(csvMetadata, { prettyPx: pretty, prettyTs: pretty, version, symbolMap, header: !options.omitHeader })
        : null;
    if (csv) await sink.write(csv.begin());
    const jsonOptions = { prettyPx: pretty, prettyTs: pretty, indent: pretty, version, symbolMap };
    for await (const record of records) {
      if (count >= limit) break;
      if (wanted !== undefined && record.hd.rtype !== wanted) continue;
      await sink.write(csv ? csv.encode(record) : `${recordToJson(record, jsonOptions)}\n`);
      count++;
    }
  } finally {
    await sink.flush();
    if (target !== io.stdout) await new Promise<void>((resolve, reject) => target.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

/** Runs the CLI; resolves to the process exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help") {
        io.stdout.write(program.helpInformation());
        return 0;
      }
      if (error.code === "commander.version") {
        io.stdout.write(`${VERSION}\n`);
        return 0;
      }
      io.stderr.write(`${error.message}\nFor more information, try '--help'.\n`);
      return 2;
    }
    throw error;
  }
  try {
    await convert(program.args, program.opts<CliOptions>(), io);
    return 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EPIPE") return 0; // e.g. `| head`
    const prefix = error instanceof DbnDecodeError ? `decode error (${error.code})` : error instanceof UsageError ? "usage error" : "error";
    io.stderr.write(`nq-dbn: ${prefix}: ${(error as Error).message}\n`);
    return 1;
  }
}
