/**
 * The summary a person reads after a run: which source answered and why the others did not, what the
 * chain holds, how trustworthy it is, and — said out loud — substitution, delay and sample data.
 */
import type { Attempt, OptionsChain, RunResult } from "@nq/core";
import type { WrittenOutputs } from "./outputs.js";

export interface RunSummary {
  profile: string;
  policy: RunResult["policy"];
  ok: boolean;
  source: string | null;
  firstChoice: string | null;
  substituted: boolean;
  attempts: Attempt[];
  notices: string[];
  chain: Omit<OptionsChain, "contracts"> | null;
  outputs: WrittenOutputs | null;
  spendUsd: number;
  cache: { enabled: boolean; location: string | null; savedUsd: number };
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
  if (meta?.sample) notices.push("SAMPLE DATA: these numbers are generated for demonstration, not market data. Do not trade on them.");
  if (meta?.delayed) notices.push(`DELAYED: "${meta.source}" data is not live; it is as of ${meta.asOf}.`);
  if (meta && !meta.complete) notices.push(`INCOMPLETE: "${meta.source}" said its data is partial.`);
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
      ["#", "source", "outcome", "cache", "tries", "time", "spend", "reason"],
      summary.attempts.map((a, i) => [
        String(i + 1),
        a.source,
        a.outcome === "success" && a.source === summary.source ? "ANSWERED" : a.outcome,
        a.cache,
        String(a.tries),
        `${a.durationMs} ms`,
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
    out.push("");
    out.push("Chain");
    out.push(
      table(
        [],
        [
          ["source", `${m.source}${m.sample ? " (SAMPLE DATA)" : ""}${m.delayed ? " (delayed)" : ""}`],
          ["as of", `${m.asOf}  (fetched ${m.fetchedAt})`],
          ["underlying", `${s.underlying}${s.underlyingPrice === null ? "" : ` @ ${s.underlyingPrice}`}`],
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
          ["rows received", `${q.rowsReceived} (invalid ${q.invalidRows}, duplicates ${q.duplicateRows}, outside request ${q.filteredRows})`],
          ["missing bid/ask", pct(q.missingBidAskShare)],
          ["crossed quotes", String(q.crossedQuotes)],
          ["zero open interest", pct(q.zeroOpenInterestShare)],
          ["missing open interest", pct(q.missingOpenInterestShare)],
          ["stale quotes", `${q.staleQuotes} (older than ${Math.round(q.staleQuoteThresholdMs / 60000)} min before as-of)`],
          ...Object.entries(q.invalidReasons).map(([reason, count]): [string, string] => ["invalid", `${count} × ${reason}`]),
        ],
      ),
    );
  }
  out.push("");
  if (summary.outputs) {
    out.push("Outputs");
    out.push(table([], [["JSON", summary.outputs.json], ["CSV", summary.outputs.csv]]));
    out.push("");
  }
  const cache = summary.cache.enabled ? `cache ${summary.cache.location ?? "on"} · saved ${usd(summary.cache.savedUsd)}` : "cache off";
  out.push(`Spend this run: ${usd(summary.spendUsd)} · ${cache}`);
  return `${out.join("\n")}\n`;
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
