/**
 * A local Live Subscription Gateway for tests and benchmarks, written from the reference (§5, §4.8): the
 * greeting and CRAM challenge, the auth check and its failure reply, subscription lines (chunked, with
 * `is_last`) acknowledged by SystemMsg, intraday replay from `start`, then a DBN v3 stream (zstd when
 * asked) of the generated NQ market (market-events.ts / nq-chain-generator.ts through GeneratedDataset)
 * on a simulated clock, with SymbolMappingMsg per instrument, a "replay completed" SystemMsg (code 3) per
 * subscription with `start`, heartbeats (code 0) when nothing else was sent for heartbeat_interval_s, and
 * a slow-reader warning (code 2) when the client stops reading.
 *
 * Faults, each on one connection (1-based, default the first), after N records (counted from the end of
 * the replay with `afterReplay`): `drop` (socket destroyed, optionally in the middle of a record),
 * `stall` (nothing more, not even heartbeats), `error` (ErrorMsg
 * then close), `split-greeting` (the greeting in 3-byte pieces). A replay `start` older than 24 h of
 * simulated time, or a bad schema/stype, is answered with ErrorMsg code 5 and a close.
 *
 * `firehose` (benchmarks): after the replay, the session's records are sent again and again, as fast as
 * the client reads, until the client closes.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import {
  createMetadata,
  type DbnRecordV3,
  encodeMetadata,
  encodeRecords,
  RType,
  type SymbolMappingMsg,
  SType,
  type SystemMsg,
  UNDEF_TIMESTAMP,
  zstdCompress,
} from "@nq/dbn";
import { cramResponse, parseFields } from "../live/protocol.js";
import { sessionAtOrBefore } from "./chicago-time.js";
import { GeneratedDataset, SERVED_SCHEMAS, type ServedSchema } from "./generated-dataset.js";
import { header } from "./nq-chain-generator.js";

/** A made-up key of the right shape (db- + 29 characters) the gateway accepts by default. */
export const LOCAL_LIVE_API_KEY = "db-LocalLiveGatewayTestKey000042";
/** 10:00 Chicago on a Wednesday: mid-session, so a replay from the session's open has something to replay. */
export const DEFAULT_LIVE_NOW = "2026-03-11T15:00:00Z";

export type LiveGatewayFault =
  | { kind: "drop"; afterRecords: number; connection?: number; midRecord?: boolean; afterReplay?: boolean }
  | { kind: "stall"; afterRecords: number; connection?: number; afterReplay?: boolean }
  | { kind: "error"; afterRecords: number; code?: number; message?: string; connection?: number; afterReplay?: boolean }
  | { kind: "split-greeting"; connection?: number };

export interface LocalLiveGatewayOptions {
  /** Keys that pass the CRAM check. Default [LOCAL_LIVE_API_KEY]. */
  apiKeys?: string[];
  /** Size of the generated universe (default 200). */
  contracts?: number;
  /** The simulated time when the gateway starts. Default DEFAULT_LIVE_NOW. */
  now?: Date | string;
  /** Simulated ms per real ms (default 1). */
  speed?: number;
  /** Real ms between two live sends (default 20). */
  tickMs?: number;
  faults?: LiveGatewayFault[];
  /** A client whose socket stays full (the gateway waiting to write) this long is told it is slow. Default 250 ms. */
  slowReaderMs?: number;
  firehose?: boolean;
  host?: string;
  port?: number;
  lsgVersion?: string;
}

export interface GatewayConnectionLog {
  index: number;
  authenticated: boolean;
  authFields: Record<string, string>;
  /** Subscription lines exactly as received. */
  subscriptionLines: string[];
  /** Logical subscriptions (chunks joined up to is_last=1). */
  subscriptions: { schema: string; stypeIn: string; symbols: string[]; start: bigint | null }[];
  started: boolean;
  recordsSent: number;
  heartbeatsSent: number;
  slowReaderWarnings: number;
  closed: boolean;
  fault: LiveGatewayFault["kind"] | null;
}

export interface LocalLiveGateway {
  host: string;
  port: number;
  apiKey: string;
  connections: GatewayConnectionLog[];
  /** The simulated clock (ns). */
  simNowNs(): bigint;
  /** Destroys every open connection (a network cut). */
  dropAll(): void;
  close(): Promise<void>;
}

const NS_PER_MS = 1_000_000n;
const DAY_NS = 86_400_000_000_000n;
const HOUR_NS = 3_600_000_000_000n;
const SEND_CHUNK = 2000;

interface PendingSubscription {
  schema: string;
  stypeIn: string;
  symbols: string[];
  start: bigint | null;
}

export async function startLocalLiveGateway(options: LocalLiveGatewayOptions = {}): Promise<LocalLiveGateway> {
  const apiKeys = options.apiKeys ?? [LOCAL_LIVE_API_KEY];
  const dataset = new GeneratedDataset(options.contracts ?? 200);
  const startMs = new Date(options.now ?? DEFAULT_LIVE_NOW).getTime();
  const realStart = Date.now();
  const speed = options.speed ?? 1;
  const tickMs = options.tickMs ?? 20;
  const slowReaderMs = options.slowReaderMs ?? 250;
  const simNowNs = () => BigInt(Math.floor(startMs + (Date.now() - realStart) * speed)) * NS_PER_MS;
  const connections: GatewayConnectionLog[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let sessionCounter = 0;

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const log: GatewayConnectionLog = {
      index: connections.length + 1,
      authenticated: false,
      authFields: {},
      subscriptionLines: [],
      subscriptions: [],
      started: false,
      recordsSent: 0,
      heartbeatsSent: 0,
      slowReaderWarnings: 0,
      closed: false,
      fault: null,
    };
    connections.push(log);
    const faultsHere = (options.faults ?? []).filter((f) => (f.connection ?? 1) === log.index);
    const recordFault = faultsHere.find((f) => f.kind !== "split-greeting") as Exclude<LiveGatewayFault, { kind: "split-greeting" }> | undefined;
    const challenge = randomBytes(16).toString("hex");
    let compression = "none";
    let tsOut = false;
    let heartbeatMs = 30_000;
    let phase: "auth" | "subscribe" | "streaming" | "closed" = "auth";
    let pending: PendingSubscription | null = null;
    const subscriptions: PendingSubscription[] = [];
    let buffer = "";
    let stream: DbnRecordV3[] = [];
    let pointer = 0;
    let replayBoundary = 0;
    let replaysAnnounced = false;
    /** Records sent when the replay ended (faults with `afterReplay` count from there). */
    let sentAtReplayEnd = 0;
    let blocked = false;
    let stalled = false;
    let lastSentAt = Date.now();
    let warnedSlow = false;
    let firehoseBytes: Uint8Array | null = null;
    let tick: NodeJS.Timeout | null = null;

    const close = () => {
      if (phase === "closed") return;
      phase = "closed";
      log.closed = true;
      if (tick) {
        clearInterval(tick);
        timers.delete(tick);
      }
      socket.end();
      setTimeout(() => socket.destroy(), 200).unref();
    };
    socket.on("close", () => {
      sockets.delete(socket);
      log.closed = true;
      phase = "closed";
      if (tick) {
        clearInterval(tick);
        timers.delete(tick);
      }
    });
    socket.on("error", () => undefined);

    // ---- greeting ----
    const greeting = `lsg_version=${options.lsgVersion ?? "0.7.2"}\ncram=${challenge}\n`;
    if (faultsHere.some((f) => f.kind === "split-greeting")) {
      log.fault = "split-greeting";
      const pieces = greeting.match(/[\s\S]{1,3}/g) ?? [];
      let i = 0;
      const next = () => {
        if (i >= pieces.length || socket.destroyed) return;
        socket.write(pieces[i++]!);
        const t = setTimeout(next, 2);
        timers.add(t);
      };
      next();
    } else {
      socket.write(greeting);
    }

    // ---- text phase ----
    socket.on("data", (chunk: Buffer) => {
      if (phase === "closed") return;
      buffer += chunk.toString("utf8");
      if (buffer.length > 1024 * 1024) return close();
      for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
        const line = buffer.slice(0, at).replace(/\r$/, "");
        buffer = buffer.slice(at + 1);
        handleLine(line);
        if ((phase as string) === "closed") return;
      }
    });

    function handleLine(line: string): void {
      if (phase === "auth") {
        const fields = parseFields(line);
        const auth = fields.get("auth") ?? "";
        log.authFields = Object.fromEntries([...fields.entries()].filter(([k]) => k !== "auth"));
        const ok = apiKeys.some((key) => cramResponse(challenge, key) === auth);
        const problem = !ok
          ? "Authentication failed."
          : fields.get("dataset") !== "GLBX.MDP3"
            ? `Unknown dataset ${fields.get("dataset") ?? ""}.`
            : fields.get("encoding") !== "dbn"
              ? "Only encoding=dbn is supported."
              : !["none", "zstd", undefined].includes(fields.get("compression"))
                ? "Unknown compression."
                : null;
        if (problem) {
          socket.write(`success=0|error=${problem}\n`);
          close();
          return;
        }
        compression = fields.get("compression") ?? "none";
        tsOut = fields.get("ts_out") === "1";
        const hb = Number(fields.get("heartbeat_interval_s") ?? "30");
        heartbeatMs = Number.isFinite(hb) && hb > 0 ? hb * 1000 : 30_000;
        log.authenticated = true;
        sessionCounter += 1;
        socket.write(`success=1|session_id=${1_700_000_000 + sessionCounter}\n`);
        phase = "subscribe";
        return;
      }
      if (line === "start_session" || line.startsWith("start_session=")) {
        if (phase === "streaming") return;
        startStreaming();
        return;
      }
      if (!line.startsWith("schema=")) return;
      log.subscriptionLines.push(line);
      const fields = parseFields(line);
      const symbols = (fields.get("symbols") ?? "").split(",").filter(Boolean);
      const startText = fields.get("start");
      const start = startText === undefined ? null : BigInt(startText);
      if (!pending) pending = { schema: fields.get("schema") ?? "", stypeIn: fields.get("stype_in") ?? "raw_symbol", symbols: [], start };
      pending.symbols.push(...symbols);
      if (fields.get("is_last") !== "0") {
        const done = pending;
        pending = null;
        subscriptions.push(done);
        log.subscriptions.push({ ...done });
        if (phase === "streaming") addLive(done, subscriptions.length - 1);
      }
    }

    // ---- the DBN stream ----
    function write(bytes: Uint8Array): boolean {
      lastSentAt = Date.now();
      return socket.write(compression === "zstd" ? zstdCompress(bytes) : bytes);
    }

    function system(code: number, msg: string): SystemMsg {
      return { hd: header(RType.System, 0, simNowNs()), msg, code };
    }

    function invalid(subscription: PendingSubscription): string | null {
      if (!(SERVED_SCHEMAS as readonly string[]).includes(subscription.schema)) return `Invalid schema "${subscription.schema}".`;
      if (!["parent", "raw_symbol", "instrument_id"].includes(subscription.stypeIn)) return `Invalid stype_in "${subscription.stypeIn}".`;
      if (subscription.start !== null && subscription.start !== 0n && subscription.start < simNowNs() - DAY_NS) return "Replay start must be within the last 24 hours.";
      return null;
    }

    /** The subscription's records from its start (or now) to an hour after the session closes, and its mappings. */
    function recordsOf(subscription: PendingSubscription): { records: DbnRecordV3[]; mappings: SymbolMappingMsg[] } {
      const now = simNowNs();
      const start = subscription.start === null ? now : subscription.start === 0n ? now - DAY_NS + HOUR_NS : subscription.start;
      const end = sessionAtOrBefore(now).closeNs + HOUR_NS;
      const result = dataset.query({ schema: subscription.schema as ServedSchema, symbols: subscription.symbols, stypeIn: subscription.stypeIn, startNs: start, endNs: end, limit: null });
      const records = result.records.filter((r) => r.hd.ts_event >= start);
      const mappings: SymbolMappingMsg[] = [];
      for (const [raw, id] of result.resolution.rawSymbols) {
        const input = subscription.stypeIn === "raw_symbol" ? raw : ([...result.resolution.bySymbol].find(([, ids]) => ids.includes(id))?.[0] ?? raw);
        mappings.push({
          hd: header(RType.SymbolMapping, id, now),
          stype_in: subscription.stypeIn === "parent" ? SType.Parent : subscription.stypeIn === "instrument_id" ? SType.InstrumentId : SType.RawSymbol,
          stype_in_symbol: input,
          stype_out: SType.RawSymbol,
          stype_out_symbol: raw,
          start_ts: start,
          end_ts: UNDEF_TIMESTAMP,
        });
      }
      return { records, mappings };
    }

    function startStreaming(): void {
      phase = "streaming";
      log.started = true;
      const now = simNowNs();
      const metadata = createMetadata({ dataset: "GLBX.MDP3", schema: null, start: now, stype_in: null, stype_out: SType.InstrumentId, ts_out: tsOut });
      const head: DbnRecordV3[] = [];
      const all: DbnRecordV3[] = [];
      for (const [i, subscription] of subscriptions.entries()) {
        const problem = invalid(subscription);
        if (problem) {
          write(encodeMetadata(metadata));
          write(encodeRecords([{ hd: header(RType.Error, 0, now), err: problem, code: 5, is_last: 1 }]));
          close();
          return;
        }
        const { records, mappings } = recordsOf(subscription);
        head.push(system(1, `Subscription request ${i} for ${subscription.schema} data succeeded`), ...mappings);
        all.push(...records);
      }
      all.sort((a, b) => compare(recvOf(a), recvOf(b)));
      stream = all;
      replayBoundary = upperBound(stream, now);
      write(encodeMetadata(metadata));
      write(encodeRecords(head));
      if (options.firehose) firehoseBytes = encodeRecords(stream.slice(0, replayBoundary));
      tick = setInterval(pump, tickMs);
      timers.add(tick);
      pump();
    }

    function addLive(subscription: PendingSubscription, index: number): void {
      const problem = invalid(subscription);
      if (problem || subscription.start !== null) {
        write(encodeRecords([{ hd: header(RType.Error, 0, simNowNs()), err: problem ?? "start is not allowed after start_session.", code: 5, is_last: 1 }]));
        close();
        return;
      }
      const { records, mappings } = recordsOf(subscription);
      write(encodeRecords([system(1, `Subscription request ${index} for ${subscription.schema} data succeeded`), ...mappings]));
      const rest = [...stream.slice(pointer), ...records].sort((a, b) => compare(recvOf(a), recvOf(b)));
      stream = rest;
      replayBoundary = Math.max(0, replayBoundary - pointer);
      pointer = 0;
    }

    function pump(): void {
      if (phase !== "streaming" || stalled || blocked || socket.destroyed) return;
      const now = simNowNs();
      while (!blocked && phase === "streaming") {
        if (!replaysAnnounced && pointer >= replayBoundary) {
          replaysAnnounced = true;
          sentAtReplayEnd = log.recordsSent;
          const done = subscriptions.filter((s) => s.start !== null).map((s) => system(3, `Finished ${s.schema} replay`));
          if (done.length) sendRecords(done, false);
          continue;
        }
        if (firehoseBytes && replaysAnnounced) {
          if (!writeOrWait(firehoseBytes)) return;
          log.recordsSent += replayBoundary;
          continue;
        }
        let end = pointer;
        const limit = Math.min(stream.length, pointer + SEND_CHUNK);
        while (end < limit && recvOf(stream[end]!) <= now && (replaysAnnounced || end < replayBoundary)) end++;
        if (end === pointer) break;
        if (recordFault && (!recordFault.afterReplay || replaysAnnounced)) {
          const remaining = recordFault.afterRecords + (recordFault.afterReplay ? sentAtReplayEnd : 0) - log.recordsSent;
          if (remaining <= end - pointer) {
            const before = stream.slice(pointer, pointer + Math.max(0, remaining));
            if (before.length) sendRecords(before, true);
            pointer += before.length;
            applyFault(recordFault);
            return;
          }
        }
        sendRecords(stream.slice(pointer, end), true);
        pointer = end;
      }
      if (Date.now() - lastSentAt >= heartbeatMs && !blocked) {
        log.heartbeatsSent += 1;
        sendRecords([system(0, "Heartbeat")], false);
      }
    }

    function sendRecords(records: DbnRecordV3[], count: boolean): void {
      const out = tsOut ? records.map((r) => ({ ...r, ts_out: simNowNs() })) : records;
      if (count) log.recordsSent += records.length;
      writeOrWait(encodeRecords(out));
    }

    /** Writes; when the client is not reading, warns it once (SystemMsg code 2) and waits for 'drain'. */
    function writeOrWait(bytes: Uint8Array): boolean {
      if (write(bytes)) return true;
      blocked = true;
      const slow = setTimeout(() => {
        if (!blocked || warnedSlow || phase !== "streaming") return;
        warnedSlow = true;
        log.slowReaderWarnings += 1;
        write(encodeRecords([system(2, "Slow reader: the client is not keeping up with the stream")]));
      }, slowReaderMs);
      timers.add(slow);
      socket.once("drain", () => {
        clearTimeout(slow);
        timers.delete(slow);
        blocked = false;
        pump();
      });
      return false;
    }

    function applyFault(fault: Exclude<LiveGatewayFault, { kind: "split-greeting" }>): void {
      log.fault = fault.kind;
      if (fault.kind === "drop") {
        if (fault.midRecord && pointer < stream.length) {
          const bytes = encodeRecords([stream[pointer]!]);
          write(bytes.subarray(0, Math.max(1, bytes.length >> 1)));
        }
        // Let what was written reach the client, then cut the connection.
        const t = setTimeout(() => socket.destroy(), 20);
        timers.add(t);
        phase = "closed";
        if (tick) clearInterval(tick);
      } else if (fault.kind === "stall") {
        stalled = true;
      } else {
        write(encodeRecords([{ hd: header(RType.Error, 0, simNowNs()), err: fault.message ?? "Internal error, please reconnect.", code: fault.code ?? 6, is_last: 1 }]));
        close();
      }
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as { port: number; address: string };
  return {
    host: address.address,
    port: address.port,
    apiKey: apiKeys[0]!,
    connections,
    simNowNs,
    dropAll() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function recvOf(record: DbnRecordV3): bigint {
  return (record as { ts_recv?: bigint }).ts_recv ?? record.hd.ts_event;
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Index of the first record received after `ts`. */
function upperBound(records: DbnRecordV3[], ts: bigint): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (recvOf(records[mid]!) <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
