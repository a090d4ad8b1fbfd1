/**
 * Profiles: JSON files that say which sources to use, in which order, with which settings. Strings may
 * name environment variables (`${DATABENTO_API_KEY}`, `${VAR:-default}`), read from the process or from a
 * `.env` file. A wrong field fails with its JSON path and what was expected; a variable that is not set
 * does not fail the profile — it skips the source that needs it, with that reason, so a profile naming a
 * paid source still runs on a machine with no keys. Every problem found in one pass is reported at once,
 * in one ConfigError: the top level's, and (through `parseSourceConfigs`) every source's.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_ANALYTICS_RATE } from "./analytics/index.js";
import { ConfigError, isSourceErrorOfKind } from "./errors.js";
import type { ChainRequest } from "./request.js";
import { isSecretFieldName, registerSecret } from "./secrets.js";
import type { SourceDefinition } from "./source.js";

/** Limits that keep a malformed or hostile profile from exhausting memory or the stack. */
export const PROFILE_LIMITS = {
  /** Bytes of profile text; real profiles are a few KB. */
  maxBytes: 1024 * 1024,
  /** Levels of nesting of objects and arrays (a profile uses about 5). */
  maxDepth: 32,
  /** Entries in `data_source_priority`, and sources in `data_sources`. */
  maxSources: 64,
  /** Problems listed in one ConfigError before "… and N more". */
  maxIssues: 50,
} as const;

const MAX_DEADLINE_MS = 24 * 60 * 60_000;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as YYYY-MM-DD");

const dataSourceSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A package name ("@nq/source-databento", "acme-nq-source") or a path relative to the profile. */
    plugin: z.string().min(1, "expected a package name or a path"),
    config: z.record(z.string(), z.unknown()).default({}),
    /** false: never read or write this source's results in the cache (e.g. a local replay). */
    cache: z.boolean().default(true),
    /** This source's deadline, overriding the profile's `source_deadline_ms`. */
    deadline_ms: z.number().int().positive().max(MAX_DEADLINE_MS).optional(),
  })
  .strict();

const requestSchema = z
  .object({
    product: z.string().min(1).default("NQ"),
    expirations: z.array(isoDate).optional(),
    max_expirations: z.number().int().positive().optional(),
    strike_min: z.number().positive().optional(),
    strike_max: z.number().positive().optional(),
    as_of: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

const cacheSchema = z
  .object({
    enabled: z.boolean().default(true),
    plugin: z.string().min(1).default("@nq/cache-sqlite"),
  })
  .catchall(z.unknown());

/**
 * Where every chain a run produces is appended (a `history` export of the plugin). Absent: the default —
 * @nq/cache-sqlite's history file beside the cache. `retention` is applied by the runner after each append;
 * the other fields go to the plugin.
 */
const historySchema = z
  .object({
    enabled: z.boolean().default(true),
    plugin: z.string().min(1).default("@nq/cache-sqlite"),
    retention: z
      .object({
        /** Snapshots whose as-of is older than this many days are deleted (with their contracts). */
        max_age_days: z.number().positive("expected a positive number of days").optional(),
        /** Keep only the newest this many snapshots of each profile. */
        max_snapshots_per_profile: z.number().int("expected a whole number").positive("expected at least 1").optional(),
      })
      .strict()
      .optional(),
  })
  .catchall(z.unknown());

const qualitySchema = z
  .object({
    /** A quote older than this many minutes before the as-of time is counted as stale (it is still the book). */
    stale_quote_minutes: z.number().positive().max(7 * 24 * 60).default(15),
    /** Above this share (0..1) of contracts missing a bid or an ask, a chain is not complete. */
    max_missing_bid_ask_share: z.number().min(0).max(1).default(0.5),
  })
  .strict();

const outputSchema = z
  .object({
    dir: z.string().min(1).default("outputs"),
    /** Also write the self-contained chain page (`<stem>.chain.html`) beside the JSON and CSV. */
    html: z.boolean().default(true),
  })
  .strict();

export const profileSchema = z
  .object({
    $schema: z.string().optional(),
    profile_name: z.string().min(1),
    description: z.string().optional(),
    data_source_priority: z
      .array(z.string().min(1))
      .min(1, "expected at least one source name")
      .max(PROFILE_LIMITS.maxSources, `expected at most ${PROFILE_LIMITS.maxSources} source names`)
      .superRefine((names, ctx) => {
        const seen = new Set<string>();
        const reported = new Set<string>();
        names.forEach((name, index) => {
          if (seen.has(name) && !reported.has(name)) {
            reported.add(name);
            ctx.addIssue({ code: "custom", path: [index], message: `names "${name}" more than once (each source is tried once; remove the repeats)` });
          }
          seen.add(name);
        });
      }),
    fallback: z.enum(["fallback", "strict"]).default("fallback"),
    data_sources: z
      .record(z.string(), dataSourceSchema)
      .refine((sources) => Object.keys(sources).length <= PROFILE_LIMITS.maxSources, `expected at most ${PROFILE_LIMITS.maxSources} sources`),
    request: requestSchema.default({ product: "NQ" }),
    /** A hard cap on what one run may spend across all paid sources, in USD; null for none. */
    run_cost_limit_usd: z.number().nonnegative().nullable().default(null),
    /** Extra tries per source for retryable errors (network, rate limit). */
    retries: z.number().int().min(0).max(5).default(1),
    /**
     * How long one source may take in all (every try and the pauses between) before it is abandoned and
     * the next one tried, in ms. `data_sources.<key>.deadline_ms` overrides it for one source.
     */
    source_deadline_ms: z.number().int().positive().max(MAX_DEADLINE_MS).default(60_000),
    cache: cacheSchema.optional(),
    history: historySchema.optional(),
    output: outputSchema.default({ dir: "outputs", html: true }),
    quality: qualitySchema.default({ stale_quote_minutes: 15, max_missing_bid_ask_share: 0.5 }),
    /** Monthly USD per source (UTC months), for `usage` and the budget alert; validated by @nq/ops. */
    budget: z.record(z.string(), z.unknown()).optional(),
    /** Alert rules and sinks; validated by @nq/ops. */
    alerts: z.record(z.string(), z.unknown()).optional(),
    /** `compare` tolerances; validated by @nq/ops. */
    compare: z.record(z.string(), z.unknown()).optional(),
    /**
     * `watch` (without `--live`): how often to run the profile (`interval_seconds` or a `cron` expression in
     * America/Chicago), the backoff cap after failed runs, and which sources apply in which CME session windows
     * (times HH:MM in America/Chicago; `days`: "trading" = CME trade dates, holidays excluded); the first
     * matching window wins, `otherwise: true` matches any time. Checked further by the runner.
     */
    watch: z
      .object({
        interval_seconds: z.number().positive().optional(),
        cron: z.string().min(1).optional(),
        max_backoff_seconds: z.number().positive().optional(),
        windows: z
          .array(
            z
              .object({
                name: z.string().min(1).optional(),
                sources: z.array(z.string().min(1)).min(1),
                from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM (24 h, America/Chicago)").optional(),
                to: z.string().regex(/^([01]\d|2[0-4]):[0-5]\d$/, "expected HH:MM (24 h, America/Chicago)").optional(),
                days: z.enum(["trading", "weekdays", "all"]).optional(),
                otherwise: z.boolean().optional(),
              })
              .strict(),
          )
          .optional(),
      })
      .strict()
      .optional(),
    /** Let a proxy source (another product standing in, e.g. NDX options for NQ) answer; labelled PROXY. */
    allow_proxy: z.boolean().default(false),
    /** Black-76 IV and greeks computed per contract; `false` turns them off. */
    analytics: z
      .union([z.literal(false), z.object({ rate: z.number().finite().min(-0.1).max(1).default(DEFAULT_ANALYTICS_RATE) }).strict()])
      .default({ rate: DEFAULT_ANALYTICS_RATE }),
  })
  .strict()
  .superRefine((profile, ctx) => {
    const reported = new Set<string>();
    profile.data_source_priority.forEach((name, index) => {
      if (!Object.hasOwn(profile.data_sources, name) && !reported.has(name)) {
        reported.add(name);
        ctx.addIssue({
          code: "custom",
          path: ["data_source_priority", index],
          message: `names "${name}", which is not a key of "data_sources" (known: ${Object.keys(profile.data_sources).join(", ") || "none"})`,
        });
      }
    });
  });

export type Profile = z.infer<typeof profileSchema>;
export type DataSourceConfig = z.infer<typeof dataSourceSchema>;

export interface LoadedProfile {
  profile: Profile;
  /** The absolute path of the profile file; relative paths in it resolve against its folder. */
  path: string;
  baseDir: string;
  /** Per source: the environment variables it needs that are not set. */
  missingVariables: Record<string, string[]>;
  /** Every `${VARIABLE}` that is not set, with the field that uses it ("data_sources.databento.config.api_key"). */
  unsetVariables: { path: string; variable: string }[];
}

/** A `${VARIABLE}` the loader replaced: where, which, and with what (kept out of the LoadedProfile object). */
interface Substitution {
  path: (string | number)[];
  variable: string;
  value: string | undefined;
}

const substitutionsOf = new WeakMap<LoadedProfile, Substitution[]>();

export interface LoadProfileOptions {
  env?: NodeJS.ProcessEnv;
  /** `.env` files to read (missing ones are ignored); values already in `env` win. */
  dotenvFiles?: string[];
}

export function loadProfile(path: string, options: LoadProfileOptions = {}): LoadedProfile {
  const absolute = resolve(path);
  let text: string;
  try {
    const size = statSync(absolute).size;
    if (size > PROFILE_LIMITS.maxBytes) {
      throw new ConfigError("config", `${absolute} is ${(size / 1024 / 1024).toFixed(1)} MB; a profile is a few KB (the limit is ${PROFILE_LIMITS.maxBytes / 1024 / 1024} MB). Check that --profile/--config names the right file`, { path: "" });
    }
    text = readFileSync(absolute, "utf8");
  } catch (error) {
    if (isSourceErrorOfKind(error, "config")) throw error;
    throw new ConfigError("config", `cannot read the profile ${absolute}: ${(error as Error).message}. Check the --profile/--config path`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError("config", `${absolute} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const baseDir = dirname(absolute);
  const env = { ...readDotenvFiles(options.dotenvFiles ?? [resolve(baseDir, ".env")]), ...(options.env ?? process.env) };
  return parseProfile(json, { env, path: absolute, baseDir });
}

export function parseProfile(json: unknown, where: { env: NodeJS.ProcessEnv; path: string; baseDir: string }): LoadedProfile {
  const tooDeep = depthBeyond(json, PROFILE_LIMITS.maxDepth);
  if (tooDeep) {
    throw new ConfigError("config", `invalid profile ${where.path}:\n  - ${tooDeep}: nested more than ${PROFILE_LIMITS.maxDepth} levels deep; a profile needs about 5`, { path: tooDeep });
  }
  const tooMany = Array.isArray((json as { data_source_priority?: unknown } | null)?.data_source_priority)
    ? (json as { data_source_priority: unknown[] }).data_source_priority.length
    : 0;
  if (tooMany > PROFILE_LIMITS.maxSources) {
    throw new ConfigError("config", `invalid profile ${where.path}:\n  - data_source_priority: lists ${tooMany} names; expected at most ${PROFILE_LIMITS.maxSources}, each source once`, {
      path: "data_source_priority",
    });
  }
  const substitutions: Substitution[] = [];
  const substituted = substituteVariables(json, [], where.env, substitutions);
  const unset = substitutions.filter((s) => s.value === undefined);
  const unsetVariables = unset.map(({ path, variable }) => ({ path: formatPath(path), variable }));
  // An unset variable outside a source's config is an error, reported with the schema's other problems;
  // a field it left empty is reported as that variable, not as "received undefined".
  const inSource = ({ path }: Substitution) => path[0] === "data_sources" && typeof path[1] === "string";
  const topLevelUnset = unset.filter((s) => !inSource(s));
  const issues: Issue[] = topLevelUnset.map(({ path, variable }) => ({ path: formatPath(path), message: unsetMessage(variable), sentence: true }));
  const parsed = profileSchema.safeParse(substituted);
  if (!parsed.success) issues.push(...issuesFromZod(parsed.error, "", unset));
  if (issues.length > 0 || !parsed.success) throw configError("config", where.path, issues);
  const missingVariables: Record<string, string[]> = {};
  for (const { path, variable } of unset.filter(inSource)) {
    const list = (missingVariables[path[1] as string] ??= []);
    if (!list.includes(variable)) list.push(variable);
  }
  const loaded: LoadedProfile = { profile: parsed.data, path: where.path, baseDir: where.baseDir, missingVariables, unsetVariables };
  substitutionsOf.set(loaded, substitutions);
  return loaded;
}

/** Validates one source's `config` object with its own schema; errors name the full JSON path. */
export function parseSourceConfig<C>(definition: SourceDefinition<C>, sourceKey: string, raw: unknown, profilePath: string): C {
  const outcome = checkSourceConfig(definition, sourceKey, raw, []);
  if (!outcome.ok) throw configError(definition.name, profilePath, outcome.issues);
  return outcome.config;
}

/**
 * Validates the config of every source given (key → its imported definition; null or undefined for one
 * not imported, e.g. disabled) and reports every problem of every source in one ConfigError, each with its
 * full JSON path. A source whose `${VARIABLE}`s are not set is left out of the result (the runner skips it,
 * saying why) rather than failing. Values in fields the schema marks secret (`.meta({ secret: true })`),
 * and the variables substituted into them, are registered for redaction.
 */
export function parseSourceConfigs(loaded: LoadedProfile, definitions: Record<string, SourceDefinition<unknown> | null | undefined>): Record<string, unknown> {
  const substitutions = substitutionsOf.get(loaded) ?? [];
  const configs: Record<string, unknown> = {};
  const issues: Issue[] = [];
  for (const [key, definition] of Object.entries(definitions)) {
    if (!definition || loaded.missingVariables[key]?.length) continue;
    const ours = substitutions.filter(({ path }) => path[0] === "data_sources" && path[1] === key && path[2] === "config");
    const outcome = checkSourceConfig(definition, key, loaded.profile.data_sources[key]?.config, ours);
    if (outcome.ok) configs[key] = outcome.config;
    else issues.push(...outcome.issues);
  }
  if (issues.length > 0) throw configError("config", loaded.path, issues);
  return configs;
}

function checkSourceConfig<C>(
  definition: SourceDefinition<C>,
  sourceKey: string,
  raw: unknown,
  substitutions: Substitution[],
): { ok: true; config: C } | { ok: false; issues: Issue[] } {
  const prefix = `data_sources.${sourceKey}.config`;
  let parsed: ReturnType<typeof definition.configSchema.safeParse>;
  try {
    parsed = definition.configSchema.safeParse(raw ?? {});
  } catch (error) {
    return { ok: false, issues: [{ path: prefix, message: `the source's schema failed to run: ${(error as Error).message}` }] };
  }
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error as z.ZodError, prefix, []) };
  for (const { path, value } of secretValues(definition.configSchema, parsed.data, [])) {
    registerSecret(value);
    // "Bearer ${TOKEN}": the variable's own value is the secret, whatever text surrounds it.
    for (const s of substitutions) if (s.value !== undefined && samePath(s.path.slice(3), path)) registerSecret(s.value);
  }
  return { ok: true, config: parsed.data };
}

export function toChainRequest(profile: Profile, overrides: Partial<ChainRequest> = {}): ChainRequest {
  const r = profile.request;
  const request: ChainRequest = { product: r.product.toUpperCase() };
  if (r.expirations) request.expirations = r.expirations;
  if (r.max_expirations !== undefined) request.maxExpirations = r.max_expirations;
  if (r.strike_min !== undefined) request.strikeMin = r.strike_min;
  if (r.strike_max !== undefined) request.strikeMax = r.strike_max;
  if (r.as_of !== undefined) request.asOf = r.as_of;
  return { ...request, ...overrides };
}

interface Issue {
  path: string;
  message: string;
  /** Joins path and message with a space instead of ": " ("output.dir uses ${OUT_DIR}, …"). */
  sentence?: boolean;
}

function unsetMessage(variable: string): string {
  return `uses \${${variable}}, which is not set in the environment or a .env file`;
}

function issuesFromZod(error: z.ZodError, prefix: string, unset: Substitution[]): Issue[] {
  return error.issues.map((issue) => {
    const own = issue.path as (string | number)[];
    const path = [prefix, formatPath(own)].filter(Boolean).join(".") || "(top level)";
    const variable = unset.find((s) => samePath(s.path, own))?.variable;
    return variable ? { path, message: unsetMessage(variable), sentence: true } : { path, message: issue.message };
  });
}

/** One ConfigError for every problem found, each on its own line with its JSON path. */
function configError(source: string, file: string, issues: Issue[]): ConfigError {
  const seen = new Set<string>();
  const unique = issues.filter((issue) => {
    const key = `${issue.path}\n${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const shown = unique.slice(0, PROFILE_LIMITS.maxIssues).map((issue) => `${issue.path}${issue.sentence ? " " : ": "}${issue.message}`);
  if (unique.length > shown.length) shown.push(`… and ${unique.length - shown.length} more`);
  if (shown.length === 0) shown.push("(top level): invalid");
  return new ConfigError(source, `invalid profile ${file}:\n  - ${shown.join("\n  - ")}`, {
    path: unique[0]?.path ?? "",
    details: { issues: unique.slice(0, PROFILE_LIMITS.maxIssues).map(({ path, message }) => ({ path, message })) },
  });
}

function samePath(a: readonly (string | number | symbol)[], b: readonly (string | number | symbol)[]): boolean {
  return a.length === b.length && a.every((part, i) => String(part) === String(b[i]));
}

/** The path of the first value nested deeper than `limit` (iteratively: a deep value must not blow the stack). */
function depthBeyond(value: unknown, limit: number): string | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: at, path } = stack.pop()!;
    if (typeof at !== "object" || at === null) continue;
    if (path.length >= limit) return formatPath(path) || "(top level)";
    const entries: [string | number, unknown][] = Array.isArray(at) ? at.map((item, i) => [i, item]) : Object.entries(at);
    for (const [key, item] of entries) if (typeof item === "object" && item !== null) stack.push({ value: item, path: [...path, key] });
  }
  return null;
}

/**
 * String values in `data` at fields its schema marks secret — `.meta({ secret: true })` on the field (or
 * anywhere in its wrappers: optional, default, nullable…) — or whose name looks like a credential. Reads
 * the schema through zod's own structure, so it works with a schema built by another copy of zod.
 */
function secretValues(schema: unknown, data: unknown, path: (string | number)[], depth = 0, marked = false): { path: (string | number)[]; value: string }[] {
  if (depth > PROFILE_LIMITS.maxDepth || schema === null || typeof schema !== "object") return [];
  const node = schema as { meta?: () => unknown; _zod?: { def?: Record<string, unknown> } };
  let meta: unknown;
  try {
    meta = typeof node.meta === "function" ? node.meta() : undefined;
  } catch {
    meta = undefined;
  }
  const secret = marked || (typeof meta === "object" && meta !== null && (meta as { secret?: unknown }).secret === true);
  const def = node._zod?.def ?? {};
  const inner = (def.innerType ?? (def.type === "pipe" ? def.in : undefined) ?? (def.type === "lazy" && typeof def.getter === "function" ? (def.getter as () => unknown)() : undefined)) as unknown;
  if (inner) return secretValues(inner, data, path, depth + 1, secret);
  if (typeof data === "string") return secret ? [{ path, value: data }] : [];
  const out: { path: (string | number)[]; value: string }[] = [];
  if (def.type === "object" && typeof data === "object" && data !== null && !Array.isArray(data)) {
    const shape = (def.shape ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(data)) {
      const named = isSecretFieldName(key);
      if (key in shape) out.push(...secretValues(shape[key], value, [...path, key], depth + 1, secret || named));
      else if (typeof value === "string" && (secret || named)) out.push({ path: [...path, key], value });
    }
  } else if (def.type === "record" && typeof data === "object" && data !== null) {
    for (const [key, value] of Object.entries(data)) out.push(...secretValues(def.valueType, value, [...path, key], depth + 1, secret || isSecretFieldName(key)));
  } else if (def.type === "array" && Array.isArray(data)) {
    data.forEach((item, i) => out.push(...secretValues(def.element, item, [...path, i], depth + 1, secret)));
  } else if ((def.type === "union" || def.type === "intersection") && typeof data === "object" && data !== null) {
    const options = (def.type === "union" ? def.options : [def.left, def.right]) as unknown[];
    for (const option of options ?? []) out.push(...secretValues(option, data, path, depth + 1, secret));
  }
  return out;
}

function formatPath(path: (string | number | symbol)[]): string {
  return path.map((part) => (typeof part === "number" ? `[${part}]` : String(part))).join(".").replace(/\.\[/g, "[");
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function substituteVariables(value: unknown, path: (string | number)[], env: NodeJS.ProcessEnv, found: Substitution[]): unknown {
  if (typeof value === "string") {
    const field = path[path.length - 1];
    const secretField = typeof field === "string" && isSecretFieldName(field);
    let unset = false;
    // Inside a string: "https://${HOST}:${PORT:-443}/v0" becomes the whole string with each part replaced.
    // A variable set to "" fills a part of a string with nothing; as the whole value it counts as unset
    // (an empty "${API_KEY}" is no key).
    const whole = /^\$\{[^}]*\}$/.test(value);
    const out = value.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
      const set = env[name];
      if (set !== undefined && (set !== "" || (!whole && fallback === undefined))) {
        found.push({ path, variable: name, value: set });
        if (secretField || /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL/i.test(name)) registerSecret(set);
        return set;
      }
      if (fallback !== undefined) return fallback;
      unset = true;
      found.push({ path, variable: name, value: undefined });
      return "";
    });
    if (unset) return undefined;
    if (secretField) registerSecret(out);
    return out;
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteVariables(item, [...path, index], env, found));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const next = substituteVariables(item, [...path, key], env, found);
      if (next !== undefined) out[key] = next;
    }
    return out;
  }
  return value;
}

/** A small `.env` reader: KEY=value lines, `#` comments, optional quotes, `export ` prefix. */
export function readDotenvFiles(files: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
      const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
      if (!match || line.trimStart().startsWith("#")) continue;
      let raw = match[2] ?? "";
      const quoted = /^(['"])(.*)\1$/.exec(raw);
      if (quoted) raw = quoted[2] ?? "";
      else raw = raw.replace(/\s+#.*$/, "");
      if (!(match[1]! in values)) values[match[1]!] = raw;
    }
  }
  return values;
}
