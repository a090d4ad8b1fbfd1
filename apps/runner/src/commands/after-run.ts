/**
 * After every run: the run's paid requests go into the persistent spend ledger (beside the cache), with
 * its sources' tries and its chain's quality; then the alert rules are evaluated against that history and
 * fired alerts go to their sinks — the summary and stderr (through the caller), `alerts.jsonl` in the
 * output folder, and the profile's webhook (bounded by its timeout). Nothing here can fail the run: a
 * problem becomes a line in `problems`, shown as a notice.
 */
import { join } from "node:path";
import type { Attempt, Logger, OptionsChain, SpendLedger } from "@nq/core";
import { openSpendLedger } from "@nq/cache-sqlite";
import { defaultAlertSettings, dispatchAlerts, evaluateAlerts, monthWindow, type Alert, type OpsSections, type QualitySnapshot } from "@nq/ops";

export interface AfterRunInput {
  /** Null: the profile has no SQLite cache, so there is no ledger (and no alert history). */
  ledgerPath: string | null;
  ops: OpsSections;
  profile: string;
  runId: string;
  outDir: string;
  ok: boolean;
  source: string | null;
  chain: Omit<OptionsChain, "contracts"> | null;
  attempts: Attempt[];
  spend: SpendLedger;
  now: () => Date;
  log: Logger;
}

export interface AfterRunOutcome {
  /** Where the ledger is (null when it could not be opened). */
  ledger: string | null;
  /** Paid requests recorded by this run. */
  recorded: number;
  alerts: Alert[];
  /** Alerts that would have fired but already did in their window. */
  suppressed: number;
  problems: string[];
}

export async function afterRun(input: AfterRunInput): Promise<AfterRunOutcome> {
  const outcome: AfterRunOutcome = { ledger: null, recorded: 0, alerts: [], suppressed: 0, problems: [] };
  let ledger: Awaited<ReturnType<typeof openSpendLedger>>;
  if (input.ledgerPath === null) {
    if (input.spend.totalUsd > 0) outcome.problems.push(`this run's spend ($${input.spend.totalUsd.toFixed(4)}) is not recorded: the profile has no @nq/cache-sqlite cache, where the spend ledger lives`);
    return outcome;
  }
  try {
    ledger = await openSpendLedger({ path: input.ledgerPath, now: input.now });
    outcome.ledger = ledger.location;
  } catch (error) {
    outcome.problems.push(`the spend ledger could not be opened, so this run's spend ($${input.spend.totalUsd.toFixed(4)}) is not recorded and no alert was evaluated: ${messageOf(error)}`);
    return outcome;
  }
  try {
    const now = input.now();
    const quality = input.chain?.qualityMetrics;
    const tries = input.attempts
      .filter((a) => a.outcome === "failed" || ((a.outcome === "success" || a.outcome === "incomplete") && a.cache !== "hit"))
      .filter((a) => a.tries > 0 || a.outcome === "failed")
      .map((a) => ({ source: a.source, ok: a.outcome !== "failed", reason: a.reason }));
    outcome.recorded = await ledger.recordRun(
      {
        runId: input.runId,
        profile: input.profile,
        at: now.toISOString(),
        ok: input.ok,
        source: input.source,
        contracts: input.chain ? input.chain.optionsSummary.total : null,
        missingBidAskShare: quality ? quality.missingBidAskShare : null,
        zeroOpenInterestShare: quality ? quality.zeroOpenInterestShare : null,
        spentUsd: input.spend.totalUsd,
        estimatedUsd: input.spend.totalEstimatedUsd,
        tries,
      },
      input.spend,
    );

    const settings = input.ops.alerts ?? defaultAlertSettings();
    if (!settings.enabled) return outcome;
    const month = monthWindow(now);
    const monthSpend = await ledger.spentBySource({ from: month.start.toISOString(), to: month.end.toISOString() });
    const triedSources = [...new Set(tries.map((t) => t.source))];
    const recent = await ledger.recentTries(triedSources, Math.max(settings.rules.source_failures.window_runs, settings.rules.source_failures.consecutive));
    // The same profile's previous chain from the same source: another source's chain is not a degradation.
    const previous = input.source ? await ledger.previousRun(input.profile, input.runId, input.source) : null;
    const snapshot = (r: { runId: string; at: string; source: string | null; contracts: number | null; missingBidAskShare: number | null; zeroOpenInterestShare: number | null } | null): QualitySnapshot | null =>
      r && r.source && r.contracts !== null
        ? { runId: r.runId, at: r.at, source: r.source, contracts: r.contracts, missingBidAskShare: r.missingBidAskShare ?? 0, zeroOpenInterestShare: r.zeroOpenInterestShare ?? 0 }
        : null;
    const current = input.chain && input.source && quality
      ? { runId: input.runId, at: now.toISOString(), source: input.source, contracts: input.chain.optionsSummary.total, missingBidAskShare: quality.missingBidAskShare, zeroOpenInterestShare: quality.zeroOpenInterestShare }
      : null;
    const alerts = evaluateAlerts({
      profile: input.profile,
      runId: input.runId,
      now,
      rules: settings.rules,
      monthlyBudgetUsd: input.ops.budget?.monthly_usd ?? {},
      monthSpendUsd: monthSpend,
      tries: recent,
      quality: { current: snapshot(current), previous: snapshot(previous) },
    });
    const dispatched = await dispatchAlerts(alerts, {
      store: ledger,
      logFile: settings.log ? join(input.outDir, "alerts.jsonl") : null,
      webhook: settings.webhook ?? null,
    });
    outcome.alerts = dispatched.fired;
    outcome.suppressed = dispatched.suppressed.length;
    outcome.problems.push(...dispatched.problems);
    for (const alert of dispatched.fired) input.log.warn(`ALERT (${alert.severity}, ${alert.rule}): ${alert.message}`);
  } catch (error) {
    outcome.problems.push(`the spend ledger or the alerts failed after the run: ${messageOf(error)}`);
  } finally {
    await ledger.close().catch(() => {});
  }
  return outcome;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
