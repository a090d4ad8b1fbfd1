import { inputChunks, type DbnInput } from "./input.js";
import { upgradeMetadata, type Metadata } from "./metadata.js";
import { DbnParser, type ParserOptions, type RecordVisitor } from "./parser.js";
import { compileReader, type RecordReader } from "./records/codec.js";
import { layoutFor } from "./records/registry.js";
import type { DbnRecord } from "./records/types.js";
import { upgradeRecord } from "./records/upgrade.js";
import { DbnDecodeError } from "./errors.js";
import { isZstd, zstdDecompressStream, ZstdStreamDecoder, type ZstdBackend, type ZstdBackendName, type ZstdOptions } from "./zstd.js";

export interface DecodeOptions extends ParserOptions {
  /**
   * Convert v1/v2 metadata and records to their v3 shapes (Databento's upgrade policy:
   * common fields copied, v3-only fields null, widened fields converted). Default false.
   */
  upgrade?: boolean;
  /** Input compression: detected from the first bytes by default. */
  compression?: "auto" | "zstd" | "none";
  /**
   * zstd implementation, or its name ("zstd-napi"/"native", "fzstd", "node:zlib"). Default:
   * DEFAULT_ZSTD_BACKEND — NQ_DBN_ZSTD_BACKEND if set, else zstd-napi when its addon loads,
   * else node:zlib where the runtime has zstd, else fzstd.
   */
  zstdBackend?: ZstdBackend | ZstdBackendName;
  /**
   * Largest zstd window accepted, in bytes (default MAX_ZSTD_WINDOW, 128 MiB). A frame declaring
   * more is refused before anything is allocated for it; raise only for trusted input.
   */
  maxZstdWindow?: number;
}

export interface DecodeResult {
  /** null for a fragment. */
  metadata: Metadata | null;
  records: DbnRecord[];
}

export interface VisitResult {
  metadata: Metadata | null;
  /** DBN version of the records the visitor saw (fast path records are never upgraded). */
  version: number;
  recordCount: number;
}

const EMPTY = new Uint8Array(0);
const OBJECT_SLICE = 64 * 1024;

// Indexed [version][rtype]: this lookup runs once per decoded record.
const readerTable: (RecordReader | undefined)[][] = [[], [], [], []];

/** The object reader for (`version`, `rtype`), compiled once and cached. */
export function recordReader(version: number, rtype: number): RecordReader {
  const row = readerTable[version];
  let reader = row?.[rtype];
  if (!reader) {
    const layout = layoutFor(version, rtype);
    if (!row || !layout) throw new Error(`no layout for rtype ${rtype} in DBN v${version}`);
    reader = row[rtype] = compileReader(layout);
  }
  return reader;
}

/**
 * Decodes one record to an object. `offset` indexes `bytes`; `byteLength` is `length * 4`.
 * Useful inside a fast-path visitor to materialise only the records you keep.
 */
export function readRecord(view: DataView, bytes: Uint8Array, offset: number, byteLength: number, version: number, upgrade = false): DbnRecord {
  const record = recordReader(version, bytes[offset + 1]!)(view, bytes, offset, byteLength);
  return (upgrade && version < 3 ? upgradeRecord(record, version) : record) as DbnRecord;
}

/** Decompressed byte chunks of any input; zstd is detected from the magic unless forced. */
export async function* decompressedChunks(
  input: DbnInput,
  compression: DecodeOptions["compression"] = "auto",
  zstdOptions?: ZstdBackend | ZstdOptions,
): AsyncGenerator<Uint8Array> {
  const source = inputChunks(input);
  let zstd = compression === "zstd" ? true : compression === "none" ? false : undefined;
  let head: Uint8Array = new Uint8Array(0);
  if (zstd === undefined) {
    // Detection needs 4 bytes, which may arrive over several chunks.
    while (head.length < 4) {
      const next = await source.next();
      if (next.done) break;
      head = head.length === 0 ? next.value : concat(head, next.value);
    }
    zstd = isZstd(head);
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    yield* source;
  }
  if (zstd) yield* zstdDecompressStream(all(), zstdOptions);
  else yield* all();
}

/**
 * Streaming decoder over any input. Iterate it for record objects (`for await`, or `batches()`),
 * or call `visit` for the allocation-free fast path. Single pass: consume it one way, once.
 */
export class DbnDecoder implements AsyncIterable<DbnRecord> {
  private readonly parser: DbnParser;
  private readonly chunks: AsyncGenerator<Uint8Array>;
  private readonly queue: DbnRecord[] = [];
  private fastVisitor: RecordVisitor | null = null;
  private metadataValue: Metadata | null = null;
  private done = false;
  /** A failure met while pumping: thrown once the records decoded before it are handed out. */
  private failure: { error: unknown } | null = null;
  private rest: Uint8Array = EMPTY;

  constructor(input: DbnInput, options: DecodeOptions = {}) {
    // The parser copies whatever it keeps of a piece, so the native backend may reuse its output buffer.
    this.chunks = decompressedChunks(input, options.compression, { backend: options.zstdBackend, maxWindow: options.maxZstdWindow, reuseOutput: true });
    this.parser = new DbnParser(
      (metadata) => {
        this.metadataValue = options.upgrade ? upgradeMetadata(metadata) : metadata;
      },
      (view, offset, rtype, byteLength, bytes) => {
        if (this.fastVisitor) return this.fastVisitor(view, offset, rtype, byteLength, bytes);
        const record = recordReader(this.parser.version, rtype)(view, bytes, offset, byteLength);
        this.queue.push((options.upgrade && this.parser.version < 3 ? upgradeRecord(record, this.parser.version) : record) as DbnRecord);
        return undefined;
      },
      options,
    );
  }

  /** DBN version of the input (after metadata is read; the fragment version otherwise). */
  get version(): number {
    return this.parser.version;
  }

  /** The metadata decoded so far (null before it is read, and for fragments). */
  get metadataSoFar(): Metadata | null {
    return this.metadataValue;
  }

  /** Reads until the metadata is decoded. Resolves null for fragments. */
  async metadata(): Promise<Metadata | null> {
    // Hold back the records behind the metadata so a later visit() still sees them as bytes.
    this.parser.holdRecords = true;
    try {
      while (!this.parser.ready && !this.done) await this.pump();
    } finally {
      this.parser.holdRecords = false;
    }
    if (!this.parser.ready) this.rethrow();
    return this.metadataValue;
  }

  /** Visits the records held back by `metadata()`; a failure among them is kept like pump's. */
  private drain(): void {
    if (this.done) return;
    try {
      this.parser.drain();
    } catch (error) {
      this.done = true;
      this.failure = { error };
      void this.chunks.return(undefined).catch(() => undefined);
    }
  }

  /** Throws the failure met while pumping, once (later calls see a finished stream). */
  private rethrow(): void {
    const failure = this.failure;
    this.failure = null;
    if (failure) throw failure.error;
  }

  /**
   * Record objects one by one. A hand-written iterator rather than an async generator: records
   * already decoded are handed out without a generator frame per record.
   */
  [Symbol.asyncIterator](): AsyncIterator<DbnRecord> {
    this.drain();
    let batch: DbnRecord[] = [];
    let index = 0;
    const next = async (): Promise<IteratorResult<DbnRecord>> => {
      while (index >= batch.length) {
        if (this.queue.length > 0) {
          batch = this.queue.splice(0, this.queue.length);
          index = 0;
          break;
        }
        if (this.done) {
          this.rethrow();
          return { done: true, value: undefined };
        }
        await this.pump();
      }
      return { done: false, value: batch[index++]! };
    };
    return {
      next: () => (index < batch.length ? Promise.resolve({ done: false, value: batch[index++]! }) : next()),
      return: async () => {
        this.done = true;
        await this.chunks.return(undefined);
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * Record objects in arrays, one array per decoded input chunk: the cheapest way to consume
   * objects, since the inner loop is synchronous.
   */
  async *batches(): AsyncGenerator<DbnRecord[]> {
    this.drain();
    for (;;) {
      if (this.queue.length > 0) {
        yield this.queue.splice(0, this.queue.length);
        continue;
      }
      if (this.done) {
        this.rethrow();
        return;
      }
      await this.pump();
    }
  }

  /** Fast path: calls `visitor` per record with a DataView; no objects are created. */
  async visit(visitor: RecordVisitor): Promise<VisitResult> {
    this.fastVisitor = visitor;
    this.drain();
    while (!this.done) await this.pump();
    this.rethrow();
    return { metadata: this.metadataValue, version: this.parser.version, recordCount: this.parser.recordCount };
  }

  /**
   * Decodes the next piece of input. A failure does not escape: it ends the stream and is kept
   * for `rethrow`, so the records decoded before it (already queued) are handed out first.
   */
  private async pump(): Promise<void> {
    try {
      await this.step();
    } catch (error) {
      this.done = true;
      this.rest = EMPTY;
      this.failure = { error };
      await this.chunks.return(undefined).catch(() => undefined);
    }
  }

  private async step(): Promise<void> {
    let chunk = this.rest;
    if (chunk.length === 0) {
      const next = await this.chunks.next();
      if (next.done) {
        this.done = true;
        this.parser.finish();
        return;
      }
      chunk = next.value;
    }
    // Objects are decoded in slices so a batch stays small enough to die young: a whole 1 MiB
    // chunk of objects would survive into V8's old space and cost a major GC.
    if (!this.fastVisitor && chunk.length > OBJECT_SLICE) {
      this.rest = chunk.subarray(OBJECT_SLICE);
      chunk = chunk.subarray(0, OBJECT_SLICE);
    } else {
      this.rest = EMPTY;
    }
    this.parser.push(chunk);
    if (this.parser.stopped) {
      this.done = true;
      await this.chunks.return(undefined);
    }
  }
}

/** Opens a streaming decoder; equivalent to `new DbnDecoder(input, options)`. */
export function openDbn(input: DbnInput, options?: DecodeOptions): DbnDecoder {
  return new DbnDecoder(input, options);
}

/**
 * Decodes a whole input into memory. For large inputs iterate `openDbn` instead. On malformed
 * input it rejects with the `DbnDecodeError`, whose `partial` holds the metadata and every
 * complete record before the problem.
 */
export async function decodeDbn(input: DbnInput, options?: DecodeOptions): Promise<DecodeResult> {
  const decoder = new DbnDecoder(input, options);
  const records: DbnRecord[] = [];
  try {
    for await (const record of decoder) records.push(record);
  } catch (error) {
    if (error instanceof DbnDecodeError) error.partial = { metadata: decoder.metadataSoFar, records };
    throw error;
  }
  return { metadata: await decoder.metadata(), records };
}

/** Fast path over any input: `visitor` sees each record's bytes through a DataView. */
export async function visitDbn(input: DbnInput, visitor: RecordVisitor, options?: DecodeOptions): Promise<VisitResult> {
  return new DbnDecoder(input, options).visit(visitor);
}

/**
 * Pushes an in-memory buffer through `parser`, decompressing zstd block by block so the parser
 * consumes each block's output before the next is inflated (the synchronous paths use the bounded
 * ZstdStreamDecoder: libzstd when zstd-napi is the backend, else fzstd; never a one-shot
 * decompression, which would hold the whole output).
 */
function pushAll(parser: DbnParser, bytes: Uint8Array, options: DecodeOptions): void {
  const compression = options.compression ?? "auto";
  if (compression === "zstd" || (compression === "auto" && isZstd(bytes))) {
    const decoder = new ZstdStreamDecoder({ backend: options.zstdBackend, maxWindow: options.maxZstdWindow, reuseOutput: true });
    for (const piece of decoder.decode(bytes, true)) {
      parser.push(piece);
      if (parser.stopped) return;
    }
  } else {
    parser.push(bytes);
  }
  parser.finish();
}

/**
 * Synchronous decode of an in-memory buffer (zstd or not). On malformed input it throws the
 * `DbnDecodeError`, whose `partial` holds the metadata and every complete record before it.
 */
export function decodeDbnSync(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  let metadata: Metadata | null = null;
  const records: DbnRecord[] = [];
  const parser: DbnParser = new DbnParser(
    (m) => {
      metadata = options.upgrade ? upgradeMetadata(m) : m;
    },
    (view, offset, _rtype, byteLength, buf) => {
      records.push(readRecord(view, buf, offset, byteLength, parser.version, options.upgrade));
    },
    options,
  );
  try {
    pushAll(parser, bytes, options);
  } catch (error) {
    if (error instanceof DbnDecodeError) error.partial = { metadata, records };
    throw error;
  }
  return { metadata, records };
}

/** Synchronous fast path over an in-memory buffer. */
export function visitDbnSync(bytes: Uint8Array, visitor: RecordVisitor, options: DecodeOptions = {}): VisitResult {
  let metadata: Metadata | null = null;
  const parser = new DbnParser((m) => (metadata = m), visitor, options);
  pushAll(parser, bytes, options);
  return { metadata, version: parser.version, recordCount: parser.recordCount };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
