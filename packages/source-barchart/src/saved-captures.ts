/**
 * Saving raw responses and replaying them offline. A capture is saved as it came over the wire — each
 * series page's HTML and each quotes response's body, byte for byte — plus a manifest. Replay reads them
 * back and sends them through the same parsers as a live run, so a saved run is a faithful test input.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError } from "@nq/core";
import type { CapturedSeries, ChainCapture } from "./crawl.js";

const SOURCE = "barchart";
export const MANIFEST_FILE = "manifest.json";
const FORMAT = "nq-barchart-capture/1";

interface Manifest {
  format: typeof FORMAT;
  fetchedAt: string;
  baseUrl: string;
  product: string;
  notes: string[];
  series: { seriesCode: string; pageUrl: string; pageFile: string; quotesUrl: string; quotesFile: string }[];
}

/** Writes the capture to `<saveDir>/<time>-<product>/`; returns that folder. */
export async function saveCapture(saveDir: string, capture: ChainCapture): Promise<string> {
  const stamp = capture.fetchedAt.replace(/[:.]/g, "-");
  const folder = resolve(saveDir, `${stamp}-${capture.product}`);
  await mkdir(folder, { recursive: true });
  const manifest: Manifest = { format: FORMAT, fetchedAt: capture.fetchedAt, baseUrl: capture.baseUrl, product: capture.product, notes: capture.notes, series: [] };
  for (const [index, series] of capture.series.entries()) {
    const base = `${String(index + 1).padStart(2, "0")}-${series.seriesCode.replace(/[^A-Za-z0-9]/g, "_")}`;
    const pageFile = `${base}.page.html`;
    const quotesFile = `${base}.quotes.json`;
    await writeFile(join(folder, pageFile), series.pageHtml);
    await writeFile(join(folder, quotesFile), series.quotesBody);
    manifest.series.push({ seriesCode: series.seriesCode, pageUrl: series.pageUrl, pageFile, quotesUrl: series.quotesUrl, quotesFile });
  }
  // The manifest goes last: a folder without one is an interrupted save and is never replayed.
  await writeFile(join(folder, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return folder;
}

/** Reads a saved capture: `savedDir` is a capture folder, or a save_dir holding several (the latest is used). */
export async function readCapture(savedDir: string): Promise<{ capture: ChainCapture; folder: string }> {
  const folder = await findCaptureFolder(resolve(savedDir));
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
      quotesUrl: entry.quotesUrl,
      quotesBody: await read(entry.quotesFile),
    });
  }
  return {
    capture: { fetchedAt: manifest.fetchedAt, baseUrl: manifest.baseUrl, product: manifest.product, notes: manifest.notes ?? [], series },
    folder,
  };
}

async function findCaptureFolder(dir: string): Promise<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new ConfigError(SOURCE, `saved_dir ${dir} cannot be read: ${(error as Error).message}. Point it at a folder written by save_dir`, {
      cause: error,
      path: "saved_dir",
    });
  }
  if (entries.some((e) => e.isFile() && e.name === MANIFEST_FILE)) return dir;
  const captures: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const inner = await readdir(join(dir, entry.name)).catch(() => [] as string[]);
    if (inner.includes(MANIFEST_FILE)) captures.push(entry.name);
  }
  if (captures.length === 0) {
    throw new ConfigError(SOURCE, `saved_dir ${dir} holds no saved Barchart capture (no ${MANIFEST_FILE}); run once with save_dir set to create one`, {
      path: "saved_dir",
    });
  }
  // Folder names start with the ISO fetch time, so the last in order is the latest.
  return join(dir, captures.sort().at(-1)!);
}
