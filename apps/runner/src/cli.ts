#!/usr/bin/env node
/**
 * nq-runner — `pnpm --filter runner start [options]` or `pnpm start -- [options]` at the repo root.
 * Exit codes: 0 a chain was produced; 1 no source answered; 2 the profile or the flags are wrong.
 */
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, isSourceError, type LogEntry } from "@nq/core";
import { openProfileCache, resolveProfilePath, runProfile } from "./run.js";
import { renderSummary } from "./summary.js";

const PROFILES_DIR = fileURLToPath(new URL("../profiles", import.meta.url));
// pnpm runs scripts in the package folder; INIT_CWD is where the user typed the command.
const USER_CWD = process.env.INIT_CWD ?? process.cwd();

const program = new Command()
  .name("nq-runner")
  .description("Load a normalized NQ options chain through the sources of a profile, with fallback, a spend cap and a cache.")
  .showHelpAfterError()
  .enablePositionalOptions();

// Running a profile is the program's own action, so `--help` lists its flags first; `cache` is a subcommand.
program
  .option("-p, --profile <name>", `a profile in ${PROFILES_DIR} (default, databento_only, all_sources, …)`)
  .option("-c, --config <file>", "a profile file of your own (overrides --profile)")
  .option("-o, --out <dir>", "output folder (default: the profile's output.dir)")
  .option("-s, --source <name>", "use only this source from the profile (no fallback)")
  .option("--as-of <time>", "the market time wanted (ISO 8601); default: the latest", parseIsoTime)
  .option("--max-expirations <n>", "only the nearest N expirations", parsePositiveInt)
  .option("--json", "print a machine-readable summary on stdout instead of the table")
  .option("--no-cache", "neither read nor write the cache")
  .option("--refresh", "ignore cached entries and fetch fresh (the cache is updated)")
  .option("-v, --verbose", "print every log line, not only warnings")
  .action(async (flags: RunFlags) => {
    const profilePath = flags.config ? flags.config : resolveProfilePath(flags.profile, PROFILES_DIR, USER_CWD);
    const request: Record<string, unknown> = {};
    if (flags.asOf) request.asOf = flags.asOf;
    if (flags.maxExpirations) request.maxExpirations = flags.maxExpirations;
    const { summary, exitCode } = await runProfile({
      profilePath,
      cwd: USER_CWD,
      ...(flags.out ? { outDir: flags.out } : {}),
      ...(flags.source ? { forceSource: flags.source } : {}),
      useCache: flags.cache,
      refresh: flags.refresh ?? false,
      request,
      onLog: (entry) => printLog(entry, flags.verbose ?? false),
    });
    if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else (exitCode === 0 ? process.stdout : process.stderr).write(renderSummary(summary));
    process.exitCode = exitCode;
  });

const cache = program.command("cache").description("inspect or empty the profile's cache");
for (const [name, description] of [
  ["stats", "entries, size, hit rate and spend saved"],
  ["purge", "delete expired entries"],
  ["clear", "delete every entry"],
] as const) {
  cache
    .command(name)
    .description(description)
    .option("-p, --profile <name>", "profile whose cache to use", "default")
    .option("-c, --config <file>", "a profile file of your own")
    .option("--json", "machine-readable output")
    .action(async (flags: { profile: string; config?: string; json?: boolean }) => {
      const profilePath = flags.config ?? resolveProfilePath(flags.profile, PROFILES_DIR, USER_CWD);
      const opened = await openProfileCache(profilePath, { cwd: USER_CWD, onLog: (entry) => printLog(entry, false) });
      if (!opened) throw new ConfigError("config", `${profilePath} has no enabled "cache" section`, { path: "cache" });
      try {
        const now = new Date();
        const result =
          name === "stats"
            ? await opened.stats(now)
            : name === "purge"
              ? { purged: await opened.purgeExpired(now) }
              : { cleared: await opened.clear() };
        if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
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
  refresh?: boolean;
  verbose?: boolean;
}

function printLog(entry: LogEntry, verbose: boolean): void {
  if (!verbose && (entry.level === "debug" || entry.level === "info")) return;
  // Error messages already start with their source's name.
  const prefix = entry.source && !entry.message.startsWith(`${entry.source}:`) ? ` ${entry.source}:` : "";
  process.stderr.write(`[${entry.level}]${prefix} ${entry.message}\n`);
}

function formatValue(key: string, value: unknown): string {
  if (key === "hitRate") return value === null ? "n/a" : `${((value as number) * 100).toFixed(1)}%`;
  if (key === "spendSavedUsd") return `$${(value as number).toFixed(4)}`;
  if (key === "sizeBytes") return `${value} bytes`;
  return String(value);
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

function parseIsoTime(value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError("expected an ISO 8601 time such as 2026-11-20T21:00:00Z");
  return new Date(value).toISOString();
}

// `pnpm start -- --profile x` hands the script a literal "--" first; it separates pnpm's flags, not ours.
const argv = process.argv.slice(2);
if (argv[0] === "--") argv.shift();

program.parseAsync(argv, { from: "user" }).catch((error: unknown) => {
  if (isSourceError(error)) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
    return;
  }
  process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
