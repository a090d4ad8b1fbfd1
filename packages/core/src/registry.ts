/**
 * Runs a request through sources in priority order. Under `fallback`, a failure is recorded with its
 * reason and the next source is tried; under `strict` (trading safety), only the first source may answer
 * and its failure ends the run. Retryable errors get a bounded number of retries with jittered backoff,
 * honouring Retry-After (this is the one retry layer: sources should not retry on their own), and each
 * source has a deadline after which it is abandoned and the next one tried.
 * Every attempt — success, failure, skip, cache hit — is kept, so the summary can say which source
 * answered and why the others did not.
 */
import type { AnalyticsOptions } from "./analytics/index.js";
import type { CacheStatus, OptionsChain } from "./contract.js";
import { cacheKeyFor, type ChainCache, type ChainCacheEntry, type ChainCacheKey, type FetchClaim, sourceCacheIdentity } from "./cache.js";
import { AbortedError, isSourceErrorOfKind, NoDataError, retryAfterMsOf, type SourceError, TimeoutError, toSourceError } from "./errors.js";
import type { Logger } from "./logger.js";
import { normalizeChain } from "./normalize.js";
import { redactSecrets } from "./secrets.js";
import type { ChainRequest } from "./request.js";
import type { ProgressUpdate, Source, SourceContext, SourceDefinition } from "./source.js";
import { SpendLedger } from "./spend.js";

export type FallbackPolicy = "fallback" | "strict";

export interface RegistryEntry {
  name: string;
  /** Null only for an entry that is skipped (e.g. disabled, so its plugin was never imported). */
  definition: SourceDefinition<unknown> | null;
  /** The source's validated config. */
  config: unknown;
  /** This source's deadline in ms (the profile's `data_sources.<key>.deadline_ms`); default: RunOptions.sourceDeadlineMs. */
  deadlineMs?: number | null;
  /** When set, the source is not tried and this is the reason given (disabled, missing credentials…). */
  skipReason?: string | null;
  /** false: bypass the cache for this source (a local replay gains nothing from it and would hide newer files). */
  useCache?: boolean;
}

/** "incomplete": the source answered with a chain that is not complete (see its `incompleteReasons`). */
export type AttemptOutcome = "success" | "incomplete" | "failed" | "skipped";

/** How long a chain the feed flagged as degraded may stay in the cache. */
export const DEGRADED_CACHE_TTL_MS = 5 * 60_000;

/** How long one source may take in all before it is abandoned and the next is tried. */
export const DEFAULT_SOURCE_DEADLINE_MS = 60_000;

/**
 * The longest a fleet fetch claim holds without renewal (the store renews it while the holder loads): a
 * crashed fetcher's waiters take over after at most this, or after the source's deadline when shorter.
 */
export const FETCH_LEASE_MS = 15_000;

/**
 * How much longer than the source's deadline a waiter waits for another process's entry: that process
 * may use its whole deadline, then it still writes the cache, and the store polls at intervals.
 */
export const FETCH_WAIT_GRACE_MS = 5_000;

/** The lease and the wait the registry asks a store's `claimFetch` for, given the source's deadline. */
export function fetchClaimTimings(deadlineMs: number): { leaseMs: number; waitMs: number } {
  return { leaseMs: Math.max(1_000, Math.min(FETCH_LEASE_MS, deadlineMs)), waitMs: deadlineMs + FETCH_WAIT_GRACE_MS };
}

export interface Attempt {
  source: string;
  outcome: AttemptOutcome;
  /** Why it failed or was skipped; null on success. */
  reason: string | null;
  error: Record<string, unknown> | null;
  cache: CacheStatus;
  tries: number;
  durationMs: number;
  spendUsd: number;
  /** What the source priced its plan at before buying (paid sources that report estimates). */
  estimatedUsd: number;
  /** On a cache hit: what the source spent when the entry was fetched, i.e. what this hit saved. */
  savedUsd: number;
}

export interface RunOptions {
  request: ChainRequest;
  policy: FallbackPolicy;
  log: Logger;
  signal?: AbortSignal;
  spend?: SpendLedger;
  cache?: ChainCache | null;
  /** Skip cache reads (still write the fresh result). */
  refresh?: boolean;
  /** Extra tries for a retryable error, per source. */
  retries?: number;
  /** The longest pause between tries; a Retry-After longer than this falls back instead of waiting. */
  maxRetryDelayMs?: number;
  /**
   * How long one source may take in all (create, every try, the pauses between) before it is abandoned —
   * its signal aborted, its pending load no longer awaited — and the next source tried. Default 60 000
   * (the profile's `source_deadline_ms`); a RegistryEntry's `deadlineMs` overrides it.
   */
  sourceDeadlineMs?: number;
  /** The jitter's random numbers (tests make them fixed). */
  random?: () => number;
  now?: () => Date;
  /** Handed to sources as `context.baseDir`: the folder relative paths in their config resolve against. */
  baseDir?: string;
  /** Receives every source's progress updates, tagged with the source's name. */
  onProgress?: (source: string, update: ProgressUpdate) => void;
  /** Thresholds the normalizer judges a chain by (stale quotes, unquoted share). */
  quality?: { staleQuoteThresholdMs?: number; maxMissingBidAskShare?: number };
  /** Proxy sources (a definition with `proxy: true`, or a result carrying `proxy`) may answer. Default false. */
  allowProxy?: boolean;
  /** Black-76 IV and greeks for each contract (the rate; a calendar), or false for none. Default: rate 0. */
  analytics?: AnalyticsOptions | false;
}

export interface RunResult {
  ok: boolean;
  chain: OptionsChain | null;
  /** The source that answered; null when none did. */
  source: string | null;
  /** True when the answering source is not the first in priority: a substitution the user must see. */
  substituted: boolean;
  attempts: Attempt[];
  policy: FallbackPolicy;
  spendUsd: number;
}

export async function runSources(entries: RegistryEntry[], options: RunOptions): Promise<RunResult> {
  const now = options.now ?? (() => new Date());
  const spend = options.spend ?? new SpendLedger(null, now);
  const attempts: Attempt[] = [];
  const candidateCount = options.policy === "strict" ? Math.min(1, entries.length) : entries.length;
  let answer: { chain: OptionsChain; source: string; index: number } | null = null;
  // Under "fallback", an incomplete chain is kept while later sources are tried; it answers only if none
  // of them gives a complete one.
  let incomplete: { chain: OptionsChain; source: string; index: number } | null = null;

  for (const [index, entry] of entries.entries()) {
    if (index >= candidateCount) {
      attempts.push(skipped(entry.name, `not tried: the "strict" policy uses only the first source (${entries[0]?.name})`));
    } else if (answer) {
      attempts.push(skipped(entry.name, `not needed: ${answer.source} answered`));
    } else if (entry.skipReason || !entry.definition) {
      attempts.push(skipped(entry.name, entry.skipReason ?? "no plugin was loaded for it"));
    } else if (entry.definition.proxy && !options.allowProxy) {
      attempts.push(skipped(entry.name, `a proxy source (its chains stand in for ${options.request.product}, they are not ${options.request.product} data); set "allow_proxy": true in the profile to use it`));
    } else {
      if (options.signal?.aborted) throw new AbortedError(entry.name, "the run was aborted");
      const hasNext = options.policy === "fallback" && entries.slice(index + 1).some((later) => !later.skipReason && later.definition);
      const attempt = await attemptSource({ ...entry, definition: entry.definition }, options, spend, now, hasNext);
      if (attempt.chain?.metadata.proxy && !options.allowProxy) {
        attempts.push({ ...attempt.record, outcome: "failed", reason: `answered with a proxy (${attempt.chain.metadata.proxy.label}); set "allow_proxy": true in the profile to accept it` });
        continue;
      }
      if (attempt.chain && !attempt.chain.metadata.complete) {
        const reasons = attempt.chain.metadata.incompleteReasons.join("; ");
        if (options.policy === "strict") {
          options.log.warn(`${entry.name}: the chain is incomplete (${reasons}); the "strict" policy does not accept it`);
          attempts.push({ ...attempt.record, outcome: "failed", reason: `incomplete chain refused under the "strict" policy: ${reasons}` });
        } else {
          attempts.push({ ...attempt.record, outcome: "incomplete", reason: `incomplete: ${reasons}` });
          incomplete ??= { chain: attempt.chain, source: entry.name, index };
        }
        continue;
      }
      attempts.push(attempt.record);
      if (attempt.chain) answer = { chain: attempt.chain, source: entry.name, index };
    }
  }
  answer ??= incomplete;
  return {
    ok: answer !== null,
    chain: answer?.chain ?? null,
    source: answer?.source ?? null,
    substituted: answer !== null && answer.index > 0,
    attempts,
    policy: options.policy,
    spendUsd: spend.totalUsd,
  };
}

function skipped(source: string, reason: string): Attempt {
  return { source, outcome: "skipped", reason, error: null, cache: "off", tries: 0, durationMs: 0, spendUsd: 0, estimatedUsd: 0, savedUsd: 0 };
}

async function attemptSource(
  entry: RegistryEntry & { definition: SourceDefinition<unknown> },
  options: RunOptions,
  spend: SpendLedger,
  now: () => Date,
  hasNext: boolean,
): Promise<{ record: Attempt; chain: OptionsChain | null }> {
  const started = performance.now();
  const log = options.log.child(entry.name);
  const key = cacheKeyFor(entry.name, options.request, sourceCacheIdentity(entry.definition, entry.config));
  const cache = entry.useCache === false ? null : (options.cache ?? null);
  const spentBefore = spend.spentBy(entry.name);
  const estimatedBefore = spend.estimatedBy(entry.name);
  const estimated = () => spend.estimatedBy(entry.name) - estimatedBefore;
  const elapsed = () => Math.round(performance.now() - started);

  const servedFromCache = (hit: ChainCacheEntry) => {
    const chain: OptionsChain = { ...hit.chain, metadata: { ...hit.chain.metadata, cache: "hit", spendUsd: 0 } };
    const record: Attempt = { source: entry.name, outcome: "success", reason: null, error: null, cache: "hit", tries: 0, durationMs: elapsed(), spendUsd: 0, estimatedUsd: 0, savedUsd: hit.costUsd };
    return { record, chain };
  };
  const deadlineMs = entry.deadlineMs ?? options.sourceDeadlineMs ?? DEFAULT_SOURCE_DEADLINE_MS;
  let claimed: Extract<FetchClaim, { kind: "fetch" }> | null = null;
  if (cache && !options.refresh) {
    try {
      const hit = await cache.get(key, now());
      if (hit) {
        log.info(`cache hit (fetched ${hit.fetchedAt}, expires ${hit.expiresAt}); saved $${hit.costUsd.toFixed(4)}`);
        return servedFromCache(hit);
      }
    } catch (error) {
      log.warn(`cache read failed, loading from the source instead: ${error instanceof Error ? error.message : String(error)}`);
    }
    // A miss: in a store shared by several processes, only one of them pays for this chain.
    const claim = await claimFetchBeforeLoading(cache, key, { deadlineMs, now, log, source: entry.name, ...(options.signal ? { signal: options.signal } : {}) });
    if (claim?.kind === "entry") {
      const hit = claim.entry;
      log.info(`another process fetched this chain while this one waited (fetched ${hit.fetchedAt}, expires ${hit.expiresAt}); served from the cache, saved $${hit.costUsd.toFixed(4)}`);
      return servedFromCache(hit);
    }
    if (claim?.kind === "fetch") claimed = claim;
  }
  const cacheStatus: CacheStatus = cache ? "miss" : "off";
  const retries = options.retries ?? 1;
  const maxDelay = options.maxRetryDelayMs ?? 10_000;
  let source: Source | null = null;
  let tries = 0;
  let lastError: SourceError | undefined;
  const onProgress = options.onProgress;
  const context: SourceContext = {
    log,
    spend,
    now,
    baseDir: options.baseDir ?? process.cwd(),
    ...(onProgress ? { progress: (update: ProgressUpdate) => onProgress(entry.name, update) } : {}),
  };

  // One signal per attempt: aborted when the run is, or when the source's deadline passes. Every wait on
  // the source is raced against it, so a load that never settles cannot hold the run.
  const controller = new AbortController();
  const runSignal = options.signal;
  const onRunAbort = () => controller.abort(runSignal?.reason);
  runSignal?.addEventListener("abort", onRunAbort, { once: true });
  let deadlineHit = false;
  let doing = "creating the source";
  const timer = setTimeout(() => {
    deadlineHit = true;
    controller.abort(new DOMException(`${entry.name} passed its deadline of ${formatMs(deadlineMs)}`, "TimeoutError"));
  }, deadlineMs);
  const stopped = new Promise<never>((_resolve, reject) => {
    const onAbort = () => reject(new AbortedError(entry.name, "the load was abandoned", { cause: controller.signal.reason }));
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener("abort", onAbort, { once: true });
  });
  stopped.catch(() => {});
  const race = <T>(work: Promise<T>): Promise<T> => Promise.race([work, stopped]);

  try {
    const creating = Promise.resolve().then(() => entry.definition.create(entry.config, context));
    source = await race(creating).catch((error: unknown) => {
      // A create() that finishes after we gave up still gets its source closed.
      if (controller.signal.aborted) void creating.then((late) => late.close?.()).catch(() => {});
      throw error;
    });
    for (;;) {
      tries += 1;
      doing = `waiting for load (try ${tries} of ${retries + 1})`;
      try {
        const fetchedAt = now();
        const result = await race(Promise.resolve().then(() => source!.load(options.request, { signal: controller.signal })));
        clearTimeout(timer);
        const spendUsd = spend.spentBy(entry.name) - spentBefore;
        const chain = normalizeChain(result, {
          source: entry.name,
          capabilities: entry.definition.capabilities,
          request: options.request,
          fetchedAt,
          cache: cacheStatus,
          spendUsd,
          ...(options.quality?.staleQuoteThresholdMs !== undefined ? { staleQuoteThresholdMs: options.quality.staleQuoteThresholdMs } : {}),
          ...(options.quality?.maxMissingBidAskShare !== undefined ? { maxMissingBidAskShare: options.quality.maxMissingBidAskShare } : {}),
          ...(options.analytics !== undefined ? { analytics: options.analytics } : {}),
        });
        if (chain.contracts.length === 0) {
          throw new NoDataError(entry.name, `returned no usable contracts for ${options.request.product} (${chain.qualityMetrics.rowsReceived} rows received, ${chain.qualityMetrics.invalidRows} invalid, ${chain.qualityMetrics.filteredRows} outside the request)`);
        }
        if (cache && chain.metadata.complete) {
          const degraded = result.qualityWarnings?.length ? result.qualityWarnings : null;
          if (degraded) {
            const note = `cached for ${DEGRADED_CACHE_TTL_MS / 60_000} minutes only: the feed flagged this data's quality (${degraded.join("; ")})`;
            chain.metadata.warnings.push(note);
            log.warn(note);
          }
          await cache
            .set(key, { chain, fetchedAt, costUsd: spendUsd, raw: result.raw ?? null, ...(degraded ? { ttlCapMs: DEGRADED_CACHE_TTL_MS } : {}) })
            .catch((error: unknown) => log.warn(`could not write the cache: ${error instanceof Error ? error.message : String(error)}`));
        } else if (cache) {
          log.info("not cached: the chain is incomplete");
        }
        return {
          record: { source: entry.name, outcome: "success", reason: null, error: null, cache: cacheStatus, tries, durationMs: elapsed(), spendUsd, estimatedUsd: estimated(), savedUsd: 0 },
          chain,
        };
      } catch (error) {
        if (controller.signal.aborted) throw error;
        lastError = toSourceError(entry.name, error);
        if (isSourceErrorOfKind(lastError, "aborted") || !lastError.retryable || tries > retries) break;
        const delay = retryDelayMs(tries, retryAfterMsOf(lastError), { maxMs: maxDelay, ...(options.random ? { random: options.random } : {}) });
        // Coming back sooner than a server asked would only earn another 429 (or a ban): fall back instead.
        if (delay === null) break;
        log.warn(`${lastError.message} — retrying in ${delay} ms (try ${tries + 1} of ${retries + 1})`);
        doing = `waiting ${delay} ms to retry after: ${lastError.message}`;
        await sleep(delay, controller.signal);
      }
    }
  } catch (error) {
    if (runSignal?.aborted) lastError = new AbortedError(entry.name, "the run was aborted", { cause: error });
    else if (deadlineHit) {
      const what = lastError && !doing.includes(lastError.message) ? `${doing}; last error: ${lastError.message}` : doing;
      lastError = new TimeoutError(entry.name, `gave up after ${formatMs(deadlineMs)} (the source's deadline): ${what}; ${hasNext ? "next source tried" : "no other source to try"}`, {
        timeoutMs: deadlineMs,
        ...(lastError ? { cause: lastError } : {}),
      });
    } else lastError = toSourceError(entry.name, error);
    tries = Math.max(tries, 1);
  } finally {
    clearTimeout(timer);
    runSignal?.removeEventListener("abort", onRunAbort);
    // Released whatever happened (a chain cached or not, a failure, an abort), so a waiting process
    // takes over at once instead of after the lease runs out.
    if (claimed) await releaseWithin(claimed, CLOSE_GRACE_MS, log);
    if (source) await closeWithin(source, CLOSE_GRACE_MS, log);
  }
  if (runSignal?.aborted) throw isSourceErrorOfKind(lastError, "aborted") ? lastError : new AbortedError(entry.name, "the run was aborted");
  const reason = redactSecrets(lastError?.message ?? "unknown failure");
  log.warn(reason);
  return {
    record: {
      source: entry.name,
      outcome: "failed",
      reason,
      error: lastError ? (JSON.parse(redactSecrets(JSON.stringify(lastError.toJSON()))) as Record<string, unknown>) : null,
      cache: cacheStatus,
      tries,
      durationMs: elapsed(),
      spendUsd: spend.spentBy(entry.name) - spentBefore,
      estimatedUsd: estimated(),
      savedUsd: 0,
    },
    chain: null,
  };
}

/** How long close() may take after an attempt before the run moves on without it. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Claims the key in a store that offers single flight (`claimFetch`), waiting at most the source's
 * deadline plus a grace for another process's entry. Returns null when this process should simply load:
 * the store has no claims, the claim failed (read like a failed cache read), or the wait timed out.
 * An abort of the run while waiting ends the attempt at once, even when the store ignores the signal.
 */
async function claimFetchBeforeLoading(
  cache: ChainCache,
  key: ChainCacheKey,
  options: { deadlineMs: number; now: () => Date; log: Logger; source: string; signal?: AbortSignal },
): Promise<FetchClaim | null> {
  if (!cache.claimFetch) return null;
  const { leaseMs, waitMs } = fetchClaimTimings(options.deadlineMs);
  const { signal, log } = options;
  const claiming = Promise.resolve().then(() => cache.claimFetch!(key, { now: options.now, leaseMs, waitMs, ...(signal ? { signal } : {}) }));
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new AbortedError(options.source, "the run was aborted while waiting for another process to fetch this chain", { cause: signal?.reason }));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    const claim = await Promise.race([claiming, aborted]);
    if (claim?.kind === "fetch" || claim?.kind === "entry") return claim;
    if (claim?.kind === "timeout") {
      // The store may wait by its own setting (a profile's wait_ms), so the figure is not repeated here.
      log.warn("the wait for another process to fetch this chain ran out without an entry; fetching it here");
      return null;
    }
    log.warn(`the cache's fetch claim answered ${JSON.stringify(claim)}, not fetch, entry or timeout; loading from the source instead`);
    return null;
  } catch (error) {
    if (signal?.aborted) {
      // A claim the store grants after we stopped waiting is handed back, so no other process waits on it.
      void claiming.then((late) => (late?.kind === "fetch" ? late.release() : undefined)).catch(() => {});
      throw error instanceof AbortedError ? error : new AbortedError(options.source, "the run was aborted", { cause: error });
    }
    log.warn(`the cache's fetch claim failed, loading from the source instead: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

async function releaseWithin(claim: Extract<FetchClaim, { kind: "fetch" }>, ms: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const releasing = Promise.resolve()
    .then(() => claim.release())
    .catch((error: unknown) => log.warn(`could not release the fetch claim (other processes wait until its lease runs out): ${error instanceof Error ? error.message : String(error)}`));
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  const outcome = await Promise.race([releasing, late]);
  clearTimeout(timer);
  if (outcome === "late") log.warn(`releasing the fetch claim did not finish within ${formatMs(ms)}; moving on (other processes wait until its lease runs out)`);
}

async function closeWithin(source: Source, ms: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closing = Promise.resolve()
    .then(() => source.close?.())
    .catch((error: unknown) => log.warn(`close failed: ${redactSecrets(String(error))}`));
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  const outcome = await Promise.race([closing, late]);
  clearTimeout(timer);
  if (outcome === "late") log.warn(`close() did not finish within ${formatMs(ms)}; moving on without it`);
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

/**
 * The one retry policy: how long to wait before retry number `attempt` (1 for the first retry).
 * A server's Retry-After is honoured as a minimum, with up to 10% (at most 1 s) of jitter on top so that
 * clients told the same thing do not return in step; without one, exponential backoff from `baseMs`
 * (250 ms, 500 ms, 1 s…) with "equal jitter" (between half and all of the step). Returns null when the
 * server asked for longer than `maxMs`: coming back sooner would only earn another 429, so fall back.
 */
export function retryDelayMs(
  attempt: number,
  retryAfterMs: number | null | undefined,
  options: { baseMs?: number; maxMs?: number; random?: () => number } = {},
): number | null {
  const { baseMs = 250, maxMs = 10_000, random = Math.random } = options;
  if (retryAfterMs !== null && retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    if (retryAfterMs > maxMs) return null;
    const jitter = Math.floor(random() * Math.min(1000, retryAfterMs * 0.1));
    return Math.min(maxMs, Math.ceil(retryAfterMs) + jitter);
  }
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.floor(step / 2 + random() * (step / 2));
}

/**
 * A signal that aborts when `signal` does or after `ms`, whichever is first — for a per-request timeout
 * inside a source: `fetch(url, { signal: withTimeout(signal, 30_000) })`. On the timeout it aborts with a
 * DOMException named "TimeoutError" (as `AbortSignal.timeout` does), which `toSourceError` turns into a
 * retryable TimeoutError; when `signal` aborted first, its reason is kept. The timer does not hold the
 * process open.
 */
export function withTimeout(signal: AbortSignal | null | undefined, ms: number): AbortSignal {
  const controller = new AbortController();
  if (signal?.aborted) {
    controller.abort(signal.reason);
    return controller.signal;
  }
  const timer = setTimeout(() => {
    signal?.removeEventListener("abort", onAbort);
    controller.abort(new DOMException(`no answer within ${formatMs(ms)}`, "TimeoutError"));
  }, ms);
  timer.unref?.();
  const onAbort = () => {
    clearTimeout(timer);
    controller.abort(signal?.reason);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  return controller.signal;
}

/**
 * Waits `ms`, or rejects with `aborted()` as soon as `signal` aborts (at once when it already has). The
 * one abortable pause: the registry's backoff and the sources' politeness waits use it.
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal | null | undefined, aborted: (reason: unknown) => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(signal.reason));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal?.reason));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepUnlessAborted(ms, signal, () => new AbortedError("registry", "the run was aborted"));
}
