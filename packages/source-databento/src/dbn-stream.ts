/**
 * Feeds a DBN byte stream (zstd or not, from HTTP or a file) through @nq/dbn's streaming decoder into a
 * ChainRecords, record by record: the body is never held whole. Decoder failures become core errors: a
 * stream that ends inside a record or a zstd frame is incomplete data, never a shorter "complete" chain.
 */
import { IncompleteDataError, InvalidRequestError, isSourceError, type SourceError } from "@nq/core";
import { DbnDecodeError, type DbnInput, type DbnRecord, type Metadata, openDbn } from "@nq/dbn";

/** Where decoded records go: a ChainRecords fold, or anything else that takes them one by one. */
export interface RecordSink {
  add(record: DbnRecord): void;
}

export interface StreamSummary {
  metadata: Metadata | null;
  records: number;
}

export async function decodeInto(input: DbnInput, records: RecordSink, what: string, source: string): Promise<StreamSummary> {
  // Hold the body's iterator so a decode failure can release it (and the HTTP connection) at once.
  const body = isAsyncIterable(input) ? input[Symbol.asyncIterator]() : null;
  const decoder = openDbn(body ? { [Symbol.asyncIterator]: () => body } : input, { upgrade: true });
  let count = 0;
  try {
    for await (const record of decoder) {
      records.add(record);
      count++;
    }
    return { metadata: await decoder.metadata(), records: count };
  } catch (error) {
    await body?.return?.(undefined).catch(() => undefined);
    throw decodeFailure(error, what, count, source);
  }
}

function isAsyncIterable(input: DbnInput): input is AsyncIterable<Uint8Array> {
  return typeof (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function" && typeof (input as ReadableStream).getReader !== "function";
}

function decodeFailure(error: unknown, what: string, count: number, source: string): SourceError | unknown {
  if (isSourceError(error)) return error;
  if (!(error instanceof DbnDecodeError)) return error;
  if (error.code === "truncated" || error.code === "corrupt_zstd") {
    return new IncompleteDataError(source, `${what} is cut short after ${count} records (${error.message}); the data is incomplete. Try again`, {
      cause: error,
      details: { code: error.code, offset: error.offset, records: count },
    });
  }
  return new InvalidRequestError(source, `${what} is not valid DBN (${error.message}); the file or answer is damaged or not DBN`, {
    cause: error,
    details: { code: error.code, offset: error.offset, records: count },
  });
}
