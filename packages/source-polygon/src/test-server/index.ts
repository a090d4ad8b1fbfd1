/**
 * @nq/source-polygon/test-server — a local server that speaks Polygon.io/Massive's options chain snapshot
 * as the OpenAPI spec (`GetOptionsChain`) and the reference describe it:
 *
 * - `GET /v3/snapshot/options/{underlyingAsset}` for `I:NDX` and `QQQ` (generated data, see
 *   chain-generator.ts; any other ticker answers an empty `results`), with the spec's filters
 *   (`strike_price`, `expiration_date` and their `.gte/.gt/.lte/.lt` forms, `contract_type`), `sort`,
 *   `order` and `limit` (1–250, default 10);
 * - pagination by `next_url`: a full URL with an opaque `cursor` that carries the query on, without the key;
 * - auth by `apiKey` in the query (the spec's scheme) or `Authorization: Bearer` (the Python client's);
 *   401 `{"status":"ERROR","error":"Unknown API Key"}` for a key it does not know;
 * - a plan without options (`plan: "basic"`): 403 `{"status":"NOT_AUTHORIZED","message":"You are not
 *   entitled to this data…"}`; `"starter"` serves `DELAYED` data, `"advanced"` `REAL-TIME`;
 * - an optional per-key rate limit (429 with the provider's body, no Retry-After, as reported);
 * - faults, switched with `setFault`: 401, 403, 429 (with or without Retry-After), 500, 503, a hang (the
 *   request is never answered), malformed JSON, a 500 whose body echoes the request URL (key included),
 *   and a `next_url` that loops back to the same cursor — each for every request, or one page only.
 *
 * It listens on 127.0.0.1 only. Not market data.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { generateChain, SERVED_UNDERLYINGS, type SnapshotResult } from "./chain-generator.js";

export { generateChain, occTicker, SERVED_UNDERLYINGS, type GeneratorOptions, type SnapshotResult } from "./chain-generator.js";

export type PolygonServerFault = (
  | { kind: "401" }
  | { kind: "403" }
  /** 429 with `Retry-After: <seconds>` when given (null or absent: no header). */
  | { kind: "429"; retryAfterSeconds?: number | null }
  | { kind: "500" }
  | { kind: "503" }
  /** The request is read and never answered (the socket stays open until the client or close() ends it). */
  | { kind: "hang" }
  /** 200 with a body cut off in the middle of the JSON. */
  | { kind: "malformed" }
  /** 500 whose error message echoes the request URL, apiKey and all (as some proxies do). */
  | { kind: "echo-url" }
  /** A normal page whose `next_url` points at the same cursor again (polygon-io/issues#289). */
  | { kind: "loop" }
) & {
  /** Only requests for this page (1-based); default: every request. */
  page?: number;
  /** How many matching requests it affects before clearing itself; default: until replaced. */
  times?: number;
};

export interface LocalPolygonServerOptions {
  /** Accepted keys; default: any non-empty key. */
  apiKeys?: string[];
  /** "starter" (15-minute delayed, the default), "advanced" (real time), "basic" (free: no options snapshot). */
  plan?: "starter" | "advanced" | "basic";
  /** The snapshot's moment (default: the time the server starts). */
  now?: Date;
  /** Generated chain's shape (expirations, strikes, level). */
  dailyExpirations?: number;
  monthlyExpirations?: number;
  strikesEachSide?: number;
  level?: number;
  /** Requests per key before 429 within `windowMs`; off by default. */
  rateLimit?: { requests: number; windowMs: number };
  /** The origin `next_url` names (default: this server's own); real ones name https://api.polygon.io. */
  nextUrlOrigin?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The query as sent, with the key's value replaced by "***". */
  query: Record<string, string>;
  /** Where the key came in. */
  auth: "query" | "header" | "none";
  /** 1-based page number (from the cursor), 0 for a request the server could not place. */
  page: number;
  status: number;
  at: number;
}

export interface LocalPolygonServer {
  url: string;
  requests: RecordedRequest[];
  setFault(fault: PolygonServerFault | null): void;
  /** The full generated chain of an underlying, as served (for expected values). */
  chain(underlying?: string): SnapshotResult[];
  close(): Promise<void>;
}

interface Cursor {
  underlying: string;
  params: Record<string, string>;
  offset: number;
  page: number;
}

const FILTER_OPS = ["gte", "gt", "lte", "lt"] as const;

export async function startLocalPolygonServer(options: LocalPolygonServerOptions = {}): Promise<LocalPolygonServer> {
  const now = options.now ?? new Date();
  const plan = options.plan ?? "starter";
  const timeframe = plan === "advanced" ? "REAL-TIME" : "DELAYED";
  const chains = new Map<string, SnapshotResult[]>();
  const chainOf = (underlying: string): SnapshotResult[] => {
    let chain = chains.get(underlying);
    if (!chain) {
      chain = generateChain(underlying, {
        now,
        timeframe,
        ...(options.level !== undefined ? { level: options.level } : {}),
        ...(options.dailyExpirations !== undefined ? { dailyExpirations: options.dailyExpirations } : {}),
        ...(options.monthlyExpirations !== undefined ? { monthlyExpirations: options.monthlyExpirations } : {}),
        ...(options.strikesEachSide !== undefined ? { strikesEachSide: options.strikesEachSide } : {}),
      });
      chains.set(underlying, chain);
    }
    return chain;
  };
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const rateWindows = new Map<string, number[]>();
  let fault: (PolygonServerFault & { remaining: number }) | null = null;
  let origin = "";

  const takeFault = (page: number): PolygonServerFault | null => {
    if (!fault || (fault.page !== undefined && fault.page !== page)) return null;
    const taken = fault;
    if (--fault.remaining <= 0) fault = null;
    return taken;
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      if (!res.headersSent) send(res, 500, { status: "ERROR", request_id: randomUUID(), error: `local server failure: ${(error as Error).message}` });
      else res.destroy();
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const queryKey = url.searchParams.get("apiKey");
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? null;
    const key = queryKey ?? bearer;
    const shownQuery = Object.fromEntries([...url.searchParams].map(([name, value]) => [name, name === "apiKey" ? "***" : value]));
    const entry: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: shownQuery,
      auth: queryKey ? "query" : bearer ? "header" : "none",
      page: 0,
      status: 0,
      at: Date.now(),
    };
    requests.push(entry);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      send(res, status, body, headers);
    };
    const error = (status: number, message: string, headers: Record<string, string> = {}) =>
      reply(status, { status: "ERROR", request_id: randomUUID(), error: message }, headers);

    if (req.method !== "GET") return error(405, `method ${req.method} not allowed`);
    const match = /^\/v3\/snapshot\/options\/([^/]+)$/.exec(url.pathname);
    if (!match) return error(404, `no such path ${url.pathname}; this server serves /v3/snapshot/options/{underlyingAsset}`);
    const underlying = decodeURIComponent(match[1]!);

    // Which page: from the cursor (which carries the whole query on), else the first.
    let cursor: Cursor;
    const cursorText = url.searchParams.get("cursor");
    if (cursorText !== null) {
      try {
        cursor = JSON.parse(Buffer.from(cursorText, "base64url").toString("utf8")) as Cursor;
        if (cursor.underlying !== underlying || typeof cursor.offset !== "number") throw new Error("mismatch");
      } catch {
        return error(400, "invalid cursor");
      }
    } else {
      const params = Object.fromEntries([...url.searchParams].filter(([name]) => name !== "apiKey"));
      cursor = { underlying, params, offset: 0, page: 1 };
    }
    entry.page = cursor.page;

    const injected = takeFault(cursor.page);
    if (injected) {
      switch (injected.kind) {
        case "401":
          return error(401, "Unknown API Key");
        case "403":
          return reply(403, { status: "NOT_AUTHORIZED", request_id: randomUUID(), message: "You are not entitled to this data. Please upgrade your plan at https://polygon.io/pricing" });
        case "429": {
          const headers: Record<string, string> = injected.retryAfterSeconds != null ? { "retry-after": String(injected.retryAfterSeconds) } : {};
          return error(429, "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue.", headers);
        }
        case "500":
          return error(500, "Internal server error");
        case "503":
          return error(503, "Service temporarily unavailable");
        case "echo-url":
          return error(500, `upstream failure while serving https://api.polygon.io${req.url}`);
        case "hang":
          entry.status = -1;
          return; // never answered
        case "malformed":
          entry.status = 200;
          res.writeHead(200, { "content-type": "application/json" });
          res.end('{"status":"OK","request_id":"x","results":[{"break_even_price":1');
          return;
        case "loop":
          break; // served below, with a next_url back to itself
      }
    }

    if (!key) return error(401, "API Key was not provided");
    if (options.apiKeys ? !options.apiKeys.includes(key) : key.trim() === "") return error(401, "Unknown API Key");
    if (options.rateLimit) {
      const at = Date.now();
      // Only answered requests count (a refused one does not use up the allowance).
      const sent = (rateWindows.get(key) ?? []).filter((t) => t > at - options.rateLimit!.windowMs);
      rateWindows.set(key, sent);
      if (sent.length >= options.rateLimit.requests) {
        return error(429, "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue.");
      }
      sent.push(at);
    }
    if (plan === "basic") {
      return reply(403, { status: "NOT_AUTHORIZED", request_id: randomUUID(), message: "You are not entitled to this data. Please upgrade your plan at https://polygon.io/pricing" });
    }

    const params = cursor.params;
    const limit = params.limit === undefined ? 10 : Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) return error(400, "limit must be an integer between 1 and 250");
    const sort = params.sort ?? "ticker";
    if (!["ticker", "expiration_date", "strike_price"].includes(sort)) return error(400, `invalid sort field ${sort}`);
    const order = params.order ?? "asc";
    if (order !== "asc" && order !== "desc") return error(400, `invalid order ${order}`);
    const type = params.contract_type;
    if (type !== undefined && type !== "call" && type !== "put") return error(400, `invalid contract_type ${type}`);

    const selected = (SERVED_UNDERLYINGS.includes(underlying) ? chainOf(underlying) : [])
      .filter((r) => type === undefined || r.details.contract_type === type)
      .filter((r) => passes(r.details.strike_price, "strike_price", params, Number))
      .filter((r) => passes(r.details.expiration_date, "expiration_date", params, String));
    const keyOf = (r: SnapshotResult): string | number =>
      sort === "ticker" ? r.details.ticker : sort === "strike_price" ? r.details.strike_price : r.details.expiration_date;
    const sorted = [...selected].sort((a, b) => {
      const ka = keyOf(a);
      const kb = keyOf(b);
      const primary = ka < kb ? -1 : ka > kb ? 1 : 0;
      const tie = a.details.ticker < b.details.ticker ? -1 : a.details.ticker > b.details.ticker ? 1 : 0;
      return (order === "asc" ? primary : -primary) || tie;
    });
    const results = sorted.slice(cursor.offset, cursor.offset + limit);
    const body: Record<string, unknown> = { status: "OK", request_id: randomUUID(), results };
    const nextOffset = cursor.offset + limit;
    if (injected?.kind === "loop") {
      body.next_url = `${options.nextUrlOrigin ?? origin}${url.pathname}?cursor=${encodeCursor(cursor)}`;
    } else if (nextOffset < sorted.length) {
      body.next_url = `${options.nextUrlOrigin ?? origin}${url.pathname}?cursor=${encodeCursor({ underlying, params, offset: nextOffset, page: cursor.page + 1 })}`;
    }
    return reply(200, body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    requests,
    setFault(next) {
      fault = next ? { ...next, remaining: next.times ?? Infinity } : null;
    },
    chain: (underlying = "I:NDX") => chainOf(underlying),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

/** The spec's filter forms: `field=value` and `field.gte/.gt/.lte/.lt=value`. */
function passes<T extends number | string>(value: T, field: string, params: Record<string, string>, parse: (text: string) => T): boolean {
  const exact = params[field];
  if (exact !== undefined && value !== parse(exact)) return false;
  for (const op of FILTER_OPS) {
    const bound = params[`${field}.${op}`];
    if (bound === undefined) continue;
    const b = parse(bound);
    if (op === "gte" && !(value >= b)) return false;
    if (op === "gt" && !(value > b)) return false;
    if (op === "lte" && !(value <= b)) return false;
    if (op === "lt" && !(value < b)) return false;
  }
  return true;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
