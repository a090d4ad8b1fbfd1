/**
 * LiveChain — the current NQ options chain kept in memory from a LiveClient's stream, through the same
 * fold the Historical and file modes use (ChainRecords) and the same rows (rows.ts):
 *
 * - definitions: upserts (`A`, `M` modifies), `D` deletes; expired options leave the snapshot (core's
 *   rule, via selectInstruments) and are forgotten at the next session;
 * - statistics: settlement, open interest and cleared volume, each with its trading date;
 * - trades: the session's volume and last; top of book: the latest book record of the session;
 * - the underlying futures (NQ.FUT) streamed too, so every contract carries its own `underlyingPrice`.
 *
 * Startup: trades and the book are replayed from the Globex session's open (`start`), definitions and
 * statistics from just under 24 h back (yesterday's settlement and cleared volume, today's open
 * interest), then the stream goes live on the same connection — no gap, and nothing counted twice (the
 * client drops what a reconnect replays again). At 17:00 CT the session rolls: volume and book restart.
 */
import { type ChainRequest, cmeSessionFor, type SourceResult } from "@nq/core";
import { type DbnRecord, RType, type SystemMsg } from "@nq/dbn";
import { ChainRecords, type FoldWindow } from "../chain-records.js";
import { isQuoteSchema, type MarketSchema, type QuoteSchema } from "../config.js";
import { isNqOption, selectInstruments } from "../instrument-selection.js";
import type { InstrumentFilters } from "../query.js";
import { referenceDateNotes, toSourceRows } from "../rows.js";
import type { LiveClient } from "./client.js";
import type { Subscription } from "./protocol.js";

export interface LiveChainOptions {
  client: LiveClient;
  /** Option parents (stype_in=parent). Default ["NQ.OPT"]. */
  parents?: string[];
  /** Market data besides definitions. Default statistics, trades, mbp-1. */
  schemas?: MarketSchema[];
  /** Also stream the NQ futures (the options' underlyings). Default true. */
  underlyingPrices?: boolean;
  /** The clock the replay starts and the lag are measured with (tests: the gateway's). */
  now?: () => Date;
  /** The data is generated: label the snapshots SAMPLE DATA. */
  sample?: boolean;
  /**
   * Called once by `start()`, before subscribing: more option parents for the session opening at
   * `sessionOpen` (the NQ weekly and end-of-month product codes that exist; `createLiveChain` looks them
   * up with the Historical API's free symbology). When it fails, the chain goes on with `parents` and
   * every snapshot is incomplete, saying which options are missing and why.
   */
  discoverParents?: (sessionOpen: Date, signal: AbortSignal) => Promise<string[]>;
}

export interface LiveChainStats {
  records: number;
  /** Records applied per second over the last measurement interval (see `measure`). */
  recordsPerSecond: number;
  /** now − the newest ts_recv applied, ms (null before any market record). */
  lagMs: number | null;
  reconnects: number;
  duplicatesDropped: number;
  definitions: number;
  replayCompleted: boolean;
}

const NS_PER_MS = 1_000_000n;
const NEVER = (1n << 63n) - 1n;
/** Definitions and statistics: replayed from just under the gateway's 24 h limit. */
const REFERENCE_REPLAY_MS = 23 * 3_600_000 + 50 * 60_000;
const FUTURES_PARENT = "NQ.FUT";

export class LiveChain {
  readonly client: LiveClient;
  readonly records: ChainRecords;
  private readonly window: FoldWindow = { asOfNs: NEVER, sessionOpenNs: 0n };
  private sessionCloseNs = NEVER;
  private parents: string[];
  private readonly discoverParents: ((sessionOpen: Date, signal: AbortSignal) => Promise<string[]>) | undefined;
  /** Aborted by `close()`: ends a discovery still waiting on the Historical API. */
  private readonly closing = new AbortController();
  /** Why the series parents are missing, when their discovery failed. */
  private discoveryFailure: string | null = null;
  private readonly schemas: MarketSchema[];
  private readonly quoteSchema: QuoteSchema | null;
  private readonly underlyingPrices: boolean;
  private readonly now: () => Date;
  private readonly sample: boolean;
  private applied = 0;
  private dataTimeNs = 0n;
  private replaysExpected = 0;
  private replaysSeen = 0;
  private replayDone = false;
  private readonly replayWaiters: (() => void)[] = [];
  private measured = { at: Date.now(), records: 0, rate: 0 };
  private running: Promise<void> | null = null;

  constructor(options: LiveChainOptions) {
    this.client = options.client;
    this.parents = options.parents ?? ["NQ.OPT"];
    this.schemas = options.schemas ?? ["statistics", "trades", "mbp-1"];
    this.quoteSchema = this.schemas.find(isQuoteSchema) ?? null;
    this.underlyingPrices = options.underlyingPrices ?? true;
    this.now = options.now ?? (() => new Date());
    this.sample = options.sample ?? false;
    this.discoverParents = options.discoverParents;
    this.records = new ChainRecords(this.window);
  }

  /** The option parents subscribed (after `start()`, the discovered series parents too). */
  get optionParents(): readonly string[] {
    return this.parents;
  }

  /** The subscriptions for `now`: what `start()` sends (exposed for tests and for custom clients). */
  subscriptions(now: Date = this.now()): Subscription[] {
    const session = cmeSessionFor(now);
    const sessionOpen = BigInt(session.opensAt.getTime()) * NS_PER_MS;
    const reference = BigInt(now.getTime() - REFERENCE_REPLAY_MS) * NS_PER_MS;
    const subs: Subscription[] = [{ schema: "definition", stypeIn: "parent", symbols: this.parents, start: reference }];
    for (const schema of this.schemas) {
      const start = schema === "statistics" ? reference : sessionOpen;
      subs.push({ schema, stypeIn: "parent", symbols: this.parents, start });
      const forFutures = schema === "statistics" || schema === "trades" || isQuoteSchema(schema);
      if (this.underlyingPrices && forFutures) subs.push({ schema, stypeIn: "parent", symbols: [FUTURES_PARENT], start });
    }
    return subs;
  }

  /** Subscribes, starts the client and applies its stream in the background. Resolves once connected. */
  async start(): Promise<void> {
    const now = this.now();
    const session = cmeSessionFor(now);
    this.setSession(BigInt(session.opensAt.getTime()) * NS_PER_MS, BigInt(session.closesAt.getTime()) * NS_PER_MS);
    if (this.discoverParents) {
      try {
        this.parents = [...new Set([...this.parents, ...(await this.discoverParents(session.opensAt, this.closing.signal))])];
      } catch (error) {
        this.discoveryFailure = `the NQ weekly and end-of-month options are missing: their product codes could not be looked up (${error instanceof Error ? error.message : String(error)}); only ${this.parents.join(", ")} was subscribed`;
      }
      // Closed while the lookup ran: no connection is opened.
      if (this.closing.signal.aborted) throw new Error("the Live chain was closed before it connected");
    }
    const subs = this.subscriptions(now);
    for (const sub of subs) this.client.subscribe(sub);
    this.replaysExpected = subs.length;
    for (const schema of this.schemas) this.records.markRead(schema);
    // Trades are replayed from the session's open: no trade seen means volume 0, a fact.
    this.records.tradesCoverSession = true;
    await this.client.start();
    this.running = this.run();
    this.running.catch(() => undefined);
  }

  /** Applies the client's stream until it ends; rejects with the client's typed error. */
  private async run(): Promise<void> {
    try {
      for await (const batch of this.client.batches()) this.applyBatch(batch);
    } finally {
      this.releaseWaiters();
    }
  }

  /** Resolves when the stream ends (close, or failure: rejects with the typed error). */
  done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Resolves once the intraday replay was applied (every subscription's "replay completed"). */
  async replayCompleted(signal?: AbortSignal): Promise<void> {
    if (this.replayDone) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.replayWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
    if (!this.replayDone) await this.done();
    if (!this.replayDone) throw new Error("the Live stream ended before the replay completed");
  }

  applyBatch(batch: DbnRecord[]): void {
    for (let i = 0; i < batch.length; i++) this.apply(batch[i]!);
  }

  /** The one fold: a record from the stream into the chain. */
  apply(record: DbnRecord): void {
    this.applied++;
    const rtype = record.hd.rtype;
    if (rtype === RType.System) {
      const ts = record.hd.ts_event;
      if (ts > this.dataTimeNs && ts !== NEVER) this.dataTimeNs = ts;
      if ((record as SystemMsg).code === 3 && !this.replayDone && ++this.replaysSeen >= this.replaysExpected) {
        this.replayDone = true;
        this.releaseWaiters();
      }
      return;
    }
    if (rtype === RType.SymbolMapping || rtype === RType.Error) return;
    const recv = (record as { ts_recv?: bigint }).ts_recv ?? record.hd.ts_event;
    if (recv > this.dataTimeNs) this.dataTimeNs = recv;
    if (recv >= this.sessionCloseNs && (rtype === RType.Mbp0 || rtype === RType.Mbp1 || rtype === RType.Bbo1S || rtype === RType.Bbo1M)) this.roll(recv);
    this.records.add(record);
  }

  /** The chain now, ready for core's normalizer: a SourceResult. */
  snapshot(filters: InstrumentFilters = {}): SourceResult {
    const asOf = this.asOf();
    const options = [...this.records.definitions.values()].filter(isNqOption);
    const selected = selectInstruments(options, filters, asOf);
    const incompleteReasons: string[] = [];
    if (this.discoveryFailure) incompleteReasons.push(this.discoveryFailure);
    if (!this.replayDone) incompleteReasons.push("the Live replay from the session's open has not completed yet");
    if (this.client.reconnecting) incompleteReasons.push("the Live connection dropped; the gap is being refilled from the last record seen");
    return {
      rows: toSourceRows(selected, this.records),
      asOf,
      asOfReason: "Live stream: the time of the newest record received",
      delayed: false,
      sample: this.sample,
      complete: incompleteReasons.length === 0,
      incompleteReasons,
      warnings: referenceDateNotes(selected, this.records),
      rawDataAvailable: false,
    };
  }

  /** Snapshots every `intervalMs`, and at once after each reconnect, until the stream ends or `signal` aborts. */
  async *snapshots(intervalMs: number, filters: InstrumentFilters = {}, signal?: AbortSignal): AsyncGenerator<{ result: SourceResult; reason: "interval" | "reconnect" }> {
    let wake: ((reason: "interval" | "reconnect" | "end") => void) | null = null;
    const onReconnect = () => wake?.("reconnect");
    const onAbort = () => wake?.("end");
    this.client.on("reconnected", onReconnect);
    signal?.addEventListener("abort", onAbort);
    const ended = this.done().then(
      () => "end" as const,
      () => "end" as const,
    );
    try {
      for (;;) {
        if (signal?.aborted) return;
        let timer: NodeJS.Timeout | undefined;
        const reason = await Promise.race([
          new Promise<"interval" | "reconnect" | "end">((resolve) => {
            wake = resolve;
            timer = setTimeout(() => resolve("interval"), intervalMs);
          }),
          ended,
        ]);
        clearTimeout(timer);
        wake = null;
        if (reason === "end" || signal?.aborted) return;
        // After a reconnect, let the backfill arrive before the snapshot is taken.
        if (reason === "reconnect") await new Promise((r) => setTimeout(r, Math.min(500, intervalMs)));
        yield { result: this.snapshot(filters), reason };
      }
    } finally {
      this.client.off("reconnected", onReconnect);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Records/s since the previous call (the runner calls it once per snapshot). */
  measure(): LiveChainStats {
    const nowMs = Date.now();
    const elapsed = (nowMs - this.measured.at) / 1000;
    if (elapsed > 0.05) this.measured = { at: nowMs, records: this.applied, rate: (this.applied - this.measured.records) / elapsed };
    const lastRecv = this.client.stats.lastTsRecv;
    return {
      records: this.applied,
      recordsPerSecond: this.measured.rate,
      lagMs: lastRecv === null ? null : this.now().getTime() - Number(lastRecv / NS_PER_MS),
      reconnects: this.client.stats.reconnects,
      duplicatesDropped: this.client.stats.duplicatesDropped,
      definitions: this.records.definitions.size,
      replayCompleted: this.replayDone,
    };
  }

  get recordsApplied(): number {
    return this.applied;
  }

  /** The data's own time: the newest ts_recv (or heartbeat) seen; the clock before anything arrived. */
  asOf(): Date {
    return this.dataTimeNs > 0n ? new Date(Number(this.dataTimeNs / NS_PER_MS)) : this.now();
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.client.close();
    await this.done().catch(() => undefined);
  }

  private setSession(openNs: bigint, closeNs: bigint): void {
    this.window.sessionOpenNs = openNs;
    this.sessionCloseNs = closeNs;
  }

  /** A new Globex session: volume, last and book restart; options expired before it are forgotten. */
  private roll(tsRecv: bigint): void {
    const session = cmeSessionFor(new Date(Number(tsRecv / NS_PER_MS)));
    const open = BigInt(session.opensAt.getTime()) * NS_PER_MS;
    if (open <= this.window.sessionOpenNs) {
      this.sessionCloseNs = BigInt(session.closesAt.getTime()) * NS_PER_MS;
      if (this.sessionCloseNs <= tsRecv) this.sessionCloseNs = NEVER;
      return;
    }
    this.setSession(open, BigInt(session.closesAt.getTime()) * NS_PER_MS);
    this.records.trades.clear();
    this.records.quotes.clear();
    for (const [id, definition] of this.records.definitions) {
      if (definition.expirationNs !== null && definition.expirationNs < open) this.records.definitions.delete(id);
    }
  }

  private releaseWaiters(): void {
    for (const waiter of this.replayWaiters.splice(0)) waiter();
  }
}

/** The request's filters as the snapshot takes them. */
export function filtersOf(request: Partial<ChainRequest>): InstrumentFilters {
  const filters: InstrumentFilters = {};
  if (request.expirations?.length) filters.expirations = request.expirations;
  if (request.maxExpirations !== undefined) filters.maxExpirations = request.maxExpirations;
  if (request.strikeMin !== undefined) filters.strikeMin = request.strikeMin;
  if (request.strikeMax !== undefined) filters.strikeMax = request.strikeMax;
  return filters;
}
