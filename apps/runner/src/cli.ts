#!/usr/bin/env node
/**
 * nq-runner — `pnpm --filter runner start [options]` or `pnpm start -- [options]` at the repo root.
 * Exit codes: 0 a chain was written; 1 no source answered (or the strict policy refused what answered);
 * 2 the flags, the profile or a source's config is wrong; 3 the chain could not be written (the summary is
 * still printed); 4 a chain was written but an alert rule marked "fail" fired; 5 a `cache` or `history` command could not open its store; 6 `history show`: no snapshot with that id; 130/143 interrupted by SIGINT/SIGTERM (sources closed, no temporary file left).
 */
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { ConfigError, isSourceError, isSourceErrorOfKind, type LogEntry } from "@nq/core";
import { removeActiveTemporaries } from "./outputs.js";
import { createProgressReporter, type ProgressReporter } from "./progress.js";
import { EXIT, openProfileCache, resolveProfilePath, runProfile } from "./run.js";
import { renderSummary } from "./summary.js";
import { serveCommand } from "./commands/serve.js";
import { checkCommand } from "./commands/check.js";
import { compareCommand } from "./commands/compare.js";
import { usageCommand } from "./commands/usage.js";
import { historyCommand } from "./commands/history.js";
import { registerWatchCommand } from "./commands/watch.js";
import { backfillCommand } from "./commands/backfill.js";

const PROFILES_DIR = fileURLToPath(new URL("../profiles", import.meta.url));
// pnpm runs scripts in the package folder; INIT_CWD is where the user typed the command.
const USER_CWD = process.env.INIT_CWD ?? process.cwd();

const controller = new AbortController();
let interrupted: NodeJS.Signals | null = null;
let progress: ProgressReporter = createProgressReporter();
let lastActivity: string | null = null;
/** What an interrupted command leaves behind, said in the "partial run" line; a chain run's by default. */
let interruptedOutcome = "no chain was written";
const INTERRUPTED_OUTCOME_BY_COMMAND: Record<string, string> = {
  backfill: "the manifest is saved; run the same command again to continue (nothing is bought or downloaded twice)",
  history: "no file was changed",
  cache: "no file was changed",
};

const program = new Command()
  .name("nq-runner")
  .description("Load a normalized NQ options chain through the sources of a profile, with fallback, a spend cap and a cache.")
  .showHelpAfterError()
  .enablePositionalOptions()
  // Parse errors throw instead of exiting, so they get exit code 2 like every other usage error.
  .exitOverride();

// Running a profile is the program's own action, so `--help` lists its flags first; `cache` is a subcommand.
program
  .option("-p, --profile <name>", `a profile in ${PROFILES_DIR} (default, databento_only, all_sources, …)`)
  .option("-c, --config <file>", "a profile file of your own (overrides --profile)")
  .option("-o, --out <dir>", "output folder (default: the profile's output.dir)")
  .option("-s, --source <name>", "use only this source from the profile (no fallback)")
  .option("--as-of <time>", "the market time wanted (ISO 8601, e.g. 2026-11-20T21:00:00Z); default: the latest", parseIsoTime)
  .option("--max-expirations <n>", "only the nearest N expirations (a whole number ≥ 1)", parsePositiveInt)
  .option("--json", "print a machine-readable summary on stdout instead of the table")
  .option("--no-cache", "neither read nor write the cache")
  .option("--no-html", "do not write the chain page (<name>.chain.html) beside the JSON and CSV")
  .option("--no-history", "do not append the chain to the profile's history store")
  .option("--refresh", "ignore cached entries and fetch fresh (the cache is updated)")
  .option("-v, --verbose", "print every log line, not only warnings")
  .addHelpText(
    "after",
    "\nExit codes: 0 chain written · 1 no source answered · 2 wrong flag, profile or config · 3 output not written · 4 an alert rule marked \"fail\" fired · 5 cache or history store cannot be opened (cache, history commands) · 6 no such history snapshot (history show) · 130/143 interrupted (SIGINT/SIGTERM)",
  )
  .action(async (flags: RunFlags) => {
    const profilePath = flags.config ? flags.config : resolveProfilePath(flags.profile, PROFILES_DIR, USER_CWD);
    const request: Record<string, unknown> = {};
    if (flags.asOf) request.asOf = flags.asOf;
    if (flags.maxExpirations) request.maxExpirations = flags.maxExpirations;
    const verbose = flags.verbose ?? false;
    const { summary, exitCode } = await runProfile({
      profilePath,
      cwd: USER_CWD,
      ...(flags.out ? { outDir: flags.out } : {}),
      ...(flags.source ? { forceSource: flags.source } : {}),
      useCache: flags.cache,
      html: flags.html,
      history: flags.history,
      refresh: flags.refresh ?? false,
      request,
      signal: controller.signal,
      onLog: (entry) => printLog(entry, verbose),
      onProgress: (source, update) => {
        lastActivity = `${source}: ${update.stage}`;
        progress.update(source, update);
      },
    });
    progress.stop();
    if (interrupted) return;
    if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else (exitCode === EXIT.ok ? process.stdout : process.stderr).write(renderSummary(summary));
    // No source answered because a source's config is wrong (a malformed key): a usage error, named.
    const misconfigured = exitCode === EXIT.noSource ? summary.attempts.filter((a) => a.error?.kind === "config") : [];
    for (const attempt of misconfigured) {
      const path = typeof attempt.error?.path === "string" && attempt.error.path ? attempt.error.path : `data_sources.${attempt.source}.config`;
      process.stderr.write(`error: ${path}: ${attempt.reason ?? "invalid"}\n`);
    }
    process.exitCode = misconfigured.length > 0 ? EXIT.usage : exitCode;
  });

program.addCommand(serveCommand({ profilesDir: PROFILES_DIR, cwd: USER_CWD }));
program.addCommand(checkCommand({ profilesDir: PROFILES_DIR, cwd: USER_CWD }));
program.addCommand(compareCommand({ profilesDir: PROFILES_DIR, cwd: USER_CWD, signal: controller.signal, parseIsoTime: (value) => parseIsoTime(value), onLog: (entry) => printLog(entry, false) }));
program.addCommand(usageCommand({ profilesDir: PROFILES_DIR, cwd: USER_CWD }));
program.addCommand(historyCommand({ profilesDir: PROFILES_DIR, cwd: USER_CWD, signal: controller.signal }));
registerWatchCommand(program, { profilesDir: PROFILES_DIR, cwd: USER_CWD, signal: controller.signal });
program.addCommand(backfillCommand({ profilesDir: PROFILES_DIR, cwd: USER_CWD, signal: controller.signal }));

const cache = program.command("cache").description("inspect or empty the profile's cache (--profile before or after `cache`)");
for (const [name, description] of [
  ["stats", "entries, size, hit rate and spend saved"],
  ["purge", "delete expired entries"],
  ["clear", "delete every entry"],
] as const) {
  cache
    .command(name)
    .description(description)
    .option("-p, --profile <name>", "profile whose cache to use (default: default)")
    .option("-c, --config <file>", "a profile file of your own")
    .option("--json", "machine-readable output")
    .action(async (flags: { profile?: string; config?: string; json?: boolean }) => {
      // `--profile X cache stats` puts the flag on the program; `cache stats --profile X` on the command.
      const outer = program.opts<{ profile?: string; config?: string; json?: boolean }>();
      const config = flags.config ?? outer.config;
      const profilePath = config ?? resolveProfilePath(flags.profile ?? outer.profile, PROFILES_DIR, USER_CWD);
      const json = flags.json ?? outer.json;
      const opened = await openProfileCache(profilePath, { cwd: USER_CWD, onLog: (entry) => printLog(entry, false), readOnly: name === "stats" }).catch(
        (error: unknown) => {
          // Nothing cached yet is an answer for `stats`, not a failure (a read-only open creates nothing).
          const missing = error as { code?: string; reason?: string; file?: string };
          if (name === "stats" && missing.code === "NQ_CACHE_UNAVAILABLE" && missing.reason === "missing") return { missing: missing.file ?? "" } as const;
          throw error;
        },
      );
      if (!opened) throw new ConfigError("config", `${profilePath} has no enabled "cache" section`, { path: "cache" });
      if ("missing" in opened) {
        const result = { location: opened.missing, entries: 0, note: "nothing has been cached at this path yet" };
        if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else for (const [key, value] of Object.entries(result)) process.stdout.write(`${key.padEnd(16)} ${formatValue(key, value)}\n`);
        return;
      }
      try {
        const now = new Date();
        const result =
          name === "stats"
            ? await opened.stats(now)
            : name === "purge"
              ? { location: opened.location, purged: await opened.purgeExpired(now) }
              : { location: opened.location, cleared: await opened.clear() };
        if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else for (const [key, value] of Object.entries(result)) process.stdout.write(`${key.padEnd(16)} ${formatValue(key, value)}\n`);
      } finally {
        await opened.close();
      }
    });
}

interface RunFlags {
  profile?: string;
  config?: string;
  out?: string;
  source?: string;
  asOf?: string;
  maxExpirations?: number;
  json?: boolean;
  cache: boolean;
  html: boolean;
  history: boolean;
  refresh?: boolean;
  verbose?: boolean;
}

function printLog(entry: LogEntry, verbose: boolean): void {
  if (!verbose && (entry.level === "debug" || entry.level === "info")) return;
  // Error messages already start with their source's name.
  const prefix = entry.source && !entry.message.startsWith(`${entry.source}:`) ? ` ${entry.source}:` : "";
  progress.line(`[${entry.level}]${prefix} ${entry.message}`);
}

function formatValue(key: string, value: unknown): string {
  if (key === "hitRate") return value === null ? "n/a" : `${((value as number) * 100).toFixed(1)}%`;
  if (key === "spendSavedUsd") return `$${(value as number).toFixed(4)}`;
  if (key === "sizeBytes") return `${value} bytes`;
  return String(value);
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive whole number (1, 2, 3, …), got "${value}"`);
  return n;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function parseIsoTime(value: string): string {
  if (!ISO_TIME.test(value.trim()) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError(`expected an ISO 8601 time such as 2026-11-20T21:00:00Z or 2026-11-20, got "${value}"`);
  }
  return new Date(value).toISOString();
}

/**
 * SIGINT/SIGTERM: abort the run (the registry stops, every open source is closed), remove this run's
 * temporary files, say what was left undone, and exit within 2 s whatever a plugin does. A second signal
 * exits at once.
 */
function onSignal(signal: NodeJS.Signals): void {
  const code = signal === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
  process.exitCode = code;
  if (interrupted) {
    removeActiveTemporaries();
    process.exit(code);
  }
  interrupted = signal;
  progress.stop();
  process.stderr.write(
    `\ninterrupted by ${signal}: partial run, ${interruptedOutcome}${lastActivity ? ` (was at ${lastActivity})` : ""}; closing sources and removing temporary files. Exit code ${code}.\n`,
  );
  controller.abort(new Error(`interrupted by ${signal}`));
  removeActiveTemporaries();
  // Sources get a moment to close their browsers and sockets; then the process goes, whatever is pending.
  setTimeout(() => {
    removeActiveTemporaries();
    process.exit(code);
  }, 1500).unref();
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

// `pnpm start -- --profile x` hands the script a literal "--" first; it separates pnpm's flags, not ours.
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();
// --json: the progress spinner stays off the terminal's stdout anyway; keep stderr plain lines for logs.
if (argv.includes("--json")) progress = createProgressReporter({ tty: false });

program.hook("preAction", (_program, actionCommand) => {
  // The top-level command under the root ("history" for `history export`), or the root's own run.
  let command = actionCommand;
  while (command.parent && command.parent !== program) command = command.parent;
  interruptedOutcome = INTERRUPTED_OUTCOME_BY_COMMAND[command.name()] ?? interruptedOutcome;
});
program.parseAsync(argv, { from: "user" }).catch((error: unknown) => {
  progress.stop();
  if (interrupted) {
    process.exitCode = interrupted === "SIGINT" ? EXIT.sigint : EXIT.sigterm;
    return;
  }
  if (error instanceof CommanderError) {
    // Commander has printed the message (and the help); --help and --version are not errors.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT.usage;
    return;
  }
  if ((error as { code?: unknown }).code === "NQ_CACHE_UNAVAILABLE") {
    // A `cache` command whose store cannot be opened: the message names the file, the cause and the fix.
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exitCode = EXIT.cacheUnavailable;
    return;
  }
  if (isSourceError(error)) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = isSourceErrorOfKind(error, "config") ? EXIT.usage : EXIT.noSource;
    return;
  }
  process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = EXIT.noSource;
});
