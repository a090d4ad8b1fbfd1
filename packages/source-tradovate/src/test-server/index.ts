/**
 * @nq/source-tradovate/test-server — a local server that speaks Tradovate's API as the reference and the
 * spec (`tradovate_swagger.yaml`) describe it, on 127.0.0.1 only:
 *
 * REST under `/v1`: `POST /auth/accesstokenrequest` (AccessTokenRequest → AccessTokenResponse with
 * `mdAccessToken`; a wrong password is HTTP 200 with `errorText`; time penalties `p-ticket` / `p-time` /
 * `p-captcha`, cleared only by the same body with the ticket after p-time), `GET /auth/renewaccesstoken`
 * (extends the session, issues a new accessToken and omits `mdAccessToken`), bearer auth (401 with an
 * empty body when the token is unknown or its session expired), and the contract library lookups
 * `/product/find|item|suggest`, `/contractMaturity/deps|item`, `/contract/find|item|deps|suggest`.
 *
 * WebSocket at `/v1/websocket`: `o` on open, `h` server heartbeats, `a[…]` messages, requests as
 * `endpoint\nid\nquery\nbody`; `authorize` (id 0, raw or JSON-quoted token), `md/subscribeQuote` and
 * `md/unsubscribeQuote` (case-insensitive, symbol by name or id), quote events
 * `{"e":"md","d":{"quotes":[…]}}` batched per tick, and a client that sends no heartbeat (`[]`) for
 * `clientHeartbeatTimeoutMs` is dropped, as Tradovate does.
 *
 * Faults (`setFaults`): login penalties, REST 429s, hung REST paths, a hung `authorize`, subscriptions
 * that never quote, a connection dropped after N quotes, penalties and 429s on subscriptions, refused
 * subscriptions; `expireSessions()` ends every session server-side. Everything received is recorded
 * (`requests`, `connections` with their messages, heartbeat times and subscriptions).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { generateMarket, type Market, type QuoteEntries, type ServerContract } from "./market.js";

export type { Market, QuoteEntries, ServerContract } from "./market.js";

export interface ServerUser {
  name: string;
  password: string;
  /** When set, the login must carry this cid and sec. */
  cid?: string | number;
  sec?: string;
}

export interface LocalTradovateServerOptions {
  /** Default: one user, `nq-test` / `nq-test-password` with cid 1234 and sec `nq-test-secret`. */
  users?: ServerUser[];
  /** The market's "now" (expirations are after it); default the real time at start. */
  today?: Date | string;
  futures?: number;
  quarterlies?: number;
  weeklies?: number;
  strikesEachSide?: number;
  strikeStep?: number;
  omitUnderlyingId?: boolean;
  /** How long a session lives without renewal (default 90 minutes). */
  tokenLifetimeMs?: number;
  /** Which token `authorize` accepts on the socket (default "md"). */
  mdAuth?: "md" | "access" | "either";
  /** Server heartbeat `h` interval (default 2500). */
  serverHeartbeatMs?: number;
  /** Drop a connection silent (no frame from the client) for longer than this; null: never (default 5000). */
  clientHeartbeatTimeoutMs?: number | null;
  /** Delay before a subscription's first quote (default 5 ms). */
  quoteDelayMs?: number;
  /** Send each quote in two events: Bid/Offer first, the rest `splitDelayMs` later. */
  splitQuotes?: boolean;
  splitDelayMs?: number;
  /** Contract names that never quote. */
  silentContracts?: string[];
  /** Delay of every REST lookup (not auth), ms. */
  restDelayMs?: number;
}

export interface Faults {
  loginPenalty?: { pTime: number; captcha?: boolean; times: number };
  rest429?: { paths?: string[]; times: number };
  /** REST paths (e.g. "/contract/deps") that never answer; all when paths is absent. */
  hangRest?: { paths?: string[] };
  /** The socket opens (`o`) but `authorize` is never answered. */
  hangAuthorize?: boolean;
  /** Subscriptions are answered but no quote is ever sent. */
  hangQuotes?: boolean;
  /** Terminate the connection once it has sent this many quotes; `times` connections. */
  dropAfterQuotes?: { count: number; times: number };
  wsPenalty?: { pTime: number; times: number };
  ws429?: { times: number };
  refuseSubscriptions?: { status: number; message?: string };
  /** The session expires server-side after this many authenticated REST lookups. */
  expireAfterLookups?: { count: number };
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  auth: string | null;
  at: number;
  status: number;
}

export interface SocketMessage {
  endpoint: string;
  id: number;
  query: string;
  body: string;
  at: number;
}

export interface ConnectionRecord {
  id: number;
  openedAt: number;
  closedAt: number | null;
  authorized: boolean;
  messages: SocketMessage[];
  /** When each client heartbeat `[]` arrived. */
  heartbeats: number[];
  subscribed: string[];
  unsubscribed: string[];
  quotesSent: number;
  droppedBy: "fault" | "silence" | null;
}

export interface LocalTradovateServer {
  /** REST base, `http://127.0.0.1:<port>/v1`. */
  url: string;
  /** Market-data WebSocket, `ws://127.0.0.1:<port>/v1/websocket`. */
  mdUrl: string;
  market: Market;
  requests: RequestRecord[];
  connections: ConnectionRecord[];
  faults: Faults;
  setFaults(faults: Faults): void;
  /** Ends every session server-side: their tokens get 401, renewal included. */
  expireSessions(): void;
  /** Connections still open. */
  openConnections(): number;
  /** Counts of what was asked: logins, renewals, ticketed logins. */
  stats: { logins: number; renewals: number; ticketedLogins: number; penalties: number };
  close(): Promise<void>;
}

export const DEFAULT_USER: Required<ServerUser> = { name: "nq-test", password: "nq-test-password", cid: 1234, sec: "nq-test-secret" };

interface ServerSession {
  user: string;
  expiresAt: number;
  md: string;
}

export async function startLocalTradovateServer(options: LocalTradovateServerOptions = {}): Promise<LocalTradovateServer> {
  const users = options.users ?? [DEFAULT_USER];
  const today = options.today === undefined ? new Date() : new Date(options.today);
  const market = generateMarket({
    today,
    futures: options.futures ?? 3,
    quarterlies: options.quarterlies ?? 2,
    weeklies: options.weeklies ?? 2,
    strikesEachSide: options.strikesEachSide ?? 5,
    strikeStep: options.strikeStep ?? 100,
    omitUnderlyingId: options.omitUnderlyingId ?? false,
  });
  const lifetime = options.tokenLifetimeMs ?? 90 * 60_000;
  const tokens = new Map<string, ServerSession>();
  const mdTokens = new Map<string, ServerSession>();
  const tickets = new Map<string, number>();
  const requests: RequestRecord[] = [];
  const connections: ConnectionRecord[] = [];
  const stats = { logins: 0, renewals: 0, ticketedLogins: 0, penalties: 0 };
  let faults: Faults = {};
  let lookups = 0;
  const byId = new Map(market.contracts.map((c) => [c.id, c]));
  const byName = new Map(market.contracts.map((c) => [c.name, c]));
  const silent = new Set(options.silentContracts ?? []);
  const sockets = new Set<Socket>();

  const token = () => randomBytes(24).toString("base64url");
  const sessionOf = (auth: string | null | undefined): ServerSession | null => {
    const match = /^Bearer (.+)$/.exec(auth ?? "");
    const session = match ? tokens.get(match[1]!) : undefined;
    return session && session.expiresAt > Date.now() ? session : null;
  };
  const tokenResponse = (session: ServerSession, accessToken: string, withMd: boolean) => ({
    accessToken,
    ...(withMd ? { mdAccessToken: session.md } : {}),
    expirationTime: new Date(session.expiresAt).toISOString(),
    passwordExpirationTime: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    userStatus: "Active",
    userId: 4242,
    name: session.user,
    hasLive: false,
  });

  const http = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  http.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.replace(/^\/v1/, "");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const record: RequestRecord = { method: req.method ?? "GET", path, query: Object.fromEntries(url.searchParams), body, auth: req.headers.authorization ?? null, at: Date.now(), status: 0 };
    requests.push(record);
    const send = (status: number, json?: unknown) => {
      record.status = status;
      if (json === undefined) res.writeHead(status, { "content-length": "0" }).end();
      else res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    };
    if (faults.hangRest && (!faults.hangRest.paths || faults.hangRest.paths.includes(path))) return; // never answers
    const r429 = faults.rest429;
    if (r429 && r429.times > 0 && (!r429.paths || r429.paths.includes(path))) {
      r429.times -= 1;
      return send(429);
    }

    if (path === "/auth/accesstokenrequest" && req.method === "POST") return login(body as Record<string, unknown> | null, send);
    if (path === "/auth/renewaccesstoken") {
      stats.renewals += 1;
      const session = sessionOf(req.headers.authorization);
      if (!session) return send(401);
      session.expiresAt = Date.now() + lifetime;
      const fresh = token();
      tokens.set(fresh, session);
      return send(200, tokenResponse(session, fresh, false));
    }
    const session = sessionOf(req.headers.authorization);
    if (!session) return send(401);
    if (options.restDelayMs) await new Promise((resolve) => setTimeout(resolve, options.restDelayMs));
    lookups += 1;
    if (faults.expireAfterLookups && lookups >= faults.expireAfterLookups.count) {
      faults.expireAfterLookups = undefined;
      session.expiresAt = 0;
    }
    const q = (name: string) => url.searchParams.get(name) ?? "";
    const id = () => Number(q("id"));
    const masterid = () => Number(q("masterid"));
    const found = (value: unknown) => (value === undefined || value === null ? send(404) : send(200, value));
    switch (path) {
      case "/product/find":
        return found(market.products.find((p) => p.name === q("name")));
      case "/product/item":
        return found(market.products.find((p) => p.id === id()));
      case "/product/suggest": {
        const t = q("t").toLowerCase();
        return send(200, market.products.filter((p) => p.name.toLowerCase().includes(t) || p.description.toLowerCase().includes(t)).slice(0, Number(q("l")) || 10));
      }
      case "/contractMaturity/deps":
        return send(200, market.maturities.filter((m) => m.productId === masterid()));
      case "/contractMaturity/item":
        return found(market.maturities.find((m) => m.id === id()));
      case "/contract/deps":
        return send(200, market.contracts.filter((c) => c.contractMaturityId === masterid()));
      case "/contract/find":
        return found(byName.get(q("name")));
      case "/contract/item":
        return found(byId.get(id()));
      case "/contract/suggest": {
        const t = q("t").toLowerCase();
        return send(200, market.contracts.filter((c) => c.name.toLowerCase().startsWith(t)).slice(0, Number(q("l")) || 10));
      }
      default:
        return send(404);
    }
  }

  function login(body: Record<string, unknown> | null, send: (status: number, json?: unknown) => void): void {
    stats.logins += 1;
    if (!body || typeof body.name !== "string" || typeof body.password !== "string") return send(200, { errorText: "name and password are required" });
    const ticket = typeof body["p-ticket"] === "string" ? body["p-ticket"] : null;
    if (ticket) stats.ticketedLogins += 1;
    const penalty = faults.loginPenalty;
    const ticketOk = ticket !== null && tickets.has(ticket) && Date.now() >= tickets.get(ticket)!;
    if (ticketOk) tickets.delete(ticket!);
    if (penalty && !ticketOk && (penalty.times > 0 || ticket !== null)) {
      if (penalty.times > 0) penalty.times -= 1;
      stats.penalties += 1;
      const fresh = token();
      tickets.set(fresh, Date.now() + penalty.pTime * 1000);
      return send(200, { "p-ticket": fresh, "p-time": penalty.pTime, "p-captcha": penalty.captcha ?? false });
    }
    const user = users.find((u) => u.name === body.name);
    if (!user || user.password !== body.password) return send(200, { errorText: "Incorrect username or password. Please try again." });
    if (user.cid !== undefined && (String(body.cid) !== String(user.cid) || body.sec !== user.sec)) {
      return send(200, { errorText: "The app is not registered or the API key is not valid" });
    }
    const session: ServerSession = { user: user.name, expiresAt: Date.now() + lifetime, md: token() };
    const access = token();
    tokens.set(access, session);
    mdTokens.set(session.md, session);
    send(200, tokenResponse(session, access, true));
  }

  // ---- the market-data WebSocket ----
  const wss = new WebSocketServer({ noServer: true });
  http.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://127.0.0.1").pathname !== "/v1/websocket") return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });
  const live = new Set<WebSocket>();

  function onConnection(ws: WebSocket): void {
    live.add(ws);
    const record: ConnectionRecord = { id: connections.length + 1, openedAt: Date.now(), closedAt: null, authorized: false, messages: [], heartbeats: [], subscribed: [], unsubscribed: [], quotesSent: 0, droppedBy: null };
    connections.push(record);
    let lastClientFrame = Date.now();
    let outbox: unknown[] = [];
    let flushTimer: NodeJS.Timeout | null = null;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    const subscriptions = new Set<number>();
    const drop = faults.dropAfterQuotes && faults.dropAfterQuotes.times > 0 ? faults.dropAfterQuotes : null;
    if (drop) drop.times -= 1;
    const sendFrame = (frame: string, then?: () => void) => {
      if (ws.readyState === ws.OPEN) ws.send(frame, then);
    };
    const reply = (message: unknown) => sendFrame(`a${JSON.stringify([message])}`);
    const flush = () => {
      flushTimer = null;
      if (record.droppedBy) return;
      const quotes = outbox;
      outbox = [];
      for (let i = 0; i < quotes.length; ) {
        if (ws.readyState !== ws.OPEN) return;
        const size = drop ? Math.min(20, drop.count - record.quotesSent) : 20;
        const batch = quotes.slice(i, i + size);
        i += size;
        record.quotesSent += batch.length;
        if (drop && record.quotesSent >= drop.count) {
          // Dropped abruptly, once the last quotes are on the wire (no close frame, as a network drop).
          record.droppedBy = "fault";
          sendFrame(`a${JSON.stringify([{ e: "md", d: { quotes: batch } }])}`, () => later(25, () => ws.terminate()));
          return;
        }
        sendFrame(`a${JSON.stringify([{ e: "md", d: { quotes: batch } }])}`);
      }
    };
    const queueQuote = (quote: unknown) => {
      outbox.push(quote);
      flushTimer ??= setTimeout(flush, 1);
    };
    const quoteOf = (contract: ServerContract, part: "all" | "book" | "rest"): unknown => {
      const entries = market.quotes.get(contract.id) ?? {};
      const { Bid, Offer, ...rest } = entries as QuoteEntries;
      const chosen = part === "all" ? entries : part === "book" ? { ...(Bid ? { Bid } : {}), ...(Offer ? { Offer } : {}) } : rest;
      return { timestamp: new Date().toISOString(), contractId: contract.id, entries: chosen };
    };

    const heartbeat = setInterval(() => sendFrame("h"), options.serverHeartbeatMs ?? 2500);
    const silenceLimit = options.clientHeartbeatTimeoutMs === undefined ? 5000 : options.clientHeartbeatTimeoutMs;
    const watchdog =
      silenceLimit === null
        ? null
        : setInterval(() => {
            if (Date.now() - lastClientFrame > silenceLimit) {
              record.droppedBy = "silence";
              ws.terminate();
            }
          }, Math.max(5, Math.min(250, silenceLimit / 4)));

    ws.on("close", () => {
      record.closedAt = Date.now();
      live.delete(ws);
      clearInterval(heartbeat);
      if (watchdog) clearInterval(watchdog);
      if (flushTimer) clearTimeout(flushTimer);
      for (const t of timers) clearTimeout(t);
    });
    ws.on("message", (data) => {
      lastClientFrame = Date.now();
      const text = Buffer.isBuffer(data) ? data.toString("utf8") : String(data);
      if (text === "[]") {
        record.heartbeats.push(Date.now());
        return;
      }
      const [endpoint = "", idText = "", query = "", ...bodyLines] = text.split("\n");
      const body = bodyLines.join("\n");
      const id = Number(idText);
      record.messages.push({ endpoint, id, query, body, at: Date.now() });
      const name = endpoint.toLowerCase();
      if (name === "authorize") {
        if (faults.hangAuthorize) return;
        const given = body.startsWith('"') ? (JSON.parse(body) as string) : body;
        const mdSession = mdTokens.get(given);
        const accessSession = tokens.get(given);
        const mode = options.mdAuth ?? "md";
        const session = mode === "md" ? mdSession : mode === "access" ? accessSession : (mdSession ?? accessSession);
        if (!session || session.expiresAt <= Date.now()) return reply({ s: 401, i: id, d: "Access is denied" });
        record.authorized = true;
        return reply({ s: 200, i: id });
      }
      if (!record.authorized) return reply({ s: 401, i: id, d: "Not authorized" });
      let parsed: Record<string, unknown>;
      try {
        parsed = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      } catch {
        return reply({ s: 400, i: id, d: "Invalid JSON" });
      }
      const symbol = parsed.symbol;
      const contract = typeof symbol === "number" ? byId.get(symbol) : typeof symbol === "string" ? (byName.get(symbol) ?? byId.get(Number(symbol))) : undefined;
      if (name === "md/subscribequote") {
        if (faults.ws429 && faults.ws429.times > 0) {
          faults.ws429.times -= 1;
          return reply({ s: 429, i: id });
        }
        const penalty = faults.wsPenalty;
        const ticket = typeof parsed["p-ticket"] === "string" ? parsed["p-ticket"] : null;
        const ticketOk = ticket !== null && tickets.has(ticket) && Date.now() >= tickets.get(ticket)!;
        if (ticketOk) tickets.delete(ticket!);
        if (penalty && penalty.times > 0 && !ticketOk) {
          penalty.times -= 1;
          stats.penalties += 1;
          const fresh = token();
          tickets.set(fresh, Date.now() + penalty.pTime * 1000);
          return reply({ s: 200, i: id, d: { "p-ticket": fresh, "p-time": penalty.pTime, "p-captcha": false } });
        }
        if (faults.refuseSubscriptions) return reply({ s: faults.refuseSubscriptions.status, i: id, d: faults.refuseSubscriptions.message ?? "Refused" });
        if (!contract) return reply({ s: 404, i: id, d: `Unknown symbol ${String(symbol)}` });
        record.subscribed.push(contract.name);
        subscriptions.add(contract.id);
        reply({ s: 200, i: id, d: {} });
        if (faults.hangQuotes || silent.has(contract.name)) return;
        if (options.splitQuotes) {
          later(options.quoteDelayMs ?? 5, () => subscriptions.has(contract.id) && queueQuote(quoteOf(contract, "book")));
          later((options.quoteDelayMs ?? 5) + (options.splitDelayMs ?? 20), () => subscriptions.has(contract.id) && queueQuote(quoteOf(contract, "rest")));
        } else {
          later(options.quoteDelayMs ?? 5, () => subscriptions.has(contract.id) && queueQuote(quoteOf(contract, "all")));
        }
        return;
      }
      if (name === "md/unsubscribequote") {
        if (contract) {
          subscriptions.delete(contract.id);
          record.unsubscribed.push(contract.name);
        }
        return reply({ s: 200, i: id, d: {} });
      }
      return reply({ s: 404, i: id, d: `Unknown endpoint ${endpoint}` });
    });
    sendFrame("o");
  }

  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    mdUrl: `ws://127.0.0.1:${port}/v1/websocket`,
    market,
    requests,
    connections,
    get faults() {
      return faults;
    },
    setFaults(next: Faults) {
      faults = next;
    },
    expireSessions() {
      for (const session of tokens.values()) session.expiresAt = 0;
    },
    openConnections: () => live.size,
    stats,
    async close() {
      for (const ws of live) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
