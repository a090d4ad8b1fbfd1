/**
 * A profile with the operations sections @nq/ops reads — `budget`, `alerts`, `compare` — beside core's.
 * Core's profile schema does not know them yet (it is strict), so they are taken out of the raw JSON here,
 * `${VAR}`-substituted and validated with @nq/ops's schemas, and core validates the rest as always. Once
 * core's schema names them, this reads the same file the same way.
 *
 * Also: where the spend ledger lives — the cache's SQLite file when the profile uses @nq/cache-sqlite (its
 * `path`, even when a run says --no-cache: spend is recorded whatever the cache does); a profile without
 * one records nothing.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError, loadProfile, parseProfile, PROFILE_LIMITS, readDotenvFiles, registerSecret, type LoadedProfile } from "@nq/core";
import { opsSectionsSchema, splitOpsSections, type OpsSections } from "@nq/ops";

export interface OpsProfile {
  loaded: LoadedProfile;
  ops: OpsSections;
  /** The environment the profile was read with (process or given, over .env files). */
  env: NodeJS.ProcessEnv;
}

export interface LoadOpsProfileOptions {
  env?: NodeJS.ProcessEnv;
  dotenvFiles?: string[];
}

export function loadOpsProfile(path: string, options: LoadOpsProfileOptions = {}): OpsProfile {
  const absolute = resolve(path);
  const baseDir = dirname(absolute);
  const env = { ...readDotenvFiles(options.dotenvFiles ?? [resolve(baseDir, ".env")]), ...(options.env ?? process.env) };
  let json: unknown;
  try {
    if (statSync(absolute).size > PROFILE_LIMITS.maxBytes) throw new Error("too large");
    json = JSON.parse(readFileSync(absolute, "utf8"));
  } catch {
    // Unreadable, too large or not JSON: core says what is wrong, in its words.
    const loaded = loadProfile(absolute, { env, ...(options.dotenvFiles ? { dotenvFiles: options.dotenvFiles } : {}) });
    return { loaded, ops: {}, env };
  }
  const { rest, sections } = splitOpsSections(json);
  const loaded = parseProfile(rest, { env, path: absolute, baseDir });
  const substituted = substitute(sections, [], env);
  const parsed = opsSectionsSchema.safeParse(substituted.value);
  const problems = [
    ...substituted.unset.map(({ path: at, variable }) => `${at} uses \${${variable}}, which is not set in the environment or a .env file`),
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.map(String).join(".") || "(top level)"}: ${issue.message}`)),
  ];
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError("config", `invalid profile ${absolute}:\n  - ${problems.join("\n  - ")}`, { path: problems[0]?.split(/[: ]/)[0] ?? "" });
  }
  // A webhook's URL (Slack's, say) and its headers are credentials: never printed.
  const webhook = parsed.data.alerts?.webhook;
  if (webhook) for (const secret of [webhook.url, ...Object.values(webhook.headers)]) registerSecret(secret);
  return { loaded, ops: parsed.data, env };
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function substitute(value: unknown, path: string[], env: NodeJS.ProcessEnv): { value: unknown; unset: { path: string; variable: string }[] } {
  const unset: { path: string; variable: string }[] = [];
  const walk = (v: unknown, at: string[]): unknown => {
    if (typeof v === "string") {
      return v.replace(VARIABLE, (_m, name: string, fallback: string | undefined) => {
        const set = env[name];
        if (set !== undefined && set !== "") return set;
        if (fallback !== undefined) return fallback;
        unset.push({ path: at.join("."), variable: name });
        return "";
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...at, String(i)]));
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...at, k])]));
    return v;
  };
  return { value: walk(value, path), unset };
}

/**
 * The SQLite file the spend ledger, run history and fired alerts go to: the profile's @nq/cache-sqlite
 * file. Null when the profile has no such cache — then nothing is recorded (a failed run still writes nothing).
 */
export function ledgerPathFor(loaded: LoadedProfile): string | null {
  const cache = loaded.profile.cache as ({ enabled?: boolean; plugin?: string; path?: unknown } & Record<string, unknown>) | undefined;
  if (!cache || cache.enabled === false || (cache.plugin ?? "@nq/cache-sqlite") !== "@nq/cache-sqlite") return null;
  const path = typeof cache.path === "string" && cache.path ? cache.path : "outputs/cache.db";
  return isAbsolute(path) ? path : resolve(loaded.baseDir, path);
}
