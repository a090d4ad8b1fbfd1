// Builds what running the runner needs, and nothing more: the JavaScript of the runner and of the workspace
// packages it depends on (no .d.ts — declarations are for `pnpm build`, packing and CI), and only where
// dist/ is missing or older than the sources. Progress goes to stderr, so stdout stays the runner's own
// (a `--json` summary is the only thing on it).
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const RUNNER_DIR = fileURLToPath(new URL("..", import.meta.url));
const ROOT = join(RUNNER_DIR, "..", "..");
const WORKSPACE_FOLDERS = ["packages", "apps", "examples"];

function readManifest(dir) {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
}

/** name → folder, for every workspace package. */
function workspacePackages() {
  const byName = new Map();
  for (const folder of WORKSPACE_FOLDERS) {
    const base = join(ROOT, folder);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) {
      const dir = join(base, entry);
      if (existsSync(join(dir, "package.json"))) byName.set(readManifest(dir).name, dir);
    }
  }
  return byName;
}

/** The runner and the workspace packages it needs at run time, dependencies first. */
function buildOrder() {
  const packages = workspacePackages();
  const order = [];
  const seen = new Set();
  const visit = (dir) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const manifest = readManifest(dir);
    const deps = { ...manifest.peerDependencies, ...manifest.dependencies };
    for (const [name, range] of Object.entries(deps)) {
      if (String(range).startsWith("workspace:") && packages.has(name)) visit(packages.get(name));
    }
    order.push(dir);
  };
  visit(RUNNER_DIR);
  return order;
}

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry === "dist") continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Why `dir` needs a build (a sentence), or null when its dist/ is newer than everything it is built from. */
function staleReason(dir) {
  const dist = join(dir, "dist");
  const outputs = existsSync(dist) ? readdirSync(dist).filter((name) => name.endsWith(".js")) : [];
  if (outputs.length === 0) return "no dist/ yet";
  const built = Math.min(...outputs.map((name) => statSync(join(dist, name)).mtimeMs));
  const inputs = Math.max(
    newestMtime(join(dir, "src")),
    newestMtime(join(dir, "package.json")),
    newestMtime(join(dir, "tsup.config.ts")),
    newestMtime(join(dir, "tsconfig.json")),
  );
  return inputs > built ? "sources changed since the last build" : null;
}

function tsupCli() {
  const require = createRequire(join(ROOT, "package.json"));
  const manifest = require.resolve("tsup/package.json");
  const bin = JSON.parse(readFileSync(manifest, "utf8")).bin;
  return join(dirname(manifest), typeof bin === "string" ? bin : bin.tsup);
}

function run(command, args, cwd) {
  return new Promise((resolve, reject) => {
    // The build's own output goes to stderr: stdout belongs to the runner.
    const child = spawn(command, args, { cwd, stdio: ["ignore", 2, 2], env: { ...process.env, TSUP_SILENT: "1" } });
    child.on("error", reject);
    child.on("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`${args.join(" ")} in ${cwd} failed (${signal ?? `exit ${code}`})`))));
  });
}

export async function ensureBuilt({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const work = buildOrder()
    .map((dir) => ({ dir, name: readManifest(dir).name, reason: staleReason(dir) }))
    .filter((item) => item.reason !== null);
  if (work.length === 0) return;
  const tsup = tsupCli();
  const started = performance.now();
  // Workspace dependencies are external in every bundle, so the packages build independently, in parallel.
  const concurrency = Math.max(1, Math.min(availableParallelism(), 4));
  log(`[build] ${work.length} package(s) to build, JavaScript only (\`pnpm build\` adds the .d.ts files), ${concurrency} at a time`);
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < work.length) {
      const { dir, name, reason } = work[next++];
      const t0 = performance.now();
      log(`[build] ${name}: building (${reason}) …`);
      // An existing dist/ keeps its .d.ts files (stale ones beat none for an editor); a fresh one is clean.
      const keep = existsSync(join(dir, "dist")) ? ["--no-clean"] : [];
      await run(process.execPath, [tsup, "--no-dts", "--silent", ...keep], dir);
      finished += 1;
      log(`[build] ${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s (${finished}/${work.length})`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  log(`[build] ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
