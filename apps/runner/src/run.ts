/**
 * One run: profile → plugins → registry (+ cache) → outputs → summary. Everything that can be wrong with
 * the configuration is found before any source is contacted or any file is written: a bad profile never
 * leaves a half-made output folder behind.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import {
  ConfigError,
  createLogger,
  isSourceErrorOfKind,
  parseSourceConfigs,
  runSources,
  SpendLedger,
  toChainRequest,
  type CacheDefinition,
  type ChainRequest,
  type LoadedProfile,
  type LogEntry,
  type ManagedChainCache,
  type ProgressUpdate,
  type RegistryEntry,
  type Source,
  type SourceDefinition,
} from "@nq/core";
import { afterRun } from "./commands/after-run.js";
import { ledgerPathFor, loadOpsProfile } from "./commands/ops-profile.js";
import { OutputError, removeStaleTemporaries, writeChainOutputs, type WrittenOutputs } from "./outputs.js";
import { loadCachePlugin, loadSourcePlugin } from "./plugin-loader.js";
import { loadHistoryDefinition, recordChainInHistory } from "./run-history.js";
import { noticesFor, type RunSummary, type SourceSpend } from "./summary.js";

export interface RunnerOptions {
  profilePath: string;
  /** Output folder; relative to `cwd`. Default: the profile's `output.dir`, relative to the profile. */
  outDir?: string;
  /** Use only this source (by its key in `data_sources`). */
  forceSource?: string;
  /**
   * Try these sources, in this order, instead of the profile's `data_source_priority` (keys of
   * `data_sources`; disabled ones are still skipped; the profile's fallback policy applies). How `watch`
   * runs a schedule window's sources. `forceSource` wins over it.
   */
  sources?: readonly string[];
  /** false: do not read or write the cache (`--no-cache`). */
  useCache?: boolean;
  /** true: ignore cached entries, fetch fresh, and update the cache (`--refresh`). */
  refresh?: boolean;
  /** false: no chain page beside the JSON and CSV (`--no-html`); default: the profile's `output.html`. */
  html?: boolean;
  request?: Partial<ChainRequest>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  onLog?: (entry: LogEntry) => void;
  /** Every source's progress (request, series, bytes, spend so far), tagged with its name. */
  onProgress?: (source: string, update: ProgressUpdate) => void;
  /**
   * Aborts the run (SIGINT/SIGTERM): the registry stops, and every source opened so far is closed at once —
   * browsers and sockets too — even one whose load ignores the signal.
   */
  signal?: AbortSignal;
  now?: () => Date;
  /** This run's id in the spend ledger and alerts (default: a random UUID). */
  runId?: string;
  /** false: do not record the run in the spend ledger nor evaluate alerts (default true). */
  ops?: boolean;
  /** false: do not append the chain to the profile's history (`--no-history`); default: the profile's `history`. */
  history?: boolean;
}

/**
 * Exit codes: 0 a chain was written; 1 no source answered (or the strict policy refused what answered);
 * 2 the profile, the flags or a source's config is wrong (nothing is written); 3 the chain could not be
 * written (the summary is still printed); 4 a chain was written but an alert rule marked "fail" fired;
 * 5 a `cache`/`history` command could not open its store; 6 `history show`: no snapshot with that id;
 * 130/143 interrupted by SIGINT/SIGTERM. Appending to history never changes a run's code.
 */
export const EXIT = { ok: 0, noSource: 1, usage: 2, output: 3, alert: 4, cacheUnavailable: 5, snapshotNotFound: 6, sigint: 130, sigterm: 143 } as const;

export interface RunnerOutcome {
  summary: RunSummary;
  exitCode: number;
}

export async function runProfile(options: RunnerOptions): Promise<RunnerOutcome> {
  const now = options.now ?? (() => new Date());
  const cwd = options.cwd ?? process.cwd();
  const log = createLogger(options.onLog ?? (() => {}));
  const { loaded, ops } = loadOpsProfile(resolve(cwd, options.profilePath), {
    env: options.env ?? process.env,
    dotenvFiles: [resolve(cwd, ".env"), resolve(resolve(cwd, options.profilePath), "..", ".env")],
  });
  const { profile } = loaded;
  const liveSources = new Set<Source>();
  const entries = (await buildRegistryEntries(loaded, options.forceSource, options.sources)).map((entry) => trackSources(entry, liveSources));
  const request = toChainRequest(profile, options.request);
  const outDir = options.outDir ? resolve(cwd, options.outDir) : resolve(loaded.baseDir, profile.output.dir);
  // Everything about the configuration is known to be right: from here on, nothing is a usage error.
  const cacheDefinition = options.useCache === false ? null : await loadCacheDefinition(loaded);
  const historyDefinition = options.history === false ? null : await loadHistoryDefinition(loaded);
  const stale = await removeStaleTemporaries(outDir);
  if (stale.length) log.info(`removed ${stale.length} temporary file(s) left by an interrupted run: ${stale.join(", ")}`);
  let cacheUnavailable: string | null = null;
  let cache: ManagedChainCache | null = null;
  if (cacheDefinition) {
    try {
      cache = await cacheDefinition.definition.create(cacheDefinition.config, { log: log.child("cache"), baseDir: loaded.baseDir, now });
    } catch (error) {
      cacheUnavailable = error instanceof Error ? error.message : String(error);
      log.warn(`the cache could not be opened, so this run goes on without it: ${cacheUnavailable}`);
    }
  }
  const firstChoice = entries[0]?.name ?? null;
  const closeLive = () => {
    for (const source of liveSources) void source.close?.().catch(() => {});
  };
  options.signal?.addEventListener("abort", closeLive, { once: true });
  const spend = new SpendLedger(profile.run_cost_limit_usd, now);

  try {
    const result = await runSources(entries, {
      request,
      policy: options.forceSource ? "strict" : profile.fallback,
      log,
      spend,
      cache,
      refresh: options.refresh ?? false,
      retries: profile.retries,
      sourceDeadlineMs: profile.source_deadline_ms,
      now,
      baseDir: loaded.baseDir,
      quality: { staleQuoteThresholdMs: profile.quality.stale_quote_minutes * 60_000, maxMissingBidAskShare: profile.quality.max_missing_bid_ask_share },
      analytics: profile.analytics,
      allowProxy: profile.allow_proxy,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    let outputs: WrittenOutputs | null = null;
    let outputError: OutputError | null = null;
    if (result.chain) {
      try {
        const html = options.html !== false && profile.output.html !== false;
        const first = result.attempts.find((a) => a.source === firstChoice);
        const run = { profile: profile.profile_name, substituted: result.substituted, firstChoice, substitutionReason: first?.reason ?? null, spendUsd: result.spendUsd };
        outputs = await writeChainOutputs(result.chain, outDir, { request, html: html && { run }, ...(options.signal ? { signal: options.signal } : {}) });
        if (outputs.htmlError) log.warn(`the chain page was not written: ${outputs.htmlError}`);
      } catch (error) {
        if (!(error instanceof OutputError)) throw error;
        outputError = error;
        log.error(error.message);
      }
    }
    // Every chain the run produced goes to history (a failure there is a notice, never the run's failure).
    const history = await recordChainInHistory({
      found: historyDefinition,
      offNote: options.history === false ? "off (--no-history)" : "off (history.enabled is false in the profile)",
      profile: profile.profile_name,
      chain: options.signal?.aborted ? null : result.chain,
      baseDir: loaded.baseDir,
      now,
      log,
    });
    const { contracts: _contracts, ...chainWithoutContracts } = result.chain ?? { contracts: null };
    const notices = noticesFor(result, firstChoice);
    if (cacheUnavailable) notices.push(`CACHE UNAVAILABLE: this run did not use the cache (${cacheUnavailable}).`);
    if (outputError) notices.push(`NOT WRITTEN: ${outputError.message}`);
    if (history.error) notices.push(history.written ? `note: history: ${history.error}` : `HISTORY NOT WRITTEN: ${history.error}.`);
    const summary: RunSummary = {
      profile: profile.profile_name,
      policy: result.policy,
      ok: result.ok,
      source: result.source,
      firstChoice,
      substituted: result.substituted,
      attempts: result.attempts,
      notices,
      request,
      chain: result.chain ? ({ ...chainWithoutContracts, metadata: { ...result.chain.metadata, request } } as RunSummary["chain"]) : null,
      incomplete: result.chain ? !result.chain.metadata.complete : false,
      outputs,
      outputError: outputError ? { file: outputError.file, code: outputError.code, message: outputError.message } : null,
      spendUsd: result.spendUsd,
      estimatedUsd: spend.totalEstimatedUsd,
      spendBySource: spendBySource(result.attempts),
      cache: {
        enabled: cache !== null,
        location: cache?.location ?? null,
        savedUsd: result.attempts.reduce((sum, attempt) => sum + attempt.savedUsd, 0),
        unavailable: cacheUnavailable,
      },
      history,
    };
    let exitCode: number = !result.ok ? EXIT.noSource : outputError ? EXIT.output : EXIT.ok;
    if (options.ops !== false) {
      // The spend ledger and the alerts: after the outputs, never failing the run (problems become notices).
      const runId = options.runId ?? randomUUID();
      const after = await afterRun({ ledgerPath: ledgerPathFor(loaded), ops, profile: profile.profile_name, runId, outDir, ok: result.ok, source: result.source, chain: summary.chain, attempts: result.attempts, spend, now, log });
      summary.runId = runId;
      summary.alerts = after.alerts;
      summary.ledger = { location: after.ledger, recorded: after.recorded, suppressedAlerts: after.suppressed };
      for (const alert of after.alerts) summary.notices.push(`ALERT (${alert.severity}): ${alert.message}.`);
      for (const problem of after.problems) summary.notices.push(`note: ${problem}`);
      if (exitCode === EXIT.ok && after.alerts.some((a) => a.severity === "fail")) exitCode = EXIT.alert;
    }
    return { summary, exitCode };
  } finally {
    options.signal?.removeEventListener("abort", closeLive);
    await cache?.close().catch((error: unknown) => log.warn(`could not close the cache: ${error instanceof Error ? error.message : String(error)}`));
  }
}

function spendBySource(attempts: RunSummary["attempts"]): SourceSpend[] {
  return attempts.filter((a) => a.outcome !== "skipped").map((a) => ({ source: a.source, estimatedUsd: a.estimatedUsd, spentUsd: a.spendUsd }));
}

/** Wraps an entry's definition so every Source it creates is known until it is closed. */
function trackSources(entry: RegistryEntry, live: Set<Source>): RegistryEntry {
  const definition = entry.definition;
  if (!definition) return entry;
  const tracked: SourceDefinition<unknown> = Object.assign(Object.create(definition) as SourceDefinition<unknown>, {
    create: async (config: unknown, context: Parameters<SourceDefinition<unknown>["create"]>[1]) => {
      const source = await definition.create(config, context);
      live.add(source);
      const close = source.close?.bind(source);
      if (close) {
        source.close = async () => {
          live.delete(source);
          await close();
        };
      }
      return source;
    },
  });
  return { ...entry, definition: tracked };
}

/**
 * Imports and validates every enabled source in priority order. A disabled source, or one whose
 * `${VARIABLE}`s are not set, becomes a skip with that reason; a missing plugin or a wrong field is fatal.
 */
async function buildRegistryEntries(loaded: LoadedProfile, forceSource: string | undefined, sources: readonly string[] | undefined): Promise<RegistryEntry[]> {
  const { profile } = loaded;
  let names: readonly string[] = profile.data_source_priority;
  if (forceSource === undefined && sources !== undefined) {
    const unknown = sources.filter((name) => !(name in profile.data_sources));
    if (sources.length === 0 || unknown.length > 0) {
      throw new ConfigError(
        "config",
        `sources ${JSON.stringify(sources)}: ${sources.length === 0 ? "expected at least one" : `no such source in ${loaded.path}: ${unknown.join(", ")}`} (known: ${Object.keys(profile.data_sources).join(", ")})`,
        { path: "data_sources" },
      );
    }
    names = sources;
  }
  if (forceSource !== undefined) {
    if (!(forceSource in profile.data_sources)) {
      throw new ConfigError("config", `--source ${forceSource}: no such source in ${loaded.path} (known: ${Object.keys(profile.data_sources).join(", ")})`, {
        path: "data_sources",
      });
    }
    names = [forceSource];
  }
  // Every plugin first, then every source's config in one round: all problems are reported at once.
  const definitions: Record<string, SourceDefinition<unknown>> = {};
  const problems: string[] = [];
  for (const name of names) {
    const entry = profile.data_sources[name]!;
    if (!entry.enabled && forceSource === undefined) continue;
    try {
      definitions[name] = await loadSourcePlugin({ field: `data_sources.${name}.plugin`, specifier: entry.plugin, baseDir: loaded.baseDir });
    } catch (error) {
      if (!isSourceErrorOfKind(error, "config")) throw error;
      problems.push((error as Error).message.replace(/^config: /, ""));
    }
  }
  if (problems.length === 1) throw new ConfigError("config", problems[0]!, { path: problems[0]!.split(":")[0] ?? "" });
  if (problems.length > 1) throw new ConfigError("config", `invalid profile ${loaded.path}:\n  - ${problems.join("\n  - ")}`, { path: problems[0]!.split(":")[0] ?? "" });
  const configs = parseSourceConfigs(loaded, definitions);

  const entries: RegistryEntry[] = [];
  for (const name of names) {
    const entry = profile.data_sources[name]!;
    const field = `data_sources.${name}`;
    const definition = definitions[name];
    if (!definition) {
      entries.push({ name, definition: null, config: null, skipReason: `disabled in the profile (${field}.enabled is false)` });
      continue;
    }
    const missing = loaded.missingVariables[name];
    if (missing?.length) {
      const list = missing.map((v) => `$${v}`).join(", ");
      entries.push({ name, definition, config: null, skipReason: `needs ${list}, which is not set (in the environment or a .env file)` });
      continue;
    }
    entries.push({ name, definition, config: configs[name], useCache: entry.cache, ...(entry.deadline_ms !== undefined ? { deadlineMs: entry.deadline_ms } : {}) });
  }
  return entries;
}

/** The profile's cache plugin and its validated config; a wrong field is a ConfigError (exit 2). Null when off. */
async function loadCacheDefinition(loaded: LoadedProfile, mode: { readOnly?: boolean } = {}): Promise<{ definition: CacheDefinition<unknown>; config: unknown } | null> {
  const settings = loaded.profile.cache;
  if (!settings || !settings.enabled) return null;
  const { enabled: _enabled, plugin, ...config } = settings;
  const definition = await loadCachePlugin({ field: "cache.plugin", specifier: plugin, baseDir: loaded.baseDir });
  // Inspection must never change the store: ask for a read-only open where the plugin has one.
  const readOnly = mode.readOnly ? definition.configSchema.safeParse({ ...config, read_only: true }) : null;
  if (readOnly?.success) return { definition, config: readOnly.data };
  const parsed = definition.configSchema.safeParse(config);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `cache.${issue.path.map(String).join(".")}: ${issue.message}`);
    throw new ConfigError("config", `invalid profile ${loaded.path}:\n  - ${lines.join("\n  - ")}`, { path: lines[0]?.split(":")[0] ?? "cache" });
  }
  return { definition, config: parsed.data };
}

/** Opens the profile's cache for the `cache` commands; null when the profile has none. */
export async function openProfileCache(
  profilePath: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLog?: (entry: LogEntry) => void; readOnly?: boolean } = {},
): Promise<ManagedChainCache | null> {
  const cwd = options.cwd ?? process.cwd();
  const { loaded } = loadOpsProfile(resolve(cwd, profilePath), { env: options.env ?? process.env, dotenvFiles: [resolve(cwd, ".env"), resolve(resolve(cwd, profilePath), "..", ".env")] });
  const found = await loadCacheDefinition(loaded, { readOnly: options.readOnly ?? false });
  if (!found) return null;
  return found.definition.create(found.config, { log: createLogger(options.onLog ?? (() => {})).child("cache"), baseDir: loaded.baseDir, now: () => new Date() });
}

/**
 * A profile name (from `profilesDir`) or a file path. An unknown name is a ConfigError that lists the
 * profiles there is.
 */
export function resolveProfilePath(value: string | undefined, profilesDir: string, cwd: string): string {
  const name = value ?? "default";
  if (name.endsWith(".json") || name.includes("/") || isAbsolute(name)) return resolve(cwd, name);
  const file = resolve(profilesDir, `${name}.json`);
  if (!existsSync(file)) {
    const known = listProfiles(profilesDir);
    throw new ConfigError("config", `--profile ${name}: no such profile in ${profilesDir} (available: ${known.join(", ") || "none"}); or give a file with --config`, {
      path: "--profile",
    });
  }
  return file;
}

export function listProfiles(profilesDir: string): string[] {
  try {
    return readdirSync(profilesDir).filter((name) => name.endsWith(".json")).map((name) => name.slice(0, -".json".length)).sort();
  } catch {
    return [];
  }
}
