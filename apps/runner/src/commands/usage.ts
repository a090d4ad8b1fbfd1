/**
 * `nq-runner usage [--profile P] [--json]`: what the paid sources cost, from the persistent spend ledger
 * beside the profile's cache (every run records its paid requests there): the month so far per source
 * against the profile's `budget`, a straight-line projection for the month, spend per day and per month,
 * and the most expensive requests. Read-only: it creates and changes nothing.
 *
 * Exit codes: 0 shown (an empty ledger too); 2 a flag or the profile is wrong; 5 the file cannot be read.
 */
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError } from "@nq/core";
import { openSpendLedger, type LedgerEntry, type SpendTotal } from "@nq/cache-sqlite";
import { monthWindow, projectMonthSpend } from "@nq/ops";
import { resolveProfilePath } from "../run.js";
import { ledgerPathFor, loadOpsProfile } from "./ops-profile.js";

export interface SourceUsage {
  source: string;
  monthUsd: number;
  projectedUsd: number;
  budgetUsd: number | null;
  /** monthUsd / budgetUsd; null without a budget. */
  budgetShare: number | null;
  projectedShare: number | null;
  requests: number;
}

export interface UsageReport {
  profile: string;
  ledger: string;
  now: string;
  month: string;
  /** Share of the month passed. */
  monthElapsed: number;
  sources: SourceUsage[];
  totalMonthUsd: number;
  totalProjectedUsd: number;
  byDay: SpendTotal[];
  byMonth: SpendTotal[];
  topRequests: LedgerEntry[];
  /** Alerts fired this month. */
  alerts: unknown[];
  note: string | null;
}

export interface UsageOptions {
  profilePath: string;
  env?: NodeJS.ProcessEnv;
  now?: Date;
  /** Days of daily totals (default 31). */
  days?: number;
  /** How many of the most expensive requests this month (default 10). */
  top?: number;
}

export async function usageReport(options: UsageOptions): Promise<UsageReport> {
  const now = options.now ?? new Date();
  const { loaded, ops } = loadOpsProfile(options.profilePath, { ...(options.env ? { env: options.env } : {}) });
  const path = ledgerPathFor(loaded);
  if (path === null) {
    throw new ConfigError("config", `${loaded.path} has no enabled @nq/cache-sqlite "cache": the spend ledger lives in that file, so there is nothing to show`, { path: "cache" });
  }
  const ledger = await openSpendLedger({ path, readOnly: true });
  try {
    const month = monthWindow(now);
    const range = { from: month.start.toISOString(), to: month.end.toISOString() };
    const byMonthSource = await ledger.totals("month", range);
    const budgets = ops.budget?.monthly_usd ?? {};
    const names = [...new Set([...Object.keys(budgets), ...byMonthSource.map((t) => t.source)])].sort();
    const sources = names.map((source): SourceUsage => {
      const t = byMonthSource.filter((x) => x.source === source);
      const monthUsd = t.reduce((sum, x) => sum + x.billedUsd, 0);
      const projectedUsd = projectMonthSpend(monthUsd, now);
      const budgetUsd = budgets[source] ?? null;
      return {
        source,
        monthUsd,
        projectedUsd,
        budgetUsd,
        budgetShare: budgetUsd ? monthUsd / budgetUsd : null,
        projectedShare: budgetUsd ? projectedUsd / budgetUsd : null,
        requests: t.reduce((sum, x) => sum + x.requests, 0),
      };
    });
    const days = options.days ?? 31;
    const since = new Date(now.getTime() - days * 86_400_000);
    const byDay = await ledger.totals("day", { from: new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate())).toISOString() });
    const byMonth = await ledger.totals("month");
    const topRequests = await ledger.entries(range, { orderBy: "billed", limit: options.top ?? 10 });
    const alerts = await ledger.firedAlerts({ from: range.from });
    const totalMonthUsd = sources.reduce((sum, s) => sum + s.monthUsd, 0);
    return {
      profile: loaded.profile.profile_name,
      ledger: ledger.location,
      now: now.toISOString(),
      month: month.month,
      monthElapsed: month.elapsed,
      sources,
      totalMonthUsd,
      totalProjectedUsd: projectMonthSpend(totalMonthUsd, now),
      byDay,
      byMonth,
      topRequests,
      alerts,
      note: ledger.empty ? `nothing recorded at ${ledger.location} yet: runs record their paid requests there` : null,
    };
  } finally {
    await ledger.close();
  }
}

const usd = (v: number) => `$${v.toFixed(v !== 0 && Math.abs(v) < 0.01 ? 4 : 2)}`;
const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(0)} %`);

export function renderUsage(report: UsageReport): string {
  const out: string[] = [`@nq usage · profile "${report.profile}" · ${report.month} (${pct(report.monthElapsed)} of the month passed, UTC) · ledger ${report.ledger}`, ""];
  if (report.note) out.push(report.note, "");
  out.push("month so far");
  const rows = report.sources.map((s) => [s.source, String(s.requests), usd(s.monthUsd), usd(s.projectedUsd), s.budgetUsd === null ? "—" : usd(s.budgetUsd), pct(s.budgetShare), pct(s.projectedShare)]);
  rows.push(["total", String(report.sources.reduce((n, s) => n + s.requests, 0)), usd(report.totalMonthUsd), usd(report.totalProjectedUsd), "", "", ""]);
  out.push(table(["source", "requests", "spent", "projected", "budget", "used", "projected/budget"], rows));
  if (report.byDay.length) {
    out.push("", "per day");
    out.push(table(["day", "source", "requests", "spent"], report.byDay.map((t) => [t.period, t.source, String(t.requests), usd(t.billedUsd)])));
  }
  if (report.byMonth.length) {
    out.push("", "per month");
    out.push(table(["month", "source", "requests", "spent"], report.byMonth.map((t) => [t.period, t.source, String(t.requests), usd(t.billedUsd)])));
  }
  if (report.topRequests.length) {
    out.push("", "top requests this month");
    for (const e of report.topRequests) out.push(`  ${usd(e.billedUsd).padStart(9)}  ${e.at}  ${e.source}  ${e.what.length > 90 ? `${e.what.slice(0, 90)}…` : e.what}`);
  }
  if (report.alerts.length) {
    out.push("", "alerts this month");
    for (const a of report.alerts as { at: string; severity: string; message: string }[]) out.push(`  ${a.at}  ${a.severity}  ${a.message}`);
  }
  return `${out.join("\n")}\n`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 1 && header[1] === "source" ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`).join("\n");
}

export function usageCommand(settings: { profilesDir: string; cwd: string }): Command {
  return new Command("usage")
    // A usage error throws (exit 2 in cli.ts) like the program's own; addCommand does not inherit that.
    .exitOverride()
    .showHelpAfterError()
    .description("spend per source this month against the profile's budget, its projection, per day and month, and the top requests (from the ledger beside the cache)")
    .option("-p, --profile <name>", "the profile (default: default)")
    .option("-c, --config <file>", "a profile file of your own")
    .option("--days <n>", "days of daily totals (default 31)", positive)
    .option("--top <n>", "how many of this month's most expensive requests (default 10)", positive)
    .option("--json", "machine-readable output")
    .addHelpText("after", "\nBudget: the profile's \"budget\": { \"monthly_usd\": { \"databento\": 100 } } (UTC calendar months).\nExit codes: 0 shown · 2 wrong flag or profile · 5 the ledger file cannot be read")
    .action(async (flags: { profile?: string; config?: string; days?: number; top?: number; json?: boolean }, command: Command) => {
      const outer = command.parent?.opts<{ profile?: string; config?: string; json?: boolean }>() ?? {};
      const profilePath = resolve(settings.cwd, flags.config ?? outer.config ?? resolveProfilePath(flags.profile ?? outer.profile, settings.profilesDir, settings.cwd));
      const report = await usageReport({ profilePath, ...(flags.days ? { days: flags.days } : {}), ...(flags.top ? { top: flags.top } : {}) });
      process.stdout.write(flags.json ?? outer.json ? `${JSON.stringify(report, null, 2)}\n` : renderUsage(report));
    });
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}
