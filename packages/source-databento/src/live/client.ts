/**
 * LiveClient — a client for Databento's Live Subscription Gateway (reference §5), written from the
 * reference: TCP connect, greeting (split reads welcome), CRAM, the auth line and reply, subscriptions in
 * chunks of ≤ 500 symbols, intraday replay (`start`), `start_session`, then a DBN stream (zstd or not)
 * decoded by @nq/dbn's streaming parser into record objects (upgraded to v3 shapes).
 *
 * - Heartbeats: the gateway is declared dead after `heartbeat_interval_s + 10` s without a byte (§5.6).
 * - ErrorMsg: surfaced as @nq/core's typed errors (errors.ts); retryable ones lead to a reconnect.
 * - Backpressure: decoded records wait in a queue of at most `highWaterMark` records (plus one socket
 *   read); above it the socket is paused, so TCP pushes back on the gateway and memory stays bounded
 *   whatever the consumer's pace. The dead-gateway clock stops while we are the ones not reading.
 * - Reconnect: with exponential backoff (jittered); it re-authenticates and resubscribes every
 *   subscription from the last `ts_event` seen, and drops the records it already handed out.
 * - The API key is registered as a secret and never written anywhere but the CRAM response.
 */
import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import {
  AbortedError,
  AuthError,
  InvalidRequestError,
  type Logger,
  NetworkError,
  registerSecret,
  type SourceError,
  TimeoutError,
  isSourceError,
} from "@nq/core";
import {
  type DbnRecord,
  DbnDecodeError,
  DbnParser,
  type ErrorMsg,
  type Metadata,
  PitSymbolMap,
  readRecord,
  RType,
  type SymbolMappingMsg,
  type SystemMsg,
  ZstdStreamDecoder,
} from "@nq/dbn";
import { gatewayError } from "./errors.js";
import {
  authLine,
  cramResponse,
  DEFAULT_LIVE_PORT,
  gatewayHost,
  type LiveCompression,
  LineReader,
  parseAuthReply,
  parseFields,
  type Subscription,
  subscriptionLines,
} from "./protocol.js";

export interface ReconnectPolicy {
  /** Attempts in a row before giving up (the stream then ends with the last error). Default 10. */
  maxAttempts?: number;
  /** First delay; doubled each attempt, ±20 % jitter. Default 250 ms. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface LiveClientOptions {
  apiKey: string;
  dataset?: string;
  /** Default: `<dataset>.lsg.databento.com` (§5.1). */
  host?: string;
  port?: number;
  compression?: LiveCompression;
  tsOut?: boolean;
  /** Sent as `heartbeat_interval_s`; the gateway's default is 30 s. */
  heartbeatIntervalS?: number;
  /** Silence after which the gateway counts as dead. Default (heartbeatIntervalS ?? 30) + 10 s. */
  deadTimeoutMs?: number;
  slowReaderBehavior?: "warn" | "skip";
  /** `client=` in the auth line. */
  clientId?: string;
  /** Python's defaults: 10 s to connect, 30 s to authenticate (§5.1). */
  connectTimeoutMs?: number;
  authTimeoutMs?: number;
  /** false: a dropped connection ends the stream with its error. */
  reconnect?: false | ReconnectPolicy;
  /** Decoded records queued for the consumer before the socket is paused. Default 50,000. */
  highWaterMark?: number;
  log?: Logger;
  /** The name errors carry. Default "databento". */
  source?: string;
}

export interface LiveClientStats {
  /** Records handed to the consumer (duplicates excluded). */
  records: number;
  bytes: number;
  reconnects: number;
  duplicatesDropped: number;
  heartbeats: number;
  /** Times the socket was paused because the consumer fell behind. */
  pauses: number;
  /** The largest ts_event of a market record seen (ns), the resume point. */
  lastTsEvent: bigint | null;
  /** The largest ts_recv seen (ns): lag = now − this. */
  lastTsRecv: bigint | null;
  sessionId: string | null;
  gatewayVersion: string | null;
}

export interface LiveClientEvents {
  /** Every SystemMsg (heartbeats, acknowledgements, slow-reader warnings, replay completed…). */
  system: [SystemMsg];
  /** An ErrorMsg from the gateway, as a typed error (the connection closes after it). */
  gatewayError: [SourceError];
  /** Something the user should know that does not end the stream (slow-reader warnings, reconnects). */
  warning: [string];
  reconnecting: [{ attempt: number; delayMs: number; reason: SourceError }];
  reconnected: [{ attempt: number; start: bigint | null; sessionId: string }];
  /** Every subscription with `start` finished its replay on this connection (SystemMsg code 3). */
  replayCompleted: [{ resumed: boolean }];
  metadata: [Metadata];
}

const SOURCE = "databento";
const SYSTEM_HEARTBEAT = 0;
const SYSTEM_SLOW_READER = 2;
const SYSTEM_REPLAY_COMPLETED = 3;

type Phase = "idle" | "connecting" | "streaming" | "reconnecting" | "ended";

/** One TCP connection's state: handshake lines, then the DBN stream. */
interface Connection {
  socket: Socket;
  lines: LineReader | null;
  parser: DbnParser;
  zstd: ZstdStreamDecoder | null;
  /** Why it closed, when we know better than "EOF". */
  reason: SourceError | null;
  replaysExpected: number;
  replaysDone: number;
  resumed: boolean;
}

export class LiveClient extends EventEmitter<LiveClientEvents> {
  readonly stats: LiveClientStats = {
    records: 0,
    bytes: 0,
    reconnects: 0,
    duplicatesDropped: 0,
    heartbeats: 0,
    pauses: 0,
    lastTsEvent: null,
    lastTsRecv: null,
    sessionId: null,
    gatewayVersion: null,
  };
  /** instrument_id → raw symbol, from SymbolMappingMsg upserts. */
  readonly symbols = new PitSymbolMap();
  metadata: Metadata | null = null;

  private readonly options: Required<Omit<LiveClientOptions, "reconnect" | "log" | "heartbeatIntervalS" | "slowReaderBehavior" | "deadTimeoutMs">> & {
    reconnect: false | Required<ReconnectPolicy>;
    heartbeatIntervalS: number | undefined;
    slowReaderBehavior: "warn" | "skip" | undefined;
    deadTimeoutMs: number;
  };
  private readonly log: Logger | undefined;
  private readonly subscriptions: Subscription[] = [];
  private phase: Phase = "idle";
  private connection: Connection | null = null;
  private starting: Promise<void> | null = null;
  private closing = false;

  // The consumer's queue.
  private readonly queue: DbnRecord[][] = [];
  private queued = 0;
  private current: DbnRecord[] = [];
  private wake: (() => void) | null = null;
  private failure: SourceError | null = null;
  private paused = false;

  // Resume bookkeeping: how many records at lastTsEvent were handed out, and the skip after a reconnect.
  private countAtLast = 0;
  private dedup: { ts: bigint; skip: number } | null = null;

  private lastByteAt = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private sleeping: { timer: NodeJS.Timeout; resolve: () => void } | null = null;
  private firstReplay: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void };

  constructor(options: LiveClientOptions) {
    super();
    registerSecret(options.apiKey);
    const dataset = options.dataset ?? "GLBX.MDP3";
    const reconnect = options.reconnect === false ? false : { maxAttempts: 10, initialDelayMs: 250, maxDelayMs: 10_000, ...(options.reconnect ?? {}) };
    this.options = {
      apiKey: options.apiKey,
      dataset,
      host: options.host ?? gatewayHost(dataset),
      port: options.port ?? DEFAULT_LIVE_PORT,
      compression: options.compression ?? "none",
      tsOut: options.tsOut ?? false,
      heartbeatIntervalS: options.heartbeatIntervalS,
      deadTimeoutMs: options.deadTimeoutMs ?? ((options.heartbeatIntervalS ?? 30) + 10) * 1000,
      slowReaderBehavior: options.slowReaderBehavior,
      clientId: options.clientId ?? "nq-source-databento",
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      authTimeoutMs: options.authTimeoutMs ?? 30_000,
      reconnect,
      highWaterMark: options.highWaterMark ?? 50_000,
      source: options.source ?? SOURCE,
    };
    this.log = options.log;
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined);
    this.firstReplay = { promise, resolve, reject };
  }

  /** Adds a subscription; sent at `start()`, or at once when the session is already running. */
  subscribe(subscription: Subscription): void {
    if (this.phase === "ended") throw new AbortedError(this.options.source, "the Live client is closed");
    if (subscription.start !== undefined && (this.phase === "streaming" || this.phase === "reconnecting")) {
      throw new InvalidRequestError(this.options.source, "an intraday replay (start) cannot be requested after start_session; subscribe with start before start()");
    }
    this.subscriptions.push({ ...subscription, symbols: [...subscription.symbols] });
    if (this.phase === "streaming" && this.connection) this.connection.socket.write(subscriptionLines(subscription).join(""));
  }

  /** Connects, authenticates, subscribes and starts the session. Rejects with a typed error. */
  start(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.subscriptions.length === 0) return Promise.reject(new InvalidRequestError(this.options.source, "subscribe to at least one schema before start()"));
    this.starting = (async () => {
      this.phase = "connecting";
      try {
        await this.withRetries(false);
      } catch (error) {
        this.end(error as SourceError);
        throw error;
      }
    })();
    return this.starting;
  }

  /** Resolves when every subscription with `start` finished its first replay. */
  replayCompleted(): Promise<void> {
    return this.firstReplay.promise;
  }

  get reconnecting(): boolean {
    return this.phase === "reconnecting";
  }

  /** Closes the session: the iterators end without an error once the records already queued are taken. */
  async close(): Promise<void> {
    if (this.phase === "ended" && !this.connection) return;
    this.closing = true;
    const connection = this.connection;
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.resolve();
    }
    this.end(null);
    if (connection && !connection.socket.destroyed) {
      await new Promise<void>((resolve) => {
        connection.socket.once("close", () => resolve());
        connection.socket.end();
        setTimeout(() => connection.socket.destroy(), 500).unref();
      });
    }
  }

  /** Decoded records in arrays, as they arrive: the cheapest way to consume the stream. */
  async *batches(): AsyncGenerator<DbnRecord[]> {
    if (this.phase === "idle") await this.start();
    try {
      for (;;) {
        const batch = this.queue.shift();
        if (batch) {
          this.queued -= batch.length;
          if (this.paused && this.queued <= this.options.highWaterMark / 2) this.resumeSocket();
          yield batch;
          continue;
        }
        if (this.phase === "ended") {
          if (this.failure) throw this.failure;
          return;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // Leaving the loop early (break, return) closes the session.
      if (this.phase !== "ended") await this.close();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<DbnRecord> {
    for await (const batch of this.batches()) yield* batch;
  }

  // ---- connection life cycle ----

  /** Opens a session, retrying retryable failures with backoff. `resume`: a reconnect after a drop. */
  private async withRetries(resume: boolean): Promise<void> {
    const policy = this.options.reconnect;
    let attempt = 0;
    for (;;) {
      try {
        await this.openSession(resume);
        return;
      } catch (error) {
        const reason = asSourceError(error, this.options.source);
        attempt += 1;
        if (this.closing) throw new AbortedError(this.options.source, "the Live client was closed while connecting");
        if (!reason.retryable || policy === false || attempt >= policy.maxAttempts) throw reason;
        const delayMs = backoff(policy, attempt);
        this.emit("reconnecting", { attempt, delayMs, reason });
        this.log?.warn(`Live gateway: ${reason.message}; trying again in ${delayMs} ms (attempt ${attempt + 1} of ${policy.maxAttempts})`);
        await this.sleep(delayMs);
        if (this.closing) throw new AbortedError(this.options.source, "the Live client was closed while reconnecting");
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping = null;
        resolve();
      }, ms);
      this.sleeping = { timer, resolve };
    });
  }

  /** One connection: greeting → CRAM → auth reply → subscriptions → start_session. Resolves once streaming. */
  private openSession(resume: boolean): Promise<void> {
    const o = this.options;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: SourceError) => {
        if (connection.reason === null) connection.reason = error;
        connection.socket.destroy();
      };
      const socket = connect({ host: o.host, port: o.port });
      socket.setNoDelay(true);
      const connection: Connection = {
        socket,
        lines: new LineReader(),
        parser: this.newParser(),
        zstd: o.compression === "zstd" ? new ZstdStreamDecoder() : null,
        reason: null,
        replaysExpected: 0,
        replaysDone: 0,
        resumed: resume,
      };
      this.connection = connection;
      let timer: NodeJS.Timeout | null = setTimeout(
        () => fail(new TimeoutError(o.source, `could not connect to the Live gateway ${o.host}:${o.port} within ${o.connectTimeoutMs} ms`, { timeoutMs: o.connectTimeoutMs })),
        o.connectTimeoutMs,
      );
      socket.once("connect", () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(
          () => fail(new TimeoutError(o.source, `the Live gateway did not complete authentication within ${o.authTimeoutMs} ms`, { timeoutMs: o.authTimeoutMs })),
          o.authTimeoutMs,
        );
      });
      socket.on("error", (error) => {
        if (connection.reason === null) connection.reason = new NetworkError(o.source, `Live gateway ${o.host}:${o.port}: ${error.message}`, { cause: error, details: { code: (error as { code?: string }).code } });
      });
      socket.on("data", (chunk: Buffer) => {
        this.stats.bytes += chunk.length;
        this.lastByteAt = Date.now();
        if (connection.lines) {
          try {
            const done = this.handshake(connection, chunk);
            if (!done) return;
          } catch (error) {
            fail(asSourceError(error, o.source));
            return;
          }
          if (timer) clearTimeout(timer);
          timer = null;
          settled = true;
          this.phase = "streaming";
          this.startWatchdog(connection);
          resolve();
          const rest = connection.lines!.rest();
          connection.lines = null;
          if (rest.length > 0) this.feed(connection, rest);
          return;
        }
        this.feed(connection, chunk);
      });
      socket.once("close", () => {
        if (timer) clearTimeout(timer);
        this.stopWatchdog();
        if (this.connection === connection) this.connection = null;
        const reason =
          connection.reason ??
          new NetworkError(o.source, settled ? "the Live gateway closed the connection (EOF)" : "the Live gateway closed the connection during the handshake");
        if (!settled) {
          reject(reason);
          return;
        }
        this.flush();
        this.onDropped(reason);
      });
    });
  }

  /** Handles greeting and auth lines; true once the session is started (bytes left are the DBN stream). */
  private handshake(connection: Connection, chunk: Buffer): boolean {
    const o = this.options;
    const lines = connection.lines!;
    lines.push(chunk);
    for (let line = lines.next(); line !== null; line = lines.next()) {
      if (line.startsWith("lsg_version=")) {
        this.stats.gatewayVersion = line.slice("lsg_version=".length);
      } else if (line.startsWith("cram=")) {
        const response = cramResponse(line.slice("cram=".length), o.apiKey);
        connection.socket.write(
          authLine(response, {
            dataset: o.dataset,
            compression: o.compression,
            tsOut: o.tsOut,
            client: o.clientId,
            ...(o.heartbeatIntervalS !== undefined ? { heartbeatIntervalS: o.heartbeatIntervalS } : {}),
            ...(o.slowReaderBehavior ? { slowReaderBehavior: o.slowReaderBehavior } : {}),
          }),
        );
      } else if (parseFields(line).has("success") || line.includes("error=")) {
        const reply = parseAuthReply(line);
        if (!reply.ok) throw new AuthError(o.source, `the Live gateway refused the API key: ${reply.error}. Check the key and its Live entitlement`);
        this.stats.sessionId = reply.sessionId;
        this.sendSubscriptions(connection);
        return true;
      }
    }
    return false;
  }

  /** Every subscription (from the last ts_event seen on a resume), then start_session. */
  private sendSubscriptions(connection: Connection): void {
    const resumeAt = connection.resumed ? this.stats.lastTsEvent : null;
    if (resumeAt !== null) this.dedup = { ts: resumeAt, skip: this.countAtLast };
    let text = "";
    let replays = 0;
    for (const sub of this.subscriptions) {
      const start = resumeAt ?? sub.start;
      if (start !== undefined) replays += 1;
      text += subscriptionLines(start === undefined ? sub : { ...sub, start }).join("");
    }
    connection.replaysExpected = replays;
    connection.socket.write(`${text}start_session\n`);
    if (replays === 0 && !connection.resumed) this.firstReplay.resolve();
  }

  private onDropped(reason: SourceError): void {
    if (this.phase === "ended" || this.closing) {
      this.end(null);
      return;
    }
    const policy = this.options.reconnect;
    if (!reason.retryable || policy === false) {
      this.end(reason);
      return;
    }
    this.phase = "reconnecting";
    this.emit("warning", `the Live connection dropped (${reason.message}); reconnecting`);
    void (async () => {
      const delayMs = backoff(policy, 1);
      this.emit("reconnecting", { attempt: 1, delayMs, reason });
      await this.sleep(delayMs);
      if (this.closing) return this.end(null);
      try {
        await this.withRetries(true);
        this.stats.reconnects += 1;
        this.emit("reconnected", { attempt: this.stats.reconnects, start: this.stats.lastTsEvent, sessionId: this.stats.sessionId ?? "" });
      } catch (error) {
        this.end(this.closing ? null : asSourceError(error, this.options.source));
      }
    })();
  }

  private end(failure: SourceError | null): void {
    if (this.phase === "ended") return;
    this.phase = "ended";
    this.stopWatchdog();
    if (failure && !this.failure) this.failure = failure;
    this.firstReplay.reject(failure ?? new AbortedError(this.options.source, "the Live client was closed before the replay completed"));
    this.flush();
    this.wakeConsumer();
  }

  // ---- the stream ----

  private newParser(): DbnParser {
    const parser: DbnParser = new DbnParser(
      (metadata) => {
        this.metadata = metadata;
        this.emit("metadata", metadata);
      },
      (view, offset, _rtype, byteLength, bytes) => {
        this.onRecord(readRecord(view, bytes, offset, byteLength, parser.version, true));
      },
    );
    return parser;
  }

  private feed(connection: Connection, chunk: Uint8Array): void {
    // After close() (or a failure) nothing more is handed out: the stream ended where the consumer saw it end.
    if (connection.reason || this.phase === "ended") return;
    try {
      if (connection.zstd) {
        for (const piece of connection.zstd.decode(chunk)) connection.parser.push(piece);
      } else {
        connection.parser.push(chunk);
      }
    } catch (error) {
      this.flush();
      const reason =
        error instanceof DbnDecodeError
          ? new NetworkError(this.options.source, `the Live stream could not be decoded (${error.code}: ${error.message})`, { cause: error })
          : asSourceError(error, this.options.source);
      connection.reason = reason;
      connection.socket.destroy();
      return;
    }
    this.flush();
  }

  private onRecord(record: DbnRecord): void {
    const rtype = record.hd.rtype;
    if (rtype === RType.System) {
      const system = record as SystemMsg;
      if (system.code === SYSTEM_HEARTBEAT) this.stats.heartbeats += 1;
      else if (system.code === SYSTEM_SLOW_READER) this.emit("warning", `the Live gateway says this client reads too slowly: ${system.msg}`);
      else if (system.code === SYSTEM_REPLAY_COMPLETED) this.replayDone();
      this.emit("system", system);
    } else if (rtype === RType.Error) {
      const message = record as ErrorMsg;
      const error = gatewayError(this.options.source, message.code ?? 255, message.err);
      if (this.connection && this.connection.reason === null) this.connection.reason = error;
      this.emit("gatewayError", error);
    } else if (rtype === RType.SymbolMapping) {
      this.symbols.update(record as SymbolMappingMsg);
    } else {
      const ts = record.hd.ts_event;
      const dedup = this.dedup;
      if (dedup) {
        if (ts < dedup.ts || (ts === dedup.ts && dedup.skip > 0)) {
          if (ts === dedup.ts) dedup.skip -= 1;
          this.stats.duplicatesDropped += 1;
          return;
        }
        this.dedup = null;
      }
      const last = this.stats.lastTsEvent;
      if (last === null || ts > last) {
        this.stats.lastTsEvent = ts;
        this.countAtLast = 1;
      } else if (ts === last) {
        this.countAtLast += 1;
      }
      const recv = (record as { ts_recv?: bigint }).ts_recv;
      if (recv !== undefined && (this.stats.lastTsRecv === null || recv > this.stats.lastTsRecv)) this.stats.lastTsRecv = recv;
    }
    this.stats.records += 1;
    this.current.push(record);
  }

  private replayDone(): void {
    const connection = this.connection;
    if (!connection) return;
    connection.replaysDone += 1;
    if (connection.replaysDone === connection.replaysExpected) {
      // Handed out after the records before it: flush first so a listener sees a consistent queue.
      this.flush();
      this.emit("replayCompleted", { resumed: connection.resumed });
      if (!connection.resumed) this.firstReplay.resolve();
    }
  }

  /** Moves the records decoded from one read into the queue; pauses the socket above the high-water mark. */
  private flush(): void {
    if (this.current.length === 0) return;
    this.queue.push(this.current);
    this.queued += this.current.length;
    this.current = [];
    if (!this.paused && this.queued > this.options.highWaterMark && this.connection) {
      this.paused = true;
      this.stats.pauses += 1;
      this.connection.socket.pause();
    }
    this.wakeConsumer();
  }

  private resumeSocket(): void {
    this.paused = false;
    this.lastByteAt = Date.now();
    this.connection?.socket.resume();
  }

  private wakeConsumer(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private startWatchdog(connection: Connection): void {
    this.stopWatchdog();
    this.lastByteAt = Date.now();
    const limit = this.options.deadTimeoutMs;
    this.watchdog = setInterval(
      () => {
        if (this.paused) {
          this.lastByteAt = Date.now();
          return;
        }
        if (Date.now() - this.lastByteAt > limit && connection.reason === null) {
          connection.reason = new TimeoutError(this.options.source, `the Live gateway sent nothing (not even a heartbeat) for ${limit} ms; it is considered dead`, { timeoutMs: limit });
          connection.socket.destroy();
        }
      },
      Math.max(50, Math.min(1000, Math.floor(limit / 4))),
    );
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}

function backoff(policy: Required<ReconnectPolicy>, attempt: number): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function asSourceError(error: unknown, source: string): SourceError {
  if (isSourceError(error)) return error;
  return new NetworkError(source, error instanceof Error ? error.message : String(error), { cause: error });
}
