/**
 * `nq-runner compare --sources A,B [--as-of T] [--profile P] [--json]`: loads the chain from each of two
 * sources of the profile — each a normal run forced to that source, so through the cache, the spend cap,
 * the ledger and the alerts — and compares them field by field with @nq/ops's `compareChains`: settlement,
 * open interest and cleared volume (with their dates), session volume, bid, ask, mid, last. Writes
 * `compare-<A>-<B>-<asOf>.json` (the report), `.csv` (one row per contract) and `.html` (the self-contained
 * compare page of @nq/report; not with `--no-html` or the profile's `output.html: false`) to the output folder, and
 * prints a short summary (or the report with `--json`). Tolerances come from the profile's `compare`.
 *
 * Exit codes: 0 compared; 1 a source gave no chain; 2 a flag or the profile is wrong; 3 the report could
 * not be written.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, type LogEntry, type OptionsChain } from "@nq/core";
import { COMPARE_FIELDS, compareChains, comparisonSummary, comparisonToCsv, type ComparisonReport, type CompareField } from "@nq/ops";
import { renderComparePage } from "@nq/report";
import { writeAtomically } from "../outputs.js";
import { EXIT, resolveProfilePath, runProfile } from "../run.js";
import type { RunSummary } from "../summary.js";
import { loadOpsProfile } from "./ops-profile.js";

export interface CompareRunOptions {
  profilePath: string;
  sources: [string, string];
  asOf?: string;
  maxExpirations?: number;
  outDir?: string;
  /** false: no compare page beside the JSON and CSV (`--no-html`); default: the profile's `output.html`. */
  html?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  refresh?: boolean;
  useCache?: boolean;
  signal?: AbortSignal;
  onLog?: (entry: LogEntry) => void;
  now?: () => Date;
}

export interface CompareOutcome {
  exitCode: number;
  report: ComparisonReport | null;
  files: { json: string; csv: string; html?: string } | null;
  /** Why the compare page was not written (the JSON and CSV were). */
  htmlError?: string | null;
  runs: { source: string; exitCode: number; summary: RunSummary }[];
  error: string | null;
}

export async function runCompare(options: CompareRunOptions): Promise<CompareOutcome> {
  const cwd = options.cwd ?? process.cwd();
  const { loaded, ops } = loadOpsProfile(resolve(cwd, options.profilePath), { ...(options.env ? { env: options.env } : {}) });
  const [a, b] = options.sources;
  if (a === b) throw new ConfigError("config", `--sources: name two different sources, got "${a}" twice`, { path: "--sources" });
  for (const name of options.sources) {
    if (!(name in loaded.profile.data_sources)) {
      throw new ConfigError("config", `--sources: no source "${name}" in ${loaded.path} (known: ${Object.keys(loaded.profile.data_sources).join(", ")})`, { path: "--sources" });
    }
  }
  const outDir = options.outDir ? resolve(cwd, options.outDir) : resolve(loaded.baseDir, loaded.profile.output.dir);
  const request: Record<string, unknown> = {};
  if (options.asOf) request.asOf = options.asOf;
  if (options.maxExpirations) request.maxExpirations = options.maxExpirations;
  const runs: CompareOutcome["runs"] = [];
  const chains: OptionsChain[] = [];
  for (const source of options.sources) {
    const { summary, exitCode } = await runProfile({
      profilePath: options.profilePath,
      cwd,
      outDir,
      forceSource: source,
      html: false,
      refresh: options.refresh ?? false,
      ...(options.useCache === false ? { useCache: false } : {}),
      request,
      ...(options.env ? { env: options.env } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onLog ? { onLog: options.onLog } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    runs.push({ source, exitCode, summary });
    if (!summary.chain || !summary.outputs) {
      const why = summary.attempts.find((t) => t.source === source)?.reason ?? summary.outputError?.message ?? "no chain";
      return { exitCode: summary.outputError ? EXIT.output : EXIT.noSource, report: null, files: null, runs, error: `${source} gave no chain to compare: ${why}` };
    }
    chains.push(JSON.parse(await readFile(summary.outputs.json, "utf8")) as OptionsChain);
  }
  const settings = ops.compare;
  const report = compareChains(chains[0]!, chains[1]!, {
    ...(settings?.tolerances ? { tolerances: settings.tolerances as Partial<Record<CompareField, { abs?: number; rel?: number }>> } : {}),
    worstPerField: settings?.worst ?? 5,
  });
  const stem = `compare-${a}-${b}-${report.a.asOf.replace(/[:.]/g, "-")}`;
  const files: { json: string; csv: string; html?: string } = { json: join(outDir, `${stem}.json`), csv: join(outDir, `${stem}.csv`) };
  try {
    await writeAtomically(files.json, () => [`${JSON.stringify(comparisonSummary(report), null, 2)}\n`]);
    await writeAtomically(files.csv, () => [comparisonToCsv(report)]);
  } catch (error) {
    return { exitCode: EXIT.output, report, files: null, runs, error: `the comparison could not be written to ${outDir}: ${(error as Error).message}` };
  }
  // The page is a view of what the JSON and CSV hold: one that cannot be made is reported, not fatal.
  let htmlError: string | null = null;
  if (options.html !== false && loaded.profile.output.html !== false) {
    const html = join(outDir, `${stem}.html`);
    try {
      await writeAtomically(html, () => [renderComparePage(report)]);
      files.html = html;
    } catch (error) {
      htmlError = `the compare page could not be written to ${html}: ${(error as Error).message}`;
    }
  }
  return { exitCode: EXIT.ok, report, files, htmlError, runs, error: null };
}

const FIELD_LABEL: Record<CompareField, string> = {
  settlement: "settlement",
  openInterest: "open interest",
  volume: "volume (session)",
  clearedVolume: "cleared volume",
  bid: "bid",
  ask: "ask",
  mid: "mid",
  last: "last",
};

export function renderComparison(report: ComparisonReport, files: { json: string; csv: string; html?: string } | null): string {
  const A = report.a.source;
  const B = report.b.source;
  const out: string[] = [];
  out.push(`@nq compare · A = ${A} (as of ${report.a.asOf}${report.a.delayed ? ", delayed" : ""}${report.a.cache === "hit" ? ", from cache" : ""}) · B = ${B} (as of ${report.b.asOf}${report.b.delayed ? ", delayed" : ""}${report.b.cache === "hit" ? ", from cache" : ""})`);
  out.push(`contracts: ${report.joined} in both · ${report.onlyInA} only in ${A} · ${report.onlyInB} only in ${B}${report.joinedBy.expirationStrikeRight ? ` (${report.joinedBy.expirationStrikeRight} joined on expiration/strike/right)` : ""}`);
  out.push("");
  const header = ["field", "compared", "exact", "within tol.", "mismatch", "dates differ", `only ${A}`, `only ${B}`, "max |diff|"];
  const rows = COMPARE_FIELDS.filter((f) => report.fields[f]).map((f) => {
    const s = report.fields[f];
    return [FIELD_LABEL[f], s.compared, s.exact, s.withinTolerance, s.mismatch, s.datesDiffer, s.onlyA, s.onlyB, s.maxAbsDiff === null ? "" : round(s.maxAbsDiff)].map(String);
  });
  out.push(table(header, rows));
  out.push("");
  out.push("per expiration (both · only A · only B · settlement/OI mismatches):");
  for (const e of report.expirations) {
    out.push(`  ${e.expiration}  ${e.joined} · ${e.onlyInA} · ${e.onlyInB} · ${e.fields.settlement?.mismatch ?? 0}/${e.fields.openInterest?.mismatch ?? 0}`);
  }
  const worst = report.worst.filter((d) => d.status === "mismatch");
  if (worst.length) {
    out.push("");
    out.push("worst differences (B − A):");
    for (const d of worst.slice(0, 20)) out.push(`  ${d.symbol.padEnd(16)} ${FIELD_LABEL[d.field].padEnd(16)} ${A} ${fmt(d.a)}  ${B} ${fmt(d.b)}  diff ${fmt(d.diff)}`);
  }
  if (report.notes.length) {
    out.push("");
    out.push("notes:");
    for (const note of report.notes) out.push(`  - ${note}`);
  }
  if (files) out.push("", `written: ${files.json}`, `         ${files.csv}`, ...(files.html ? [`         ${files.html}`] : []));
  return `${out.join("\n")}\n`;
}

function fmt(v: number | null): string {
  return v === null ? "—" : String(round(v));
}

function round(v: number): number {
  return Number(v.toPrecision(10));
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

function parseSources(value: string): [string, string] {
  const names = value.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length !== 2) throw new InvalidArgumentError(`expected two source names separated by a comma (e.g. databento,barchart), got "${value}"`);
  return [names[0]!, names[1]!];
}

export function compareCommand(settings: { profilesDir: string; cwd: string; signal?: AbortSignal; parseIsoTime: (v: string) => string; onLog?: (entry: LogEntry) => void }): Command {
  return new Command("compare")
    // A usage error throws (exit 2 in cli.ts) like the program's own; addCommand does not inherit that.
    .exitOverride()
    .showHelpAfterError()
    .description("load the chain from two sources of the profile (through the cache) and compare them field by field")
    .requiredOption("--sources <a,b>", "two sources of the profile, e.g. databento,barchart (A is the reference)", parseSources)
    .option("-p, --profile <name>", "the profile (default: default)")
    .option("-c, --config <file>", "a profile file of your own")
    .option("-o, --out <dir>", "where the two chains and the comparison (JSON, CSV) go (default: the profile's output.dir)")
    .option("--as-of <time>", "the market time wanted (ISO 8601); default: the latest", settings.parseIsoTime)
    .option("--max-expirations <n>", "only the nearest N expirations", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, got "${v}"`);
      return n;
    })
    .option("--refresh", "ignore cached entries and fetch fresh")
    .option("--no-cache", "neither read nor write the cache")
    .option("--json", "print the comparison report (without per-contract rows) as JSON")
    .option("--no-html", "do not write the compare page (compare-<A>-<B>-<asOf>.html) beside the JSON and CSV")
    .addHelpText(
      "after",
      "\nTolerances: the profile's \"compare\": { \"tolerances\": { \"settlement\": { \"abs\": 0.25 }, \"volume\": { \"rel\": 0.1 } }, \"worst\": 5 }.\nExit codes: 0 compared · 1 a source gave no chain · 2 wrong flag or profile · 3 the report could not be written",
    )
    .action(async (flags: { sources: [string, string]; profile?: string; config?: string; out?: string; asOf?: string; maxExpirations?: number; refresh?: boolean; cache: boolean; json?: boolean; html?: boolean }, command: Command) => {
      const outer = command.parent?.opts<{ profile?: string; config?: string; json?: boolean; html?: boolean }>() ?? {};
      const profilePath = flags.config ?? outer.config ?? resolveProfilePath(flags.profile ?? outer.profile, settings.profilesDir, settings.cwd);
      const outcome = await runCompare({
        profilePath,
        sources: flags.sources,
        cwd: settings.cwd,
        ...(flags.asOf ? { asOf: flags.asOf } : {}),
        ...(flags.maxExpirations ? { maxExpirations: flags.maxExpirations } : {}),
        ...(flags.out ? { outDir: flags.out } : {}),
        refresh: flags.refresh ?? false,
        useCache: flags.cache,
        ...(flags.html === false || outer.html === false ? { html: false } : {}),
        ...(settings.signal ? { signal: settings.signal } : {}),
        ...(settings.onLog ? { onLog: settings.onLog } : {}),
      });
      const json = flags.json ?? outer.json;
      if (outcome.error) process.stderr.write(`error: ${outcome.error}\n`);
      if (outcome.htmlError) process.stderr.write(`warning: ${outcome.htmlError}\n`);
      if (json) {
        process.stdout.write(`${JSON.stringify({ ...(outcome.report ? comparisonSummary(outcome.report) : {}), files: outcome.files, error: outcome.error, exitCode: outcome.exitCode }, null, 2)}\n`);
      } else if (outcome.report) process.stdout.write(renderComparison(outcome.report, outcome.files));
      process.exitCode = outcome.exitCode;
    });
}
