/**
 * Imports a plugin named in a profile — a package name or a path — and checks its shape. Packages are
 * looked up first from the profile's folder (so a third-party plugin installed beside a user's profile
 * works exactly like ours), then from the runner's own dependencies. Every failure says which profile
 * field named the plugin, what was tried, and what to do.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { assertSourceDefinition, ConfigError, type CacheDefinition, type ChainHistory, type HistoryDefinition, type SourceDefinition } from "@nq/core";

export interface PluginRef {
  /** The profile field that named it, for messages ("data_sources.databento.plugin"). */
  field: string;
  specifier: string;
  baseDir: string;
}

export async function loadSourcePlugin(ref: PluginRef): Promise<SourceDefinition<unknown>> {
  const candidate = pickExport(await importPlugin(ref), "source");
  try {
    assertSourceDefinition(candidate, `the plugin "${ref.specifier}" (${ref.field})`);
  } catch (error) {
    throw new ConfigError("config", (error as Error).message, { path: ref.field });
  }
  return candidate;
}

export async function loadCachePlugin(ref: PluginRef): Promise<CacheDefinition<unknown>> {
  const candidate = pickExport(await importPlugin(ref), "cache") as Partial<CacheDefinition<unknown>> | undefined;
  const problems: string[] = [];
  if (typeof candidate !== "object" || candidate === null) problems.push("expected a cache definition object (made with defineCache)");
  else {
    if (typeof candidate.name !== "string") problems.push(`"name" must be a string`);
    if (typeof (candidate.configSchema as { safeParse?: unknown } | undefined)?.safeParse !== "function") problems.push(`"configSchema" must be a zod schema`);
    if (typeof candidate.create !== "function") problems.push(`"create" must be a function`);
  }
  if (problems.length > 0) {
    throw new ConfigError("config", `the plugin "${ref.specifier}" (${ref.field}) is not a valid cache definition:\n  - ${problems.join("\n  - ")}`, { path: ref.field });
  }
  return candidate as CacheDefinition<unknown>;
}

/**
 * The `history` named export of a plugin package or file (@nq/cache-sqlite exports its cache by default and
 * its history by this name), shape-checked.
 */
export async function loadHistoryPlugin(ref: PluginRef): Promise<HistoryDefinition<unknown>> {
  const candidate = pickExport(await importPlugin(ref), "history") as Partial<HistoryDefinition<unknown>> | undefined;
  const problems: string[] = [];
  if (typeof candidate !== "object" || candidate === null) problems.push(`expected a named export "history": a history definition made with defineHistory (\`export const history = defineHistory({ … })\`)`);
  else {
    if (typeof candidate.name !== "string") problems.push(`"name" must be a string`);
    if (typeof (candidate.configSchema as { safeParse?: unknown } | undefined)?.safeParse !== "function") problems.push(`"configSchema" must be a zod schema`);
    if (typeof candidate.create !== "function") problems.push(`"create" must be a function`);
  }
  if (problems.length > 0) {
    throw new ConfigError("config", `the plugin "${ref.specifier}" (${ref.field}) is not a valid history definition:\n  - ${problems.join("\n  - ")}`, { path: ref.field });
  }
  return candidate as HistoryDefinition<unknown>;
}

const HISTORY_METHODS = ["append", "listSnapshots", "getSnapshot", "contracts", "openInterestByStrike", "settlementSeries", "applyRetention", "close"] as const;

/** Checks what a history plugin's `create` returned; a cache or a half-made store is named, not used. */
export function assertChainHistory(value: unknown, specifier: string): asserts value is ChainHistory {
  const fields = (value ?? {}) as Record<string, unknown>;
  const missing: string[] = [...(typeof fields.location === "string" ? [] : ["location"]), ...HISTORY_METHODS.filter((name) => typeof fields[name] !== "function")];
  if (missing.length > 0) throw new TypeError(`the history plugin "${specifier}" created something that is not a ChainHistory (missing: ${missing.join(", ")})`);
}

/** The module's default export, or else its only export that looks like a definition. */
function pickExport(module: Record<string, unknown>, kind: "source" | "cache" | "history"): unknown {
  // A store package may offer a cache (its default) and a history: only the name says which is which.
  if (kind === "history") return module.history;
  if (module.default !== undefined) return module.default;
  const named = Object.values(module).filter((value) => typeof value === "object" && value !== null && "create" in value && "configSchema" in value);
  if (named.length === 1) return named[0];
  return kind === "source" ? module.source : module.cache;
}

/** A plugin's whole module, for the optional named exports beside its definition (a source's `backfill`). */
export function importPluginModule(ref: PluginRef): Promise<Record<string, unknown>> {
  return importPlugin(ref);
}

async function importPlugin(ref: PluginRef): Promise<Record<string, unknown>> {
  const url = resolvePlugin(ref);
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && url === ref.specifier && isOwnMissing(error, ref.specifier)) {
      throw new ConfigError(
        "config",
        `${ref.field}: the plugin package "${ref.specifier}" is not installed (looked in node_modules from ${ref.baseDir} upwards and in the runner's dependencies). Install it (e.g. \`pnpm add ${ref.specifier}\`) or fix the name`,
        { path: ref.field, cause: error },
      );
    }
    throw new ConfigError("config", `${ref.field}: the plugin "${ref.specifier}" failed to load: ${(error as Error).message}`, { path: ref.field, cause: error });
  }
}

/** True when the missing module is the plugin itself, not something the plugin imports. */
function isOwnMissing(error: unknown, specifier: string): boolean {
  const message = (error as Error).message;
  return message.includes(`'${specifier}'`) || message.includes(`"${specifier}"`);
}

function resolvePlugin(ref: PluginRef): string {
  const { specifier, baseDir } = ref;
  if (specifier.startsWith("file:")) return specifier;
  if (specifier.startsWith(".") || isAbsolute(specifier)) {
    const file = resolve(baseDir, specifier);
    if (!existsSync(file)) {
      throw new ConfigError("config", `${ref.field}: the plugin file ${file} does not exist (paths are relative to the profile's folder ${baseDir})`, { path: ref.field });
    }
    return pathToFileURL(file).href;
  }
  return findPackageEntry(specifier, baseDir) ?? specifier;
}

/**
 * Node offers no stable way to resolve an ESM package from another folder, so this follows the
 * package-resolution rules that matter for plugins: node_modules upwards, then `exports["."]`
 * (import/default/node conditions), `module`-less `main`, or index.js.
 */
function findPackageEntry(name: string, fromDir: string): string | null {
  let dir = resolve(fromDir);
  for (;;) {
    const packageDir = join(dir, "node_modules", name);
    const manifest = join(packageDir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { exports?: unknown; main?: string };
      const entry = exportEntry(pkg.exports) ?? pkg.main ?? "index.js";
      return pathToFileURL(join(packageDir, entry)).href;
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function exportEntry(exports: unknown): string | null {
  if (typeof exports === "string") return exports;
  if (typeof exports !== "object" || exports === null) return null;
  const map = exports as Record<string, unknown>;
  const root = "." in map ? map["."] : map;
  if (typeof root === "string") return root;
  if (typeof root !== "object" || root === null) return null;
  for (const condition of ["import", "node", "default"]) {
    const target = (root as Record<string, unknown>)[condition];
    if (typeof target === "string") return target;
    const nested = exportEntry(target);
    if (nested) return nested;
  }
  return null;
}
