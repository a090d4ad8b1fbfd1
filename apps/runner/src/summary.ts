/**
 * The summary a person reads after a run: which source answered and why the others did not, what the
 * chain holds, how trustworthy it is, and — said out loud — substitution, delay and sample data.
 */
import type { Attempt, ChainRequest, OptionsChain, RunResult } from "@nq/core";
import type { WrittenOutputs } from "./outputs.js";
import type { HistoryOutcome } from "./run-history.js";

/** What one source was estimated to cost before buying, and what it spent. */
export interface SourceSpend {
  source: string;
  estimatedUsd: number;
  spentUsd: number;
}

export interface RunSummary {
  profile: string;
  policy: RunResult["policy"];
  ok: boolean;
  source: string | null;
  firstChoice: string | null;
  substituted: boolean;
  attempts: Attempt[];
  notices: string[];
  /** The request the run asked every source (after the profile and the flags). */
  request: ChainRequest;
  chain: Omit<OptionsChain, "contracts"> | null;
  /** True when the chain that answered is not complete (see `chain.metadata.incompleteReasons`). */
  incomplete: boolean;
  outputs: WrittenOutputs | null;
  /** Why the outputs could not be written (exit code 3); null when they were, or when there was no chain. */
  outputError: { file: string; code: string | null; message: string } | null;
  /** USD spent this run (all sources). */
  spendUsd: number;
  /** USD the paid sources priced their plans at before buying. */
  estimatedUsd: number;
  spendBySource: SourceSpend[];
  cache: {
    enabled: boolean;
    location: string | null;
    savedUsd: number;
    /** Why the cache could not be opened (the run went on without it); null when it opened or was off by choice. */
    unavailable: string | null;
  };
  /** Where the chain was appended to history (snapshot id and location), or why it was not. */
  history?: HistoryOutcome;
  /** This run's id in the spend ledger and alerts. */
  runId?: string;
  /** Alerts fired by this run (each once per rule per window); see @nq/ops. */
  alerts?: import("@nq/ops").Alert[];
  /** Where the spend ledger is, how many paid requests this run added, how many alerts were already fired in their window. */
  ledger?: { location: string | null; recorded: number; suppressedAlerts: number };
}

/** The warnings that must not be missed, in the order a trader needs them. */
export function noticesFor(result: RunResult, firstChoice: string | null): string[] {
  const notices: string[] = [];
  const meta = result.chain?.metadata;
  if (!result.ok) notices.push("NO SOURCE ANSWERED: no chain was produced; see each source's reason above.");
  if (result.substituted && result.source) {
    const first = result.attempts.find((a) => a.source === firstChoice);
    notices.push(`SUBSTITUTED: the chain comes from "${result.source}", not the first choice "${firstChoice}" (${first?.reason ?? "it did not answer"}).`);
  }
  if (meta?.proxy) notices.push(`${meta.proxy.label}: a chain of ${meta.proxy.underlying} (${meta.proxy.kind}, multiplier ${meta.proxy.multiplier}, ${meta.proxy.settlement}-settled, ${meta.proxy.exercise}) standing in for ${meta.proxy.for}.`);
  if (meta?.sample) notices.push("SAMPLE DATA: these numbers are generated for demonstration, not market data. Do not trade on them.");
  if (meta?.delayed) notices.push(`DELAYED: "${meta.source}" data is not live; it is as of ${meta.asOf}.`);
  if (meta && !meta.complete) {
    const reasons = meta.incompleteReasons?.length ? meta.incompleteReasons : ["the source said its data is partial"];
    notices.push(`INCOMPLETE: the "${meta.source}" chain is partial: ${reasons.join("; ")}.`);
  }
  for (const attempt of result.attempts) {
    if (attempt.outcome === "incomplete" && attempt.source !== result.source) {
      notices.push(`INCOMPLETE: "${attempt.source}" answered with a partial chain that was not used (${attempt.reason ?? "no reason given"}).`);
    } else if (attempt.outcome === "failed" && attempt.reason?.includes("incomplete chain refused")) {
      notices.push(`INCOMPLETE: "${attempt.source}" answered with a partial chain, refused under the "strict" policy (${attempt.reason}).`);
    }
  }
  if (meta?.cache === "hit") notices.push(`FROM CACHE: "${meta.source}" chain fetched at ${meta.fetchedAt}, served from the cache.`);
  for (const warning of meta?.warnings ?? []) notices.push(`note: ${warning}`);
  return notices;
}

export function renderSummary(summary: RunSummary): string {
  const out: string[] = [];
  out.push(`@nq runner · profile "${summary.profile}" · policy ${summary.policy}`);
  out.push("");
  out.push("Sources (in priority order)");
  out.push(
    table(
      ["#", "source", "outcome", "cache", "tries", "time", "estimated", "spent", "reason"],
      summary.attempts.map((a, i) => [
        String(i + 1),
        a.source,
        outcomeLabel(a, summary.source),
        a.cache,
        String(a.tries),
        `${a.durationMs} ms`,
        a.estimatedUsd > 0 ? usd(a.estimatedUsd) : "-",
        usd(a.spendUsd),
        a.reason ?? "",
      ]),
    ),
  );
  if (summary.notices.length) {
    out.push("");
    for (const notice of summary.notices) out.push(`! ${notice}`);
  }
  const chain = summary.chain;
  if (chain) {
    const s = chain.optionsSummary;
    const q = chain.qualityMetrics;
    const m = chain.metadata;
    const underlyings = s.underlyings ?? [];
    out.push("");
    out.push("Chain");
    out.push(
      table(
        [],
        [
          ["source", `${m.source}${m.sample ? " (SAMPLE DATA)" : ""}${m.delayed ? " (delayed)" : ""}${m.complete ? "" : " (INCOMPLETE)"}`],
          ["as of", `${m.asOf}  (fetched ${m.fetchedAt})`],
          ["as-of reason", m.asOfReason ?? (summary.request.asOf ? "requested" : "the latest the source had")],
          ...(m.complete ? [] : (m.incompleteReasons?.length ? m.incompleteReasons : ["the source said its data is partial"]).map((reason): [string, string] => ["INCOMPLETE", reason])),
          ...(underlyings.length
            ? underlyings.map((u, i): [string, string] => [i === 0 ? (underlyings.length > 1 ? "underlyings" : "underlying") : "", underlyingLine(u)])
            : [["underlying", `${s.underlying}${s.underlyingPrice === null ? "" : ` @ ${s.underlyingPrice}`}`] as [string, string]]),
          ["contracts", `${s.total} (${s.calls} calls, ${s.puts} puts)`],
          ["expirations", `${s.expirations.length}: ${s.expirations.join(", ")}`],
          ["strikes", chain.strikeRange ? `${chain.strikeRange.min} – ${chain.strikeRange.max} (${chain.strikeRange.distinct} distinct)` : "none"],
        ],
      ),
    );
    out.push("");
    out.push("Quality");
    out.push(
      table(
        [],
        [
          ["rows received", `${q.rowsReceived} (invalid ${q.invalidRows}, duplicates ${q.duplicateRows}${q.conflictingDuplicates ? ` of which ${q.conflictingDuplicates} conflicting` : ""}, outside request ${q.filteredRows})`],
          ["missing bid/ask", pct(q.missingBidAskShare)],
          ["crossed quotes", String(q.crossedQuotes)],
          ["zero open interest", pct(q.zeroOpenInterestShare)],
          ["missing open interest", pct(q.missingOpenInterestShare)],
          ["stale quotes", `${q.staleQuotes} (older than ${Math.round(q.staleQuoteThresholdMs / 60000)} min before as-of)`],
          ...(q.futureQuoteTimes ? [["quotes after as-of", String(q.futureQuoteTimes)] as [string, string]] : []),
          ...Object.entries(q.invalidReasons).map(([reason, count]): [string, string] => ["invalid", `${count} × ${reason}`]),
        ],
      ),
    );
  }
  out.push("");
  if (summary.outputs) {
    out.push("Outputs");
    const page: [string, string][] = summary.outputs.html ? [["HTML", summary.outputs.html]] : summary.outputs.htmlError ? [["HTML", `not written: ${summary.outputs.htmlError}`]] : [];
    out.push(table([], [["JSON", summary.outputs.json], ["CSV", summary.outputs.csv], ...page]));
    out.push("");
  } else if (summary.outputError) {
    out.push("Outputs");
    out.push(`  NOT WRITTEN: ${summary.outputError.message}`);
    out.push("");
  }
  const cache = summary.cache.unavailable
    ? `cache UNAVAILABLE, this run did not use it (${summary.cache.unavailable})`
    : summary.cache.enabled
      ? `cache ${summary.cache.location ?? "on"} · saved ${usd(summary.cache.savedUsd)}`
      : "cache off";
  const estimated = summary.estimatedUsd > 0 ? ` (estimated ${usd(summary.estimatedUsd)})` : "";
  out.push(`Spend this run: ${usd(summary.spendUsd)} spent${estimated} · ${cache}`);
  if (summary.history) out.push(`History: ${historyLine(summary.history)}`);
  return `${out.join("\n")}\n`;
}

function historyLine(history: HistoryOutcome): string {
  if (history.written) {
    const removed = history.removedByRetention ? ` · retention removed ${history.removedByRetention} older snapshot${history.removedByRetention === 1 ? "" : "s"}` : "";
    return `snapshot ${history.snapshotId} in ${history.location}${removed}${history.error ? ` · ${history.error}` : ""}`;
  }
  if (history.error) return `NOT WRITTEN (${history.error})`;
  return history.note ?? "not written";
}

function outcomeLabel(attempt: Attempt, answered: string | null): string {
  if (attempt.source === answered) return attempt.outcome === "incomplete" ? "ANSWERED (INCOMPLETE)" : "ANSWERED";
  return attempt.outcome === "incomplete" ? "INCOMPLETE" : attempt.outcome;
}

function underlyingLine(u: NonNullable<OptionsChain["optionsSummary"]["underlyings"]>[number]): string {
  const price = u.price === null ? "price unknown" : `@ ${u.price}${u.basis ? ` (${u.basis}` : " ("}${u.time ? `${u.basis ? ", " : ""}${u.time}` : ""})`;
  return `${u.symbol} ${price.replace(" ()", "")} · ${u.expirations.length} expiration${u.expirations.length === 1 ? "" : "s"}, ${u.contracts} contracts`;
}

function table(header: string[], rows: string[][]): string {
  const all = header.length ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return all
    .map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")}`.trimEnd())
    .join("\n");
}

function usd(value: number): string {
  return `$${value.toFixed(value > 0 && value < 0.01 ? 4 : 2)}`;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
