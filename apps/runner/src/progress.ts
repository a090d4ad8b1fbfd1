/**
 * What a source is doing while it works, on stderr (stdout stays for the summary or the JSON): a spinner
 * line that rewrites itself when stderr is a terminal (ora), plain throttled lines when it is not (a log
 * file, CI, a pipe). Log lines printed meanwhile clear the spinner first, so the two never interleave.
 */
import ora, { type Ora } from "ora";
import type { ProgressUpdate } from "@nq/core";

export interface ProgressReporter {
  update(source: string, update: ProgressUpdate): void;
  /** Prints a line on stderr without tearing the spinner. */
  line(text: string): void;
  /** Clears the spinner for good (before the summary, or on a signal). */
  stop(): void;
}

export interface ProgressOptions {
  /** Default: whether stderr is a terminal. */
  tty?: boolean;
  stream?: NodeJS.WritableStream;
  /** Plain mode: at most one line per this many ms (default 1000); the first update of a source is printed at once. */
  intervalMs?: number;
  now?: () => number;
}

export function describeProgress(source: string, update: ProgressUpdate): string {
  const parts = [`${source}: ${update.stage}`];
  if (update.done !== undefined) parts.push(update.total !== undefined ? `${update.done}/${update.total}` : `${update.done} done`);
  if (update.bytes !== undefined) parts.push(formatBytes(update.bytes));
  if (update.spendUsd !== undefined) parts.push(`$${update.spendUsd.toFixed(update.spendUsd > 0 && update.spendUsd < 0.01 ? 4 : 2)} spent`);
  return parts.join(" · ");
}

export function createProgressReporter(options: ProgressOptions = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean((stream as NodeJS.WriteStream).isTTY);
  if (tty) {
    let spinner: Ora | null = null;
    return {
      update(source, update) {
        const text = describeProgress(source, update);
        if (!spinner) spinner = ora({ text, stream, discardStdin: false, isEnabled: true }).start();
        else spinner.text = text;
      },
      line(text) {
        if (spinner?.isSpinning) {
          spinner.clear();
          stream.write(`${text}\n`);
          spinner.render();
        } else stream.write(`${text}\n`);
      },
      stop() {
        spinner?.stop();
        spinner = null;
      },
    };
  }
  const interval = options.intervalMs ?? 1000;
  const now = options.now ?? Date.now;
  const seen = new Set<string>();
  let last = -Infinity;
  let lastText = "";
  return {
    update(source, update) {
      const text = describeProgress(source, update);
      const t = now();
      const first = !seen.has(source);
      if ((first || t - last >= interval) && text !== lastText) {
        seen.add(source);
        last = t;
        lastText = text;
        stream.write(`[progress] ${text}\n`);
      }
    },
    line(text) {
      stream.write(`${text}\n`);
    },
    stop() {},
  };
}

/** "512 B", "2.0 KiB", "3.4 MiB", "1.25 GiB": progress lines keep one decimal so widths stay steady. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
