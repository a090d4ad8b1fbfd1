/**
 * The plugin contract. A source is a definition (name, what it can give, how its config looks) and a
 * factory; the instance it creates loads raw rows for a request. Turning those rows into contracts is the
 * normalizer's job, so every source is held to the same validation and the same quality metrics.
 */
import type { ZodType } from "zod";
import type { ChainRequest } from "./request.js";
import type { Logger } from "./logger.js";
import type { SpendLedger } from "./spend.js";

/** A declarative map of what a source can give, checked by callers before they rely on it (CCXT's `has`). */
export interface SourceCapabilities {
  // `greeks` and `impliedVolatility` say whether the *feed* gives them. Every chain gets Black-76 values
  // computed by core where the feed gives none, marked `greeksSource: "computed"` per contract.
  chain: boolean;
  quotes: boolean;
  openInterest: boolean;
  settlement: boolean;
  volume: boolean;
  greeks: boolean;
  impliedVolatility: boolean;
  /** The source can keep a chain current from a push feed (Databento's Live gateway: `watch --live`), not only answer one load. */
  streaming: boolean;
  needsCredentials: boolean;
  costsMoney: boolean;
  delayed: boolean;
}

/** What a source is doing now, for a progress line or bar: one request, one series, one file. */
export interface ProgressUpdate {
  /** What is being done ("timeseries.get_range trades", "series QN2Z6", "file 3 of 9"). */
  stage: string;
  /** Units done and expected in this load (series, requests, files), when known. */
  done?: number;
  total?: number;
  /** Bytes received so far in this load. */
  bytes?: number;
  /** USD spent so far in this load. */
  spendUsd?: number;
}

export interface SourceContext {
  log: Logger;
  /** Reports progress; cheap to call often (the runner throttles what it prints). Optional for callers. */
  progress?(update: ProgressUpdate): void;
  spend: SpendLedger;
  /** The clock; tests replace it. */
  now(): Date;
  /** Relative paths in the source's config resolve against this folder (the profile's); default: the working directory. */
  baseDir?: string;
}

export interface LoadOptions {
  signal: AbortSignal;
}

/**
 * One row as the source read it, before validation. Fields are `unknown` on purpose: the normalizer
 * checks each one and reports a bad value instead of trusting the source's types.
 */
export interface SourceRow {
  /**
   * The option's symbol. Core makes it canonical (CME Globex, see `canonicalContractNames`); a CME or
   * Barchart spelling here, or in `rawSymbol`, is read and checked against the row's strike, right, root
   * and expiration.
   */
  symbol?: unknown;
  /** The feed's own spelling of the symbol, kept as `rawSymbol` (default: `symbol`). */
  rawSymbol?: unknown;
  underlying?: unknown;
  underlyingPrice?: unknown;
  /** "mid" | "last" | "settlement". */
  underlyingPriceBasis?: unknown;
  underlyingPriceTime?: unknown;
  product?: unknown;
  root?: unknown;
  expiration?: unknown;
  expirationTime?: unknown;
  strike?: unknown;
  right?: unknown;
  bid?: unknown;
  ask?: unknown;
  bidSize?: unknown;
  askSize?: unknown;
  last?: unknown;
  volume?: unknown;
  clearedVolume?: unknown;
  clearedVolumeDate?: unknown;
  openInterest?: unknown;
  openInterestDate?: unknown;
  settlement?: unknown;
  settlementDate?: unknown;
  /**
   * The feed's own analytics, in @nq's units: implied volatility as an annualized fraction (0.2 = 20%);
   * delta and gamma per 1 point of the future; theta in index points per calendar day; vega in index
   * points per volatility point (0.01). Give only what the feed gives: core computes the rest for
   * contracts with none of these (marked `greeksSource: "computed"`), and never mixes the two.
   */
  impliedVolatility?: unknown;
  delta?: unknown;
  gamma?: unknown;
  theta?: unknown;
  vega?: unknown;
  multiplier?: unknown;
  quoteTime?: unknown;
  rawStrike?: unknown;
}

/**
 * A chain of something else that stands in for the requested product (Polygon's NDX index options for
 * NQ futures options): said out loud, with its own contract terms, and used only where a profile allows.
 */
export interface ProxyInfo {
  /** The product it stands in for ("NQ"). */
  for: string;
  /** What it is a chain of ("I:NDX", "QQQ"). */
  underlying: string;
  product: string;
  kind: "index-options" | "etf-options";
  multiplier: number;
  settlement: "cash" | "physical";
  exercise: "european" | "american";
  /** The line every summary prints: "PROXY: NDX index options, not NQ futures options". */
  label: string;
}

/** What `Source.load` returns. */
export interface SourceResult {
  /** Set when the chain is a proxy for the requested product, not the product itself. */
  proxy?: ProxyInfo | null;
  rows: SourceRow[];
  /** The market time the data describes. */
  asOf: Date | string;
  /** Defaults to the source's `capabilities.delayed`. */
  delayed?: boolean;
  /** Generated sample data, not market data. */
  sample?: boolean;
  underlying?: string | null;
  underlyingPrice?: number | null;
  /** False when the source knows the data is partial (e.g. a 206 answer); defaults to true. */
  complete?: boolean;
  /** Why it is partial, one reason a line; a reason here also makes the chain incomplete. */
  incompleteReasons?: string[];
  /** When the request gave no asOf: why the source chose this moment (see `latestCompleteMoment`). */
  asOfReason?: string;
  /**
   * The feed's own warnings about this data's quality (Databento's X-Warning: degraded days). A chain
   * carrying one is cached only briefly, and the summary says so.
   */
  qualityWarnings?: string[];
  warnings?: string[];
  /** True when the raw payload was kept (saved to disk or cache). */
  rawDataAvailable?: boolean;
  /** The raw payload, for a cache that stores it; optional. */
  raw?: Uint8Array | string;
}

export interface Source {
  /**
   * Loads the chain for a request. The registry may call `load` again on the same instance after it threw
   * a retryable error: the registry is the one retry layer, so do not retry inside the source, and reuse
   * whatever this instance already received — above all anything paid for — instead of requesting it
   * again. Honour `signal`: it is aborted when the run is, and when the source's deadline
   * (`source_deadline_ms`) passes, after which the registry stops waiting for this promise.
   */
  load(request: ChainRequest, options: LoadOptions): Promise<SourceResult>;
  /** Releases browsers, sockets, files. Must be safe to call twice. */
  close?(): Promise<void>;
}

/** One thing a source's `check` looked at, and what it found. */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckItem {
  /** What was checked ("api key accepted"). */
  name: string;
  status: CheckStatus;
  /** What was found, or what is wrong and what to do. */
  detail: string;
  data?: Record<string, unknown>;
}

export interface CheckResult {
  source: string;
  /** True when nothing failed: a load could work now. */
  ready: boolean;
  items: CheckItem[];
}

export interface CheckOptions {
  signal: AbortSignal;
  /** The product the profile asks for ("NQ"). */
  product: string;
  /** Prefer the cheapest probe that still answers (e.g. one plain HTTP request instead of a browser). */
  quick?: boolean;
}

export interface SourceDefinition<Config = unknown> {
  /** Lower-case, digits and dashes: "databento", "acme-feed". */
  name: string;
  description?: string;
  capabilities: SourceCapabilities;
  /**
   * Validates the `config` object of this source's entry in a profile. Mark a credential field
   * `.meta({ secret: true })`: its value, and any `${VAR}` substituted into it, are registered for redaction.
   */
  configSchema: ZodType<Config>;
  create(config: Config, context: SourceContext): Source | Promise<Source>;
  /**
   * What this source needs and whether it works now, without buying data or loading a chain (free calls
   * only; the context's SpendLedger has a zero cap). A wrong credential is a failed item, never a throw.
   */
  check?(config: Config, context: SourceContext, options: CheckOptions): Promise<CheckResult>;
  /** True for a source whose chains stand in for the product (a proxy): the registry uses it only when allowed. */
  proxy?: boolean;
  /**
   * What in the config changes the data (dataset, endpoint, schemas…), for the cache key: a chain cached
   * under one identity is never served for another. Default: the whole config minus secret-named fields.
   */
  cacheIdentity?(config: Config): unknown;
}

/** Identity at run time; at compile time it infers the config type from the schema. */
export function defineSource<Config>(definition: SourceDefinition<Config>): SourceDefinition<Config> {
  return definition;
}

const CAPABILITY_KEYS: (keyof SourceCapabilities)[] = [
  "chain",
  "quotes",
  "openInterest",
  "settlement",
  "volume",
  "greeks",
  "impliedVolatility",
  "streaming",
  "needsCredentials",
  "costsMoney",
  "delayed",
];

/**
 * Checks that a value loaded from a plugin module really is a SourceDefinition, and says what is wrong
 * when it is not: plugins are imported by name from a config file, so a typo must read clearly.
 */
export function assertSourceDefinition(value: unknown, where: string, module?: Record<string, unknown>): asserts value is SourceDefinition<unknown> {
  const problems: string[] = [];
  if (typeof value !== "object" || value === null) {
    const got = module ? describeModule(module) : `got ${describe(value)}`;
    throw new TypeError(`${where} is not a source plugin: ${got}; expected its default export to be an object made with defineSource`);
  }
  const def = value as Record<string, unknown>;
  if (typeof def.name !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(def.name)) {
    problems.push(`"name" must be a lower-case string of letters, digits and dashes, got ${describe(def.name)}`);
  }
  const caps = def.capabilities as Record<string, unknown> | undefined;
  if (typeof caps !== "object" || caps === null) {
    problems.push(`"capabilities" must be an object with boolean fields ${CAPABILITY_KEYS.join(", ")}`);
  } else {
    for (const key of CAPABILITY_KEYS) {
      if (typeof caps[key] !== "boolean") problems.push(`"capabilities.${key}" must be a boolean, got ${describe(caps[key])}`);
    }
  }
  const schema = def.configSchema as { safeParse?: unknown } | undefined;
  if (typeof schema !== "object" || schema === null || typeof schema.safeParse !== "function") {
    problems.push(`"configSchema" must be a zod schema (with safeParse), got ${describe(def.configSchema)}`);
  }
  if (typeof def.create !== "function") problems.push(`"create" must be a function (config, context) => Source, got ${describe(def.create)}`);
  if (problems.length > 0) throw new TypeError(`${where} is not a valid source definition:\n  - ${problems.join("\n  - ")}`);
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing (undefined)";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "function") {
    const name = (value as { name?: unknown }).name;
    const kind = /^class[\s{]/.test(Function.prototype.toString.call(value)) ? "a class" : "a function";
    return typeof name === "string" && name !== "" ? `${kind} named ${name}` : `an anonymous ${kind.slice(2)}`;
  }
  if (typeof value === "object") {
    const keys = Object.keys(value);
    return keys.length === 0 ? "an empty object" : `an object with the key${keys.length === 1 ? "" : "s"} ${listNames(keys)}`;
  }
  return `the ${typeof value} ${String(value)}`;
}

/** What a module exported, for a plugin that is not one: "the module's default export is a function named X". */
function describeModule(module: Record<string, unknown>): string {
  if (module.default !== undefined) return `the module's default export is ${describe(module.default)}`;
  const names = Object.keys(module);
  if (names.length === 0) return "the module exports nothing";
  return `the module has no default export; it exports ${listNames(names)}`;
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 8).map((name) => `"${name}"`).join(", ");
  return `${shown}${names.length > 8 ? `, … (${names.length} in all)` : ""}`;
}
