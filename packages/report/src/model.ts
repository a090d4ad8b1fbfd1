/**
 * Chain → ReportData: groups the contracts by expiry and strike (nearest expiry first), computes each
 * expiry's ATM strike, max pain and put/call ratios against its own underlying, and words the provenance
 * banner. The contracts are read once, so any re-iterable collection works.
 */
import type { OptionContract, OptionsChain } from "@nq/core";
import { atmStrike, maxPainStrike, mostCommon, putCallRatio } from "./analytics.js";
import {
  encodeColumn,
  encodeStrikes,
  REPORT_DATA_VERSION,
  type BannerFact,
  type BannerFlag,
  type EncodedExpiry,
  type EncodedSide,
  type IvCode,
  type ReportData,
} from "./data.js";

/** A chain to report on: the contracts may be any iterable. Extra metadata fields (proxy…) are read when present. */
export type ChainForReport = Omit<OptionsChain, "contracts"> & { contracts: Iterable<OptionContract> };

/** What the run knew that the chain does not: substitution and the run's spend. */
export interface RunContext {
  profile?: string;
  /** True when the chain did not come from the first-choice source. */
  substituted?: boolean;
  firstChoice?: string | null;
  /** Why the first choice did not answer. */
  substitutionReason?: string | null;
  /** USD the whole run spent (all sources). */
  spendUsd?: number;
}

export interface BuildOptions {
  run?: RunContext;
  title?: string;
}

const SAMPLE_WARNING = /^SAMPLE DATA\b/i;

export function buildReportData(chain: ChainForReport, options: BuildOptions = {}): ReportData {
  const meta = chain.metadata;
  const byExpiry = new Map<string, Map<number, { C?: OptionContract; P?: OptionContract }>>();
  let total = 0;
  for (const contract of chain.contracts) {
    total += 1;
    let strikes = byExpiry.get(contract.expiration);
    if (!strikes) byExpiry.set(contract.expiration, (strikes = new Map()));
    let row = strikes.get(contract.strike);
    if (!row) strikes.set(contract.strike, (row = {}));
    row[contract.right] = contract;
  }
  const asOfDay = Date.parse(`${meta.asOf.slice(0, 10)}T00:00:00Z`);
  const expiries: EncodedExpiry[] = [...byExpiry.keys()].sort().map((date) => {
    const rows = byExpiry.get(date)!;
    const strikes = [...rows.keys()].sort((a, b) => a - b);
    const calls = strikes.map((k) => rows.get(k)!.C ?? null);
    const puts = strikes.map((k) => rows.get(k)!.P ?? null);
    const all = [...calls, ...puts].filter((c): c is OptionContract => c !== null);
    const underlying = mostCommon(all.map((c) => c.underlying || null));
    const onUnderlying = all.filter((c) => c.underlying === underlying);
    const underlyingPrice = mostCommon(onUnderlying.map((c) => c.underlyingPrice));
    const underlyingBasis = mostCommon(onUnderlying.filter((c) => c.underlyingPrice === underlyingPrice).map((c) => c.underlyingPriceBasis));
    const callOi = calls.map((c) => c?.openInterest ?? null);
    const putOi = puts.map((c) => c?.openInterest ?? null);
    const oi = putCallRatio(callOi, putOi);
    const vol = putCallRatio(
      calls.map((c) => c?.volume ?? null),
      puts.map((c) => c?.volume ?? null),
    );
    return {
      date,
      dte: Math.round((Date.parse(`${date}T00:00:00Z`) - asOfDay) / 86_400_000),
      roots: [...new Set(all.map((c) => c.root))].sort(),
      underlying,
      underlyingPrice,
      underlyingBasis,
      stats: {
        atm: atmStrike(strikes, underlyingPrice),
        maxPain: maxPainStrike(strikes, callOi, putOi),
        callOi: oi.calls,
        putOi: oi.puts,
        callVol: vol.calls,
        putVol: vol.puts,
        pcrOi: oi.ratio,
        pcrVol: vol.ratio,
        contracts: all.length,
      },
      k: encodeStrikes(strikes),
      c: encodeSide(calls),
      p: encodeSide(puts),
    };
  });
  const title = options.title ?? `${meta.product} options chain · ${meta.source}${meta.sample ? " · SAMPLE" : ""} · as of ${formatTime(meta.asOf)}`;
  return {
    v: REPORT_DATA_VERSION,
    title,
    product: meta.product,
    source: meta.source,
    asOf: meta.asOf,
    sample: meta.sample,
    delayed: meta.delayed,
    complete: meta.complete,
    flags: bannerFlags(chain, options.run),
    facts: bannerFacts(chain, total, options.run),
    quality: qualityRows(chain),
    expiries,
    totalContracts: total,
  };
}

function encodeSide(contracts: (OptionContract | null)[]): EncodedSide {
  const column = (pick: (c: OptionContract) => number | null) => contracts.map((c) => (c ? pick(c) : null));
  return {
    bid: encodeColumn(column((c) => c.bid)),
    ask: encodeColumn(column((c) => c.ask)),
    last: encodeColumn(column((c) => c.last)),
    vol: encodeColumn(column((c) => c.volume)),
    oi: encodeColumn(column((c) => c.openInterest)),
    set: encodeColumn(column((c) => c.settlement)),
    iv: encodeColumn(column((c) => c.impliedVolatility), 1e4),
    dl: encodeColumn(column((c) => c.delta), 1e4),
    ib: contracts.map(ivCode).join(""),
  };
}

function ivCode(contract: OptionContract | null): IvCode {
  if (!contract) return "-";
  if (contract.impliedVolatility === null || contract.impliedVolatility === undefined) return "n";
  if (contract.ivBasis === "mid") return "m";
  if (contract.ivBasis === "settlement") return "s";
  return "f";
}

/** The provenance a trader must see first, in the order it matters. Every flag is a sentence, not a colour. */
export function bannerFlags(chain: Pick<ChainForReport, "metadata">, run: RunContext = {}): BannerFlag[] {
  const meta = chain.metadata;
  const flags: BannerFlag[] = [];
  if (meta.sample) flags.push({ label: "SAMPLE DATA", tone: "danger", text: "These numbers are generated for demonstration, not market data. Do not trade on them." });
  const proxy = proxyText(meta);
  if (proxy) flags.push({ label: "PROXY", tone: "warning", text: proxy });
  if (run.substituted) {
    flags.push({
      label: "SUBSTITUTED",
      tone: "warning",
      text: `This chain comes from "${meta.source}", not the first choice${run.firstChoice ? ` "${run.firstChoice}"` : ""}${run.substitutionReason ? ` (${run.substitutionReason})` : ""}.`,
    });
  }
  if (!meta.complete) {
    const reasons = meta.incompleteReasons?.length ? meta.incompleteReasons : ["the source said its data is partial"];
    flags.push({ label: "INCOMPLETE", tone: "danger", text: `The "${meta.source}" chain is partial.`, details: reasons });
  }
  if (meta.delayed) flags.push({ label: "DELAYED", tone: "warning", text: `"${meta.source}" data is not live; it is as of ${formatTime(meta.asOf)}.` });
  if (meta.cache === "hit") flags.push({ label: "FROM CACHE", tone: "info", text: `Served from the cache; fetched at ${formatTime(meta.fetchedAt)}.` });
  const spend = Math.max(meta.spendUsd ?? 0, run.spendUsd ?? 0);
  if (spend > 0) flags.push({ label: "SPEND", tone: "info", text: `This ${run.spendUsd !== undefined ? "run" : "load"} spent ${usd(spend)} on paid data.` });
  for (const warning of meta.warnings ?? []) {
    if (SAMPLE_WARNING.test(warning) && meta.sample) continue;
    if (/^PROXY\b/i.test(warning) && proxy) continue;
    flags.push({ label: "NOTE", tone: "info", text: warning });
  }
  if (!flags.some((f) => f.tone === "danger" || f.tone === "warning")) {
    flags.unshift({ label: "COMPLETE", tone: "ok", text: `A complete chain from "${meta.source}", not delayed, not sample data.` });
  }
  return flags;
}

/** A proxy chain (e.g. NDX index options standing in for NQ futures options) says so in its metadata. */
function proxyText(meta: ChainForReport["metadata"]): string | null {
  const raw = (meta as unknown as Record<string, unknown>).proxy;
  const fromWarning = (meta.warnings ?? []).find((w) => /^PROXY\b/i.test(w));
  if (typeof raw === "string" && raw) return raw.replace(/^PROXY:\s*/i, "");
  if (raw && typeof raw === "object") {
    // core's ProxyInfo: { for, underlying, product, kind, multiplier, settlement, exercise, label }
    const p = raw as Record<string, unknown>;
    const label = typeof p.label === "string" && p.label ? p.label.replace(/^PROXY:\s*/i, "") : `${String(p.underlying ?? "another underlying")} stands in for ${String(p.for ?? "NQ")} futures options`;
    const terms = [
      typeof p.underlying === "string" ? p.underlying : null,
      typeof p.multiplier === "number" ? `multiplier ${p.multiplier}` : null,
      typeof p.settlement === "string" ? `${p.settlement}-settled` : null,
      typeof p.exercise === "string" ? `${p.exercise} exercise` : null,
    ].filter(Boolean);
    return `${label}${terms.length ? ` (${terms.join(", ")})` : ""}. Not the same instrument: prices, strikes and OI do not carry over one for one.`;
  }
  if (raw === true) return fromWarning?.replace(/^PROXY:\s*/i, "") ?? "A proxy underlying stands in for NQ futures options.";
  return fromWarning ? fromWarning.replace(/^PROXY:\s*/i, "") : null;
}

function bannerFacts(chain: ChainForReport, total: number, run: RunContext = {}): BannerFact[] {
  const meta = chain.metadata;
  const summary = chain.optionsSummary;
  const underlyings = summary.underlyings?.length
    ? summary.underlyings.map((u) => `${u.symbol} ${u.price === null ? "(no price)" : formatNumber(u.price)}${u.basis ? ` (${u.basis})` : ""}`).join(" · ")
    : `${summary.underlying}${summary.underlyingPrice === null ? "" : ` ${formatNumber(summary.underlyingPrice)}`}`;
  const facts: BannerFact[] = [
    { label: "Source", value: `${meta.source}${run.profile ? ` (profile ${run.profile})` : ""}` },
    { label: "As of", value: `${formatTime(meta.asOf)}${meta.asOfReason ? ` — ${meta.asOfReason}` : ""}` },
    { label: "Fetched", value: formatTime(meta.fetchedAt) },
    { label: "Delayed", value: meta.delayed ? "yes — not live" : "no" },
    { label: "Data", value: meta.sample ? "SAMPLE (generated)" : "market data" },
    { label: "Complete", value: meta.complete ? "yes" : "NO — partial" },
    { label: "Cache", value: meta.cache === "hit" ? "from cache" : meta.cache === "miss" ? "fetched (cache miss)" : "not used" },
    { label: "Spend", value: usd(Math.max(meta.spendUsd ?? 0, run.spendUsd ?? 0)) },
    { label: "Underlying", value: underlyings },
    { label: "Contracts", value: `${formatNumber(total)} (${formatNumber(summary.calls)} calls, ${formatNumber(summary.puts)} puts) in ${summary.expirations.length} expiries` },
  ];
  if (meta.analyticsRate !== null && meta.analyticsRate !== undefined) facts.push({ label: "IV & greeks", value: `Black-76 at rate ${(meta.analyticsRate * 100).toFixed(2)}% where the feed gave none` });
  return facts;
}

function qualityRows(chain: ChainForReport): BannerFact[] {
  const q = chain.qualityMetrics;
  if (!q) return [];
  const rows: BannerFact[] = [
    { label: "Rows received", value: `${formatNumber(q.rowsReceived)} (valid ${formatNumber(q.validContracts)})` },
    { label: "Invalid rows", value: formatNumber(q.invalidRows) },
    { label: "Duplicate rows", value: `${formatNumber(q.duplicateRows)}${q.conflictingDuplicates ? ` (${q.conflictingDuplicates} conflicting)` : ""}` },
    { label: "Outside the request", value: formatNumber(q.filteredRows) },
    { label: "Missing bid or ask", value: pct(q.missingBidAskShare) },
    { label: "Crossed quotes", value: formatNumber(q.crossedQuotes) },
    { label: "Zero open interest", value: pct(q.zeroOpenInterestShare) },
    { label: "Missing open interest", value: pct(q.missingOpenInterestShare) },
    { label: "Stale quotes", value: `${formatNumber(q.staleQuotes)} (older than ${Math.round((q.staleQuoteThresholdMs ?? 0) / 60_000)} min before as-of)` },
  ];
  if (q.futureQuoteTimes) rows.push({ label: "Quotes after as-of", value: formatNumber(q.futureQuoteTimes) });
  for (const [reason, count] of Object.entries(q.invalidReasons ?? {})) rows.push({ label: "Invalid", value: `${count} × ${reason}` });
  for (const [reason, count] of Object.entries(q.analyticsUnavailable ?? {})) rows.push({ label: "No IV/greeks", value: `${count} × ${reason}` });
  return rows;
}

export function formatTime(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().replace("T", " ").replace(/:\d{2}\.\d{3}Z$/, "").replace(/\.\d{3}Z$/, "")} UTC`;
}

export function formatNumber(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function usd(value: number): string {
  return `$${value.toFixed(value > 0 && value < 0.01 ? 4 : 2)}`;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
