/**
 * One run: profile → plugins → registry (+ cache) → outputs → summary. Everything that can be wrong with
 * the configuration is found before any source is contacted or any file is written: a bad profile never
 * leaves a half-made output folder behind.
 */
import { isAbsolute, resolve } from "node:path";
import {
  ConfigError,
  createLogger,
  loadProfile,
  parseSourceConfig,
  runSources,
  SpendLedger,
  toChainRequest,
  type ChainRequest,
  type LoadedProfile,
  type LogEntry,
  type Logger,
  type ManagedChainCache,
  type RegistryEntry,
} from "@nq/core";
import { writeChainOutputs } from "./outputs.js";
import { loadCachePlugin, loadSourcePlugin } from "./plugin-loader.js";
import { noticesFor, type RunSummary } from "./summary.js";

export interface RunnerOptions {
  profilePath: string;
  /** Output folder; relative to `cwd`. Default: the profile's `output.dir`, relative to the profile. */
  outDir?: string;
  /** Use only this source (by its key in `data_sources`). */
  forceSource?: string;
  /** false: do not read or write the cache (`--no-cache`). */
  useCache?: boolean;
  /** true: ignore cached entries, fetch fresh, and update the cache (`--refresh`). */
  refresh?: boolean;
  request?: Partial<ChainRequest>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  onLog?: (entry: LogEntry) => void;
  now?: () => Date;
}

export interface RunnerOutcome {
  summary: RunSummary;
  exitCode: number;
}

export async function runProfile(options: RunnerOptions): Promise<RunnerOutcome> {
  const now = options.now ?? (() => new Date());
  const cwd = options.cwd ?? process.cwd();
  const log = createLogger(options.onLog ?? (() => {}));
  const loaded = loadProfile(resolve(cwd, options.profilePath), {
    env: options.env ?? process.env,
    dotenvFiles: [resolve(cwd, ".env"), resolve(resolve(cwd, options.profilePath), "..", ".env")],
  });
  const { profile } = loaded;
  const entries = await buildRegistryEntries(loaded, options.forceSource);
  const cache = options.useCache === false ? null : await openCache(loaded, log, now);
  const request = toChainRequest(profile, options.request);
  const firstChoice = entries[0]?.name ?? null;

  try {
    const result = await runSources(entries, {
      request,
      policy: options.forceSource ? "strict" : profile.fallback,
      log,
      spend: new SpendLedger(profile.run_cost_limit_usd, now),
      cache,
      refresh: options.refresh ?? false,
      retries: profile.retries,
      now,
      baseDir: loaded.baseDir,
    });
    const outDir = options.outDir ? resolve(cwd, options.outDir) : resolve(loaded.baseDir, profile.output.dir);
    const outputs = result.chain ? writeChainOutputs(result.chain, outDir) : null;
    const { contracts: _contracts, ...chainWithoutContracts } = result.chain ?? { contracts: null };
    const summary: RunSummary = {
      profile: profile.profile_name,
      policy: result.policy,
      ok: result.ok,
      source: result.source,
      firstChoice,
      substituted: result.substituted,
      attempts: result.attempts,
      notices: noticesFor(result, firstChoice),
      chain: result.chain ? (chainWithoutContracts as RunSummary["chain"]) : null,
      outputs,
      spendUsd: result.spendUsd,
      cache: {
        enabled: cache !== null,
        location: cache?.location ?? null,
        savedUsd: result.attempts.reduce((sum, attempt) => sum + attempt.savedUsd, 0),
      },
    };
    return { summary, exitCode: result.ok ? 0 : 1 };
  } finally {
    await cache?.close();
  }
}

/**
 * Imports and validates every enabled source in priority order. A disabled source, or one whose
 * `${VARIABLE}`s are not set, becomes a skip with that reason; a missing plugin or a wrong field is fatal.
 */
async function buildRegistryEntries(loaded: LoadedProfile, forceSource: string | undefined): Promise<RegistryEntry[]> {
  const { profile } = loaded;
  let names = profile.data_source_priority;
  if (forceSource !== undefined) {
    if (!(forceSource in profile.data_sources)) {
      throw new ConfigError("config", `--source ${forceSource}: no such source in ${loaded.path} (known: ${Object.keys(profile.data_sources).join(", ")})`, {
        path: "data_sources",
      });
    }
    names = [forceSource];
  }
  const entries: RegistryEntry[] = [];
  for (const name of names) {
    const entry = profile.data_sources[name]!;
    const field = `data_sources.${name}`;
    if (!entry.enabled && forceSource === undefined) {
      entries.push({ name, definition: null, config: null, skipReason: `disabled in the profile (${field}.enabled is false)` });
      continue;
    }
    const definition = await loadSourcePlugin({ field: `${field}.plugin`, specifier: entry.plugin, baseDir: loaded.baseDir });
    const missing = loaded.missingVariables[name];
    if (missing?.length) {
      const list = missing.map((v) => `$${v}`).join(", ");
      entries.push({ name, definition, config: null, skipReason: `needs ${list}, which is not set (in the environment or a .env file)` });
      continue;
    }
    const config = parseSourceConfig(definition, name, entry.config, loaded.path);
    entries.push({ name, definition, config, useCache: entry.cache });
  }
  return entries;
}

async function openCache(loaded: LoadedProfile, log: Logger, now: () => Date): Promise<ManagedChainCache | null> {
  const settings = loaded.profile.cache;
  if (!settings || !settings.enabled) return null;
  const { enabled: _enabled, plugin, ...config } = settings;
  const definition = await loadCachePlugin({ field: "cache.plugin", specifier: plugin, baseDir: loaded.baseDir });
  const parsed = definition.configSchema.safeParse(config);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `cache.${issue.path.map(String).join(".")}: ${issue.message}`);
    throw new ConfigError("config", `invalid profile ${loaded.path}:\n  - ${lines.join("\n  - ")}`, { path: lines[0]?.split(":")[0] ?? "cache" });
  }
  return definition.create(parsed.data, { log: log.child("cache"), baseDir: loaded.baseDir, now });
}

/** Opens the profile's cache for the `cache` commands; null when the profile has none. */
export async function openProfileCache(profilePath: string, options: { cwd?: string; onLog?: (entry: LogEntry) => void } = {}) {
  const cwd = options.cwd ?? process.cwd();
  const loaded = loadProfile(resolve(cwd, profilePath));
  return openCache(loaded, createLogger(options.onLog ?? (() => {})), () => new Date());
}

export function resolveProfilePath(value: string | undefined, profilesDir: string, cwd: string): string {
  const name = value ?? "default";
  if (name.endsWith(".json") || name.includes("/") || isAbsolute(name)) return resolve(cwd, name);
  return resolve(profilesDir, `${name}.json`);
}
