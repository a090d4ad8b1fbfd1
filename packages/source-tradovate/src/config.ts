/**
 * The config a profile gives this source, and the credentials it resolves to. Every field is documented
 * in the README's config reference; defaults live here and nowhere else. What the reference marks
 * unverified (the demo market-data host, which token the market-data socket takes and in what form, how
 * NQ options are modelled) is a setting, so it can be changed without a release once probed on demo.
 */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { ConfigError, registerSecret, z } from "@nq/core";

export const SOURCE_NAME = "tradovate";

/** Reference §1. The demo market-data host is unverified: the official tutorial uses md.tradovateapi.com. */
export const ENVIRONMENTS = {
  demo: { rest: "https://demo.tradovateapi.com/v1", md: "wss://md.tradovateapi.com/v1/websocket" },
  live: { rest: "https://live.tradovateapi.com/v1", md: "wss://md.tradovateapi.com/v1/websocket" },
} as const;

/** A CME option name as Globex spells it: `NQZ5 C21500`, `QN3Z5 P18500` (reference §5.1, unverified for Tradovate). */
export const DEFAULT_OPTION_NAME_PATTERN = "^(?<root>[A-Z0-9]+?)(?<month>[FGHJKMNQUVXZ])(?<year>\\d{1,2})\\s+(?<right>[CP])(?<strike>\\d+(?:\\.\\d+)?)$";

const positiveMs = z.number().int().positive();
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as YYYY-MM-DD");

export const configSchema = z
  .object({
    /** Tradovate user name; falls back to TRADOVATE_USERNAME. */
    name: z.string().optional(),
    /** Falls back to TRADOVATE_PASSWORD. */
    password: z.string().meta({ secret: true }).optional(),
    /** The registered application's name; falls back to TRADOVATE_APP_ID. */
    app_id: z.string().optional(),
    /** Falls back to TRADOVATE_APP_VERSION, then "1.0". */
    app_version: z.string().optional(),
    /** The API key's id (a number in the partner quickstart, a string in the spec); falls back to TRADOVATE_CID. */
    cid: z.union([z.string(), z.number().int()]).optional(),
    /** The API key's secret; falls back to TRADOVATE_SEC. */
    sec: z.string().meta({ secret: true }).optional(),
    /** A stable id for this machine; falls back to TRADOVATE_DEVICE_ID, then one derived from the host and user name. */
    device_id: z.string().max(64).optional(),
    /** How `cid` is sent: as a JSON number (partner quickstart) or a string (the spec). Unverified which is required. */
    cid_type: z.enum(["number", "string"]).default("number"),

    environment: z.enum(["demo", "live"]).default("demo"),
    /** Overrides the environment's REST base (…/v1). */
    rest_url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL such as https://demo.tradovateapi.com/v1" }).optional(),
    /** Overrides the environment's market-data WebSocket. */
    md_url: z.url({ protocol: /^wss?$/, error: "expected a ws(s) URL such as wss://md.tradovateapi.com/v1/websocket" }).optional(),
    /** Which token authorizes the market-data socket: "md" (mdAccessToken, else accessToken) or "access". */
    md_token: z.enum(["md", "access"]).default("md"),
    /** How `authorize` carries the token: raw text (EX-05) or JSON-quoted (EX-09a). */
    authorize_format: z.enum(["raw", "json"]).default("raw"),
    /** Endpoint spellings; the tutorial lower-cases them, the partner docs use camel case. */
    subscribe_endpoint: z.string().min(1).default("md/subscribeQuote"),
    unsubscribe_endpoint: z.string().min(1).default("md/unsubscribeQuote"),
    /** What `md/subscribeQuote` names a contract by: its name ("NQZ5") or its id. */
    subscribe_by: z.enum(["name", "id"]).default("name"),

    /** The futures product whose contracts are the options' underlyings. */
    future_product: z.string().min(1).default("NQ"),
    /**
     * Tradovate's product names of the NQ option series (each must be of type Options). Absent: every
     * Options product `/product/suggest?t=<option_search>` returns whose valuePerPoint equals the future's.
     */
    option_products: z.array(z.string().min(1)).min(1).optional(),
    option_search: z.string().min(1).default("NQ"),
    /** Option contract names to use as they are (resolved with /contract/find), instead of discovery. */
    option_symbols: z.array(z.string().min(1)).min(1).optional(),
    /** Reads root, month, year, right (C/P) and strike from an option contract's name. */
    option_name_pattern: z
      .string()
      .default(DEFAULT_OPTION_NAME_PATTERN)
      .refine((p) => {
        try {
          const names = new RegExp(p).source;
          return ["right", "strike"].every((g) => names.includes(`(?<${g}>`));
        } catch {
          return false;
        }
      }, "expected a regular expression with named groups (?<right>…) and (?<strike>…)"),
    /** The name's strike divided by this is the strike in index points. */
    strike_divisor: z.number().positive().default(1),
    /** Use ContractMaturity.underlyingId to find an option's future (else the nearest future expiring on or after it). */
    use_underlying_id: z.boolean().default(true),
    expirations: z.array(isoDate).optional(),
    max_expirations: z.number().int().positive().optional(),
    strike_min: z.number().positive().optional(),
    strike_max: z.number().positive().optional(),
    /** More option contracts than this after the filters: the load is refused (narrow the request). */
    max_contracts: z.number().int().positive().default(2000),

    /** Renew the access token when less than this is left before its expirationTime. */
    renew_before_ms: positiveMs.default(15 * 60_000),
    /** The longest time-penalty (p-time) waited out inside a load; a longer one fails as a rate limit. */
    max_penalty_wait_ms: z.number().int().min(0).default(60_000),
    /** Client heartbeat `[]` interval on the socket (the server drops a client silent for longer than ~2.5 s). */
    heartbeat_ms: positiveMs.max(2_500).default(2_500),
    /** One REST call, the socket's open and authorize, one subscribe's answer. */
    request_timeout_ms: positiveMs.default(15_000),
    /** How long quotes are collected before the chain is returned with whatever came (marked incomplete). */
    collect_timeout_ms: positiveMs.default(30_000),
    /** After the last contract's first quote, how long later updates are still merged. */
    settle_ms: z.number().int().min(0).default(250),
    /** Subscriptions awaiting their answer at once. */
    max_pending_subscriptions: z.number().int().positive().default(25),
    /** Reconnects (each re-authorizes and re-subscribes what is still missing) before the load fails. */
    max_reconnects: z.number().int().min(0).default(3),
    reconnect_delay_ms: z.number().int().min(0).default(500),
    /** A request `asOf` older than this is refused: Tradovate gives live quotes only. */
    max_as_of_age_ms: positiveMs.default(15 * 60_000),
    /** The data is generated (the local test server): label the chain SAMPLE DATA. */
    sample: z.boolean().default(false),
  })
  .strict()
  .refine((c) => c.strike_min === undefined || c.strike_max === undefined || c.strike_min <= c.strike_max, {
    message: "strike_min must not exceed strike_max",
    path: ["strike_min"],
  })
  .refine((c) => !(c.option_symbols && c.option_products), { message: 'give "option_symbols" or "option_products", not both', path: ["option_symbols"] });

export type TradovateConfig = z.input<typeof configSchema>;
export type ResolvedConfig = z.output<typeof configSchema>;

export interface Credentials {
  name: string;
  password: string;
  appId: string;
  appVersion: string;
  cid: string | number | null;
  sec: string | null;
  deviceId: string;
}

const path = (field: string) => `data_sources.${SOURCE_NAME}.config.${field}`;

/**
 * The credentials from config, else the environment. Secrets are registered before anything else
 * happens to them, so even the error that rejects them cannot print them.
 */
export function resolveCredentials(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): Credentials {
  const pick = (value: string | number | undefined, variable: string): string => (value === undefined ? "" : String(value)).trim() || env[variable]?.trim() || "";
  const password = pick(config.password, "TRADOVATE_PASSWORD");
  const sec = pick(config.sec, "TRADOVATE_SEC");
  registerSecret(password);
  registerSecret(sec);
  const name = pick(config.name, "TRADOVATE_USERNAME");
  if (name === "") throw new ConfigError(SOURCE_NAME, `no user name: set "name" in the source's config (e.g. "\${TRADOVATE_USERNAME}") or the TRADOVATE_USERNAME environment variable`, { path: path("name") });
  if (password === "") throw new ConfigError(SOURCE_NAME, `no password: set "password" in the source's config (e.g. "\${TRADOVATE_PASSWORD}") or the TRADOVATE_PASSWORD environment variable`, { path: path("password") });
  for (const [field, value] of [["name", name], ["password", password]] as const) {
    if (value.length > 64) throw new ConfigError(SOURCE_NAME, `"${field}" is longer than Tradovate's 64 characters`, { path: path(field) });
  }
  const cidText = pick(config.cid, "TRADOVATE_CID");
  let cid: string | number | null = null;
  if (cidText !== "") {
    if (config.cid_type === "number") {
      if (!/^\d+$/.test(cidText)) throw new ConfigError(SOURCE_NAME, `"cid" must be the API key's numeric id (or set cid_type "string")`, { path: path("cid") });
      cid = Number(cidText);
    } else cid = cidText;
  }
  if ((cid === null) !== (sec === "")) {
    throw new ConfigError(SOURCE_NAME, `give both "cid" and "sec" (the API key's id and secret from Tradovate's API Access page), or neither`, { path: path(cid === null ? "cid" : "sec") });
  }
  const deviceId = pick(config.device_id, "TRADOVATE_DEVICE_ID") || stableDeviceId(name);
  return {
    name,
    password,
    appId: pick(config.app_id, "TRADOVATE_APP_ID") || "nq-options",
    appVersion: pick(config.app_version, "TRADOVATE_APP_VERSION") || "1.0",
    cid,
    sec: sec === "" ? null : sec,
    deviceId,
  };
}

/**
 * Tradovate wants a device id that stays the same for a device (live checks it more strictly). Without
 * one in the config, it is derived from the host name and the user name: stable across runs, no file.
 */
export function stableDeviceId(user: string): string {
  const hex = createHash("sha256").update(`nq-source-tradovate\0${hostname()}\0${user}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function restUrlOf(config: ResolvedConfig): string {
  return (config.rest_url ?? ENVIRONMENTS[config.environment].rest).replace(/\/+$/, "");
}

export function mdUrlOf(config: ResolvedConfig): string {
  return config.md_url ?? ENVIRONMENTS[config.environment].md;
}

/** What in the config changes the data, for the cache key. Credentials and timings do not. */
export function cacheIdentity(config: ResolvedConfig): unknown {
  return {
    environment: config.environment,
    rest_url: restUrlOf(config),
    md_url: mdUrlOf(config),
    future_product: config.future_product,
    option_products: config.option_products ?? null,
    option_search: config.option_search,
    option_symbols: config.option_symbols ?? null,
    option_name_pattern: config.option_name_pattern,
    strike_divisor: config.strike_divisor,
    expirations: config.expirations ?? null,
    max_expirations: config.max_expirations ?? null,
    strike_min: config.strike_min ?? null,
    strike_max: config.strike_max ?? null,
    sample: config.sample,
  };
}
