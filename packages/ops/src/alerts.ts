/**
 * Alert rules, evaluated after a run from what the run did and what the history says: monthly spend
 * against the budget, a source's failures (in a row, or as a rate over its last tries), and the chain's
 * quality against the previous run of the same profile. Each alert carries a `key` naming its rule and
 * its window (the month, the failure streak, the day), and is fired at most once per key: `dispatchAlerts`
 * asks a store which keys were already fired.
 */
import type { AlertRules } from "./config.js";

export type AlertRule = "budget" | "source_failures" | "failure_rate" | "quality";
export type AlertSeverity = "warn" | "fail";

export interface Alert {
  /** The rule and its window: "budget:databento:2026-11", "source_failures:barchart:<first failure time>". */
  key: string;
  rule: AlertRule;
  severity: AlertSeverity;
  message: string;
  profile: string;
  runId: string;
  at: string;
  source: string | null;
  details: Record<string, unknown>;
}

/** One try of a source in a run (skips and cache hits are not tries). */
export interface SourceTry {
  source: string;
  at: string;
  runId: string;
  ok: boolean;
  reason: string | null;
}

export interface QualitySnapshot {
  runId: string;
  at: string;
  /** The source that answered. */
  source: string;
  contracts: number;
  missingBidAskShare: number;
  zeroOpenInterestShare: number;
}

export interface AlertInput {
  profile: string;
  runId: string;
  now: Date;
  rules: AlertRules;
  /** Monthly USD budget per source. */
  monthlyBudgetUsd: Record<string, number>;
  /** USD spent per source in the current month (UTC), this run included. */
  monthSpendUsd: Record<string, number>;
  /** Per source, its tries, oldest first, this run's included (at least `window_runs` of them when there are). */
  tries: Record<string, SourceTry[]>;
  /** This run's chain and the previous run's of the same profile (null when there was none). */
  quality: { current: QualitySnapshot | null; previous: QualitySnapshot | null };
}

export function evaluateAlerts(input: AlertInput): Alert[] {
  const alerts: Alert[] = [];
  const at = input.now.toISOString();
  const month = at.slice(0, 7);
  const day = at.slice(0, 10);
  const base = { profile: input.profile, runId: input.runId, at };
  const { budget, source_failures: failures, quality } = input.rules;

  if (budget.enabled) {
    for (const [source, limit] of Object.entries(input.monthlyBudgetUsd)) {
      const spent = input.monthSpendUsd[source] ?? 0;
      if (limit <= 0 ? spent <= 0 : spent < budget.share * limit) continue;
      const used = limit > 0 ? spent / limit : Number.POSITIVE_INFINITY;
      alerts.push({
        ...base,
        key: `budget:${source}:${month}`,
        rule: "budget",
        severity: budget.severity,
        source,
        message: `${source} has spent $${spent.toFixed(2)} in ${month}, ${limit > 0 ? `${(used * 100).toFixed(0)} %` : "all"} of its $${limit.toFixed(2)} monthly budget (alert at ${(budget.share * 100).toFixed(0)} %)`,
        details: { month, spentUsd: spent, budgetUsd: limit, share: used, threshold: budget.share },
      });
    }
  }

  if (failures.enabled) {
    for (const [source, list] of Object.entries(input.tries)) {
      const last = list[list.length - 1];
      if (!last || last.runId !== input.runId) continue; // only sources this run tried
      let streak = 0;
      for (let i = list.length - 1; i >= 0 && !list[i]!.ok; i--) streak += 1;
      if (streak >= failures.consecutive) {
        const first = list[list.length - streak]!;
        alerts.push({
          ...base,
          key: `source_failures:${source}:${first.at}`,
          rule: "source_failures",
          severity: failures.severity,
          source,
          message: `${source} failed ${streak} times in a row (since ${first.at}); last: ${last.reason ?? "no reason given"}`,
          details: { consecutive: streak, threshold: failures.consecutive, since: first.at, lastReason: last.reason },
        });
      }
      const window = list.slice(-failures.window_runs);
      const failed = window.filter((t) => !t.ok).length;
      if (window.length >= failures.min_runs && failed / window.length > failures.rate) {
        alerts.push({
          ...base,
          key: `failure_rate:${source}:${day}`,
          rule: "failure_rate",
          severity: failures.severity,
          source,
          message: `${source} failed ${failed} of its last ${window.length} tries (${((failed / window.length) * 100).toFixed(0)} %, alert above ${(failures.rate * 100).toFixed(0)} %)`,
          details: { failed, tries: window.length, rate: failed / window.length, threshold: failures.rate },
        });
      }
    }
  }

  const { current, previous } = input.quality;
  if (quality.enabled && current && previous && current.source === previous.source) {
    const vs = `than the previous run (${previous.runId} at ${previous.at})`;
    const checks: { metric: string; now: number; before: number; worse: boolean; message: string; threshold: number }[] = [
      {
        metric: "missing_bid_ask_share",
        now: current.missingBidAskShare,
        before: previous.missingBidAskShare,
        threshold: quality.missing_bid_ask_share_increase,
        worse: current.missingBidAskShare - previous.missingBidAskShare > quality.missing_bid_ask_share_increase,
        message: `${pct(current.missingBidAskShare)} of ${current.source}'s contracts lack a bid or an ask, up from ${pct(previous.missingBidAskShare)} ${vs}`,
      },
      {
        metric: "zero_oi_share",
        now: current.zeroOpenInterestShare,
        before: previous.zeroOpenInterestShare,
        threshold: quality.zero_oi_share_increase,
        worse: current.zeroOpenInterestShare - previous.zeroOpenInterestShare > quality.zero_oi_share_increase,
        message: `${pct(current.zeroOpenInterestShare)} of ${current.source}'s contracts have zero open interest, up from ${pct(previous.zeroOpenInterestShare)} ${vs}`,
      },
      {
        metric: "contracts",
        now: current.contracts,
        before: previous.contracts,
        threshold: quality.contracts_drop_share,
        worse: previous.contracts > 0 && (previous.contracts - current.contracts) / previous.contracts > quality.contracts_drop_share,
        message: `${current.source}'s chain has ${current.contracts} contracts, down ${pct((previous.contracts - current.contracts) / Math.max(1, previous.contracts))} from ${previous.contracts} ${vs}`,
      },
    ];
    for (const check of checks) {
      if (!check.worse) continue;
      alerts.push({
        ...base,
        key: `quality:${input.profile}:${check.metric}:${day}`,
        rule: "quality",
        severity: quality.severity,
        source: current.source,
        message: check.message,
        details: { metric: check.metric, current: check.now, previous: check.before, threshold: check.threshold, previousRunId: previous.runId },
      });
    }
  }
  return alerts;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

/** Remembers which alert keys have fired. @nq/cache-sqlite's ledger implements it in the cache file. */
export interface AlertStore {
  /** Records the alert unless its key was fired before; true when it is new. Atomic per key. */
  claim(alert: Alert): Promise<boolean>;
}

/** An in-memory store (tests, or a caller with no file). */
export function memoryAlertStore(): AlertStore & { keys: Set<string> } {
  const keys = new Set<string>();
  return {
    keys,
    async claim(alert) {
      if (keys.has(alert.key)) return false;
      keys.add(alert.key);
      return true;
    },
  };
}
