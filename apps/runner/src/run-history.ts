/**
 * Chain history, the runner's side: which store a profile's `history` section names (absent: @nq/cache-sqlite's
 * history file beside the cache), opening it, and appending every chain a run produces — fresh, from the
 * cache, substituted, proxy — then applying the retention policy. Appending never fails a run: a store that
 * cannot be opened or written is a warning and a line in the summary, and the chain is still written.
 */
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError, createLogger, type ChainHistory, type HistoryDefinition, type HistoryRetention, type LoadedProfile, type Logger, type LogEntry, type OptionsChain } from "@nq/core";
import { loadOpsProfile } from "./commands/ops-profile.js";
import { assertChainHistory, loadHistoryPlugin } from "./plugin-loader.js";

export const DEFAULT_HISTORY_PLUGIN = "@nq/cache-sqlite";
export const DEFAULT_HISTORY_FILE = "history.db";

/** What the run did with history, for the summary (text and `--json`). */
export interface HistoryOutcome {
  /** False when history is off: `--no-history`, or `history.enabled: false` in the profile. */
  enabled: boolean;
  /** True when this run's chain was appended. */
  written: boolean;
  /** The appended snapshot's id (`history show <id>`). */
  snapshotId: string | null;
  /** Where the history lives (a file path, a connection name without password). */
  location: string | null;
  /** Snapshots the retention policy deleted after the append. */
  removedByRetention: number;
  /** Why nothing was appended when that is no failure: history off, or no chain to append. */
  note: string | null;
  /** Why the chain was not appended (or retention not applied) when something failed; the run is not failed by it. */
  error: string | null;
}

export interface ProfileHistory {
  definition: HistoryDefinition<unknown>;
  /** The plugin's validated config. */
  config: unknown;
  specifier: string;
  /** The profile's `history.retention`, in the contract's terms (empty: keep everything). */
  retention: HistoryRetention;
}

/**
 * The profile's history plugin and its validated config; a wrong field or a plugin that is not a history is a
 * ConfigError (exit 2), found before any source is contacted. Null when history is off in the profile.
 * `readOnly` asks for a read-only open where the plugin's config has `read_only` (the `history` command).
 */
export async function loadHistoryDefinition(loaded: LoadedProfile, mode: { readOnly?: boolean } = {}): Promise<ProfileHistory | null> {
  const settings = loaded.profile.history ?? { enabled: true, plugin: DEFAULT_HISTORY_PLUGIN };
  if (!settings.enabled) return null;
  const { enabled: _enabled, plugin, ...config } = settings;
  const definition = await loadHistoryPlugin({ field: "history.plugin", specifier: plugin, baseDir: loaded.baseDir });
  if (plugin === DEFAULT_HISTORY_PLUGIN && config.path === undefined) {
    const besideCache = defaultHistoryPath(loaded);
    if (besideCache) config.path = besideCache;
  }
  const readOnly = mode.readOnly ? definition.configSchema.safeParse({ ...config, read_only: true }) : null;
  const parsed = readOnly?.success ? readOnly : definition.configSchema.safeParse(config);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `history.${issue.path.map(String).join(".")}: ${issue.message}`);
    throw new ConfigError("config", `invalid profile ${loaded.path}:\n  - ${lines.join("\n  - ")}`, { path: lines[0]?.split(":")[0] ?? "history" });
  }
  const retention: HistoryRetention = {};
  if (settings.retention?.max_age_days !== undefined) retention.maxAgeDays = settings.retention.max_age_days;
  if (settings.retention?.max_snapshots_per_profile !== undefined) retention.maxSnapshotsPerProfile = settings.retention.max_snapshots_per_profile;
  return { definition, config: parsed.data, specifier: plugin, retention };
}

/**
 * "Beside the cache": the folder of the profile's @nq/cache-sqlite file (its `path`, enabled or not), as an
 * absolute path. Null when the profile names no such cache; then the plugin's own default applies (relative to
 * the profile's folder, like the cache's).
 */
function defaultHistoryPath(loaded: LoadedProfile): string | null {
  const cache = loaded.profile.cache as ({ plugin?: string; path?: unknown } & Record<string, unknown>) | undefined;
  if (!cache || (cache.plugin ?? DEFAULT_HISTORY_PLUGIN) !== DEFAULT_HISTORY_PLUGIN || typeof cache.path !== "string" || !cache.path) return null;
  const file = isAbsolute(cache.path) ? cache.path : resolve(loaded.baseDir, cache.path);
  // Two profiles whose caches share a folder share one history file; snapshots carry their profile's name.
  return basename(file) === DEFAULT_HISTORY_FILE ? join(dirname(file), `history-${DEFAULT_HISTORY_FILE}`) : join(dirname(file), DEFAULT_HISTORY_FILE);
}

/** Opens the store and checks that what the plugin made is a ChainHistory. */
export async function openHistory(found: ProfileHistory, context: { log: Logger; baseDir: string; now: () => Date }): Promise<ChainHistory> {
  const history = await found.definition.create(found.config, context);
  try {
    assertChainHistory(history, found.specifier);
  } catch (error) {
    await (history as { close?: () => Promise<void> } | null)?.close?.().catch(() => {});
    throw error;
  }
  return history;
}

/**
 * Opens the profile's history for the `history` command (read-only where the plugin allows). Null when off;
 * `missing` when the store says nothing was ever recorded there (a read-only open creates nothing).
 */
export async function openProfileHistory(
  profilePath: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLog?: (entry: LogEntry) => void; readOnly?: boolean } = {},
): Promise<{ history: ChainHistory; profile: string } | { missing: { location: string; message: string }; profile: string } | null> {
  const cwd = options.cwd ?? process.cwd();
  const absolute = resolve(cwd, profilePath);
  const { loaded } = loadOpsProfile(absolute, { env: options.env ?? process.env, dotenvFiles: [resolve(cwd, ".env"), resolve(absolute, "..", ".env")] });
  const found = await loadHistoryDefinition(loaded, { readOnly: options.readOnly ?? true });
  if (!found) return null;
  const profile = loaded.profile.profile_name;
  try {
    const history = await openHistory(found, { log: createLogger(options.onLog ?? (() => {})).child("history"), baseDir: loaded.baseDir, now: () => new Date() });
    return { history, profile };
  } catch (error) {
    const { code, reason, file } = error as { code?: unknown; reason?: unknown; file?: unknown };
    if (code === "NQ_HISTORY_UNAVAILABLE" && reason === "missing" && typeof file === "string") return { missing: { location: file, message: (error as Error).message }, profile };
    throw error;
  }
}

export interface RecordChainInput {
  /** Null: history is off (the note says why). */
  found: ProfileHistory | null;
  offNote: string;
  profile: string;
  chain: OptionsChain | null;
  baseDir: string;
  now: () => Date;
  log: Logger;
}

/**
 * Appends the run's chain and applies retention. Every failure is caught: it is logged as a warning (stderr)
 * and returned in `error`, and the run goes on.
 */
export async function recordChainInHistory(input: RecordChainInput): Promise<HistoryOutcome> {
  const outcome: HistoryOutcome = { enabled: input.found !== null, written: false, snapshotId: null, location: null, removedByRetention: 0, note: null, error: null };
  if (!input.found) {
    outcome.note = input.offNote;
    return outcome;
  }
  if (!input.chain) {
    outcome.note = "no chain to append";
    return outcome;
  }
  const log = input.log.child("history");
  let history: ChainHistory;
  try {
    history = await openHistory(input.found, { log, baseDir: input.baseDir, now: input.now });
    outcome.location = history.location;
  } catch (error) {
    outcome.error = `the history store could not be opened: ${messageOf(error)}`;
    log.warn(`not written: ${outcome.error}`);
    return outcome;
  }
  try {
    const snapshot = await history.append({ profile: input.profile, chain: input.chain, recordedAt: input.now() });
    outcome.written = true;
    outcome.snapshotId = snapshot.id;
  } catch (error) {
    outcome.error = `the chain could not be appended to ${history.location}: ${messageOf(error)}`;
    log.warn(`not written: ${outcome.error}`);
  }
  const retention = { ...(history.retention ?? {}), ...input.found.retention };
  if (outcome.written && (retention.maxAgeDays !== undefined || retention.maxSnapshotsPerProfile !== undefined)) {
    try {
      outcome.removedByRetention = await history.applyRetention(retention, input.now());
    } catch (error) {
      outcome.error = `the snapshot was appended, but the retention policy could not be applied: ${messageOf(error)}`;
      log.warn(outcome.error);
    }
  }
  await history.close().catch((error: unknown) => log.warn(`could not close the history store: ${messageOf(error)}`));
  return outcome;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
