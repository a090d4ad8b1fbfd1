/**
 * Saving raw responses and replaying them offline. A capture is saved as it came over the wire — each
 * series page's HTML and each quotes response's body, byte for byte — plus a manifest. Replay reads them
 * back and sends them through the same parsers as a live run, so a saved run is a faithful test input.
 *
 * Every capture says what it is: `complete`, `partial` (the chain is known to miss something: the reasons
 * are kept) or `failed` (no usable rows). Only a complete capture gets the plain folder name; the others
 * are saved as `…-partial` / `…-failed`, and replay of a save_dir prefers the newest complete capture over
 * any newer partial or failed one.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError } from "@nq/core";
import type { CapturedSeries, ChainCapture } from "./crawl.js";

const SOURCE = "barchart";
export const MANIFEST_FILE = "manifest.json";
const FORMAT = "nq-barchart-capture/1";

export type CaptureStatus = "complete" | "partial" | "failed";

interface Manifest {
  format: typeof FORMAT;
  /** Absent in captures saved before statuses existed: read as complete when it holds series, else failed. */
  status?: CaptureStatus;
  /** Why a partial or failed capture is one. */
  reasons?: string[];
  fetchedAt: string;
  baseUrl: string;
  product: string;
  notes: string[];
  incompleteReasons?: string[];
  series: { seriesCode: string; pageUrl: string; pageFile: string; pageFetchedAt?: string; quotesUrl: string; quotesFile: string }[];
}

export interface SaveOptions {
  status: CaptureStatus;
  reasons?: string[];
}

/** Writes the capture to `<saveDir>/<time>-<product>/` (with `-partial` or `-failed` unless complete); returns that folder. */
export async function saveCapture(saveDir: string, capture: ChainCapture, options: SaveOptions = { status: "complete" }): Promise<string> {
  const stamp = capture.fetchedAt.replace(/[:.]/g, "-");
  const name = `${stamp}-${capture.product}${options.status === "complete" ? "" : `-${options.status}`}`;
  await mkdir(resolve(saveDir), { recursive: true });
  // Never write into an earlier capture's folder (two loads in the same millisecond, or a clock set back).
  let folder = resolve(saveDir, name);
  for (let n = 2; ; n += 1) {
    try {
      await mkdir(folder);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || n > 100) throw error;
      folder = resolve(saveDir, `${name}.${n}`);
    }
  }
  const manifest: Manifest = {
    format: FORMAT,
    status: options.status,
    reasons: options.reasons ?? [],
    fetchedAt: capture.fetchedAt,
    baseUrl: capture.baseUrl,
    product: capture.product,
    notes: capture.notes,
    incompleteReasons: capture.incompleteReasons ?? [],
    series: [],
  };
  for (const [index, series] of capture.series.entries()) {
    const base = `${String(index + 1).padStart(2, "0")}-${series.seriesCode.replace(/[^A-Za-z0-9]/g, "_")}`;
    const pageFile = `${base}.page.html`;
    const quotesFile = `${base}.quotes.json`;
    await writeFile(join(folder, pageFile), series.pageHtml);
    await writeFile(join(folder, quotesFile), series.quotesBody);
    manifest.series.push({
      seriesCode: series.seriesCode,
      pageUrl: series.pageUrl,
      pageFile,
      ...(series.pageFetchedAt ? { pageFetchedAt: series.pageFetchedAt } : {}),
      quotesUrl: series.quotesUrl,
      quotesFile,
    });
  }
  // The manifest goes last: a folder without one is an interrupted save and is never replayed.
  await writeFile(join(folder, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return folder;
}

export interface ReadCapture {
  capture: ChainCapture;
  folder: string;
  status: CaptureStatus;
  /** Why a partial or failed capture is one. */
  reasons: string[];
  /** Captures in the save_dir newer than the one chosen, passed over because they are not complete. */
  passedOver: { folder: string; status: CaptureStatus; fetchedAt: string }[];
}

/**
 * Reads a saved capture. `savedDir` is a capture folder (replayed whatever its status), or a save_dir
 * holding several: the newest complete capture is chosen; with none, the newest partial one; a failed
 * capture is never chosen from a save_dir.
 */
export async function readCapture(savedDir: string): Promise<ReadCapture> {
  const dir = resolve(savedDir);
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    throw new ConfigError(SOURCE, `saved_dir ${dir} cannot be read: ${(error as Error).message}. Point it at a folder written by save_dir`, {
      cause: error,
      path: "saved_dir",
    });
  });
  if (entries.some((e) => e.isFile() && e.name === MANIFEST_FILE)) {
    const manifest = await readManifest(dir);
    return { ...(await readSeries(dir, manifest)), passedOver: [] };
  }
  const found: { folder: string; manifest: Manifest }[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const folder = join(dir, entry.name);
    const manifest = await readManifest(folder).catch(() => null);
    if (manifest) found.push({ folder, manifest });
  }
  if (found.length === 0) {
    throw new ConfigError(SOURCE, `saved_dir ${dir} holds no saved Barchart capture (no ${MANIFEST_FILE}); run once with save_dir set to create one`, {
      path: "saved_dir",
    });
  }
  found.sort((a, b) => (a.manifest.fetchedAt < b.manifest.fetchedAt ? 1 : a.manifest.fetchedAt > b.manifest.fetchedAt ? -1 : b.folder.localeCompare(a.folder)));
  const chosen = found.find((f) => statusOf(f.manifest) === "complete") ?? found.find((f) => statusOf(f.manifest) === "partial");
  if (!chosen) {
    throw new ConfigError(
      SOURCE,
      `saved_dir ${dir} holds only failed captures (${found.map((f) => f.folder).join(", ")}); none can be replayed. Run a live load with save_dir set`,
      { path: "saved_dir" },
    );
  }
  const passedOver = found
    .slice(0, found.indexOf(chosen))
    .map((f) => ({ folder: f.folder, status: statusOf(f.manifest), fetchedAt: f.manifest.fetchedAt }));
  return { ...(await readSeries(chosen.folder, chosen.manifest)), passedOver };
}

function statusOf(manifest: Manifest): CaptureStatus {
  if (manifest.status === "complete" || manifest.status === "partial" || manifest.status === "failed") return manifest.status;
  return manifest.series.length > 0 ? "complete" : "failed";
}

async function readManifest(folder: string): Promise<Manifest> {
  const manifestPath = join(folder, MANIFEST_FILE);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Manifest;
  } catch (error) {
    throw new ConfigError(SOURCE, `cannot read the saved capture manifest ${manifestPath}: ${(error as Error).message}`, { cause: error, path: "saved_dir" });
  }
  if (manifest.format !== FORMAT || !Array.isArray(manifest.series) || typeof manifest.fetchedAt !== "string") {
    throw new ConfigError(SOURCE, `${manifestPath} is not a Barchart capture manifest (expected "format": "${FORMAT}" with "fetchedAt" and "series")`, {
      path: "saved_dir",
    });
  }
  return manifest;
}

async function readSeries(folder: string, manifest: Manifest): Promise<Omit<ReadCapture, "passedOver">> {
  const series: CapturedSeries[] = [];
  for (const entry of manifest.series) {
    const read = (file: string) =>
      readFile(join(folder, file), "utf8").catch((error: unknown) => {
        throw new ConfigError(SOURCE, `the saved capture ${folder} lists ${file}, which cannot be read: ${(error as Error).message}`, { cause: error, path: "saved_dir" });
      });
    series.push({
      seriesCode: entry.seriesCode,
      pageUrl: entry.pageUrl,
      pageHtml: await read(entry.pageFile),
      ...(entry.pageFetchedAt ? { pageFetchedAt: entry.pageFetchedAt } : {}),
      quotesUrl: entry.quotesUrl,
      quotesBody: await read(entry.quotesFile),
    });
  }
  return {
    capture: {
      fetchedAt: manifest.fetchedAt,
      baseUrl: manifest.baseUrl,
      product: manifest.product,
      notes: manifest.notes ?? [],
      incompleteReasons: manifest.incompleteReasons ?? [],
      series,
    },
    folder,
    status: statusOf(manifest),
    reasons: manifest.reasons ?? [],
  };
}
