/**
 * Where fired alerts go: an `alerts.jsonl` log (one JSON object a line, appended), a webhook (one POST of
 * JSON per dispatch, bounded retries, and never longer than its timeout, so a dead receiver cannot hold a
 * run), and back to the caller for the summary and stderr. `dispatchAlerts` drops alerts whose key the
 * store has seen, then sends the rest to every sink; a sink that fails is reported, never thrown.
 */
import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Alert, AlertStore } from "./alerts.js";
import type { WebhookSettings } from "./config.js";

export interface WebhookResult {
  delivered: boolean;
  tries: number;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookOptions extends Partial<Omit<WebhookSettings, "url">> {
  url: string;
  /** Replaced in tests. */
  fetch?: typeof fetch;
}

/**
 * POSTs `body` as JSON. Retries a network error, a 5xx or a 429 (with a short doubling pause) while time
 * is left; every try and pause fits in `timeout_ms` together. Never throws.
 */
export async function postWebhook(options: WebhookOptions, body: unknown): Promise<WebhookResult> {
  const started = performance.now();
  const timeoutMs = options.timeout_ms ?? 3_000;
  const retries = options.retries ?? 2;
  const doFetch = options.fetch ?? fetch;
  const deadline = started + timeoutMs;
  const payload = JSON.stringify(body);
  let tries = 0;
  let status: number | null = null;
  let error: string | null = null;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    tries += 1;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${Math.round(left)} ms`)), left);
    try {
      const response = await doFetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "nq-ops-alerts/0.1", ...(options.headers ?? {}) },
        body: payload,
        signal: controller.signal,
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { delivered: true, tries, status, error: null, durationMs: Math.round(performance.now() - started) };
      error = `HTTP ${response.status}`;
      if (response.status < 500 && response.status !== 429) break;
    } catch (cause) {
      error = controller.signal.aborted ? `no answer within ${timeoutMs} ms (timeout_ms)` : describe(cause);
    } finally {
      clearTimeout(timer);
    }
    const pause = Math.min(100 * 2 ** attempt, deadline - performance.now());
    if (attempt < retries && pause > 0) await new Promise((resolve) => setTimeout(resolve, pause).unref?.());
  }
  return { delivered: false, tries, status, error, durationMs: Math.round(performance.now() - started) };
}

function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error) parts.push((e as { code?: string }).code ?? e.message);
  }
  return parts.join(": ") || String(error);
}

/** Appends alerts to a JSON-lines file (created with its folder when missing). */
export async function appendAlertLog(file: string, alerts: Alert[]): Promise<void> {
  if (alerts.length === 0) return;
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, alerts.map((a) => `${JSON.stringify(a)}\n`).join(""), { encoding: "utf8", mode: 0o644 });
}

export interface DispatchOptions {
  store: AlertStore;
  /** The alerts.jsonl file; null for none. */
  logFile?: string | null;
  webhook?: WebhookOptions | null;
}

export interface DispatchResult {
  /** Alerts fired now (new keys). */
  fired: Alert[];
  /** Alerts whose key had fired before (deduplicated). */
  suppressed: Alert[];
  webhook: WebhookResult | null;
  /** Problems of the sinks (log not written, webhook not delivered), for the summary. */
  problems: string[];
}

export async function dispatchAlerts(alerts: Alert[], options: DispatchOptions): Promise<DispatchResult> {
  const fired: Alert[] = [];
  const suppressed: Alert[] = [];
  const problems: string[] = [];
  for (const alert of alerts) {
    let fresh: boolean;
    try {
      fresh = await options.store.claim(alert);
    } catch (error) {
      // A store that cannot say fires the alert: a duplicate is better than a silent budget overrun.
      problems.push(`could not check whether alert ${alert.key} fired before: ${describe(error)}`);
      fresh = true;
    }
    (fresh ? fired : suppressed).push(alert);
  }
  if (options.logFile && fired.length > 0) {
    await appendAlertLog(options.logFile, fired).catch((error: unknown) => problems.push(`alerts were not appended to ${options.logFile}: ${describe(error)}`));
  }
  let webhook: WebhookResult | null = null;
  if (options.webhook && fired.length > 0) {
    webhook = await postWebhook(options.webhook, { kind: "nq-alerts", alerts: fired });
    if (!webhook.delivered) problems.push(`the alert webhook was not delivered after ${webhook.tries} tr${webhook.tries === 1 ? "y" : "ies"} (${webhook.error})`);
  }
  return { fired, suppressed, webhook, problems };
}
