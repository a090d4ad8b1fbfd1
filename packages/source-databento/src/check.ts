/**
 * `check` for Databento: what the source needs and whether it works now, without buying data. Every call
 * here is free: the key's shape, `metadata.list_datasets` (the key is accepted), `metadata.get_dataset_range`
 * (the dataset is entitled, and what range it has), and `metadata.get_cost` of a one-minute definition
 * request (pricing works; nothing is bought). In file mode: the DBN files it would read.
 */
import { type CheckItem, type CheckResult, ConfigError, isSourceError, silentLogger, type SourceError } from "@nq/core";
import { configSchema, type DatabentoConfig, type ResolvedConfig, resolveApiKey, SOURCE_NAME } from "./config.js";
import { listDbnFiles } from "./extract-files.js";
import { historicalClientFromConfig } from "./historical/from-config.js";

export interface DatabentoCheckOptions {
  signal?: AbortSignal;
  /** For DATABENTO_API_KEY when the config has no key. */
  env?: NodeJS.ProcessEnv;
  /** Where relative `files`/`dir` resolve. */
  baseDir?: string;
  /** Each request's limit (default: the config's timeout_ms, at most 15 s). */
  timeoutMs?: number;
}

export async function checkDatabento(input: DatabentoConfig | ResolvedConfig, options: DatabentoCheckOptions = {}): Promise<CheckResult> {
  const items: CheckItem[] = [];
  const result = (): CheckResult => ({ source: SOURCE_NAME, ready: items.every((i) => i.status !== "fail"), items });
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    items.push({ name: "config", status: "fail", detail: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
    return result();
  }
  const config = parsed.data;
  const signal = options.signal ?? new AbortController().signal;

  if (config.files !== undefined || config.dir !== undefined) {
    try {
      const files = await listDbnFiles(config, options.baseDir);
      items.push({ name: "local DBN files", status: files.length > 0 ? "ok" : "fail", detail: files.length > 0 ? `${files.length} file(s), no key or spend needed` : "no DBN files found", data: { files } });
    } catch (error) {
      items.push({ name: "local DBN files", status: "fail", detail: messageOf(error) });
    }
    return result();
  }

  const env = options.env ?? process.env;
  const present = Boolean(config.api_key?.trim() || env.DATABENTO_API_KEY?.trim());
  items.push({
    name: "api key present",
    status: present ? "ok" : "fail",
    detail: present ? (config.api_key?.trim() ? 'from the config ("api_key")' : "from DATABENTO_API_KEY") : 'no key: set DATABENTO_API_KEY (or "api_key" in the source\'s config)',
  });
  if (!present) return result();
  let apiKey: string;
  try {
    apiKey = resolveApiKey(config, env);
    items.push({ name: "api key well-formed", status: "ok", detail: '"db-" and 29 letters or digits' });
  } catch (error) {
    items.push({ name: "api key well-formed", status: "fail", detail: error instanceof ConfigError ? error.message.replace(/^databento: /, "") : messageOf(error) });
    return result();
  }

  const timeoutMs = options.timeoutMs ?? Math.min(config.timeout_ms, 15_000);
  const base = config.base_url.replace(/\/+$/, "");
  const client = historicalClientFromConfig(config, apiKey, silentLogger, { baseUrl: base, timeoutMs, readTimeoutMs: timeoutMs, maxRetries: 0, maxRetryDelayMs: 0 });

  // list_datasets: the key is accepted, and which datasets it sees.
  let datasets: string[];
  try {
    datasets = await listDatasets(base, apiKey, timeoutMs, signal);
    items.push({ name: "api key accepted", status: "ok", detail: `${base} answered metadata.list_datasets (${datasets.length} dataset${datasets.length === 1 ? "" : "s"})`, data: { datasets } });
  } catch (error) {
    items.push({ name: "api key accepted", status: "fail", detail: `${base}: ${describeFailure(error, "metadata.list_datasets")}` });
    return result();
  }

  try {
    const range = await client.getDatasetRange(config.dataset, signal);
    const listed = datasets.includes(config.dataset);
    items.push({
      name: `dataset ${config.dataset} entitled`,
      status: "ok",
      detail: `available ${range.start.toISOString()} – ${range.end.toISOString()} (end exclusive)${listed ? "" : "; not in list_datasets, but get_dataset_range answered"}`,
      data: { start: range.start.toISOString(), end: range.end.toISOString(), schemas: Object.keys(range.schemas) },
    });
    const wanted = ["definition", ...config.schemas];
    const missing = Object.keys(range.schemas).length > 0 ? wanted.filter((s) => !(s in range.schemas)) : [];
    items.push({
      name: "schemas available",
      status: missing.length ? "fail" : "ok",
      detail: missing.length ? `the dataset has no ${missing.join(", ")}; change "schemas" in the config` : wanted.join(", "),
    });
    // A one-minute definition request for the first parent, priced (free) and never bought.
    const end = range.end;
    const start = new Date(end.getTime() - 60_000);
    const query = { dataset: config.dataset, schema: "definition", symbols: [config.parent_symbols[0]!], stypeIn: "parent" as const, start, end };
    const usd = await client.getCost(query, signal);
    items.push({
      name: "cost query (get_cost)",
      status: "ok",
      detail: `a one-minute definition request for ${query.symbols[0]} would cost $${usd.toFixed(6)} (priced, not bought)`,
      data: { usd, start: start.toISOString(), end: end.toISOString() },
    });
  } catch (error) {
    const entitlement = isSourceError(error) && (error as SourceError).kind === "entitlement";
    items.push({ name: entitlement ? `dataset ${config.dataset} entitled` : "dataset range and cost", status: "fail", detail: describeFailure(error, "metadata") });
  }
  return result();
}

async function listDatasets(base: string, apiKey: string, timeoutMs: number, signal: AbortSignal): Promise<string[]> {
  const response = await fetch(`${base}/v0/metadata.list_datasets`, {
    headers: { authorization: `Basic ${Buffer.from(`${apiKey}:`).toString("base64")}`, accept: "application/json", "user-agent": "nq-source-databento/0.1.0 (check)" },
    signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text.slice(0, 200);
    try {
      const body = JSON.parse(text) as { detail?: { message?: string; case?: string } | string };
      message = typeof body.detail === "string" ? body.detail : (body.detail?.message ?? message);
    } catch {
      /* not JSON */
    }
    throw Object.assign(new Error(`HTTP ${response.status}: ${message}`), { status: response.status });
  }
  const list = JSON.parse(text) as unknown;
  return Array.isArray(list) ? list.filter((d): d is string => typeof d === "string") : [];
}

function describeFailure(error: unknown, what: string): string {
  const status = (error as { status?: unknown }).status;
  if (status === 401) return `the key was rejected (401) by ${what}: check it in the Databento portal`;
  if (status === 403) return `the key has no entitlement (403) for ${what}`;
  if ((error as Error)?.name === "TimeoutError") return `${what} did not answer in time`;
  return messageOf(error);
}

function messageOf(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === "string" && !(e instanceof Error && e.message.includes(code)) ? `${e instanceof Error ? e.message : String(e)} (${code})` : e instanceof Error ? e.message : String(e));
  }
  return parts.join(": ").replace(/^databento: /, "");
}
