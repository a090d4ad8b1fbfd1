#!/usr/bin/env node
// Installable alone: packs @nq/core and @nq/source-polygon (prepack builds them), installs both tarballs
// with npm into an empty temporary project (zod comes from the registry, as for any user), then imports the
// package from there and loads a chain from its packed local test server. Exits 1 on any failure.
//
//   node scripts/check-install.mjs
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CORE = resolve(HERE, "../core");
const work = mkdtempSync(join(tmpdir(), "nq-polygon-install-"));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
try {
  const packs = join(work, "packs");
  for (const dir of [CORE, HERE]) run("pnpm", ["pack", "--pack-destination", packs], dir);
  const tarballs = readdirSync(packs).filter((f) => f.endsWith(".tgz")).map((f) => join(packs, f));
  const project = join(work, "project");
  run("mkdir", ["-p", project], work);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "empty", version: "1.0.0", private: true, type: "module" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs], project);
  writeFileSync(
    join(project, "check.mjs"),
    `import { createLogger, SpendLedger, normalizeChain } from "@nq/core";
import polygon, { configSchema } from "@nq/source-polygon";
import { startLocalPolygonServer } from "@nq/source-polygon/test-server";
const key = "pgINSTALLcheck0123456789abcdefKEY";
const server = await startLocalPolygonServer({ apiKeys: [key] });
try {
  const source = await polygon.create(configSchema.parse({ api_key: key, base_url: server.url, allow_proxy: true, rate_limit: null }), { log: createLogger(() => {}), spend: new SpendLedger(null), now: () => new Date() });
  const result = await source.load({ product: "NQ" }, { signal: new AbortController().signal });
  const chain = normalizeChain(result, { source: "polygon", capabilities: polygon.capabilities, request: { product: "NQ" }, fetchedAt: new Date() });
  if (chain.contracts.length === 0 || chain.metadata.warnings[0] !== "PROXY: NDX index options, not NQ futures options") throw new Error("unexpected chain");
  console.log("loaded " + chain.contracts.length + " contracts in " + server.requests.length + " pages from the packed package");
} finally { await server.close(); }
`,
  );
  process.stdout.write(run("node", ["check.mjs"], project));
  run("node", ["-e", 'require("@nq/source-polygon"); require("@nq/source-polygon/test-server")'], project);
  console.log(`✓ @nq/source-polygon installs alone with @nq/core (${tarballs.map((t) => t.split("/").pop()).join(", ")}), imports and require()s`);
} catch (error) {
  console.error(`check-install failed: ${error.message}\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
