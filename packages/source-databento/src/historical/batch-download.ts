/**
 * One batch file onto disk, whole and verified, or not at all under its name. Bytes go to `<name>.part`;
 * a cut connection (or a previous run's leftover `.part`) is resumed with `Range: bytes=<have>-<size-1>`;
 * when the size is reached the file's SHA-256 is compared with the one `batch.list_files` gave, and only a
 * match is fsynced and renamed to its final name. A mismatch throws the part away and downloads again,
 * up to the bound; then it is an error and no file is left. Like Databento's own client, a 429 waits for
 * Retry-After without counting as a failed try (but the waits are bounded too).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AbortedError, IncompleteDataError, InvalidRequestError, type Logger, RateLimitError, type SourceError, isSourceError } from "@nq/core";
import { abortableSleep } from "./abortable-sleep.js";
import type { BatchFile } from "./batch-client.js";
import type { HistoricalClient } from "./client.js";

export interface DownloadOptions {
  /** Tries after a cut connection or a wrong hash (Databento's client: 5). */
  maxRetries?: number;
  /** 429 answers waited out before giving up. */
  maxRateLimitWaits?: number;
  /** Pause before a retry after a failure (doubles each time). */
  retryDelayMs?: number;
  /** Bytes of this file on disk so far, as they arrive. */
  onBytes?: (have: number, size: number) => void;
  log: Logger;
  source: string;
  /** The base URL the key belongs to: a file URL on another origin would get the key, so it is refused. */
  baseUrl: string;
}

export interface DownloadedFile {
  path: string;
  bytes: number;
  sha256: string;
  /** True when a verified file was already there (nothing fetched). */
  alreadyThere: boolean;
  /** Bytes fetched over the network for it in this call. */
  fetchedBytes: number;
  /** Requests sent that resumed a partial file with Range. */
  resumedRequests: number;
}

export async function downloadBatchFile(client: HistoricalClient, file: BatchFile, dir: string, signal: AbortSignal, options: DownloadOptions): Promise<DownloadedFile> {
  const { log, source } = options;
  const maxRetries = options.maxRetries ?? 5;
  const maxRateLimitWaits = options.maxRateLimitWaits ?? 20;
  const finalPath = join(dir, file.filename);
  const partPath = `${finalPath}.part`;
  if (new URL(file.url).origin !== new URL(options.baseUrl).origin) {
    throw new InvalidRequestError(source, `the batch file ${file.filename} is offered at ${new URL(file.url).origin}, not at ${new URL(options.baseUrl).origin} (base_url): not sending the API key there`);
  }

  const existing = await sizeOf(finalPath);
  if (existing === file.size && (await sha256Of(finalPath)) === file.sha256) {
    return { path: finalPath, bytes: file.size, sha256: file.sha256, alreadyThere: true, fetchedBytes: 0, resumedRequests: 0 };
  }
  if (existing !== null) {
    // Something else under the final name (an older file of another job): replaced only once ours is verified.
    log.warn(`${finalPath} exists but is not the file Databento lists (size ${existing} vs ${file.size} or another hash); downloading it again`);
  }

  let failures = 0;
  let rateLimitWaits = 0;
  // Counted as bytes arrive, so the bytes of a cut attempt count too.
  const fetched = { bytes: 0 };
  let resumedRequests = 0;
  for (;;) {
    let have = (await sizeOf(partPath)) ?? 0;
    if (have > file.size) {
      await rm(partPath, { force: true });
      have = 0;
    }
    if (have < file.size) {
      try {
        if (have > 0) resumedRequests += 1;
        await fetchInto(client, file, partPath, have, signal, options.onBytes, source, fetched);
      } catch (error) {
        if (error instanceof AbortedError || !isSourceError(error)) throw error;
        if (error instanceof RateLimitError && rateLimitWaits < maxRateLimitWaits) {
          rateLimitWaits += 1;
          const waitMs = error.retryAfterMs ?? 1000;
          log.warn(`${file.filename}: rate limited, waiting ${waitMs} ms (Retry-After)`);
          await abortableSleep(waitMs, signal, source);
          continue;
        }
        if (!error.retryable) throw error;
        failures += 1;
        if (failures > maxRetries) throw giveUp(source, file, failures, error);
        const delayMs = (options.retryDelayMs ?? 500) * 2 ** (failures - 1);
        log.warn(`${file.filename}: ${error.message}; resuming from byte ${(await sizeOf(partPath)) ?? 0} in ${delayMs} ms (try ${failures + 1} of ${maxRetries + 1})`);
        await abortableSleep(delayMs, signal, source);
        continue;
      }
      have = (await sizeOf(partPath)) ?? 0;
      if (have < file.size) {
        // The body ended cleanly but short: a resumable cut like any other.
        failures += 1;
        if (failures > maxRetries) throw giveUp(source, file, failures, new IncompleteDataError(source, `the download ended at byte ${have} of ${file.size}`));
        continue;
      }
    }
    const sha256 = await sha256Of(partPath);
    if (sha256 === file.sha256) {
      await syncAndRename(partPath, finalPath);
      return { path: finalPath, bytes: file.size, sha256, alreadyThere: false, fetchedBytes: fetched.bytes, resumedRequests };
    }
    await rm(partPath, { force: true });
    failures += 1;
    log.warn(`${file.filename}: SHA-256 ${sha256} does not match ${file.sha256} listed by batch.list_files; the part file was deleted${failures > maxRetries ? "" : `, downloading again (try ${failures + 1} of ${maxRetries + 1})`}`);
    if (failures > maxRetries) {
      throw new IncompleteDataError(
        source,
        `${file.filename} failed its SHA-256 check ${countOf(failures)} (expected ${file.sha256}, last got ${sha256}); nothing was kept under ${finalPath}. The file on Databento's side or the connection corrupts it: try again later`,
        { details: { file: file.filename, expected: file.sha256, got: sha256, tries: failures } },
      );
    }
  }
}

/** Appends the missing bytes (or, when the server ignores Range, writes the whole body afresh). */
async function fetchInto(
  client: HistoricalClient,
  file: BatchFile,
  partPath: string,
  have: number,
  signal: AbortSignal,
  onBytes: DownloadOptions["onBytes"],
  source: string,
  fetched: { bytes: number },
): Promise<void> {
  const resumed = have > 0;
  const headers: Record<string, string> = resumed ? { range: `bytes=${have}-${file.size - 1}` } : {};
  const response = await client.getFile(file.url, headers, signal);
  let offset = have;
  if (resumed && response.status !== 206) {
    offset = 0; // a full body: start over
  } else if (resumed) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
    if (!range || Number(range[1]) !== have) {
      for await (const _ of response.chunks) break; // release the connection
      throw new IncompleteDataError(source, `${file.filename}: asked for bytes from ${have}, got Content-Range ${JSON.stringify(response.headers.get("content-range"))}`);
    }
  }
  const handle = await open(partPath, offset === 0 ? "w" : "r+");
  try {
    for await (const chunk of response.chunks) {
      await handle.write(chunk, 0, chunk.byteLength, offset);
      offset += chunk.byteLength;
      fetched.bytes += chunk.byteLength;
      onBytes?.(offset, file.size);
    }
  } finally {
    await handle.truncate(offset).catch(() => {});
    await handle.close();
  }
}

async function syncAndRename(partPath: string, finalPath: string): Promise<void> {
  const handle = await open(partPath, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partPath, finalPath);
  // The rename itself survives a crash only once the folder is synced (not possible on every platform).
  const folder = await open(dirname(finalPath), "r").catch(() => null);
  if (folder) {
    await folder.sync().catch(() => {});
    await folder.close();
  }
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return null;
    throw error;
  }
}

function giveUp(source: string, file: BatchFile, failures: number, error: SourceError): IncompleteDataError {
  return new IncompleteDataError(
    source,
    `${file.filename}: the download failed ${countOf(failures)} (last: ${error.message}); what arrived is kept in ${file.filename}.part and the next run resumes it`,
    { cause: error, details: { file: file.filename, tries: failures } },
  );
}

function countOf(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}
