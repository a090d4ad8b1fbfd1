/**
 * @nq/source-barchart/test-site — a local web site on 127.0.0.1 that behaves like Barchart's NQ options
 * pages, for tests (ours and the runner's). Its pages are rendered from the project's own template, set
 * the XSRF/session cookies, and list the series of a generated calendar; its quotes endpoint checks the
 * session cookie and the `X-XSRF-TOKEN` header, and answers with the real captured response for a series
 * that has one in the shared fixtures, or with generated data otherwise. Faults can be switched on to
 * play a blocked, rate-limited, slow or broken Barchart. Every request is logged.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { emptyQuotesResponse, generateQuotesResponse } from "./chain-generator.js";
import { renderBlockPage, renderChallengePage, renderSeriesPage } from "./page-template.js";
import { buildSeriesCalendar, parseDay, type SiteSeries } from "./series-calendar.js";

/**
 * block: 403 block page. challenge: a bot-challenge page that never clears. challenge-once: a challenge
 * whose script sets a clearance cookie and reloads, as a JavaScript challenge does in a real browser.
 */
export type SiteFaultKind = "block" | "challenge" | "challenge-once" | "rate-limit" | "slow" | "malformed-json" | "empty-chain" | "server-error";

export interface SiteFault {
  kind: SiteFaultKind;
  /** Which requests it hits; default: pages and quotes for block/challenge/rate-limit/slow/server-error, quotes only otherwise. */
  on?: "page" | "quotes" | "all";
  /** For "slow": how long each answer waits (default 5000 ms). */
  delayMs?: number;
  /** For "rate-limit": the Retry-After header, in seconds (default 30). */
  retryAfterSeconds?: number;
  /** Only requests for this series (the quotes request's symbol, or the page's series code). */
  symbol?: string;
  /** Only this many requests; then the fault clears itself. */
  times?: number;
}

export interface SiteRequest {
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  kind: "page" | "quotes" | "other";
  status: number;
  /** The X-XSRF-TOKEN header matched the session's token. */
  xsrfValid: boolean;
  hadSessionCookie: boolean;
  userAgent: string | null;
  /** Lower-case names of the request's headers (to check what a client sends). */
  headerNames: string[];
  fault: SiteFaultKind | null;
}

export interface LocalBarchartSiteOptions {
  /** The site's "today", YYYY-MM-DD (America/Chicago); default: the real date. */
  today?: string;
  /** The site's clock for trade times; default: noon Chicago of `today`, or now when `today` is absent. */
  now?: Date;
  /** Expiries listed per weekly type (default 2). */
  weeksPerType?: number;
  /** The front future's price (default 21745, as on the captured page). */
  underlyingPrice?: number;
  /** Folder of real captured quotes responses (`quotes_<CODE>_*.json`); default: the shared fixtures when present. Null: generated data only. */
  fixturesDir?: string | null;
  /** A fault active from the start. */
  fault?: SiteFault | SiteFaultKind | null;
}

export interface LocalBarchartSite {
  /** The base URL, e.g. http://127.0.0.1:54321 — use it as the source's base_url. */
  url: string;
  /** Every request, in order. */
  requests: SiteRequest[];
  /** The series the site lists. */
  series: SiteSeries[];
  /** Each future's price, as its series pages show it: the front future at `underlyingPrice`, each later one 60 points higher. */
  prices: Record<string, number>;
  setFault(fault: SiteFault | SiteFaultKind | null): void;
  close(): Promise<void>;
}

export type { SiteSeries } from "./series-calendar.js";

const SESSION_COOKIE = "laravel_session";
const XSRF_COOKIE = "XSRF-TOKEN";
const CLEARANCE_COOKIE = "cf_clearance";

export async function startLocalBarchartSite(options: LocalBarchartSiteOptions = {}): Promise<LocalBarchartSite> {
  const today = options.today ?? chicagoToday(new Date());
  parseDay(today); // fail early on a bad date
  const clock = options.now ?? (options.today ? new Date(`${today}T18:00:00Z`) : new Date());
  const underlyingPrice = options.underlyingPrice ?? 21745;
  const series = buildSeriesCalendar({ today, weeksPerType: options.weeksPerType ?? 2 });
  // Each future has a price of its own (contango: later quarters higher), so a chain whose series hang
  // off two futures shows two different underlying prices.
  const futures = [...new Set(series.map((s) => s.future))].sort((a, b) => futureOrder(a) - futureOrder(b));
  const prices: Record<string, number> = Object.fromEntries(futures.map((future, index) => [future, underlyingPrice + 60 * index]));
  const fixtures = loadFixtures(options.fixturesDir === undefined ? defaultFixturesDir() : options.fixturesDir);
  const sessions = new Map<string, string>(); // session id → XSRF token
  const requests: SiteRequest[] = [];
  let fault: SiteFault | null = toFault(options.fault ?? null);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`internal error: ${(error as Error).message}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = decodeURIComponent(url.pathname);
    const cookies = parseCookies(req.headers.cookie);
    const session = cookies[SESSION_COOKIE];
    const token = session ? sessions.get(session) : undefined;
    const header = req.headers["x-xsrf-token"];
    const kind: SiteRequest["kind"] = path.startsWith("/futures/quotes/") ? "page" : path.startsWith("/proxies/core-api/") ? "quotes" : "other";
    const symbolOf = kind === "quotes" ? url.searchParams.get("symbol") : /\/options(?:\/([^/]+))?\/?$/.exec(path)?.[1] ?? /\/futures\/quotes\/([^/]+)\//.exec(path)?.[1];
    const active = fault && appliesTo(fault, kind) && (fault.symbol === undefined || fault.symbol === symbolOf) ? fault : null;
    if (active?.times !== undefined) {
      active.times -= 1;
      if (active.times <= 0) fault = null;
    }
    const entry: SiteRequest = {
      at: new Date().toISOString(),
      method: req.method ?? "GET",
      path,
      query: Object.fromEntries(url.searchParams),
      kind,
      status: 0,
      xsrfValid: token !== undefined && header === token,
      hadSessionCookie: token !== undefined,
      userAgent: req.headers["user-agent"] ?? null,
      headerNames: Object.keys(req.headers),
      fault: active?.kind ?? null,
    };
    requests.push(entry);
    const send = (status: number, type: string, body: string, headers: Record<string, string | string[]> = {}) => {
      entry.status = status;
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...headers });
      res.end(body);
    };

    if (active?.kind === "slow") await new Promise((r) => setTimeout(r, active.delayMs ?? 5000));
    if (active?.kind === "block") return send(403, "text/html; charset=UTF-8", renderBlockPage());
    if (active?.kind === "challenge") return send(403, "text/html; charset=UTF-8", renderChallengePage());
    if (active?.kind === "challenge-once" && kind === "page" && cookies[CLEARANCE_COOKIE] === undefined) {
      return send(403, "text/html; charset=UTF-8", renderChallengePage({ clearsWithCookie: CLEARANCE_COOKIE }));
    }
    if (active?.kind === "rate-limit") {
      return send(429, "application/json", JSON.stringify({ error: "Too Many Requests" }), { "retry-after": String(active.retryAfterSeconds ?? 30) });
    }
    if (active?.kind === "server-error") return send(503, "text/html", "<html><body>503 Service Temporarily Unavailable</body></html>");

    if (kind === "page") {
      const match = /^\/futures\/quotes\/([^/]+)\/options(?:\/([^/]+))?\/?$/.exec(path);
      const found = match ? findSeries(match[1]!, match[2]) : null;
      if (!found) return send(404, "text/html", "<html><head><title>Page Not Found - Barchart.com</title></head><body>Not found</body></html>");
      const id = session && sessions.has(session) ? session : randomBytes(20).toString("hex");
      // Laravel-style: the token is base64 (with + / =), stored percent-encoded in a cookie the page can read.
      const xsrf = sessions.get(id) ?? `${randomBytes(30).toString("base64")}==`;
      sessions.set(id, xsrf);
      const days = Math.max(0, Math.round((parseDay(found.expiration).getTime() - parseDay(today).getTime()) / 86_400_000));
      return send(
        200,
        "text/html; charset=UTF-8",
        renderSeriesPage({ series: found, all: series, underlyingPrice: prices[found.future]!, daysToExpiration: days, productName: "Nasdaq 100 E-Mini" }),
        {
          "set-cookie": [
            `${XSRF_COOKIE}=${encodeURIComponent(xsrf)}; Path=/; SameSite=Lax`,
            `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`,
            `laravel_token=${randomBytes(16).toString("hex")}; Path=/; HttpOnly; SameSite=Lax`,
            "market=eyJyZWdpb24iOiJ1cyJ9; Path=/; SameSite=Lax",
          ],
        },
      );
    }

    if (kind === "quotes") {
      if (path !== "/proxies/core-api/v1/quotes/get") return send(404, "application/json", JSON.stringify({ error: "Not Found" }));
      if (!entry.hadSessionCookie || !entry.xsrfValid) return send(419, "application/json", JSON.stringify({ message: "CSRF token mismatch." }));
      const symbol = url.searchParams.get("symbol") ?? "";
      if (url.searchParams.get("list") !== "futures.options") {
        return send(400, "application/json", JSON.stringify({ error: "list must be futures.options for futures option chains" }));
      }
      const found = series.find((s) => s.code === symbol);
      const fixture = fixtures.get(symbol);
      const meta = fixtures.values().next().value?.meta;
      let body: string;
      if (active?.kind === "empty-chain" || (!found && !fixture)) {
        body = JSON.stringify(emptyQuotesResponse(meta));
      } else if (fixture && url.searchParams.get("raw") === "1") {
        body = fixture.text; // the real captured response, byte for byte
      } else {
        const price = prices[found!.future]!;
        body = JSON.stringify(generateQuotesResponse({ series: found!, underlyingPrice: price, now: clock, raw: url.searchParams.get("raw") === "1", meta }));
      }
      if (active?.kind === "malformed-json") body = body.slice(0, Math.max(1, Math.floor(body.length / 2)));
      return send(200, "application/json", body);
    }
    return send(404, "text/plain", "not found");
  }

  function findSeries(future: string, code: string | undefined): SiteSeries | null {
    if (code) return series.find((s) => s.code === code && s.future === future) ?? null;
    // "NQ*0" is Barchart's front-month alias.
    const resolved = /^\w+\*0$/.test(future) ? series.find((s) => s.kind === "monthly")?.future : future;
    return series.find((s) => s.kind === "monthly" && s.future === resolved) ?? null;
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    series,
    prices,
    setFault(next) {
      fault = toFault(next);
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

/** "NQZ26" → a number that orders futures by expiry (year, then month letter). */
function futureOrder(code: string): number {
  const match = /([FGHJKMNQUVXZ])(\d{1,2})$/.exec(code);
  return match ? Number(match[2]) * 12 + "FGHJKMNQUVXZ".indexOf(match[1]!) : Number.MAX_SAFE_INTEGER;
}

function toFault(fault: SiteFault | SiteFaultKind | null): SiteFault | null {
  if (fault === null) return null;
  return typeof fault === "string" ? { kind: fault } : { ...fault };
}

function appliesTo(fault: SiteFault, kind: SiteRequest["kind"]): boolean {
  if (kind === "other") return false;
  const on = fault.on ?? (fault.kind === "malformed-json" || fault.kind === "empty-chain" ? "quotes" : fault.kind === "challenge-once" ? "page" : "all");
  return on === "all" || on === kind;
}

interface Fixture {
  text: string;
  meta: unknown;
}

function loadFixtures(dir: string | null): Map<string, Fixture> {
  const fixtures = new Map<string, Fixture>();
  if (!dir || !existsSync(dir)) return fixtures;
  for (const name of readdirSync(dir)) {
    const match = /^quotes_([A-Z0-9]+)_.*\.json$/.exec(name);
    if (!match) continue;
    const text = readFileSync(join(dir, name), "utf8");
    let meta: unknown;
    try {
      meta = (JSON.parse(text) as { meta?: unknown }).meta;
    } catch {
      continue;
    }
    fixtures.set(match[1]!, { text, meta });
  }
  return fixtures;
}

/** NQ_SHARED_DIR, else `<workspace root>/../shared`, found by walking up to pnpm-workspace.yaml. */
function defaultFixturesDir(): string | null {
  if (process.env.NQ_SHARED_DIR) return join(resolve(process.env.NQ_SHARED_DIR), "fixtures", "barchart");
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i += 1) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return join(dir, "..", "shared", "fixtures", "barchart");
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const index = part.indexOf("=");
    if (index > 0) out[part.slice(0, index).trim()] = part.slice(index + 1).trim();
  }
  return out;
}

const CHICAGO_DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Chicago", year: "numeric", month: "2-digit", day: "2-digit" });

function chicagoToday(now: Date): string {
  return CHICAGO_DAY.format(now);
}

