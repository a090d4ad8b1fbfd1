import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// Tests read Databento's real files from the shared folder, never from a copy in the repo.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const SHARED_DIR = process.env.NQ_SHARED_DIR ?? resolve(repoRoot, "../shared");
export const FIXTURE_DIR = join(SHARED_DIR, "fixtures", "databento");
export const HAVE_FIXTURES = existsSync(FIXTURE_DIR);
export const SKIP_REASON = `Databento fixtures not found at ${FIXTURE_DIR} (set NQ_SHARED_DIR); skipping fixture tests`;

if (!HAVE_FIXTURES) console.warn(SKIP_REASON);

export interface Fixture {
  /** Path relative to the fixture folder, e.g. `dbn/test_data.mbo.v3.dbn.zst`. */
  name: string;
  path: string;
  /** DBN version from the naming convention (untagged `dbn/` files are v2, python files v3). */
  version: 1 | 2 | 3;
  fragment: boolean;
  zstd: boolean;
  /** Schema name from the file name, e.g. `mbo`; `live` for the live stream. */
  schema: string;
}

export function listFixtures(): Fixture[] {
  if (!HAVE_FIXTURES) return [];
  const out: Fixture[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.includes(".dbn")) out.push(describe(relative(FIXTURE_DIR, path), path));
    }
  };
  walk(FIXTURE_DIR);
  return out;
}

function describe(name: string, path: string): Fixture {
  const base = name.split("/").pop()!;
  const tag = /\.v([123])\./.exec(base);
  const version = (tag ? Number(tag[1]) : name.startsWith("databento-python/") ? 3 : 2) as 1 | 2 | 3;
  const schema = /^(?:test_data|multi-frame)\.([a-z0-9-]+)\./.exec(base)?.[1] ?? "unknown";
  return { name, path, version, fragment: base.includes(".frag"), zstd: base.endsWith(".zst"), schema };
}

export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURE_DIR, name)));
}
