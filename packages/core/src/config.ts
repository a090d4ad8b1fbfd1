/**
 * Profiles: JSON files that say which sources to use, in which order, with which settings. Strings may
 * name environment variables (`${DATABENTO_API_KEY}`, `${VAR:-default}`), read from the process or from a
 * `.env` file. A wrong field fails with its JSON path and what was expected; a variable that is not set
 * does not fail the profile — it skips the source that needs it, with that reason, so a profile naming a
 * paid source still runs on a machine with no keys.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "./errors.js";
import type { ChainRequest } from "./request.js";
import { isSecretFieldName, registerSecret } from "./secrets.js";
import type { SourceDefinition } from "./source.js";

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date as YYYY-MM-DD");

const dataSourceSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A package name ("@nq/source-databento", "acme-nq-source") or a path relative to the profile. */
    plugin: z.string().min(1, "expected a package name or a path"),
    config: z.record(z.string(), z.unknown()).default({}),
    /** false: never read or write this source's results in the cache (e.g. a local replay). */
    cache: z.boolean().default(true),
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
  })
  .strict();

export const profileSchema = z
  .object({
    $schema: z.string().optional(),
    profile_name: z.string().min(1),
    description: z.string().optional(),
    data_source_priority: z.array(z.string().min(1)).min(1, "expected at least one source name"),
    fallback: z.enum(["fallback", "strict"]).default("fallback"),
    data_sources: z.record(z.string(), dataSourceSchema),
    request: requestSchema.default({ product: "NQ" }),
    /** A hard cap on what one run may spend across all paid sources, in USD; null for none. */
    run_cost_limit_usd: z.number().nonnegative().nullable().default(null),
    /** Extra tries per source for retryable errors (network, rate limit). */
    retries: z.number().int().min(0).max(5).default(1),
    cache: cacheSchema.optional(),
    output: outputSchema.default({ dir: "outputs" }),
    quality: qualitySchema.default({ stale_quote_minutes: 15, max_missing_bid_ask_share: 0.5 }),
  })
  .strict()
  .superRefine((profile, ctx) => {
    profile.data_source_priority.forEach((name, index) => {
      if (!(name in profile.data_sources)) {
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
}

export interface LoadProfileOptions {
  env?: NodeJS.ProcessEnv;
  /** `.env` files to read (missing ones are ignored); values already in `env` win. */
  dotenvFiles?: string[];
}

export function loadProfile(path: string, options: LoadProfileOptions = {}): LoadedProfile {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, "utf8");
  } catch (error) {
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
  const missing: { path: (string | number)[]; variable: string }[] = [];
  const substituted = substituteVariables(json, [], where.env, missing);
  const parsed = profileSchema.safeParse(substituted);
  if (!parsed.success) throw configErrorFromZod(parsed.error, where.path, "");
  const missingVariables: Record<string, string[]> = {};
  for (const { path, variable } of missing) {
    if (path[0] === "data_sources" && typeof path[1] === "string") {
      const list = (missingVariables[path[1]] ??= []);
      if (!list.includes(variable)) list.push(variable);
    } else {
      throw new ConfigError("config", `${where.path}: ${formatPath(path)} uses \${${variable}}, which is not set in the environment or a .env file`, {
        path: formatPath(path),
      });
    }
  }
  return { profile: parsed.data, path: where.path, baseDir: where.baseDir, missingVariables };
}

/** Validates one source's `config` object with its own schema; errors name the full JSON path. */
export function parseSourceConfig<C>(definition: SourceDefinition<C>, sourceKey: string, raw: unknown, profilePath: string): C {
  const parsed = definition.configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw configErrorFromZod(parsed.error as z.ZodError, profilePath, `data_sources.${sourceKey}.config`, definition.name);
  return parsed.data;
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

function configErrorFromZod(error: z.ZodError, file: string, prefix: string, source = "config"): ConfigError {
  const lines = error.issues.map((issue) => {
    const path = [prefix, formatPath(issue.path as (string | number)[])].filter(Boolean).join(".") || "(top level)";
    return `${path}: ${issue.message}`;
  });
  const first = lines[0] ?? "invalid";
  return new ConfigError(source, `invalid profile ${file}:\n  - ${lines.join("\n  - ")}`, { path: first.split(":")[0] ?? "" });
}

function formatPath(path: (string | number | symbol)[]): string {
  return path.map((part) => (typeof part === "number" ? `[${part}]` : String(part))).join(".").replace(/\.\[/g, "[");
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function substituteVariables(
  value: unknown,
  path: (string | number)[],
  env: NodeJS.ProcessEnv,
  missing: { path: (string | number)[]; variable: string }[],
): unknown {
  if (typeof value === "string") {
    let unset = false;
    const out = value.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== "") {
        if (/KEY|TOKEN|SECRET|PASSWORD/i.test(name)) registerSecret(found);
        return found;
      }
      if (fallback !== undefined) return fallback;
      unset = true;
      missing.push({ path, variable: name });
      return "";
    });
    if (unset) return undefined;
    const field = path[path.length - 1];
    if (typeof field === "string" && isSecretFieldName(field)) registerSecret(out);
    return out;
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteVariables(item, [...path, index], env, missing));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const next = substituteVariables(item, [...path, key], env, missing);
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
