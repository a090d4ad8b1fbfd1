// `pnpm start` / `pnpm --filter runner start`: build what running needs (JS only, only what is stale,
// progress on stderr), then run the CLI in this same process with the same arguments.
import { ensureBuilt } from "./ensure-built.mjs";

try {
  await ensureBuilt();
} catch (error) {
  process.stderr.write(`error: the build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
await import(new URL("../dist/cli.js", import.meta.url).href);
