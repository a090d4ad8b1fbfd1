/**
 * Feeds a DBN byte stream (zstd or not, from HTTP or a file) through @nq/dbn's streaming decoder into a
 * ChainRecords, record by record: the body is never held whole. Decoder failures become core errors: a
 * stream that ends inside a record or a zstd frame is incomplete data, never a shorter "complete" chain.
 */
import { IncompleteDataError, InvalidRequestError, isSourceError, type SourceError } from "@nq/core";
import { DbnDecodeError, type DbnInput, type Metadata, openDbn } from "@nq/dbn";
import type { ChainRecords } from "./chain-records.js";

export interface StreamSummary {
  metadata: Metadata | null;
  records: number;
}

export async function decodeInto(input: DbnInput, records: ChainRecords, what: string, source: string): Promise<StreamSummary> {
  const decoder = openDbn(input, { upgrade: true });
  let count = 0;
  try {
    for await (const record of decoder) {
      records.add(record);
      count++;
    }
    return { metadata: await decoder.metadata(), records: count };
  } catch (error) {
    throw decodeFailure(error, what, count, source);
  }
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
