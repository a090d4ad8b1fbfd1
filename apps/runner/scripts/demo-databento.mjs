// `pnpm --filter runner demo`: the Databento source, end to end, with no account and no network.
// Starts the project's local Databento-compatible server on 127.0.0.1 (generated DBN data, made by
// @nq/dbn's encoder), points the demo_databento profile at it, runs it twice (the second run is served by
// the cache), and stops the server.
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "./ensure-built.mjs";

await ensureBuilt();
const { startLocalDatabentoServer } = await import("@nq/source-databento/test-server");
const { renderSummary, runProfile } = await import("../dist/index.js");

const DEMO_KEY = "db-DEMOkeyForTheLocalServer000000".slice(0, 32);
const server = await startLocalDatabentoServer({ apiKeys: [DEMO_KEY], fixturesDir: null });
try {
  const profilePath = fileURLToPath(new URL("../profiles/demo_databento.json", import.meta.url));
  const env = { ...process.env, DATABENTO_API_KEY: DEMO_KEY, DATABENTO_BASE_URL: server.url };
  const runs = [
    { label: "first run (--refresh: paid requests to the local server)", refresh: true },
    { label: "second run (served by the cache)", refresh: false },
  ];
  for (const { label, refresh } of runs) {
    const before = server.requests.length;
    const { summary, exitCode } = await runProfile({ profilePath, env, refresh, onLog: (e) => e.level !== "debug" && e.level !== "info" && console.error(`[${e.level}] ${e.message}`) });
    console.log(`\n=== ${label}: ${server.requests.length - before} requests reached ${server.url}\n`);
    process.stdout.write(renderSummary(summary));
    if (exitCode !== 0) process.exitCode = exitCode;
  }
} finally {
  await server.close();
}
