/**
 * `nq-runner watch --live` — keeps an NQ options chain current from Databento's Live gateway: connects,
 * replays from the Globex session's open, writes the chain (JSON and CSV, fixed names, replaced
 * atomically) when the replay completes, then again every `--interval` seconds and right after each
 * reconnect, until Ctrl-C or `--duration`. Each write prints records/s, lag (ts_recv → now) and reconnects;
 * `<stem>.status.json` beside the chain carries the same figures.
 */
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import {
  ConfigError,
  createLogger,
  loadProfile,
  normalizeChain,
  parseSourceConfigs,
  toChainRequest,
  type LogEntry,
  type OptionsChain,
  type SourceDefinition,
} from "@nq/core";
import { createLiveChain, resolveApiKey, toChainQuery, type LiveChainStats } from "@nq/source-databento";
import { chainJsonChunks, csvChunks, writeAtomically } from "../outputs.js";
import { loadSourcePlugin } from "../plugin-loader.js";
import { resolveProfilePath } from "../run.js";

export interface WatchOptions {
  profilePath: string;
  cwd?: string;
  outDir?: string;
  /** The profile's source to watch (default: the first Databento source in its priority list). */
  source?: string;
  intervalMs?: number;
  /** Stop after this long (default: until the signal aborts). */
  durationMs?: number;
  request?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onLog?: (entry: LogEntry) => void;
  /** One line per write (the CLI prints it). */
  onUpdate?: (update: WatchUpdate) => void;
  /** The clock the replay start and lag are measured against (tests: the local gateway's). */
  now?: () => Date;
}

export interface WatchUpdate {
  reason: "replay" | "interval" | "reconnect" | "final";
  asOf: string;
  contracts: number;
  complete: boolean;
  stats: LiveChainStats;
  files: { json: string; csv: string; status: string };
}

export interface WatchSummary {
  source: string;
  writes: number;
  writesAfterReconnect: number;
  records: number;
  recordsPerSecond: number;
  lagMs: number | null;
  reconnects: number;
  duplicatesDropped: number;
  files: { json: string; csv: string; status: string } | null;
  error: string | null;
}

export async function runWatch(options: WatchOptions): Promise<WatchSummary> {
  const cwd = options.cwd ?? process.cwd();
  const now = options.now ?? (() => new Date());
  const log = createLogger(options.onLog ?? (() => {}));
  const profilePath = resolve(cwd, options.profilePath);
  const loaded = loadProfile(profilePath, { env: options.env ?? process.env, dotenvFiles: [resolve(cwd, ".env"), resolve(profilePath, "..", ".env")] });
  const { profile } = loaded;
  const name = options.source ?? profile.data_source_priority.find((n) => profile.data_sources[n]?.plugin === "@nq/source-databento");
  const entry = name ? profile.data_sources[name] : undefined;
  if (!name || !entry) throw new ConfigError("config", `watch --live needs a Databento source in ${loaded.path} (plugin "@nq/source-databento")`, { path: "data_sources" });
  const definition: SourceDefinition<unknown> = await loadSourcePlugin({ field: `data_sources.${name}.plugin`, specifier: entry.plugin, baseDir: loaded.baseDir });
  if (definition.name !== "databento") throw new ConfigError("config", `watch --live works with @nq/source-databento; data_sources.${name} is ${entry.plugin}`, { path: `data_sources.${name}.plugin` });
  if (loaded.missingVariables[name]?.length) {
    throw new ConfigError("config", `data_sources.${name} needs ${loaded.missingVariables[name]!.map((v) => `$${v}`).join(", ")}, which is not set`, { path: `data_sources.${name}.config` });
  }
  const config = { ...(parseSourceConfigs(loaded, { [name]: definition })[name] as Parameters<typeof toChainQuery>[1]), mode: "live" as const };
  const apiKey = resolveApiKey(config);
  const request = toChainRequest(profile, options.request);
  const query = toChainQuery(request, config, name);
  const outDir = options.outDir ? resolve(cwd, options.outDir) : resolve(loaded.baseDir, profile.output.dir);
  const stem = `${request.product.toLowerCase()}-${name}${config.sample ? "-sample" : ""}-live`;
  const files = { json: resolve(outDir, `${stem}.chain.json`), csv: resolve(outDir, `${stem}.csv`), status: resolve(outDir, `${stem}.status.json`) };
  const chain = createLiveChain(config, apiKey, query, { log: log.child(name), now }, name);
  const summary: WatchSummary = { source: name, writes: 0, writesAfterReconnect: 0, records: 0, recordsPerSecond: 0, lagMs: null, reconnects: 0, duplicatesDropped: 0, files: null, error: null };
  chain.client.on("warning", (message) => log.warn(message));
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = options.durationMs !== undefined ? setTimeout(() => stop.abort(), options.durationMs) : null;

  const write = async (reason: WatchUpdate["reason"]) => {
    const result = chain.snapshot(query.filters);
    const normalized: OptionsChain = normalizeChain(result, {
      source: name,
      capabilities: definition.capabilities,
      request,
      fetchedAt: now(),
      staleQuoteThresholdMs: profile.quality.stale_quote_minutes * 60_000,
      maxMissingBidAskShare: profile.quality.max_missing_bid_ask_share,
    });
    const metadata = { ...normalized.metadata, request };
    await writeAtomically(files.json, () => chainJsonChunks({ ...normalized, metadata }));
    await writeAtomically(files.csv, () => csvChunks(normalized.contracts));
    const stats = chain.measure();
    const update: WatchUpdate = { reason, asOf: normalized.metadata.asOf, contracts: normalized.contracts.length, complete: normalized.metadata.complete, stats, files };
    await writeAtomically(files.status, () => [`${JSON.stringify({ ...update, writtenAt: now().toISOString() }, null, 2)}\n`]);
    summary.writes += 1;
    if (reason === "reconnect") summary.writesAfterReconnect += 1;
    summary.files = files;
    Object.assign(summary, { records: stats.records, recordsPerSecond: stats.recordsPerSecond, lagMs: stats.lagMs, reconnects: stats.reconnects, duplicatesDropped: stats.duplicatesDropped });
    options.onUpdate?.(update);
  };

  try {
    await mkdir(outDir, { recursive: true });
    await chain.start();
    await chain.replayCompleted(stop.signal);
    await write("replay");
    for await (const { reason } of chain.snapshots(options.intervalMs ?? 5000, query.filters, stop.signal)) await write(reason);
    // The stream ended by itself (not by the user): that is a failure worth its message.
    if (!stop.signal.aborted) await chain.done();
  } catch (error) {
    if (!stop.signal.aborted) {
      summary.error = error instanceof Error ? error.message : String(error);
      log.error(summary.error);
    }
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    await chain.close();
  }
  if (summary.writes > 0 && !summary.error) await write("final").catch(() => undefined);
  return summary;
}

/** One status line: what was written and how the stream is doing. */
export function formatUpdate(update: WatchUpdate): string {
  const s = update.stats;
  const lag = s.lagMs === null ? "n/a" : `${(s.lagMs / 1000).toFixed(1)} s`;
  return `[${update.reason}] ${update.contracts} contracts as of ${update.asOf}${update.complete ? "" : " (INCOMPLETE)"} · ${Math.round(s.recordsPerSecond).toLocaleString("en-US")} records/s · lag ${lag} · reconnects ${s.reconnects} · ${s.records.toLocaleString("en-US")} records`;
}

/** Adds `watch` to the CLI: `nq-runner watch --live [--profile …] [--interval 5]`. */
export function registerWatchCommand(program: Command, context: { profilesDir: string; cwd: string; signal: AbortSignal }): void {
  program
    .command("watch")
    .description("keep the chain current from Databento's Live gateway: replay from the session's open, then rewrite the outputs every --interval seconds and after each reconnect")
    .requiredOption("--live", "stream from the Live gateway (the only watch mode)")
    .option("-p, --profile <name>", "profile with a Databento source (default: default)")
    .option("-c, --config <file>", "a profile file of your own")
    .option("-s, --source <name>", "the profile's Databento source to watch")
    .option("-o, --out <dir>", "output folder (default: the profile's output.dir)")
    .option("--interval <seconds>", "seconds between writes (default 5)", (v) => positiveNumber(v, "--interval"))
    .option("--duration <seconds>", "stop after this long (default: until Ctrl-C)", (v) => positiveNumber(v, "--duration"))
    .option("--json", "print the final summary as JSON")
    .action(async (flags: { profile?: string; config?: string; source?: string; out?: string; interval?: number; duration?: number; json?: boolean }) => {
      const outer = program.opts<{ profile?: string; config?: string }>();
      const config = flags.config ?? outer.config;
      const profilePath = config ?? resolveProfilePath(flags.profile ?? outer.profile, context.profilesDir, context.cwd);
      const summary = await runWatch({
        profilePath,
        cwd: context.cwd,
        ...(flags.out ? { outDir: flags.out } : {}),
        ...(flags.source ? { source: flags.source } : {}),
        intervalMs: (flags.interval ?? 5) * 1000,
        ...(flags.duration !== undefined ? { durationMs: flags.duration * 1000 } : {}),
        signal: context.signal,
        onLog: (entry) => {
          if (entry.level === "warn" || entry.level === "error") process.stderr.write(`[${entry.level}] ${entry.message}\n`);
        },
        onUpdate: (update) => process.stderr.write(`${formatUpdate(update)}\n`),
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else
        process.stdout.write(
          `watched ${summary.source}: ${summary.writes} writes (${summary.writesAfterReconnect} after a reconnect), ${summary.records.toLocaleString("en-US")} records, ${summary.reconnects} reconnects${summary.files ? `\n  ${summary.files.json}\n  ${summary.files.csv}` : ""}\n`,
        );
      if (summary.error) {
        process.stderr.write(`error: ${summary.error}\n`);
        process.exitCode = 1;
      }
    });
}

function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag}: expected a positive number of seconds, got "${value}"`);
  return n;
}
