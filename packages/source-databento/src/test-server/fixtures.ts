/**
 * Real Databento DBN files served verbatim (the upstream test files in ../shared, never copied into the
 * repo): a get_range whose schema, symbols and window match one gets its exact bytes.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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

/**
 * Where the upstream GLBX.MDP3 fixtures are when the shared folder is present: NQ_SHARED_DIR, else
 * `<repo root>/../shared` (this file sits 4 levels under the repo root, in src/ or dist/). Null otherwise.
 */
export function defaultFixturesDir(): string | null {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
  const shared = process.env.NQ_SHARED_DIR ?? resolve(repoRoot, "../shared");
  const dir = join(shared, "fixtures/databento/databento-python/GLBX.MDP3");
  return existsSync(dir) ? dir : null;
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
