/**
 * `nq-runner watch` — without `--live`, `runScheduledWatch` runs the profile on a schedule (below);
 * `nq-runner watch --live` — keeps an NQ options chain current from Databento's Live gateway: connects,
 * replays from the Globex session's open, writes the chain (JSON and CSV, fixed names, replaced
 * atomically) when the replay completes, then again every `--interval` seconds and right after each
 * reconnect, until Ctrl-C or `--duration`. Each write prints records/s, lag (ts_recv → now) and reconnects;
 * `<stem>.status.json` beside the chain carries the same figures.
 */
import { appendFile, mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import {
  ConfigError,
  createLogger,
  isSourceErrorOfKind,
  loadProfile,
  normalizeChain,
  parseSourceConfigs,
  toChainRequest,
  type LogEntry,
  type OptionsChain,
  type SourceDefinition,
} from "@nq/core";
import { createLiveChain, resolveApiKey, toChainQuery, type LiveChainStats } from "@nq/source-databento";
import { chainJsonChunks, csvChunks, removeActiveTemporaries, writeAtomically } from "../outputs.js";
import { loadSourcePlugin } from "../plugin-loader.js";
import { EXIT, resolveProfilePath, runProfile, type RunnerOptions, type RunnerOutcome } from "../run.js";
import { loadOpsProfile } from "./ops-profile.js";
import {
  backoffMs,
  createTicker,
  describeWindow,
  orderSources,
  selectWindow,
  systemClock,
  validateWindows,
  type WatchClock,
  type WatchSection,
  type WatchWindow,
} from "./schedule.js";

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

export interface ScheduledWatchOptions {
  profilePath: string;
  cwd?: string;
  outDir?: string;
  /** Seconds between runs, in ms (default: the profile's `watch.interval_seconds`). */
  intervalMs?: number;
  /** A cron expression in America/Chicago (default: the profile's `watch.cron`). */
  cron?: string;
  /** The longest wait after failed runs in a row (default: `watch.max_backoff_seconds`, else 30 min). */
  maxBackoffMs?: number;
  /** Only this source in every run (no windows, no fallback). */
  source?: string;
  /** Stop after this many runs (default: until `signal`). */
  maxRuns?: number;
  useCache?: boolean;
  html?: boolean;
  /** false: runs do not append their chains to history (`--no-history`); default: every run's chain is appended. */
  history?: boolean;
  env?: NodeJS.ProcessEnv;
  /** The clock the schedule, the windows and the runs go by (tests: a simulated one). */
  clock?: WatchClock;
  /** Stops the watch after the current run (a sleep ends at once). */
  signal?: AbortSignal;
  /** Aborts the run in progress too (the second Ctrl-C). */
  runSignal?: AbortSignal;
  onLog?: (entry: LogEntry) => void;
  /** Every run's history record, once written. */
  onRun?: (record: WatchRecord) => void;
  /** One run of the profile (default `runProfile`; tests wrap it). */
  run?: (options: RunnerOptions) => Promise<RunnerOutcome>;
}

/** One line of `watch-history.jsonl`. */
export interface WatchRecord {
  run: number;
  /** When the run started (the tick), and when it ended. */
  time: string;
  finishedAt: string;
  durationMs: number;
  /** The window that applied (null: no windows in the profile). */
  window: string | null;
  /** The sources this run tried, in order. */
  sources: string[];
  /** The source that answered (null: none). */
  source: string | null;
  substituted: boolean;
  ok: boolean;
  exitCode: number;
  asOf: string | null;
  outputs: { json: string; csv: string; html?: string | null } | null;
  error: string | null;
  /** Ticks that came while this run was still going (skipped, never overlapped). */
  skippedTicks: number;
  consecutiveFailures: number;
  nextRunAt: string | null;
}

export interface ScheduledWatchSummary {
  runs: number;
  failedRuns: number;
  skippedTicks: number;
  stoppedBy: "signal" | "max-runs";
  history: string;
  schedule: string;
}

const DEFAULT_MAX_BACKOFF_MS = 30 * 60_000;
const MAX_TICKS_COUNTED = 100_000;

/**
 * Runs the profile on a schedule, never two runs at once: a tick that comes while a run is going is skipped
 * (and logged). Each run tries the sources of the window that applies (in profile order), writes its chain
 * as every run does, and appends a record to `<out>/watch-history.jsonl`. After failed runs in a row the wait
 * doubles per failure up to a cap; a run that writes a chain resets it. `signal` stops it after the current run.
 */
export async function runScheduledWatch(options: ScheduledWatchOptions): Promise<ScheduledWatchSummary> {
  const cwd = options.cwd ?? process.cwd();
  const clock = options.clock ?? systemClock;
  const log = createLogger(options.onLog ?? (() => {}));
  const run = options.run ?? runProfile;
  const profilePath = resolve(cwd, options.profilePath);
  const env = options.env ?? process.env;
  const { loaded } = loadOpsProfile(profilePath, { env, dotenvFiles: [resolve(cwd, ".env"), resolve(profilePath, "..", ".env")] });
  const { profile } = loaded;
  const section: WatchSection = (profile as { watch?: WatchSection }).watch ?? {};
  if (options.source !== undefined && !Object.hasOwn(profile.data_sources, options.source)) {
    throw new ConfigError("config", `--source ${options.source}: no such source in ${loaded.path} (known: ${Object.keys(profile.data_sources).join(", ")})`, { path: "data_sources" });
  }
  const windows: WatchWindow[] = options.source !== undefined ? [] : (section.windows ?? []);
  validateWindows(windows, profile.data_sources, loaded.path);
  const fromFlags = options.intervalMs !== undefined || options.cron !== undefined;
  const intervalMs = fromFlags ? options.intervalMs : section.interval_seconds !== undefined ? section.interval_seconds * 1000 : undefined;
  const cron = fromFlags ? options.cron : section.cron;
  if (intervalMs !== undefined && cron !== undefined) throw new ConfigError("config", "watch: give an interval or a cron expression, not both", { path: "watch" });
  const ticker = createTicker({ ...(intervalMs !== undefined ? { intervalMs } : {}), ...(cron !== undefined ? { cron } : {}) }, clock.now());
  const capMs = options.maxBackoffMs ?? (section.max_backoff_seconds !== undefined ? section.max_backoff_seconds * 1000 : DEFAULT_MAX_BACKOFF_MS);
  const outDir = options.outDir ? resolve(cwd, options.outDir) : resolve(loaded.baseDir, profile.output.dir);
  const history = resolve(outDir, "watch-history.jsonl");
  const stop = options.signal;
  const summary: ScheduledWatchSummary = { runs: 0, failedRuns: 0, skippedTicks: 0, stoppedBy: "signal", history, schedule: ticker.description };
  let failures = 0;
  // An interval runs at once; a cron expression at its next time.
  let tick = intervalMs !== undefined ? clock.now() : ticker.next(clock.now());
  log.info(`watch: ${ticker.description}${windows.length ? `, ${windows.length} window(s)` : ""}; history in ${history}`);

  while (!stop?.aborted) {
    for (let now = clock.now(); now.getTime() < tick.getTime() && !stop?.aborted; now = clock.now()) await clock.sleep(tick.getTime() - now.getTime(), stop);
    if (stop?.aborted) break;
    const start = clock.now();
    const selected = windows.length ? selectWindow(windows, start) : null;
    if (windows.length && !selected) {
      tick = ticker.next(start);
      log.info(`watch: no window applies at ${start.toISOString()}; next tick ${tick.toISOString()}`);
      continue;
    }
    const sources = options.source !== undefined ? [options.source] : selected ? orderSources(selected.window.sources, profile.data_source_priority) : [...profile.data_source_priority];
    summary.runs += 1;
    let outcome: RunnerOutcome | null = null;
    let error: string | null = null;
    let exitCode: number;
    try {
      outcome = await runNarrowed(run, {
        profilePath,
        cwd,
        ...(options.outDir ? { outDir } : {}),
        ...(options.useCache !== undefined ? { useCache: options.useCache } : {}),
        ...(options.html !== undefined ? { html: options.html } : {}),
        ...(options.history !== undefined ? { history: options.history } : {}),
        env,
        ...(options.runSignal ? { signal: options.runSignal } : {}),
        ...(options.onLog ? { onLog: options.onLog } : {}),
        now: () => clock.now(),
      }, { sources, force: options.source, priority: profile.data_source_priority });
      exitCode = outcome.exitCode;
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
      exitCode = isSourceErrorOfKind(caught, "config") ? EXIT.usage : EXIT.noSource;
      log.error(`watch: run ${summary.runs} failed: ${error}`);
    }
    const end = clock.now();
    const failed = exitCode !== EXIT.ok && exitCode !== EXIT.alert;
    failures = failed ? failures + 1 : 0;
    if (failed) summary.failedRuns += 1;
    // Ticks that came while the run was going: skipped, never run alongside it.
    let next = ticker.next(tick.getTime() > start.getTime() ? tick : start);
    let skipped = 0;
    while (next.getTime() <= end.getTime() && skipped < MAX_TICKS_COUNTED) {
      skipped += 1;
      next = ticker.next(next);
    }
    if (skipped > 0) {
      summary.skippedTicks += skipped;
      log.warn(`watch: skipped ${skipped} tick(s): run ${summary.runs} (started ${start.toISOString()}) was still going until ${end.toISOString()}`);
    }
    if (failures > 0) {
      const earliest = start.getTime() + backoffMs(ticker.gapAfter(start), failures, capMs);
      for (let i = 0; next.getTime() < earliest && i < MAX_TICKS_COUNTED; i += 1) next = ticker.next(next);
      if (failures > 1) log.warn(`watch: ${failures} failed runs in a row; backing off, next run ${next.toISOString()}`);
    }
    tick = next;
    const result = outcome?.summary;
    const record: WatchRecord = {
      run: summary.runs,
      time: start.toISOString(),
      finishedAt: end.toISOString(),
      durationMs: end.getTime() - start.getTime(),
      window: selected ? describeWindow(selected.window) : null,
      sources,
      source: result?.source ?? null,
      substituted: result?.substituted ?? false,
      ok: !failed,
      exitCode,
      asOf: result?.chain?.metadata.asOf ?? null,
      outputs: result?.outputs ? { json: result.outputs.json, csv: result.outputs.csv, ...(result.outputs.html !== undefined ? { html: result.outputs.html } : {}) } : null,
      error: error ?? (result && !result.ok ? (result.attempts.map((a) => `${a.source}: ${a.reason ?? a.outcome}`).join("; ") || "no source answered") : (result?.outputError?.message ?? null)),
      skippedTicks: skipped,
      consecutiveFailures: failures,
      nextRunAt: options.maxRuns !== undefined && summary.runs >= options.maxRuns ? null : next.toISOString(),
    };
    try {
      await mkdir(outDir, { recursive: true });
      await appendFile(history, `${JSON.stringify(record)}\n`);
    } catch (caught) {
      log.warn(`watch: could not append to ${history}: ${caught instanceof Error ? caught.message : String(caught)}`);
    }
    options.onRun?.(record);
    if (options.maxRuns !== undefined && summary.runs >= options.maxRuns) {
      summary.stoppedBy = "max-runs";
      break;
    }
  }
  return summary;
}

/** One run with the priority list narrowed to `sources` (nothing narrowed when they are the profile's own list). */
async function runNarrowed(
  run: (options: RunnerOptions) => Promise<RunnerOutcome>,
  base: RunnerOptions,
  narrow: { sources: string[]; force: string | undefined; priority: readonly string[] },
): Promise<RunnerOutcome> {
  if (narrow.force !== undefined) return run({ ...base, forceSource: narrow.force });
  if (narrow.sources.length === narrow.priority.length && narrow.sources.every((name, i) => narrow.priority[i] === name)) return run(base);
  return run({ ...base, sources: narrow.sources });
}

/** The heartbeat: one line per run on stderr. */
export function formatHeartbeat(record: WatchRecord): string {
  const answered = record.source ? `${record.source}${record.substituted ? " (substituted)" : ""}` : "none";
  const status = record.ok ? `ok (exit ${record.exitCode})` : `FAILED (exit ${record.exitCode}${record.consecutiveFailures > 1 ? `, ${record.consecutiveFailures} in a row` : ""})`;
  return `[watch] ${record.time} run ${record.run}${record.window ? ` · window "${record.window}"` : ""} · sources ${record.sources.join(",")} → ${answered} · ${status} · ${(record.durationMs / 1000).toFixed(1)} s${record.skippedTicks ? ` · ${record.skippedTicks} tick(s) skipped` : ""}${record.nextRunAt ? ` · next ${record.nextRunAt}` : ""}`;
}

/** One status line: what was written and how the stream is doing. */
export function formatUpdate(update: WatchUpdate): string {
  const s = update.stats;
  const lag = s.lagMs === null ? "n/a" : `${(s.lagMs / 1000).toFixed(1)} s`;
  return `[${update.reason}] ${update.contracts} contracts as of ${update.asOf}${update.complete ? "" : " (INCOMPLETE)"} · ${Math.round(s.recordsPerSecond).toLocaleString("en-US")} records/s · lag ${lag} · reconnects ${s.reconnects} · ${s.records.toLocaleString("en-US")} records`;
}

/** Adds `watch` to the CLI: `nq-runner watch [--interval 300 | --cron "…"]` and `nq-runner watch --live`. */
export function registerWatchCommand(program: Command, context: { profilesDir: string; cwd: string; signal: AbortSignal }): void {
  program
    .command("watch")
    .description(
      "run the profile on a schedule (--interval or --cron, or the profile's \"watch\" section, with its CME session windows of sources), never two runs at once; or, with --live, keep the chain current from Databento's Live gateway",
    )
    .option("--live", "stream from Databento's Live gateway instead of running the profile on a schedule")
    .option("-p, --profile <name>", "profile (default: default)")
    .option("-c, --config <file>", "a profile file of your own")
    .option("-s, --source <name>", "only this source of the profile (no windows, no fallback); with --live: the Databento source to watch")
    .option("-o, --out <dir>", "output folder (default: the profile's output.dir)")
    .option("--interval <seconds>", "seconds between runs (default: watch.interval_seconds); with --live: between writes (default 5)", (v) => positiveNumber(v, "--interval"))
    .option("--cron <expr>", "run at the times of a cron expression, America/Chicago (default: watch.cron)")
    .option("--max-backoff <seconds>", "longest wait after failed runs in a row (default: watch.max_backoff_seconds, else 1800)", (v) => positiveNumber(v, "--max-backoff"))
    .option("--runs <n>", "stop after this many runs (default: until Ctrl-C or SIGTERM)", (v) => positiveNumber(v, "--runs"))
    .option("--duration <seconds>", "with --live: stop after this long (default: until Ctrl-C)", (v) => positiveNumber(v, "--duration"))
    .option("--no-cache", "neither read nor write the cache")
    .option("--no-html", "do not write the chain page")
    .option("--no-history", "do not append each run's chain to the profile's history store")
    .option("--json", "one JSON line per run on stdout (its watch-history.jsonl record); with --live: the final summary as JSON")
    .addHelpText(
      "after",
      `
Without --live: each run writes its chain and appends a line to <out>/watch-history.jsonl (time, window,
sources, the source that answered, outputs, exit code); a heartbeat line per run goes to stderr. A tick that
comes while a run is still going is skipped and logged. After failed runs in a row the wait doubles per
failure, up to --max-backoff; a run that writes a chain resets it. SIGINT/SIGTERM stop after the current run
(exit 0, a "stopped" line); a second signal exits at once (130/143).

Profile section, e.g. (times America/Chicago; "trading": CME trade dates, holidays excluded):
  "watch": { "interval_seconds": 300, "windows": [
    { "sources": ["databento"], "from": "08:30", "to": "15:15", "days": "trading" },
    { "sources": ["barchart"], "otherwise": true } ] }`,
    )
    .action(async (flags: WatchFlags) => {
      const outer = program.opts<{ profile?: string; config?: string }>();
      const config = flags.config ?? outer.config;
      const profilePath = config ?? resolveProfilePath(flags.profile ?? outer.profile, context.profilesDir, context.cwd);
      if (flags.live) return liveAction(flags, profilePath, context);
      await scheduledAction(flags, profilePath, context.cwd);
    });
}

interface WatchFlags {
  live?: boolean;
  profile?: string;
  config?: string;
  source?: string;
  out?: string;
  interval?: number;
  cron?: string;
  maxBackoff?: number;
  runs?: number;
  duration?: number;
  cache: boolean;
  html: boolean;
  history: boolean;
  json?: boolean;
}

async function liveAction(flags: WatchFlags, profilePath: string, context: { cwd: string; signal: AbortSignal }): Promise<void> {
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
}

/**
 * The scheduled watch in the CLI: the program's own SIGINT/SIGTERM handlers (abort the run, exit 130/143) are
 * set aside while it runs, so the first signal stops the watch after the current run and the second exits at once.
 */
async function scheduledAction(flags: WatchFlags, profilePath: string, cwd: string): Promise<void> {
  if (flags.interval !== undefined && flags.cron !== undefined) throw new InvalidArgumentError("--interval and --cron: give one of them");
  const soft = new AbortController();
  const hard = new AbortController();
  let received: NodeJS.Signals | null = null;
  const saved = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      hard.abort(new Error(`interrupted by ${signal}`));
      removeActiveTemporaries();
      process.stderr.write(`\n[watch] ${signal} again: exiting now\n`);
      process.exit(signal === "SIGINT" ? EXIT.sigint : EXIT.sigterm);
    }
    received = signal;
    process.stderr.write(`\n[watch] ${signal}: stopping after the current run (send it again to exit at once)\n`);
    soft.abort();
  };
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(name);
    process.on(name, onSignal);
  }
  try {
    const summary = await runScheduledWatch({
      profilePath,
      cwd,
      ...(flags.out ? { outDir: flags.out } : {}),
      ...(flags.source ? { source: flags.source } : {}),
      ...(flags.interval !== undefined ? { intervalMs: flags.interval * 1000 } : {}),
      ...(flags.cron !== undefined ? { cron: flags.cron } : {}),
      ...(flags.maxBackoff !== undefined ? { maxBackoffMs: flags.maxBackoff * 1000 } : {}),
      ...(flags.runs !== undefined ? { maxRuns: Math.ceil(flags.runs) } : {}),
      useCache: flags.cache,
      html: flags.html,
      history: flags.history,
      signal: soft.signal,
      runSignal: hard.signal,
      onLog: (entry) => {
        if (entry.level === "warn" || entry.level === "error" || entry.message.startsWith("watch:")) {
          const prefix = entry.source && !entry.message.startsWith(`${entry.source}:`) ? ` ${entry.source}:` : "";
          process.stderr.write(`[${entry.level}]${prefix} ${entry.message}\n`);
        }
      },
      onRun: (record) => {
        process.stderr.write(`${formatHeartbeat(record)}\n`);
        if (flags.json) process.stdout.write(`${JSON.stringify(record)}\n`);
      },
    });
    const why = summary.stoppedBy === "signal" ? `by ${received ?? "signal"}` : `after --runs ${summary.runs}`;
    process.stderr.write(`[watch] stopped ${why}: ${summary.runs} run(s), ${summary.failedRuns} failed, ${summary.skippedTicks} tick(s) skipped; history ${summary.history}\n`);
    process.exitCode = EXIT.ok;
  } finally {
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      process.removeListener(name, onSignal);
      for (const listener of saved[name]) process.on(name, listener as (signal: NodeJS.Signals) => void);
    }
  }
}

function positiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag}: expected a positive number of seconds, got "${value}"`);
  return n;
}
