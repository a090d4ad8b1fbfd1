/**
 * Tradovate's WebSocket protocol (reference §6) over the `ws` package, which does the WebSocket framing:
 * this module only reads Tradovate's text frames — `o` open, `h` server heartbeat, `a[…]` messages,
 * `c[code,reason]` closed — and writes its requests, `<endpoint>\n<id>\n<query>\n<body>`. On `o` it sends
 * `authorize` (request id 0); requests get incrementing ids and are matched to their `{s, i, d}`
 * answer; events (`{e, d}`) go to a listener; and a client heartbeat `[]` goes out every `heartbeatMs`
 * (at most 2.5 s) for as long as the socket is open, or the server drops the connection.
 */
import { EventEmitter } from "node:events";
import { TimeoutError } from "@nq/core";
import WebSocket from "ws";
import { abortedError } from "./abort.js";
import { SOURCE_NAME } from "./config.js";

export type Frame = { type: "o" } | { type: "h" } | { type: "a"; messages: unknown[] } | { type: "c"; code: number | null; reason: string } | { type: "unknown"; text: string };

/** Reads one frame as the tutorial does: `type = frame[0]`, the rest JSON. */
export function parseFrame(text: string): Frame {
  const type = text[0];
  const rest = text.slice(1);
  const json = (): unknown => {
    if (rest.trim() === "") return [];
    try {
      return JSON.parse(rest) as unknown;
    } catch {
      return undefined;
    }
  };
  if (type === "o") return { type: "o" };
  if (type === "h") return { type: "h" };
  if (type === "a") {
    const payload = json();
    return Array.isArray(payload) ? { type: "a", messages: payload } : { type: "unknown", text };
  }
  if (type === "c") {
    const payload = json();
    const [code, reason] = Array.isArray(payload) ? payload : [];
    return { type: "c", code: typeof code === "number" ? code : null, reason: typeof reason === "string" ? reason : "" };
  }
  return { type: "unknown", text };
}

/** Writes one request: endpoint, id, query and body on four lines. A string body is sent as it is. */
export function formatRequest(endpoint: string, id: number, body: unknown, query = ""): string {
  return `${endpoint}\n${id}\n${query}\n${body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body)}`;
}

export interface SocketResponse {
  s: number;
  i: number;
  d?: unknown;
}

/** The socket closed (or dropped) before the answer came; the collector reconnects. */
export class ConnectionLost extends Error {
  constructor(
    readonly code: number | null,
    readonly reason: string,
  ) {
    super(`the market-data connection closed${code === null ? "" : ` (code ${code}${reason ? `: ${reason}` : ""})`}`);
    this.name = "ConnectionLost";
  }
}

/** What the connection needs of a socket: `ws`'s WebSocket, or a fake in tests. */
export interface SocketLike extends EventEmitter {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

export interface MdConnectionOptions {
  heartbeatMs: number;
  requestTimeoutMs: number;
  /** Opens the socket; default `new WebSocket(url)` from `ws`. */
  createSocket?: (url: string) => SocketLike;
}

interface Pending {
  resolve: (response: SocketResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class MdConnection {
  /** Client heartbeats sent on this connection. */
  heartbeats = 0;
  private socket: SocketLike | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private heartbeat: NodeJS.Timeout | null = null;
  private closedWith: ConnectionLost | null = null;
  private readonly events = new EventEmitter();
  private closing = false;

  constructor(
    private readonly url: string,
    private readonly options: MdConnectionOptions,
  ) {}

  /** Connects, waits for `o`, sends `authorize` with the token and waits for its 200. */
  async open(authorizeBody: string, signal: AbortSignal): Promise<SocketResponse> {
    const socket = this.options.createSocket ? this.options.createSocket(this.url) : (new WebSocket(this.url, { handshakeTimeout: this.options.requestTimeoutMs }) as unknown as SocketLike);
    this.socket = socket;
    const opened = new Promise<void>((resolve, reject) => {
      this.events.once("o", resolve);
      this.events.once("lost", reject);
    });
    opened.catch(() => {});
    socket.on("message", (data: Buffer | string) => this.onFrame(typeof data === "string" ? data : data.toString("utf8")));
    socket.on("close", (code: number, reason: Buffer | string) => this.lost(new ConnectionLost(code, String(reason ?? ""))));
    socket.on("error", (error: Error) => this.lost(new ConnectionLost(null, error.message)));
    await this.within(opened, signal, "the market-data socket did not open");
    const answer = await this.requestWithId("authorize", 0, authorizeBody, signal);
    return answer;
  }

  /** Sends a request and resolves with its answer (any status). */
  request(endpoint: string, body: unknown, signal: AbortSignal, timeoutMs?: number): Promise<SocketResponse> {
    return this.requestWithId(endpoint, this.nextId++, body, signal, timeoutMs);
  }

  onEvent(listener: (event: { e: string; d: unknown }) => void): void {
    this.events.on("event", listener);
  }

  /** Resolves (never rejects) when the connection is lost or closed. */
  get lostPromise(): Promise<ConnectionLost> {
    if (this.closedWith) return Promise.resolve(this.closedWith);
    return new Promise((resolve) => this.events.once("lost", resolve));
  }

  get isOpen(): boolean {
    return this.socket !== null && this.closedWith === null;
  }

  /** Closes the socket: politely, then for good after a moment. Safe twice. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    const socket = this.socket;
    this.lost(new ConnectionLost(1000, "closed by the client"));
    if (!socket) return;
    try {
      socket.close(1000, "done");
    } catch {
      // not open yet: terminate below
    }
    const timer = setTimeout(() => socket.terminate(), 1000);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    if (!this.options.createSocket && (socket as unknown as WebSocket).readyState === WebSocket.CONNECTING) socket.terminate();
  }

  private requestWithId(endpoint: string, id: number, body: unknown, signal: AbortSignal, timeoutMs = this.options.requestTimeoutMs): Promise<SocketResponse> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<SocketResponse>((resolve, reject) => {
      const onAbort = () => {
        this.settle(id);
        reject(abortedError(signal.reason));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      const done = (fn: () => void) => {
        signal.removeEventListener("abort", onAbort);
        fn();
      };
      const timer = setTimeout(() => {
        this.pending.delete(id);
        done(() => reject(new TimeoutError(SOURCE_NAME, `${endpoint}: no answer on the market-data socket within ${timeoutMs} ms; try again`, { timeoutMs })));
      }, timeoutMs);
      this.pending.set(id, { resolve: (r) => done(() => resolve(r)), reject: (e) => done(() => reject(e)), timer });
      this.socket!.send(formatRequest(endpoint, id, body));
    });
  }

  private settle(id: number): void {
    const pending = this.pending.get(id);
    if (pending) clearTimeout(pending.timer);
    this.pending.delete(id);
  }

  private onFrame(text: string): void {
    const frame = parseFrame(text);
    if (frame.type === "o") {
      this.startHeartbeat();
      this.events.emit("o");
    } else if (frame.type === "c") {
      this.lost(new ConnectionLost(frame.code, frame.reason));
    } else if (frame.type === "a") {
      for (const message of frame.messages) {
        if (typeof message !== "object" || message === null) continue;
        const m = message as Record<string, unknown>;
        if (typeof m.i === "number" && typeof m.s === "number") {
          const pending = this.pending.get(m.i);
          if (pending) {
            this.settle(m.i);
            pending.resolve(m as unknown as SocketResponse);
          }
        } else if (typeof m.e === "string") {
          this.events.emit("event", m);
        }
      }
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      if (!this.closedWith && this.socket) {
        this.socket.send("[]");
        this.heartbeats += 1;
      }
    }, this.options.heartbeatMs);
    this.heartbeat.unref?.();
  }

  private lost(error: ConnectionLost): void {
    if (this.closedWith) return;
    this.closedWith = error;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    for (const [id, pending] of [...this.pending]) {
      this.settle(id);
      pending.reject(error);
    }
    this.events.emit("lost", error);
  }

  private async within<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const guard = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(SOURCE_NAME, `${what} within ${this.options.requestTimeoutMs} ms; check md_url and the connection`, { timeoutMs: this.options.requestTimeoutMs })), this.options.requestTimeoutMs);
      onAbort = () => reject(abortedError(signal.reason));
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([work, guard]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }
}
