/**
 * `check` for Barchart: what the source needs and whether it works now. In live mode: a Chromium found
 * and its version, the options page reachable, the session cookie and XSRF token set, and no block or
 * bot challenge — in the browser (`probe: "browser"`, what a load does) or with one plain HTTP request
 * (`probe: "http"`, fast; the real site may challenge it where a browser would pass), which also sends
 * one quotes request the way the page does. In saved mode: the capture a replay would use.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import type { CheckItem, CheckResult } from "@nq/core";
import { barchartConfigSchema, type BarchartConfig, type BarchartConfigInput } from "./config.js";
import { launchBrowser, locateBrowser, type LocatedBrowser } from "./browser.js";
import { parseSeriesPage } from "./page-parser.js";
import { planCrawl, quotesUrl } from "./query.js";
import { classifyPageAnswer, classifyQuotesAnswer, looksLikeChallenge } from "./response-classifier.js";
import { readCapture } from "./saved-captures.js";

export interface BarchartCheckOptions {
  signal?: AbortSignal;
  baseDir?: string;
  /** "browser" (default when a browser is found): load the page in Chromium; "http": one plain request. */
  probe?: "browser" | "http";
  product?: string;
  now?: Date;
}

const SESSION_COOKIES = ["laravel_session", "XSRF-TOKEN"];
const BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

export async function checkBarchart(input: BarchartConfigInput | BarchartConfig, options: BarchartCheckOptions = {}): Promise<CheckResult> {
  const items: CheckItem[] = [];
  const result = (): CheckResult => ({ source: "barchart", ready: items.every((i) => i.status !== "fail"), items });
  const parsed = barchartConfigSchema.safeParse(input);
  if (!parsed.success) {
    items.push({ name: "config", status: "fail", detail: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
    return result();
  }
  const config = parsed.data;
  const signal = options.signal ?? new AbortController().signal;

  if (config.mode === "saved") {
    const dir = options.baseDir ? resolve(options.baseDir, config.saved_dir!) : config.saved_dir!;
    try {
      const read = await readCapture(dir);
      items.push({
        name: "saved capture",
        status: read.status === "complete" ? "ok" : "warn",
        detail: `${read.status} capture ${read.folder}, fetched ${read.capture.fetchedAt} (${read.capture.series.length} series)`,
        data: { folder: read.folder, fetchedAt: read.capture.fetchedAt, status: read.status },
      });
    } catch (error) {
      items.push({ name: "saved capture", status: "fail", detail: messageOf(error) });
    }
    return result();
  }

  let located: LocatedBrowser | null = null;
  try {
    located = await locateBrowser({ executablePath: config.executable_path ?? null });
    const version = await browserVersion(located.path);
    items.push({ name: "browser", status: "ok", detail: `${version ?? "version unknown"} at ${located.path} (found via ${located.how})`, data: { path: located.path, version } });
  } catch (error) {
    items.push({ name: "browser", status: options.probe === "http" ? "warn" : "fail", detail: messageOf(error) });
  }
  const probe = options.probe ?? (located ? "browser" : "http");
  if (probe === "browser" && !located) return result();

  const plan = planCrawl({ product: options.product ?? "NQ" }, config, options.now ?? new Date());
  const timeoutMs = Math.min(config.timeout_ms, 30_000);
  const page = probe === "browser" ? await probeInBrowser(located!, plan.startUrl, config, timeoutMs) : await probeOverHttp(plan.startUrl, plan.baseUrl, timeoutMs, signal);
  items.push(...page);
  return result();
}

/** `chromium --version` → "Chromium 126.0.6478.126"; null when it does not say within 10 s. */
function browserVersion(path: string): Promise<string | null> {
  return new Promise((done) => {
    execFile(path, ["--version"], { timeout: 10_000 }, (error, stdout) => done(error ? null : stdout.trim().split("\n")[0] || null));
  });
}

async function probeOverHttp(url: string, baseUrl: string, timeoutMs: number, signal: AbortSignal): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  let response: Response;
  try {
    response = await fetch(url, { headers: { "user-agent": BROWSER_UA, accept: "text/html", "accept-language": "en-US,en;q=0.9" }, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
  } catch (error) {
    items.push({ name: "page reachable", status: "fail", detail: `${url}: ${messageOf(error)}` });
    return items;
  }
  const html = await response.text();
  items.push({ name: "page reachable", status: response.status < 500 ? "ok" : "fail", detail: `${url} answered HTTP ${response.status} (plain HTTP probe)` });
  const problem = classifyPageAnswer({ url, status: response.status, contentType: response.headers.get("content-type"), retryAfter: response.headers.get("retry-after"), body: html });
  items.push(problem ? { name: "not blocked", status: "fail", detail: problem.message.replace(/^barchart: /, "") } : { name: "not blocked", status: "ok", detail: "no block page or bot challenge" });
  const cookies = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const at = pair!.indexOf("=");
    if (at > 0) cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1).trim());
  }
  items.push(cookieItem([...cookies.keys()]));
  if (problem || !cookies.has("XSRF-TOKEN")) return items;
  // One quotes request, as the page sends it: its cookies, and the XSRF token decoded into the header.
  const seriesPage = parseSeriesPage(html);
  const code = seriesPage.apiConfig?.symbol ?? seriesPage.seriesCode;
  if (!code) {
    items.push({ name: "quotes endpoint", status: "warn", detail: "the page names no series to ask for" });
    return items;
  }
  const quotes = quotesUrl(baseUrl, seriesPage.apiConfig, code);
  let token = cookies.get("XSRF-TOKEN")!;
  for (let i = 0; i < 3; i++) {
    const decoded = safeDecode(token);
    if (decoded === token) break;
    token = decoded;
  }
  try {
    const answer = await fetch(quotes, {
      headers: { "user-agent": BROWSER_UA, accept: "application/json", "x-xsrf-token": token, cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    const body = await answer.text();
    const classified = classifyQuotesAnswer({ url: quotes, status: answer.status, contentType: answer.headers.get("content-type"), retryAfter: answer.headers.get("retry-after"), body });
    items.push(
      "error" in classified
        ? { name: "quotes endpoint", status: "fail", detail: classified.error.message.replace(/^barchart: /, "") }
        : { name: "quotes endpoint", status: "ok", detail: `series ${code}: HTTP ${answer.status}, JSON accepted with the session's XSRF token` },
    );
  } catch (error) {
    items.push({ name: "quotes endpoint", status: "fail", detail: messageOf(error) });
  }
  return items;
}

async function probeInBrowser(located: LocatedBrowser, url: string, config: BarchartConfig, timeoutMs: number): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  let launched: Awaited<ReturnType<typeof launchBrowser>>;
  try {
    launched = await launchBrowser({ executablePath: located.path, headless: config.headless, timeoutMs: Math.max(timeoutMs, 30_000) });
  } catch (error) {
    items.push({ name: "browser starts", status: "fail", detail: messageOf(error) });
    return items;
  }
  try {
    const page = await launched.browser.newPage();
    const userAgent = (await launched.browser.userAgent()).replace(/HeadlessChrome/g, "Chrome");
    await page.setUserAgent({ userAgent });
    let status = 0;
    let html = "";
    try {
      const response = await page.goto(url, { waitUntil: "domcontentloaded", timeout: timeoutMs });
      status = response?.status() ?? 200;
      html = await page.content();
      items.push({ name: "page reachable", status: status < 500 ? "ok" : "fail", detail: `${url} answered HTTP ${status} in Chromium` });
    } catch (error) {
      items.push({ name: "page reachable", status: "fail", detail: `${url}: ${messageOf(error)}` });
      return items;
    }
    const problem = classifyPageAnswer({ url, status, contentType: "text/html", retryAfter: null, body: html });
    items.push(
      problem
        ? { name: "not blocked", status: "fail", detail: problem.message.replace(/^barchart: /, "") }
        : looksLikeChallenge(html)
          ? { name: "not blocked", status: "warn", detail: "a bot challenge is showing (it may clear itself within challenge_wait_ms)" }
          : { name: "not blocked", status: "ok", detail: "no block page or bot challenge" },
    );
    const cookies = await page.cookies();
    items.push(cookieItem(cookies.map((c) => c.name)));
  } finally {
    await launched.close();
  }
  return items;
}

function cookieItem(names: string[]): CheckItem {
  const missing = SESSION_COOKIES.filter((n) => !names.includes(n));
  return missing.length === 0
    ? { name: "session cookies and XSRF token", status: "ok", detail: `${SESSION_COOKIES.join(" and ")} set`, data: { cookies: names } }
    : { name: "session cookies and XSRF token", status: "fail", detail: `not set: ${missing.join(", ")} (the page did not start a session)`, data: { cookies: names } };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^barchart: /, "").split("\n")[0]!;
}
