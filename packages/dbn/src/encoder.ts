import { DBN_VERSION } from "./constants.js";
import { DbnEncodeError } from "./errors.js";
import { encodeMetadata, type Metadata } from "./metadata.js";
import { compileWriter, type RecordWriter } from "./records/codec.js";
import { layoutFor } from "./records/registry.js";
import type { DbnRecordV3 } from "./records/types.js";
import { zstdCompress } from "./zstd-compress.js";

export interface EncodeOptions {
  /** Compress the output with zstd. Default false. */
  zstd?: boolean;
  /** zstd level (1–19). Default 3, as Databento's encoder. */
  zstdLevel?: number;
  /**
   * Streaming only: bytes of DBN gathered before a chunk is emitted. With zstd each chunk is one
   * zstd frame; concatenated frames form a valid zstd stream. Default 1 MiB.
   */
  chunkBytes?: number;
}

const writerCache = new Map<number, RecordWriter>();

function writerFor(rtype: number): RecordWriter {
  let writer = writerCache.get(rtype);
  if (!writer) {
    const layout = layoutFor(DBN_VERSION, rtype);
    if (!layout) throw new DbnEncodeError(`cannot encode rtype 0x${rtype.toString(16)}: not a DBN v3 record type`);
    writer = compileWriter(layout);
    writerCache.set(rtype, writer);
  }
  return writer;
}

/** Size in bytes `record` takes when encoded (struct size, plus 8 with `ts_out`). */
export function encodedRecordSize(record: DbnRecordV3): number {
  const layout = layoutFor(DBN_VERSION, record.hd.rtype);
  if (!layout) throw new DbnEncodeError(`cannot encode rtype 0x${record.hd.rtype.toString(16)}: not a DBN v3 record type`);
  return layout.size + (record.ts_out === undefined ? 0 : 8);
}

/**
 * Writes one v3 record at `offset` and returns its byte length. `hd.length` is recomputed; the
 * buffer must have room (see `encodedRecordSize`).
 */
export function writeRecord(view: DataView, bytes: Uint8Array, offset: number, record: DbnRecordV3): number {
  const rtype = record?.hd?.rtype;
  if (typeof rtype !== "number") throw new DbnEncodeError("record has no hd.rtype");
  return writerFor(rtype)(view, bytes, offset, record);
}

/** Encodes records only (a DBN v3 fragment, no metadata). */
export function encodeRecords(records: Iterable<DbnRecordV3>): Uint8Array {
  const list = Array.isArray(records) ? (records as DbnRecordV3[]) : Array.from(records);
  let total = 0;
  for (const record of list) total += encodedRecordSize(record);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const record of list) offset += writeRecord(view, bytes, offset, record);
  return bytes;
}

/** Encodes a whole DBN v3 file in memory: metadata then records, optionally one zstd frame. */
export function encodeDbn(data: { metadata: Metadata; records: Iterable<DbnRecordV3> }, options: EncodeOptions = {}): Uint8Array {
  const head = encodeMetadata(data.metadata);
  const body = encodeRecords(data.records);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return options.zstd ? zstdCompress(out, options.zstdLevel) : out;
}

/**
 * Push-style streaming encoder for outputs too big for memory. `write` records; full chunks
 * are handed to `onChunk` (uncompressed DBN, or one zstd frame each); call `end()` at the end.
 */
export class DbnEncoder {
  private buffer: Uint8Array;
  private view: DataView;
  private used = 0;
  private readonly compress: boolean;
  private readonly level: number | undefined;

  constructor(
    metadata: Metadata | null,
    private readonly onChunk: (chunk: Uint8Array) => void,
    options: EncodeOptions = {},
  ) {
    const size = Math.max(options.chunkBytes ?? 1 << 20, 4096);
    this.buffer = new Uint8Array(size);
    this.view = new DataView(this.buffer.buffer);
    this.compress = options.zstd ?? false;
    this.level = options.zstdLevel;
    if (metadata) this.writeBytes(encodeMetadata(metadata));
  }

  write(record: DbnRecordV3): void {
    // 1020 bytes is the largest record a length byte can describe.
    if (this.used + 1020 > this.buffer.length) this.flush();
    this.used += writeRecord(this.view, this.buffer, this.used, record);
  }

  /** Appends already-encoded DBN bytes (e.g. records produced by `writeRecord`). */
  writeBytes(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.used === this.buffer.length) this.flush();
      const n = Math.min(bytes.length - offset, this.buffer.length - this.used);
      this.buffer.set(bytes.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
    }
  }

  /** Emits what is buffered as one chunk. */
  flush(): void {
    if (this.used === 0) return;
    const raw = this.buffer.slice(0, this.used);
    this.used = 0;
    this.onChunk(this.compress ? zstdCompress(raw, this.level) : raw);
  }

  end(): void {
    this.flush();
  }
}

/**
 * Pull-style streaming encoder: yields DBN v3 chunks for `records` (sync or async iterable).
 * Wrap with `Readable.from(...)` to pipe into a file or socket.
 */
export async function* encodeDbnStream(
  metadata: Metadata | null,
  records: Iterable<DbnRecordV3> | AsyncIterable<DbnRecordV3>,
  options: EncodeOptions = {},
): AsyncGenerator<Uint8Array> {
  const ready: Uint8Array[] = [];
  const encoder = new DbnEncoder(metadata, (chunk) => ready.push(chunk), options);
  for await (const record of records) {
    encoder.write(record);
    if (ready.length > 0) yield* ready.splice(0, ready.length);
  }
  encoder.end();
  yield* ready;
}
