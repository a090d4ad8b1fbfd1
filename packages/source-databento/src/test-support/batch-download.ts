/**
 * Writes .dbn.zst files the way a user's batch download would hold them, fetched from the local server
 * (so the bytes are made by @nq/dbn's encoder from the generated market, never copied from ../shared).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LocalDatabentoServer } from "../test-server/index.js";

const WINDOWS: Record<string, [string, string]> = {
  definition: ["2026-11-20T00:00:00Z", "2026-11-20T21:00:00Z"],
  statistics: ["2026-11-18T23:00:00Z", "2026-11-20T21:00:00Z"],
  trades: ["2026-11-19T23:00:00Z", "2026-11-20T21:00:00Z"],
  // From the session's open: a quiet option's book is in a record stamped hours before as-of.
  "bbo-1m": ["2026-11-19T23:00:00Z", "2026-11-20T21:00:00Z"],
};

export async function downloadDbnFiles(server: LocalDatabentoServer, key: string, dir: string, schemas = Object.keys(WINDOWS), compression: "zstd" | "none" = "zstd"): Promise<string[]> {
  const files: string[] = [];
  for (const schema of schemas) {
    const [start, end] = WINDOWS[schema]!;
    const res = await fetch(`${server.url}/v0/timeseries.get_range`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ dataset: "GLBX.MDP3", symbols: "NQ.OPT,QN4.OPT,Q4C.OPT,QNE.OPT", stype_in: "parent", schema, start, end, encoding: "dbn", compression }).toString(),
    });
    if (res.status !== 200) throw new Error(`download of ${schema} failed: ${res.status} ${await res.text()}`);
    const file = join(dir, `glbx-mdp3-20261120.${schema}.dbn${compression === "zstd" ? ".zst" : ""}`);
    await writeFile(file, new Uint8Array(await res.arrayBuffer()));
    files.push(file);
  }
  return files;
}
