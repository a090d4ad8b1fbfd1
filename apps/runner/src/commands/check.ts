/**
 * `nq-runner check [--profile P] [--json]`: for every source of the profile, in priority order, what it
 * needs and whether it works now — without buying data. A plugin says so through the optional
 * `check(config, context, { signal, product, quick })` of its definition (@nq/core's contract); a plugin
 * with none is reported as "no check". The runner knows no source by name.
 *
 * Exit codes: 0 the first-priority source is ready; 1 it is not (the JSON's `fallbackReady` says whether
 * a later source is); 2 a flag or the profile is wrong.
 */
import { resolve } from "node:path";
import { Command } from "commander";
import { type CheckItem, createLogger, isSourceErrorOfKind, parseSourceConfig, SpendLedger, type SourceDefinition } from "@nq/core";
import { loadSourcePlugin } from "../plugin-loader.js";
import { resolveProfilePath } from "../run.js";
import { loadOpsProfile } from "./ops-profile.js";

export interface SourceCheck {
  source: string;
  priority: number;
  plugin: string;
  enabled: boolean;
  /** True ready, false not, null unknown (the plugin has no check). */
  ready: boolean | null;
  items: CheckItem[];
  durationMs: number;
}

export interface CheckReport {
  profile: string;
  firstChoice: string | null;
  /** The first-priority source is ready. */
  ready: boolean;
  /** A later source is ready (a run would substitute it). */
  fallbackReady: boolean;
  sources: SourceCheck[];
  exitCode: number;
}

export interface CheckOptions {
  profilePath: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Ask sources for their cheapest probe (Barchart: one plain HTTP request instead of Chromium). */
  quick?: boolean;
  /** Per source (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  now?: () => Date;
}

interface CheckRun {
  signal: AbortSignal;
  baseDir: string;
  now: Date;
  product: string;
  quick: boolean;
}

export async function runChecks(options: CheckOptions): Promise<CheckReport> {
  const now = options.now ?? (() => new Date());
  const { loaded } = loadOpsProfile(options.profilePath, { ...(options.env ? { env: options.env } : {}) });
  const { profile } = loaded;
  const sources: SourceCheck[] = [];
  for (const [index, name] of profile.data_source_priority.entries()) {
    const entry = profile.data_sources[name]!;
    const started = performance.now();
    const row: SourceCheck = { source: name, priority: index + 1, plugin: entry.plugin, enabled: entry.enabled, ready: null, items: [], durationMs: 0 };
    sources.push(row);
    if (!entry.enabled) {
      row.ready = false;
      row.items.push({ name: "enabled", status: "skip", detail: `disabled in the profile (data_sources.${name}.enabled is false)` });
      continue;
    }
    let definition: SourceDefinition<unknown>;
    try {
      definition = await loadSourcePlugin({ field: `data_sources.${name}.plugin`, specifier: entry.plugin, baseDir: loaded.baseDir });
      row.items.push({ name: "plugin", status: "ok", detail: `${entry.plugin} (source "${definition.name}")` });
    } catch (error) {
      row.ready = false;
      row.items.push({ name: "plugin", status: "fail", detail: messageOf(error) });
      continue;
    }
    // A source whose ${VARIABLE}s are unset is checked with those fields left out: its check names them.
    const missing = loaded.missingVariables[name] ?? [];
    if (missing.length) row.items.push({ name: "variables", status: "warn", detail: `not set: ${missing.map((v) => `$${v}`).join(", ")} (a run skips this source)` });
    let config: unknown;
    try {
      config = parseSourceConfig(definition, name, entry.config, loaded.path);
    } catch (error) {
      if (!missing.length || !isSourceErrorOfKind(error, "config")) {
        row.ready = false;
        row.items.push({ name: "config", status: "fail", detail: messageOf(error) });
        continue;
      }
      config = entry.config;
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const outcome = await Promise.race([
        checkOne(definition, config, { signal: controller.signal, baseDir: loaded.baseDir, now: now(), product: profile.request.product.toUpperCase(), quick: options.quick ?? false }),
        new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(new Error(`the check did not finish within ${timeoutMs} ms`)), { once: true })),
      ]);
      if (outcome === null) {
        row.items.push({ name: "check", status: "warn", detail: "this plugin has no check(): its config is valid, whether it works is not known until a run" });
      } else {
        row.ready = outcome.ready && !(missing.length > 0);
        row.items.push(...outcome.items);
      }
    } catch (error) {
      row.ready = false;
      row.items.push({ name: "check", status: "fail", detail: messageOf(error) });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      row.durationMs = Math.round(performance.now() - started);
    }
  }
  const first = sources[0] ?? null;
  const ready = first?.ready === true;
  return {
    profile: profile.profile_name,
    firstChoice: first?.source ?? null,
    ready,
    fallbackReady: sources.slice(1).some((s) => s.ready === true),
    sources,
    exitCode: ready ? 0 : 1,
  };
}

async function checkOne(definition: SourceDefinition<unknown>, config: unknown, o: CheckRun): Promise<{ ready: boolean; items: CheckItem[] } | null> {
  if (!definition.check) return null;
  // A zero spend cap: a check that tried to buy anything would be refused.
  const context = { log: createLogger(() => {}), spend: new SpendLedger(0), now: () => o.now, baseDir: o.baseDir };
  return definition.check(config, context, { signal: o.signal, product: o.product, quick: o.quick });
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/^config: /, "");
}

const MARK: Record<CheckItem["status"], string> = { ok: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };

export function renderCheckReport(report: CheckReport): string {
  const out: string[] = [`@nq check · profile "${report.profile}"`, ""];
  for (const s of report.sources) {
    const state = s.ready === true ? "READY" : s.ready === false ? "NOT READY" : "UNKNOWN";
    out.push(`${s.priority}. ${s.source} (${s.plugin}) — ${state}${s.durationMs ? ` · ${s.durationMs} ms` : ""}`);
    for (const item of s.items) out.push(`   [${MARK[item.status]}] ${item.name.padEnd(32)} ${item.detail}`);
    out.push("");
  }
  out.push(
    report.ready
      ? `The first choice "${report.firstChoice}" is ready.`
      : `The first choice "${report.firstChoice}" is NOT ready${report.fallbackReady ? "; a later source is, so a run would substitute it" : " and no later source is either"}.`,
  );
  return `${out.join("\n")}\n`;
}

export function checkCommand(settings: { profilesDir: string; cwd: string }): Command {
  return new Command("check")
    // A usage error throws (exit 2 in cli.ts) like the program's own; addCommand does not inherit that.
    .exitOverride()
    .showHelpAfterError()
    .description("for every source of the profile: what it needs and whether it works now, without buying data")
    .option("-p, --profile <name>", "the profile (default: default)")
    .option("-c, --config <file>", "a profile file of your own")
    .option("--quick", "the cheapest probe each source has (Barchart: one plain HTTP request instead of Chromium)")
    .option("--timeout <ms>", "per source (default 60000)", (v) => Number(v))
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nExit codes: 0 the first-priority source is ready · 1 it is not (see fallbackReady) · 2 wrong flag or profile")
    .action(async (flags: { profile?: string; config?: string; quick?: boolean; timeout?: number; json?: boolean }, command: Command) => {
      const outer = command.parent?.opts<{ profile?: string; config?: string; json?: boolean }>() ?? {};
      const profilePath = resolve(settings.cwd, flags.config ?? outer.config ?? resolveProfilePath(flags.profile ?? outer.profile, settings.profilesDir, settings.cwd));
      const report = await runChecks({
        profilePath,
        cwd: settings.cwd,
        quick: flags.quick ?? false,
        ...(flags.timeout && Number.isFinite(flags.timeout) ? { timeoutMs: flags.timeout } : {}),
      });
      if (flags.json ?? outer.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(renderCheckReport(report));
      process.exitCode = report.exitCode;
    });
}
