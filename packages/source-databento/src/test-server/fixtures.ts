/**
 * Real Databento DBN files served verbatim (the upstream test files in ../shared, never copied into the
 * repo): a get_range whose schema, symbols and window match one gets its exact bytes.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeDbn, schemaName, UNDEF_TIMESTAMP, zstdCompress, isZstd } from "@nq/dbn";

export interface FixtureFile {
  path: string;
  schema: string;
  symbols: string[];
  startNs: bigint;
  endNs: bigint;
  recordCount: number;
  zstdBytes: Uint8Array;
}

export async function loadFixtures(dir: string): Promise<FixtureFile[]> {
  const names = (await readdir(dir)).filter((name) => /\.dbn(\.zst)?$/.test(name)).sort();
  const out: FixtureFile[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const bytes = new Uint8Array(await readFile(path));
    const decoded = await decodeDbn(bytes);
    const metadata = decoded.metadata;
    if (!metadata || metadata.schema === null) continue;
    const schema = schemaName(metadata.schema);
    if (!schema) continue;
    out.push({
      path,
      schema,
      symbols: metadata.symbols,
      startNs: metadata.start,
      endNs: metadata.end === UNDEF_TIMESTAMP ? metadata.start + 86_400_000_000_000n : metadata.end,
      recordCount: decoded.records.length,
      zstdBytes: isZstd(bytes) ? bytes : zstdCompress(bytes),
    });
  }
  return out;
}
