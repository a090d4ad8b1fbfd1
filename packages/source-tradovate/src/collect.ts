/**
 * Collects one quote per contract over the market-data socket (reference §6–7): subscribe every option
 * and each underlying future (`md/subscribeQuote`, a bounded number awaiting their answer at once), merge
 * quote events by contractId, and when every contract has quoted (plus `settle_ms` for trailing
 * updates) or the collection deadline passes, unsubscribe and close. A penalty on a subscription is
 * waited out and the request resent with its ticket; a 429 ends the load as a rate limit. A dropped
 * connection is reopened — re-authorized, and only what is still missing re-subscribed — up to
 * `max_reconnects` times; the quotes already received are kept in `states`, which outlive a failed load
 * so a registry retry on the same instance asks only for the rest.
 */
import { AuthError, EntitlementError, type Logger, NetworkError, type ProgressUpdate, RateLimitError } from "@nq/core";
import { abortedError, sleep, throwIfAborted } from "./abort.js";
import { type ResolvedConfig, SOURCE_NAME } from "./config.js";
import { RATE_LIMIT_WAIT_MS } from "./rest.js";
import { mergeQuote, type QuoteState } from "./quotes.js";
import { ConnectionLost, type MdConnection, type SocketResponse } from "./socket.js";

export interface Target {
  id: number;
  name: string;
}

export interface CollectOutcome {
  /** Contracts whose subscription was refused, with the reason. */
  refused: Map<number, string>;
  /** Contracts that sent no quote before the deadline. */
  missing: Target[];
  reconnects: number;
  /** Gaps: when the connection dropped and for how long it was down (ms). */
  gaps: { at: string; ms: number; reason: string }[];
}

export interface CollectParams {
  targets: Target[];
  states: Map<number, QuoteState>;
  /** Opens and authorizes a connection. */
  connect: (signal: AbortSignal) => Promise<MdConnection>;
  config: ResolvedConfig;
  signal: AbortSignal;
  log: Logger;
  progress: (update: ProgressUpdate) => void;
  /** Tests: called with each connection once it is authorized. */
  onConnection?: (connection: MdConnection) => void;
}

export async function collectQuotes(params: CollectParams): Promise<CollectOutcome> {
  const { targets, states, config, signal, log } = params;
  const wanted = new Map(targets.map((t) => [t.id, t]));
  const refused = new Map<number, string>();
  const gaps: CollectOutcome["gaps"] = [];
  const deadline = Date.now() + config.collect_timeout_ms;
  let reconnects = 0;
  const missing = () => targets.filter((t) => !states.has(t.id) && !refused.has(t.id));
  const report = () => params.progress({ stage: "quotes", done: targets.length - missing().length, total: targets.length });

  for (;;) {
    throwIfAborted(signal);
    if (missing().length === 0 || Date.now() >= deadline) break;
    let connection: MdConnection | null = null;
    try {
      connection = await params.connect(signal);
      params.onConnection?.(connection);
      const session = runSession(connection, { ...params, wanted, refused, deadline, report, missing });
      await session;
      // A finished session: everything quoted (or refused), or the deadline passed.
      await unsubscribeAll(connection, params, wanted, refused, signal);
      break;
    } catch (error) {
      if (signal.aborted) throw abortedError(signal.reason);
      if (!(error instanceof ConnectionLost)) throw error;
      reconnects += 1;
      const downAt = Date.now();
      if (reconnects > config.max_reconnects) {
        throw new NetworkError(
          SOURCE_NAME,
          `the market-data connection dropped ${reconnects} times (${error.message}); ${targets.length - missing().length} of ${targets.length} contracts had quoted. Try again later`,
          { cause: error },
        );
      }
      log.warn(`${error.message}; reconnecting (${reconnects} of ${config.max_reconnects}) and re-subscribing the ${missing().length} contracts still without a quote`);
      params.progress({ stage: `reconnecting (${reconnects} of ${config.max_reconnects})`, done: targets.length - missing().length, total: targets.length });
      await sleep(config.reconnect_delay_ms * reconnects, signal);
      gaps.push({ at: new Date(downAt).toISOString(), ms: Date.now() - downAt, reason: error.message });
    } finally {
      connection?.close();
    }
  }
  return { refused, missing: missing(), reconnects, gaps };
}

interface SessionParams extends CollectParams {
  wanted: Map<number, Target>;
  refused: Map<number, string>;
  deadline: number;
  report: () => void;
  missing: () => Target[];
}

/** One connection's work: subscribe what is missing, collect until all quoted, the deadline, or a drop. */
async function runSession(connection: MdConnection, p: SessionParams): Promise<void> {
  const { states, config, signal } = p;
  let allQuoted!: () => void;
  const quoted = new Promise<void>((resolve) => (allQuoted = resolve));
  const check = () => {
    if (p.missing().length === 0) allQuoted();
  };
  connection.onEvent((event) => {
    const quotes = (event.d as { quotes?: unknown } | null)?.quotes;
    if (event.e !== "md" || !Array.isArray(quotes)) return;
    let fresh = false;
    for (const quote of quotes) {
      const before = states.size;
      if (mergeQuote(states, quote, (id) => p.wanted.has(id), Date.now()) !== null && states.size > before) fresh = true;
    }
    if (fresh) {
      p.report();
      check();
    }
  });
  const lost = connection.lostPromise.then((error) => Promise.reject(error));
  lost.catch(() => {});

  // Subscribe everything still missing, with at most max_pending_subscriptions awaiting an answer.
  const queue = p.missing();
  const subscribeAll = (async () => {
    const worker = async () => {
      for (let target = queue.shift(); target; target = queue.shift()) await subscribe(connection, target, p);
    };
    await Promise.all(Array.from({ length: Math.min(config.max_pending_subscriptions, queue.length) }, worker));
    refusedEverything(p);
    check();
  })();
  await Promise.race([subscribeAll, lost]);

  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, p.deadline - Date.now()));
  });
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new ConnectionLost(null, "aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    await Promise.race([quoted, deadline, lost, aborted]);
    // Trailing updates of the last contracts (an event may carry only part of a quote).
    if (p.missing().length === 0 && config.settle_ms > 0) await Promise.race([sleep(config.settle_ms, signal), lost]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
  throwIfAborted(signal);
}

/** Subscribes one contract, waiting out penalties (resending with the ticket). */
async function subscribe(connection: MdConnection, target: Target, p: SessionParams): Promise<void> {
  const symbol = p.config.subscribe_by === "id" ? target.id : target.name;
  let ticket: string | null = null;
  for (let penalties = 0; ; penalties += 1) {
    throwIfAborted(p.signal);
    const answer: SocketResponse = await connection.request(p.config.subscribe_endpoint, ticket ? { symbol, "p-ticket": ticket } : { symbol }, p.signal);
    const d = (answer.d ?? null) as Record<string, unknown> | null;
    if (answer.s === 429) {
      throw new RateLimitError(SOURCE_NAME, `Tradovate rate-limited the quote subscriptions (429 on the socket); a third-party app cannot lift it, wait about an hour`, {
        retryAfterMs: RATE_LIMIT_WAIT_MS,
      });
    }
    if (answer.s === 200 && d && typeof d === "object" && typeof d["p-ticket"] === "string") {
      const waitMs = Math.max(0, Math.ceil(Number(d["p-time"] ?? 0) * 1000));
      if (d["p-captcha"] === true) throw new AuthError(SOURCE_NAME, "Tradovate answered a quote subscription with a captcha penalty; a third-party app cannot solve it. Wait about an hour, then try again");
      if (waitMs > p.config.max_penalty_wait_ms || penalties >= 5) {
        throw new RateLimitError(SOURCE_NAME, `Tradovate set a time penalty of ${waitMs / 1000} s on the quote subscriptions (more than max_penalty_wait_ms); try again after it`, { retryAfterMs: waitMs });
      }
      p.log.warn(`time penalty on ${p.config.subscribe_endpoint} ${target.name}: waiting ${waitMs / 1000} s, then sending it again with the ticket`);
      ticket = d["p-ticket"];
      await sleep(waitMs, p.signal);
      continue;
    }
    if (answer.s !== 200) {
      const text = typeof answer.d === "string" ? answer.d : JSON.stringify(answer.d ?? null);
      p.refused.set(target.id, `s=${answer.s}${text && text !== "null" ? ` ${text.slice(0, 120)}` : ""}`);
    }
    return;
  }
}

/** Every subscription refused: the account cannot see this data at all. */
function refusedEverything(p: SessionParams): void {
  if (p.refused.size === 0 || p.refused.size < p.wanted.size) return;
  const reasons = [...new Set(p.refused.values())];
  const denied = reasons.every((r) => /^s=(401|403)\b/.test(r));
  const message = `every quote subscription was refused (${reasons.slice(0, 3).join("; ")})`;
  if (denied) throw new EntitlementError(SOURCE_NAME, `${message}; the account needs API access and a real-time CME market-data subscription`);
  throw new NetworkError(SOURCE_NAME, `${message}; try again later`);
}

async function unsubscribeAll(connection: MdConnection, p: CollectParams, wanted: Map<number, Target>, refused: Map<number, string>, signal: AbortSignal): Promise<void> {
  if (!connection.isOpen) return;
  const queue = [...wanted.values()].filter((t) => !refused.has(t.id));
  const timeoutMs = Math.min(p.config.request_timeout_ms, 2000);
  const worker = async () => {
    for (let target = queue.shift(); target; target = queue.shift()) {
      const symbol = p.config.subscribe_by === "id" ? target.id : target.name;
      await connection.request(p.config.unsubscribe_endpoint, { symbol }, signal, timeoutMs).catch(() => {});
      if (!connection.isOpen || signal.aborted) return;
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.config.max_pending_subscriptions, queue.length) }, worker));
}
