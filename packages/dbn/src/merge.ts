import type { DbnRecord } from "./records/types.js";
import { indexTimestamp } from "./text/columns.js";

/**
 * Merges record streams in index-timestamp order (`ts_recv` where the record has it, else
 * `ts_event`), keeping input order for ties — as Databento's CLI does with several input files.
 * Holds one record per input.
 */
export async function* mergeRecords(sources: AsyncIterable<DbnRecord>[]): AsyncGenerator<DbnRecord> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const heads: (DbnRecord | undefined)[] = await Promise.all(iterators.map(async (it) => (await it.next()).value ?? undefined));
  for (;;) {
    let best = -1;
    let bestTs = 0n;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head === undefined) continue;
      const ts = indexTimestamp(head);
      if (best < 0 || ts < bestTs) {
        best = i;
        bestTs = ts;
      }
    }
    if (best < 0) return;
    yield heads[best]!;
    const next = await iterators[best]!.next();
    heads[best] = next.done ? undefined : next.value;
  }
}
