/**
 * The config a profile gives this source, and the API key it resolves to. Every field is documented in
 * the README's config reference; defaults live here and nowhere else.
 */
import { ConfigError, registerSecret } from "@nq/core";
import { z } from "zod";

export const SOURCE_NAME = "databento";
export const DEFAULT_BASE_URL = "https://hist.databento.com";
export const DEFAULT_DATASET = "GLBX.MDP3";

/** The schemas this source can combine into a chain, besides `definition` (always fetched). */
export const MARKET_SCHEMAS = ["statistics", "trades", "mbp-1", "bbo-1s", "bbo-1m"] as const;
export type MarketSchema = (typeof MARKET_SCHEMAS)[number];
export type ChainSchema = "definition" | MarketSchema;
/** Top-of-book schemas: every one gives the book at as-of through the same fold (chain-records.ts). */
export const QUOTE_SCHEMAS = ["mbp-1", "bbo-1s", "bbo-1m"] as const;
export type QuoteSchema = (typeof QUOTE_SCHEMAS)[number];

export function isQuoteSchema(schema: string): schema is QuoteSchema {
  return (QUOTE_SCHEMAS as readonly string[]).includes(schema);
}

/**
 * USD per schema per load: the whole plan is priced with `get_cost` before anything is bought, and a
 * schema whose requests add up to more than this is not bought at all (nor is anything else).
 */
export const DEFAULT_COST_LIMITS: Record<ChainSchema, number> = {
  definition: 1,
  statistics: 1,
  trades: 5,
  "mbp-1": 5,
  "bbo-1s": 5,
  "bbo-1m": 2,
};

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as YYYY-MM-DD");
const positiveMs = z.number().int().positive();

export const configSchema = z
  .object({
    /** Databento API key; falls back to the DATABENTO_API_KEY environment variable. */
    api_key: z.string().meta({ secret: true }).optional(),
    base_url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL such as https://hist.databento.com" }).default(DEFAULT_BASE_URL),
    dataset: z.string().min(1).default(DEFAULT_DATASET),
    parent_symbols: z
      .array(z.string().regex(/^[A-Z0-9]{1,6}\.OPT$/, 'expected a parent symbol such as "NQ.OPT" or "QN1.OPT"'))
      .min(1)
      .default(["NQ.OPT"]),
    discover_parents: z.boolean().default(true),
    schemas: z
      .array(z.enum(MARKET_SCHEMAS))
      .default(["statistics", "trades", "bbo-1m"])
      .refine((list) => list.filter(isQuoteSchema).length <= 1, 'choose one quote schema: "mbp-1", "bbo-1s" or "bbo-1m", not several'),
    cost_limits: z
      .object({
        definition: z.number().nonnegative().optional(),
        statistics: z.number().nonnegative().optional(),
        trades: z.number().nonnegative().optional(),
        "mbp-1": z.number().nonnegative().optional(),
        "bbo-1s": z.number().nonnegative().optional(),
        "bbo-1m": z.number().nonnegative().optional(),
      })
      .strict()
      .default({}),
    expirations: z.array(isoDate).optional(),
    max_expirations: z.number().int().positive().optional(),
    strike_min: z.number().positive().optional(),
    strike_max: z.number().positive().optional(),
    /**
     * Quotes are bought in two steps: the last this-many minutes up to as-of for every instrument, then,
     * for the instruments with no record there (quiet ones), the rest of the session back to its open.
     */
    quote_window_minutes: z.number().positive().max(24 * 60).default(15),
    /** Fetch each option's underlying future (book, last trade, settlement) for `underlyingPrice`. */
    underlying_prices: z.boolean().default(true),
    /** The data is generated (the local test server): label the chain SAMPLE DATA. */
    sample: z.boolean().default(false),
    timeout_ms: positiveMs.default(100_000),
    read_timeout_ms: positiveMs.default(100_000),
    /**
     * The client's own retries. 0 by default: the registry is the one retry layer (profile `retries`), and
     * a load it retries replays what was already received. Set it only when using the client on its own.
     */
    max_retries: z.number().int().min(0).max(10).default(0),
    max_retry_delay_ms: z.number().int().min(0).default(30_000),
    verify_record_count: z.boolean().default(true),
    files: z.array(z.string().min(1)).optional(),
    dir: z.string().min(1).optional(),
    /**
     * "live": the Live Subscription Gateway instead of Historical — connect, replay from the session's
     * open, answer with the chain when the replay completes, close (`watch --live` keeps it open).
     */
    mode: z.enum(["historical", "live"]).default("historical"),
    /** Live gateway as host:port; default <dataset>.lsg.databento.com:13000. */
    live_gateway: z
      .string()
      .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port such as "glbx-mdp3.lsg.databento.com:13000"')
      .optional(),
    live_compression: z.enum(["none", "zstd"]).default("none"),
    /** Sent as heartbeat_interval_s; the gateway counts as dead after it plus 10 s of silence. */
    live_heartbeat_interval_s: z.number().int().positive().max(3600).default(30),
  })
  .strict()
  .refine((c) => !(c.files && c.dir), { message: 'give "files" or "dir", not both', path: ["files"] })
  .refine((c) => c.strike_min === undefined || c.strike_max === undefined || c.strike_min <= c.strike_max, {
    message: "strike_min must not exceed strike_max",
    path: ["strike_min"],
  });

export type DatabentoConfig = z.input<typeof configSchema>;
export type ResolvedConfig = z.output<typeof configSchema>;

/** Databento keys are "db-" followed by 29 letters and digits (32 characters in all). */
const API_KEY_PATTERN = /^db-[A-Za-z0-9]{29}$/;
export const API_KEY_PATH = `data_sources.${SOURCE_NAME}.config.api_key`;

/**
 * The key from config, else from DATABENTO_API_KEY. It is registered as a secret before anything else
 * happens to it, so even the error that rejects it cannot print it.
 */
export function resolveApiKey(config: { api_key?: string | undefined }, env: NodeJS.ProcessEnv = process.env): string {
  const fromConfig = config.api_key?.trim();
  const key = fromConfig || env.DATABENTO_API_KEY?.trim() || "";
  registerSecret(key);
  const where = fromConfig ? `"api_key"` : "DATABENTO_API_KEY";
  if (key === "") {
    throw new ConfigError(
      SOURCE_NAME,
      `no API key: set "api_key" in the source's config (e.g. "\${DATABENTO_API_KEY}") or the DATABENTO_API_KEY environment variable, or use "files"/"dir" for local DBN files`,
      { path: API_KEY_PATH },
    );
  }
  if (!API_KEY_PATTERN.test(key)) {
    throw new ConfigError(
      SOURCE_NAME,
      `the API key from ${where} is malformed: expected "db-" followed by 29 letters or digits (32 characters), got ${key.length} characters${key.startsWith("db-") ? "" : ' not starting with "db-"'}. Copy the key again from the Databento portal`,
      { path: API_KEY_PATH },
    );
  }
  return key;
}

/**
 * What in this config changes the data, for the cache key: a chain fetched from another dataset, gateway,
 * set of schemas, parents or quote settings (or other files) is another chain. The key and timeouts are not.
 */
export function cacheIdentity(config: ResolvedConfig): unknown {
  return {
    dataset: config.dataset,
    base_url: config.base_url,
    parent_symbols: config.parent_symbols,
    discover_parents: config.discover_parents,
    schemas: [...config.schemas].sort(),
    quote_window_minutes: config.quote_window_minutes,
    underlying_prices: config.underlying_prices,
    sample: config.sample,
    files: config.files ?? null,
    dir: config.dir ?? null,
    // Live snapshots are another source of truth than Historical loads (added only in live mode, so
    // Historical cache keys do not change).
    ...(config.mode === "live" ? { mode: "live", live_gateway: config.live_gateway ?? null } : {}),
  };
}

export function costLimitFor(config: ResolvedConfig, schema: ChainSchema): number {
  return config.cost_limits[schema] ?? DEFAULT_COST_LIMITS[schema];
}
