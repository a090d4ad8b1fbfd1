/**
 * @nq/source-tradovate — CME NQ options quotes from Tradovate's REST + WebSocket API (demo by default).
 *
 * A load: log in (or reuse / renew the shared session), find the option contracts and their underlying
 * futures through the REST lookups, subscribe a quote for each over the market-data socket, collect one
 * quote per contract within `collect_timeout_ms`, unsubscribe, and return one row per option carrying
 * its future's price. The registry is the one retry layer: a load called again on the same instance
 * reuses the session, the contracts already discovered and the quotes already received.
 */
import {
  AuthError,
  type ChainRequest,
  canonicalRequest,
  defineSource,
  InvalidRequestError,
  type LoadOptions,
  type ProgressUpdate,
  type Source,
  type SourceContext,
  type SourceResult,
  TimeoutError,
} from "@nq/core";
import { setMaxListeners } from "node:events";
import { throwIfAborted } from "./abort.js";
import { AuthManager, type Session } from "./auth.js";
import { collectQuotes, type Target } from "./collect.js";
import { cacheIdentity, configSchema, mdUrlOf, type ResolvedConfig, resolveCredentials, restUrlOf, SOURCE_NAME } from "./config.js";
import { type Discovery, discover } from "./discovery.js";
import { optionRow, type QuoteState, underlyingPriceOf } from "./quotes.js";
import { HttpStatusError, RestClient, unauthorized } from "./rest.js";
import { MdConnection, type SocketLike } from "./socket.js";

export { configSchema, DEFAULT_OPTION_NAME_PATTERN, ENVIRONMENTS, resolveCredentials, stableDeviceId, type TradovateConfig } from "./config.js";
export { formatRequest, parseFrame, type Frame, MdConnection, ConnectionLost } from "./socket.js";
export { mergeQuote, underlyingPriceOf, type QuoteState } from "./quotes.js";
export { resetSessions } from "./auth.js";

export const capabilities = {
  chain: true,
  quotes: true,
  // Unverified whether option quotes carry OpenInterest / SettlementPrice entries (reference §9.4).
  openInterest: true,
  settlement: true,
  volume: true,
  greeks: false,
  impliedVolatility: false,
  streaming: false,
  needsCredentials: true,
  costsMoney: false,
  delayed: false,
};

/** Options for tests and embedding: the environment credentials fall back to, a socket factory. */
export interface TradovateSourceHooks {
  env?: NodeJS.ProcessEnv;
  createSocket?: (url: string) => SocketLike;
  onConnection?: (connection: MdConnection) => void;
}

export class TradovateSource implements Source {
  readonly auth: AuthManager;
  private readonly rest: RestClient;
  private readonly discoveries = new Map<string, Discovery>();
  /** Quotes received by a load that failed, kept for the registry's retry; cleared after a success. */
  private readonly states = new Map<number, QuoteState>();
  private readonly connections = new Set<MdConnection>();
  private closed = false;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly context: SourceContext,
    private readonly hooks: TradovateSourceHooks = {},
  ) {
    const credentials = resolveCredentials(config, hooks.env ?? process.env);
    const baseUrl = restUrlOf(config);
    this.rest = new RestClient({ baseUrl, timeoutMs: config.request_timeout_ms });
    this.auth = new AuthManager(this.rest, credentials, baseUrl, {
      renewBeforeMs: config.renew_before_ms,
      maxPenaltyWaitMs: config.max_penalty_wait_ms,
      log: context.log,
    });
  }

  async load(request: ChainRequest, options: LoadOptions): Promise<SourceResult> {
    throwIfAborted(options.signal);
    // One listener on the caller's signal; the many pending socket requests listen to this one.
    const inner = new AbortController();
    setMaxListeners(0, inner.signal);
    const follow = () => inner.abort(options.signal.reason);
    options.signal.addEventListener("abort", follow, { once: true });
    try {
      return await this.loadWith(request, inner.signal);
    } finally {
      options.signal.removeEventListener("abort", follow);
    }
  }

  private async loadWith(request: ChainRequest, signal: AbortSignal): Promise<SourceResult> {
    if (this.closed) throw new InvalidRequestError(SOURCE_NAME, "the source was closed; create a new one");
    const now = this.context.now();
    if (request.asOf !== undefined && now.getTime() - Date.parse(request.asOf) > this.config.max_as_of_age_ms) {
      throw new InvalidRequestError(SOURCE_NAME, `Tradovate gives live quotes only, and the request asks for ${request.asOf}; use a historical source (Databento, saved chains) for a past time`);
    }
    const progress = (update: ProgressUpdate) => this.context.progress?.(update);
    progress({ stage: "login" });
    await this.auth.session(signal);

    const key = canonicalRequest(request);
    let discovery = this.discoveries.get(key);
    if (!discovery) {
      discovery = await discover((path, query) => this.get(path, query, signal), this.config, request, now, signal, progress);
      this.discoveries.set(key, discovery);
    } else {
      this.context.log.debug(`reusing the ${discovery.options.length} option contracts already discovered`);
    }

    const targets: Target[] = [...discovery.futures.map((f) => ({ id: f.id, name: f.name })), ...discovery.options.map((o) => ({ id: o.id, name: o.name }))];
    const resumed = targets.filter((t) => this.states.has(t.id)).length;
    if (resumed > 0) this.context.log.info(`resuming: ${resumed} of ${targets.length} contracts already quoted in the previous try`);
    const outcome = await collectQuotes({
      targets,
      states: this.states,
      connect: (s) => this.connect(s),
      config: this.config,
      signal,
      log: this.context.log,
      progress,
      ...(this.hooks.onConnection ? { onConnection: this.hooks.onConnection } : {}),
    });

    const quotedOptions = discovery.options.filter((o) => this.states.has(o.id)).length;
    if (quotedOptions === 0) {
      const refused = discovery.options.filter((o) => outcome.refused.has(o.id)).length;
      throw new TimeoutError(
        SOURCE_NAME,
        `no option quote arrived within ${this.config.collect_timeout_ms} ms (${discovery.options.length} subscribed${refused ? `, ${refused} refused` : ""}); the account may lack a real-time CME options subscription, or the market is closed`,
        { timeoutMs: this.config.collect_timeout_ms },
      );
    }
    const prices = new Map(discovery.futures.map((f) => [f.id, underlyingPriceOf(this.states.get(f.id))]));
    const rows = discovery.options.map((o) => optionRow(o, this.states.get(o.id), o.future ? (prices.get(o.future.id) ?? null) : null, this.config.future_product));

    const incompleteReasons: string[] = [];
    const silent = discovery.options.filter((o) => !this.states.has(o.id) && !outcome.refused.has(o.id)).length;
    if (silent > 0) incompleteReasons.push(`${silent} of ${discovery.options.length} option contracts sent no quote within ${this.config.collect_timeout_ms} ms`);
    const refused = discovery.options.filter((o) => outcome.refused.has(o.id));
    if (refused.length > 0) incompleteReasons.push(`${refused.length} quote subscriptions were refused (${outcome.refused.get(refused[0]!.id)})`);
    const warnings = [...discovery.warnings];
    const unpriced = discovery.futures.filter((f) => !prices.get(f.id)).map((f) => f.name);
    if (unpriced.length) warnings.push(`no price for the underlying future(s) ${unpriced.join(", ")}: their options have no underlyingPrice`);
    if (outcome.reconnects > 0) {
      warnings.push(`the market-data connection dropped ${outcome.reconnects} time(s) and was resumed (gaps: ${outcome.gaps.map((g) => `${g.at} for ${g.ms} ms`).join(", ")})`);
    }
    const front = discovery.futures.map((f) => ({ f, p: prices.get(f.id) })).find((x) => x.p);
    this.states.clear();
    return {
      rows,
      asOf: this.context.now(),
      delayed: false,
      sample: this.config.sample,
      underlying: front?.f.name ?? null,
      underlyingPrice: front?.p?.price ?? null,
      complete: incompleteReasons.length === 0,
      incompleteReasons,
      warnings,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.connections) connection.close();
    this.connections.clear();
  }

  /** An authenticated GET: a 401 renews (or redoes) the login once, then the call is sent again. */
  private async get<T>(path: string, query: Record<string, string | number>, signal: AbortSignal): Promise<T | null> {
    let session: Session = await this.auth.session(signal);
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.rest.get<T>(path, query, session.accessToken, signal);
      } catch (error) {
        if (!(error instanceof HttpStatusError && error.status === 401)) throw error;
        if (attempt > 0) throw unauthorized(`GET ${path}`);
        this.context.log.info(`GET ${path}: the access token was refused (expired?); renewing it`);
        session = await this.auth.refresh(session, signal);
      }
    }
  }

  /** Opens a market-data connection authorized with the md token (else the access token), renewing once if refused. */
  private async connect(signal: AbortSignal): Promise<MdConnection> {
    let session = await this.auth.session(signal);
    const statuses: number[] = [];
    for (let round = 0; round < 2; round += 1) {
      const tokens = this.config.md_token === "md" ? [session.mdAccessToken, session.accessToken] : [session.accessToken];
      for (const token of [...new Set(tokens.filter((t): t is string => Boolean(t)))]) {
        const connection = new MdConnection(mdUrlOf(this.config), {
          heartbeatMs: this.config.heartbeat_ms,
          requestTimeoutMs: this.config.request_timeout_ms,
          ...(this.hooks.createSocket ? { createSocket: this.hooks.createSocket } : {}),
        });
        this.connections.add(connection);
        void connection.lostPromise.then(() => this.connections.delete(connection));
        try {
          const body = this.config.authorize_format === "json" ? JSON.stringify(token) : token;
          const answer = await connection.open(body, signal);
          if (answer.s === 200) return connection;
          statuses.push(answer.s);
        } catch (error) {
          connection.close();
          throw error;
        }
        connection.close();
      }
      if (round === 0) {
        this.context.log.info(`the market-data socket refused the token (s=${statuses.join(", ")}); renewing it`);
        session = await this.auth.refresh(session, signal);
      }
    }
    throw new AuthError(SOURCE_NAME, `the market-data socket refused authorization (s=${statuses.join(", ")}) even with a renewed token; check md_url, md_token and the account's market-data access`);
  }
}

export const tradovate = defineSource({
  name: SOURCE_NAME,
  description: "CME NQ options quotes over Tradovate's REST + WebSocket API (demo by default); needs a Tradovate account with API access and CME market data.",
  capabilities,
  configSchema,
  cacheIdentity,
  create: (config, context) => new TradovateSource(config, context),
});

export default tradovate;
