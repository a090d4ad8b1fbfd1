/**
 * The config a profile gives this source, the API key it resolves to, and what each underlying is. Every
 * field is documented in the README's config reference; defaults live here and nowhere else.
 */
import { ConfigError, registerSecret, z } from "@nq/core";

export const SOURCE_NAME = "polygon";
/** The host in the provider's OpenAPI `servers`; `https://api.massive.com` serves the same API. */
export const DEFAULT_BASE_URL = "https://api.polygon.io";
export const API_KEY_ENV = "POLYGON_API_KEY";
export const API_KEY_PATH = `data_sources.${SOURCE_NAME}.config.api_key`;

/** The underlyings this source knows. Polygon/Massive has no options on CME futures (reference §1). */
export const UNDERLYINGS = ["I:NDX", "QQQ"] as const;
export type Underlying = (typeof UNDERLYINGS)[number];

export type SettlementStyle = "cash" | "physical";
export type ExerciseStyle = "european" | "american";

/** What a chain of this underlying is, as far as the NQ user is concerned. */
export interface UnderlyingProfile {
  ticker: Underlying;
  /** The product name the contracts carry ("NDX", "QQQ"): never "NQ". */
  product: string;
  /** Request products this chain answers without being a proxy. */
  ownProducts: string[];
  kind: "index-options" | "etf-options";
  settlement: SettlementStyle;
  exercise: ExerciseStyle;
  /** A request's strike window (NQ index points) means the same numbers for this underlying. */
  strikesInIndexPoints: boolean;
  /** The line said on every proxy chain. */
  proxyWarning: string;
  /** The line saying how its contracts differ from NQ's. */
  termsWarning: (multiplier: number) => string;
}

export const UNDERLYING_PROFILES: Record<Underlying, UnderlyingProfile> = {
  "I:NDX": {
    ticker: "I:NDX",
    product: "NDX",
    ownProducts: ["NDX", "I:NDX"],
    kind: "index-options",
    settlement: "cash",
    exercise: "european",
    strikesInIndexPoints: true,
    proxyWarning: "PROXY: NDX index options, not NQ futures options",
    termsWarning: (multiplier) =>
      `NDX options: $${multiplier} per index point (NQ options: $20), cash-settled, European exercise, on the cash Nasdaq-100 index (NQ futures trade at a basis to it); ` +
      "root NDX is AM-settled (third Friday), NDXP PM-settled; strikes are index points but not NQ's strikes",
  },
  QQQ: {
    ticker: "QQQ",
    product: "QQQ",
    ownProducts: ["QQQ"],
    kind: "etf-options",
    settlement: "physical",
    exercise: "american",
    strikesInIndexPoints: false,
    proxyWarning: "PROXY: QQQ ETF options, not NQ futures options",
    termsWarning: (multiplier) =>
      `QQQ options: ${multiplier} shares per contract (NQ options: $20 per index point), physically settled in QQQ shares, American exercise; ` +
      "QQQ is roughly 1/40 of the Nasdaq-100 and the ratio drifts (unverified): its strikes are dollars, not index points",
  },
};

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as "HH:MM"');

export const configSchema = z
  .object({
    /** Polygon/Massive API key; falls back to the POLYGON_API_KEY environment variable. */
    api_key: z.string().meta({ secret: true }).optional(),
    /** `https://api.polygon.io` or `https://api.massive.com`; a local test server in tests. */
    base_url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL such as https://api.polygon.io" }).default(DEFAULT_BASE_URL),
    /** Which chain: Nasdaq-100 index options ("I:NDX") or the ETF's ("QQQ"). */
    underlying: z.enum(UNDERLYINGS).default("I:NDX"),
    /**
     * Answer a request for NQ with this proxy chain. Off by default: a source that is not NQ data must be
     * asked for explicitly (until @nq/core carries a profile-level `allow_proxy`).
     */
    allow_proxy: z.boolean().default(false),
    /**
     * "query": `?apiKey=` on every request, the spec's only security scheme (next_url gets it appended);
     * "header": `Authorization: Bearer`, what the official Python client sends.
     */
    auth: z.enum(["query", "header"]).default("query"),
    /** Client-side throttle: at most `requests` per `per_seconds`. Free ("Basic") keys: 5 a minute. null: off. */
    rate_limit: z
      .object({ requests: z.number().int().positive(), per_seconds: z.number().positive() })
      .strict()
      .nullable()
      .default({ requests: 5, per_seconds: 60 }),
    /** Contracts per page, 1–250 (the spec's maximum). */
    page_limit: z.number().int().min(1).max(250).default(250),
    /** Stop after this many pages and call the chain incomplete (a guard against a looping next_url). */
    max_pages: z.number().int().positive().max(10_000).default(200),
    /** Per-request timeout. */
    timeout_ms: z.number().int().positive().default(30_000),
    /** Only expirations within this many days of today are asked for (null: all). */
    expiration_window_days: z.number().int().positive().nullable().default(null),
    /** Dollars per point when a contract does not give `shares_per_contract`. */
    multiplier: z.number().positive().default(100),
    /**
     * Only these option roots ("NDXP" PM-settled dailies, "NDX" AM-settled monthlies); null: all. Where two
     * roots share an expiration, strike and right (the third Friday), the PM-settled one is kept.
     */
    roots: z.array(z.string().min(1)).min(1).nullable().default(null),
    /** Option roots that are AM-settled (the settlement value is made from the expiry day's opening prints). */
    am_settled_roots: z.array(z.string().min(1)).default(["NDX"]),
    /** New York time at which AM-settled options are settled on their expiration date (unverified; CBOE: the opening). */
    am_settlement_time: hhmm.default("09:30"),
    /** New York time at which PM-settled (and QQQ) options stop trading on their expiration date. */
    pm_expiry_time: hhmm.default("16:00"),
    /** The data is generated (the local test server): label the chain SAMPLE DATA. */
    sample: z.boolean().default(false),
  })
  .strict();

export type PolygonConfig = z.input<typeof configSchema>;
export type ResolvedConfig = z.output<typeof configSchema>;

/**
 * The key from config, else from POLYGON_API_KEY. It is registered as a secret before anything else
 * happens to it, so even the error that rejects it cannot print it.
 */
export function resolveApiKey(config: { api_key?: string | undefined }, env: NodeJS.ProcessEnv = process.env): string {
  const fromConfig = config.api_key?.trim();
  const key = fromConfig || env[API_KEY_ENV]?.trim() || "";
  registerSecret(key);
  if (key === "") {
    throw new ConfigError(
      SOURCE_NAME,
      `no API key: set "api_key" in the source's config (e.g. "\${${API_KEY_ENV}}") or the ${API_KEY_ENV} environment variable. Keys are on the Polygon/Massive dashboard`,
      { path: API_KEY_PATH },
    );
  }
  if (/\s/.test(key)) {
    throw new ConfigError(SOURCE_NAME, `the API key from ${fromConfig ? '"api_key"' : API_KEY_ENV} contains white space; copy it again from the dashboard`, { path: API_KEY_PATH });
  }
  return key;
}

/**
 * What in this config changes the data, for the cache key: another host, underlying, expiry window or
 * contract terms is another chain. The key, the auth style, the throttle and the page size are not.
 */
export function cacheIdentity(config: ResolvedConfig): unknown {
  return {
    base_url: config.base_url,
    underlying: config.underlying,
    allow_proxy: config.allow_proxy,
    expiration_window_days: config.expiration_window_days,
    multiplier: config.multiplier,
    roots: config.roots === null ? null : [...config.roots].sort(),
    am_settled_roots: [...config.am_settled_roots].sort(),
    am_settlement_time: config.am_settlement_time,
    pm_expiry_time: config.pm_expiry_time,
    sample: config.sample,
  };
}
