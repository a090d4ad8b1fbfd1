#!/usr/bin/env node
// Packs every publishable workspace package exactly as `pnpm publish` would (prepack included) into a
// temporary folder, unpacks each tarball and FAILS when one would ship broken: a missing dist entry point,
// types file or bin; no LICENSE or README; publishing fields missing (license, repository, public access);
// a `workspace:` range left in; a source map pointing at sources it does not carry; or an entry point that
// neither `import` nor `require()` (Node >= 20.19's require(esm)) can load.
//
//   node scripts/check-packs.mjs            # one turbo build of everything publishable, then pack and check
//   node scripts/check-packs.mjs --no-build # trust the current dist/ (prepack still runs, as a cache hit)
//
// CI runs it once after `pnpm install` (.ci/run). The build is one turbo run; each package's prepack
// (`turbo run build --filter=<name>...`) is then a cache hit, so packing costs seconds, not a build each.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REPOSITORY_URL = "git+https://github.com/nq-options/nq.git";
const WORKSPACE_GLOBS = ["packages", "apps", "examples"];

/**
 * Packages whose `require()` is known to fail, and why. The check expects the failure (so the list cannot
 * hide a new one) and fails once it is fixed, so the entry is removed.
 */
const REQUIRE_PENDING = {};

const args = new Set(process.argv.slice(2));
const problems = [];
const report = (pkg, message) => problems.push(`${pkg}: ${message}`);

const packages = publishablePackages();
if (packages.length === 0) fail("no publishable package found");
console.log(`publishable: ${packages.map((p) => p.name).join(", ")}`);
const privateOnes = workspacePackages().filter((p) => p.json.private);
console.log(`not published (private): ${privateOnes.map((p) => p.name).join(", ") || "none"}`);

if (!args.has("--no-build")) {
  const filters = packages.map((p) => `--filter=${p.name}...`);
  run("pnpm", ["exec", "turbo", "run", "build", ...filters, "--output-logs=errors-only"], ROOT);
}

const out = mkdtempSync(join(tmpdir(), "nq-packs-"));
try {
  for (const pkg of packages) checkPackage(pkg, out);
} finally {
  rmSync(out, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`\n${problems.length} problem${problems.length > 1 ? "s" : ""} in the packed packages:`);
  for (const p of problems) console.error(`  ✗ ${p}`);
  process.exit(1);
}
console.log(`\nall ${packages.length} tarballs carry their entry points, types, LICENSE and README, and load`);

function checkPackage(pkg, out) {
  const dest = join(out, pkg.dir.replaceAll(sep, "_"));
  const json = run("pnpm", ["pack", "--pack-destination", dest, "--json"], pkg.path, { quiet: true });
  const tarball = tarballFrom(json, dest);
  if (!tarball) return report(pkg.name, `pnpm pack made no tarball in ${dest}`);
  run("tar", ["-xzf", tarball, "-C", dest], ROOT, { quiet: true });
  const root = join(dest, "package");
  const files = listFiles(root);
  const packed = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const has = (path) => files.has(normalize(path));

  if (!has("LICENSE")) report(pkg.name, "no LICENSE in the tarball");
  if (!has("README.md")) report(pkg.name, "no README.md in the tarball");
  if (packed.license !== "MIT") report(pkg.name, `license is ${JSON.stringify(packed.license)}, expected "MIT"`);
  const repo = packed.repository;
  if (!repo || repo.type !== "git" || repo.url !== REPOSITORY_URL || repo.directory !== pkg.dir) {
    report(pkg.name, `repository should be {"type":"git","url":"${REPOSITORY_URL}","directory":"${pkg.dir}"}, is ${JSON.stringify(repo)}`);
  }
  if (packed.name.startsWith("@") && packed.publishConfig?.access !== "public") report(pkg.name, 'a scoped package needs publishConfig.access "public"');
  if (!packed.engines?.node) report(pkg.name, "no engines.node");
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [dep, range] of Object.entries(packed[field] ?? {})) {
      if (String(range).startsWith("workspace:")) report(pkg.name, `${field}.${dep} is still ${range} in the tarball`);
    }
  }

  // Every file package.json points at must be in the tarball.
  const entries = [];
  for (const field of ["main", "module", "types", "typings"]) if (typeof packed[field] === "string") entries.push([field, packed[field]]);
  if (typeof packed.bin === "string") entries.push(["bin", packed.bin]);
  else for (const [name, path] of Object.entries(packed.bin ?? {})) entries.push([`bin.${name}`, path]);
  collectExports(packed.exports, "exports", entries);
  if (!packed.exports) report(pkg.name, "no exports map");
  for (const [where, path] of entries) {
    if (path.includes("*")) continue;
    if (!has(path)) report(pkg.name, `${where} → ${path} is not in the tarball`);
  }
  for (const [subpath, entry] of Object.entries(packed.exports ?? {})) {
    if (entry && typeof entry === "object" && (entry.import || entry.default) && !entry.types && String(entry.import ?? entry.default).endsWith(".js")) {
      report(pkg.name, `exports["${subpath}"] has no types`);
    }
  }
  // A bin's own imports (e.g. a committed launcher importing ../dist/cli.js) must resolve inside the tarball.
  for (const [where, path] of entries.filter(([w]) => w.startsWith("bin"))) {
    if (!has(path)) continue;
    const text = readFileSync(join(root, path), "utf8");
    for (const [, spec] of text.matchAll(/\bimport\s*(?:[^"']*from\s*)?["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = normalize(relative(root, resolve(dirname(join(root, path)), spec)));
      if (!has(target)) report(pkg.name, `${where} (${path}) imports ${spec}, which is not in the tarball`);
    }
  }

  // Source maps: self-contained (sourcesContent) or pointing at sources the tarball carries; never dangling.
  for (const file of files) {
    if (/\.test\.[cm]?[jt]s$/.test(file)) report(pkg.name, `ships a test file: ${file}`);
    if (file.endsWith(".js") || file.endsWith(".mjs")) {
      const match = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(root, file), "utf8"));
      if (match && !match[1].startsWith("data:") && !has(normalize(join(dirname(file), match[1])))) {
        report(pkg.name, `${file} names a source map ${match[1]} that is not in the tarball`);
      }
    }
    if (!file.endsWith(".map")) continue;
    const map = JSON.parse(readFileSync(join(root, file), "utf8"));
    const sources = map.sources ?? [];
    const missing = sources.filter((source, i) => {
      if (typeof map.sourcesContent?.[i] === "string") return false;
      return !has(normalize(join(dirname(file), map.sourceRoot ?? "", source)));
    });
    if (missing.length) report(pkg.name, `${file} maps ${missing.length} source(s) it neither embeds nor ships (e.g. ${missing[0]})`);
  }

  checkLoads(pkg, packed);
  console.log(`✓ ${packed.name}@${packed.version}: ${files.size} files`);
}

/** import and require() of every exported subpath, from the package's own folder (self-reference). */
function checkLoads(pkg, packed) {
  const subpaths = packed.exports && typeof packed.exports === "object" && Object.keys(packed.exports).some((k) => k.startsWith("."))
    ? Object.keys(packed.exports).filter((k) => !k.includes("*") && !k.endsWith(".json"))
    : ["."];
  for (const subpath of subpaths) {
    const specifier = subpath === "." ? packed.name : `${packed.name}/${subpath.slice(2)}`;
    const imported = spawnSync(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(specifier)})`], { cwd: pkg.path, encoding: "utf8" });
    if (imported.status !== 0) report(pkg.name, `import("${specifier}") fails: ${firstLine(imported.stderr)}`);
    const required = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(specifier)})`], { cwd: pkg.path, encoding: "utf8" });
    const pending = REQUIRE_PENDING[packed.name];
    if (required.status !== 0 && !pending) report(pkg.name, `require("${specifier}") fails: ${firstLine(required.stderr)}`);
    if (required.status === 0 && pending && subpath === ".") report(pkg.name, `require("${specifier}") works now: remove it from REQUIRE_PENDING in scripts/check-packs.mjs (was: ${pending})`);
  }
}

function collectExports(value, where, entries) {
  if (typeof value === "string") entries.push([where, value]);
  else if (value && typeof value === "object") for (const [key, inner] of Object.entries(value)) collectExports(inner, `${where}["${key}"]`, entries);
}

function workspacePackages() {
  const found = [];
  for (const glob of WORKSPACE_GLOBS) {
    const base = join(ROOT, glob);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const path = join(base, name);
      const manifest = join(path, "package.json");
      if (!existsSync(manifest)) continue;
      const json = JSON.parse(readFileSync(manifest, "utf8"));
      found.push({ name: json.name, dir: `${glob}/${name}`, path, json });
    }
  }
  return found;
}

function publishablePackages() {
  return workspacePackages().filter((p) => !p.json.private);
}

function tarballFrom(output, dest) {
  try {
    const parsed = JSON.parse(output.slice(output.search(/^\{/m)));
    if (parsed.filename) return resolve(dest, parsed.filename.split("/").pop());
  } catch {
    // fall through to the folder listing
  }
  const tgz = existsSync(dest) ? readdirSync(dest).filter((f) => f.endsWith(".tgz")) : [];
  return tgz.length === 1 ? join(dest, tgz[0]) : null;
}

function listFiles(root) {
  const files = new Set();
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.add(normalize(relative(root, path)));
    }
  };
  walk(root);
  return files;
}

function normalize(path) {
  return path.split(sep).join("/").replace(/^\.\//, "");
}

function firstLine(text) {
  return (text.split("\n").find((line) => /Error|error/.test(line)) ?? text.split("\n")[0] ?? "").trim();
}

function run(command, argv, cwd, { quiet = false } = {}) {
  try {
    return execFileSync(command, argv, { cwd, encoding: "utf8", stdio: quiet ? ["ignore", "pipe", "pipe"] : ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    fail(`${command} ${argv.join(" ")} (in ${relative(ROOT, cwd) || "."}) failed:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  }
}

function fail(message) {
  console.error(`check-packs: ${message}`);
  process.exit(1);
}
