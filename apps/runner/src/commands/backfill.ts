/**
 * `nq-runner backfill --from D --to D --out DIR [--schemas a,b] [--max-cost USD] [--source KEY]`: history
 * in bulk through a source plugin's `backfill` export (Databento's batch jobs → verified DBN files → the
 * converter). The runner names no source: it takes `--source KEY` from the profile, or else the first
 * source in priority order whose plugin module exports `backfill`. The plugin writes a manifest in DIR
 * after every step, so running the same command again after Ctrl-C or a crash continues where it stopped.
 *
 * Progress (files, bytes, rate, ETA) goes to stderr — one rewritten line on a terminal, plain lines
 * otherwise; stdout holds the summary, or only JSON with --json. What was paid goes into the profile's
 * spend ledger, one record per batch job, as soon as it is paid (see ledgerWriter).
 *
 * Exit codes: 0 complete · 1 the backfill stopped on an error (a refused cost, an expired job, a wrong
 * hash…; the manifest says where) · 2 wrong flag, profile or config · 130/143 interrupted (manifest saved).
 */
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import {
  type BackfillCapability,
  type BackfillPayment,
  type BackfillProgress,
  type BackfillRunResult,
  ConfigError,
  createLogger,
  isSourceError,
  isSourceErrorOfKind,
  type LogEntry,
  parseSourceConfig,
  SpendLedger,
} from "@nq/core";
import { openSpendLedger } from "@nq/cache-sqlite";
import { importPluginModule, loadSourcePlugin } from "../plugin-loader.js";
import { EXIT, resolveProfilePath } from "../run.js";
import { ledgerPathFor, loadOpsProfile } from "./ops-profile.js";
import { convertToParquet } from "./backfill-convert.js";
import { formatBytes } from "../progress.js";

/** What the runner needs of a plugin's `backfill` export (the plugin's own types may say more). */
export interface BackfillFlags {
  profile?: string;
  config?: string;
  source?: string;
  from: string;
  to: string;
  schemas?: string[];
  out: string;
  maxCost?: number;
  resubmitExpired?: boolean;
  convert: boolean;
  json?: boolean;
  verbose?: boolean;
}

export interface BackfillSettings {
  profilesDir: string;
  cwd: string;
  signal: AbortSignal;
}

/** The source to backfill through: named by --source, or the first whose plugin exports `backfill`. */
export async function findBackfillSource(loaded: ReturnType<typeof loadOpsProfile>["loaded"], wanted: string | undefined): Promise<{ name: string; plugin: BackfillCapability; config: unknown }> {
  const { profile } = loaded;
  const names = wanted ? [wanted] : profile.data_source_priority;
  if (wanted && !profile.data_sources[wanted]) {
    throw new ConfigError("config", `--source ${wanted}: the profile ${loaded.path} has no such source (it has ${Object.keys(profile.data_sources).join(", ") || "none"})`, { path: "--source" });
  }
  const found: string[] = [];
  for (const name of names) {
    const entry = profile.data_sources[name]!;
    if (!wanted && !entry.enabled) {
      found.push(`${name} (${entry.plugin}): disabled in the profile`);
      continue;
    }
    const field = `data_sources.${name}.plugin`;
    const ref = { field, specifier: entry.plugin, baseDir: loaded.baseDir };
    const module = await importPluginModule(ref);
    const candidate = module.backfill as Partial<BackfillCapability> | undefined;
    if (typeof candidate !== "object" || candidate === null || typeof candidate.run !== "function") {
      found.push(`${name} (${entry.plugin}): no "backfill" export`);
      if (wanted) break;
      continue;
    }
    const definition = await loadSourcePlugin(ref);
    const config = parseSourceConfig(definition, name, entry.config, loaded.path);
    return { name, plugin: candidate as BackfillCapability, config };
  }
  throw new ConfigError(
    "config",
    `no source of the profile ${loaded.path} can backfill (a plugin offers it by exporting "backfill"):\n  - ${found.join("\n  - ") || "the profile lists no sources"}\nAdd a source whose plugin has one (e.g. "@nq/source-databento") or name it with --source`,
    { path: "--source" },
  );
}

export function backfillCommand(settings: BackfillSettings): Command {
  return new Command("backfill")
    .exitOverride()
    .showHelpAfterError()
    .description("bulk history through the profile's source that offers a backfill (Databento batch jobs): verified files on disk, then Parquet; rerun to continue after an interruption")
    .requiredOption("--from <date>", "first day, inclusive (YYYY-MM-DD, midnight UTC, or an ISO time with a zone)")
    .requiredOption("--to <date>", "end, exclusive (--from 2024-01-02 --to 2024-01-03 is one day)")
    .requiredOption("--out <dir>", "folder for the manifest, the downloaded files and the Parquet output")
    .option("--schemas <list>", "comma-separated schemas (default: the plugin's, e.g. definition,statistics)", (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean))
    .option("--max-cost <usd>", "most USD this run may spend on new jobs (default: the profile's run_cost_limit_usd)", parseUsd)
    .option("-s, --source <key>", "the profile's source to use (default: the first whose plugin exports a backfill)")
    .option("-p, --profile <name>", "the profile (default: default)")
    .option("-c, --config <file>", "a profile file of your own")
    .option("--resubmit-expired", "submit again (and pay again) a job that expired before its files were downloaded")
    .option("--no-convert", "stop at the verified DBN files (no Parquet)")
    .option("--json", "print only a JSON summary on stdout (progress stays on stderr)")
    .option("-v, --verbose", "print every log line, not only warnings")
    .addHelpText(
      "after",
      "\nThe manifest DIR/backfill-manifest.json records what was asked, the jobs, what was paid, the files (sha256, bytes) and the conversion; it is rewritten after every step.\nExit codes: 0 complete · 1 stopped on an error (the manifest says where; rerun to continue) · 2 wrong flag, profile or config · 130/143 interrupted (rerun to continue)",
    )
    .action(async (flags: BackfillFlags, command: Command) => {
      const outer = command.parent?.opts<{ profile?: string; config?: string; json?: boolean; verbose?: boolean }>() ?? {};
      const json = flags.json ?? outer.json ?? false;
      const verbose = flags.verbose ?? outer.verbose ?? false;
      const profilePath = resolve(settings.cwd, flags.config ?? outer.config ?? resolveProfilePath(flags.profile ?? outer.profile, settings.profilesDir, settings.cwd));
      const { loaded } = loadOpsProfile(profilePath, { dotenvFiles: [resolve(settings.cwd, ".env"), resolve(profilePath, "..", ".env")] });
      const { name, plugin, config } = await findBackfillSource(loaded, flags.source);
      const limit = flags.maxCost !== undefined ? { usd: flags.maxCost, name: "--max-cost" } : loaded.profile.run_cost_limit_usd !== undefined && loaded.profile.run_cost_limit_usd !== null ? { usd: loaded.profile.run_cost_limit_usd, name: `run_cost_limit_usd of ${loaded.path}` } : null;
      if (limit === null) {
        throw new ConfigError("config", `a backfill buys data, so it needs a limit: give --max-cost <usd>, or set "run_cost_limit_usd" in ${loaded.path}`, { path: "--max-cost" });
      }
      const progress = createBackfillProgress(process.stderr);
      const log = createLogger((entry: LogEntry) => {
        if (!verbose && (entry.level === "debug" || entry.level === "info")) return;
        progress.line(`[${entry.level}] ${name}: ${entry.message}`);
      }, name);
      const spend = new SpendLedger(null);
      const outDir = resolve(settings.cwd, flags.out);
      let outcome: BackfillRunResult;
      try {
        outcome = await plugin.run(config, {
          from: flags.from,
          to: flags.to,
          schemas: flags.schemas ?? [...(plugin.defaultSchemas ?? [])],
          outDir,
          maxCostUsd: limit.usd,
          limitName: limit.name,
          signal: settings.signal,
          log,
          spend,
          onPaid: ledgerWriter(loaded, name, (message) => progress.line(`[warn] ${message}`)),
          onProgress: (event) => progress.update(event),
          ...(flags.convert ? { convert: convertToParquet } : {}),
          ...(flags.resubmitExpired ? { resubmitExpired: true } : {}),
        });
      } catch (error) {
        progress.stop();
        const manifest = resolve(outDir, "backfill-manifest.json");
        if (settings.signal.aborted || isSourceErrorOfKind(error, "aborted")) {
          process.stderr.write(`backfill interrupted: partial run — the manifest ${manifest} says what is done; run the same command again to continue (nothing is bought or downloaded twice)\n`);
          // The signal handler has set 130 or 143 already.
          process.exitCode ??= EXIT.sigint;
          return;
        }
        if (isSourceError(error) && !isSourceErrorOfKind(error, "config")) {
          process.stderr.write(`error: ${error.message}\nbackfill stopped; the manifest ${manifest} says what is done. Run the same command again to continue\n`);
          process.exitCode = EXIT.noSource;
          return;
        }
        throw error;
      }
      progress.stop();
      const files = outcome.manifest.jobs.flatMap((j) => j.files ?? []);
      const summary = {
        source: name,
        manifest: outcome.manifestPath,
        status: outcome.manifest.status,
        jobs: outcome.manifest.jobs.map((j) => ({ schema: j.schema, jobId: j.jobId })),
        submitted: outcome.submitted,
        reused: outcome.reused,
        paidUsd: outcome.paidUsd,
        files: files.length,
        bytes: files.reduce((n, f) => n + f.size, 0),
        filesDownloaded: outcome.filesDownloaded,
        filesSkipped: outcome.filesSkipped,
        bytesFetched: outcome.bytesFetched,
        converted: outcome.converted,
      };
      if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        process.stdout.write(
          [
            `backfill ${summary.status} through ${name}: ${summary.files} file(s), ${formatBytes(summary.bytes)} on disk`,
            `  jobs: ${summary.jobs.map((j) => `${j.schema} ${j.jobId}`).join(", ")} (${summary.submitted} submitted, ${summary.reused} reused), paid $${summary.paidUsd.toFixed(4)} this run`,
            `  this run: ${summary.filesDownloaded} downloaded (${formatBytes(summary.bytesFetched)}), ${summary.filesSkipped} already verified${summary.converted ? ", converted to Parquet" : ""}`,
            `  manifest: ${summary.manifest}`,
            "",
          ].join("\n"),
        );
      }
    });
}

/**
 * The backfill's purchases go into the same ledger as runs', one record per batch job keyed by the job id,
 * written the moment the job is paid for or found — before the manifest is saved. A run killed at any
 * point therefore leaves no payment unrecorded (the rerun finds the job on Databento and reports it again)
 * and none recorded twice (the key is the job). Without an @nq/cache-sqlite cache there is no ledger: says
 * so once; the manifest keeps what was paid.
 */
function ledgerWriter(loaded: ReturnType<typeof loadOpsProfile>["loaded"], source: string, warn: (message: string) => void): (payment: BackfillPayment) => Promise<void> {
  const path = ledgerPathFor(loaded);
  let warned = false;
  return async (payment) => {
    if (!path) {
      if (!warned) warn(`the spend of this backfill's jobs is not recorded: the profile has no @nq/cache-sqlite cache, where the spend ledger lives (the manifest has it)`);
      warned = true;
      return;
    }
    const ledger = await openSpendLedger({ path });
    try {
      await ledger.recordRun(
        { runId: `backfill-job-${payment.jobId}`, profile: loaded.profile.profile_name, at: payment.at, ok: true, source, contracts: null, missingBidAskShare: null, zeroOpenInterestShare: null, spentUsd: payment.usd, estimatedUsd: payment.usd, tries: [] },
        { entries: [{ source: payment.source, what: payment.what, usd: payment.usd, at: payment.at, schema: payment.schema }] },
      );
    } finally {
      await ledger.close();
    }
  };
}

export interface BackfillProgressReporter {
  update(event: BackfillProgress): void;
  line(text: string): void;
  stop(): void;
}

/**
 * Files, bytes, rate and ETA on stderr. The rate counts only bytes that arrived in this run (files found
 * complete on disk would make it a lie); on a terminal one line rewrites itself, otherwise a plain line at
 * most every `intervalMs`.
 */
export function createBackfillProgress(stream: NodeJS.WritableStream, options: { tty?: boolean; intervalMs?: number; now?: () => number } = {}): BackfillProgressReporter {
  const tty = options.tty ?? Boolean((stream as NodeJS.WriteStream).isTTY);
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? (tty ? 200 : 2000);
  let start: { at: number; bytes: number } | null = null;
  let lastAt = -Infinity;
  let open = false;
  const clear = () => {
    if (tty && open) stream.write("\r\x1b[2K");
    open = false;
  };
  return {
    update(event) {
      if (event.phase !== "download") {
        clear();
        stream.write(`[backfill] ${event.phase === "job" ? `${event.schema}: job ${event.jobId} ${event.state}` : event.message}\n`);
        return;
      }
      const t = now();
      start ??= { at: t, bytes: event.bytesDone };
      const finished = event.filesDone === event.filesTotal;
      if (t - lastAt < intervalMs && !finished) return;
      lastAt = t;
      const text = describeDownload(event, start, t);
      if (tty) {
        stream.write(`\r\x1b[2K${text}`);
        open = true;
      } else stream.write(`${text}\n`);
    },
    line(text) {
      clear();
      stream.write(`${text}\n`);
    },
    stop() {
      if (tty && open) stream.write("\n");
      open = false;
    },
  };
}

export function describeDownload(event: Extract<BackfillProgress, { phase: "download" }>, start: { at: number; bytes: number }, now: number): string {
  const seconds = (now - start.at) / 1000;
  const arrived = event.bytesDone - start.bytes;
  const rate = seconds > 0.5 && arrived > 0 ? arrived / seconds : null;
  const left = event.bytesTotal - event.bytesDone;
  const eta = left <= 0 ? "done" : rate ? `ETA ${formatDuration(left / rate)}` : "ETA …";
  return `[backfill] ${event.filesDone}/${event.filesTotal} files · ${formatBytes(event.bytesDone)} of ${formatBytes(event.bytesTotal)} · ${rate ? `${formatBytes(rate)}/s` : "—/s"} · ${eta} · ${event.file}`;
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function parseUsd(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected an amount in USD such as 25 or 12.50, got "${value}"`);
  return n;
}
