import { createReadStream } from "node:fs";
import { DbnDecodeError } from "./errors.js";

/**
 * Anything the decoder reads: a file path, bytes, a Node Readable, a web ReadableStream, or any
 * (async) iterable of byte chunks. Chunk boundaries may fall anywhere.
 */
export type DbnInput =
  | string
  | URL
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>;

const FILE_CHUNK = 1 << 20;

/** Normalises any DbnInput into an async sequence of Uint8Array chunks. */
export async function* inputChunks(input: DbnInput): AsyncGenerator<Uint8Array> {
  if (typeof input === "string" || input instanceof URL) {
    yield* asBytes(createReadStream(input, { highWaterMark: FILE_CHUNK }));
    return;
  }
  if (input instanceof Uint8Array) {
    yield input;
    return;
  }
  if (input instanceof ArrayBuffer) {
    yield new Uint8Array(input);
    return;
  }
  if (isWebStream(input)) {
    const reader = input.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield toBytes(value);
      }
    } finally {
      reader.releaseLock();
    }
  }
  if (typeof (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function") {
    yield* asBytes(input as AsyncIterable<Uint8Array>);
    return;
  }
  if (typeof (input as Iterable<Uint8Array>)[Symbol.iterator] === "function") {
    for (const chunk of input as Iterable<Uint8Array>) yield toBytes(chunk);
    return;
  }
  throw new DbnDecodeError("bad_input", 0, `unsupported input type: ${Object.prototype.toString.call(input)}`);
}

async function* asBytes(source: AsyncIterable<unknown>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) yield toBytes(chunk);
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new DbnDecodeError("bad_input", 0, `input chunk is not bytes: ${typeof chunk}`);
}

function isWebStream(input: unknown): input is ReadableStream<Uint8Array> {
  return typeof (input as ReadableStream | null)?.getReader === "function";
}
