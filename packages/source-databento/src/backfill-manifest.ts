/**
 * The backfill's record of itself, `backfill-manifest.json` in the output folder: what was asked for,
 * which batch job answers each schema (submitted or reused), what it cost, which files are on disk (with
 * their SHA-256 and size) and what was converted. It is rewritten atomically (temp file, fsync, rename)
 * after every step, so a run stopped at any point — Ctrl-C, a crash, a cut network — leaves a manifest
 * the next run continues from: nothing submitted twice, nothing downloaded twice.
 */
import { open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "@nq/core";

export const MANIFEST_FILE = "backfill-manifest.json";
const MANIFEST_VERSION = 1;

export interface ManifestRequest {
  dataset: string;
  symbols: string[];
  stypeIn: string;
  /** Inclusive start and exclusive end, ISO. */
  start: string;
  end: string;
  compression: "zstd" | "none";
  splitDuration: "day" | "none";
}

export interface ManifestFile {
  filename: string;
  /** Relative to the manifest's folder. */
  path: string;
  size: number;
  sha256: string;
  /** Set once the file is on disk under its name with this hash. */
  downloadedAt: string | null;
}

export interface ManifestJob {
  schema: string;
  jobId: string | null;
  state: string;
  /** True when an existing job for the same request was found and used (nothing paid by this backfill). */
  reused: boolean;
  /** `metadata.get_cost` before submission. */
  pricedUsd: number | null;
  /** What this backfill paid for the job (0 when reused). */
  paidUsd: number;
  submittedAt: string | null;
  files: ManifestFile[] | null;
}

export interface ManifestConversion {
  at: string;
  /** The DBN files converted, by path and hash: a rerun with the same inputs does not convert again. */
  inputs: { path: string; sha256: string }[];
  outputs: { path: string; rows?: number; schema?: string }[];
}

export interface BackfillManifest {
  version: number;
  request: ManifestRequest;
  createdAt: string;
  updatedAt: string;
  status: "running" | "interrupted" | "failed" | "complete";
  lastError: string | null;
  jobs: ManifestJob[];
  converted: ManifestConversion | null;
}

export function newManifest(request: ManifestRequest, now: Date): BackfillManifest {
  return { version: MANIFEST_VERSION, request, createdAt: now.toISOString(), updatedAt: now.toISOString(), status: "running", lastError: null, jobs: [], converted: null };
}

/** The manifest in `dir`, or null when there is none. A manifest of another request is a ConfigError. */
export async function readManifest(dir: string, request: ManifestRequest, source: string): Promise<BackfillManifest | null> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return null;
    throw error;
  }
  let manifest: BackfillManifest;
  try {
    manifest = JSON.parse(text) as BackfillManifest;
  } catch (error) {
    throw new ConfigError(source, `${path} is not valid JSON (${(error as Error).message}); it was not written by this tool or was edited. Move it away to start over`, { path: "--out" });
  }
  if (manifest.version !== MANIFEST_VERSION || !Array.isArray(manifest.jobs) || typeof manifest.request !== "object") {
    throw new ConfigError(source, `${path} is not a backfill manifest of version ${MANIFEST_VERSION}; move it away or use another --out`, { path: "--out" });
  }
  const differences = (Object.keys(request) as (keyof ManifestRequest)[]).filter((key) => JSON.stringify(manifest.request[key]) !== JSON.stringify(request[key]));
  if (differences.length > 0) {
    const said = differences.map((key) => `${key}: ${JSON.stringify(manifest.request[key])} there, ${JSON.stringify(request[key])} now`).join("; ");
    throw new ConfigError(source, `${path} belongs to another backfill (${said}). Use the same flags to continue it, or another --out for a new one`, { path: "--out" });
  }
  return manifest;
}

/** Temp file, fsync, rename: a reader (or the next run) sees the old manifest or the new one, never half. */
export async function writeManifest(dir: string, manifest: BackfillManifest, now: Date): Promise<void> {
  manifest.updatedAt = now.toISOString();
  const path = join(dir, MANIFEST_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, "w");
  try {
    await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
