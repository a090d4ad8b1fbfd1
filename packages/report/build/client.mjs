// Bundles the browser side of the report (src/client/main.ts for the chain page, src/client/compare.ts for
// the compare page, both with uPlot, and the shared CSS) into strings at build time, served to the Node side as the module "virtual:nq-report-client" — by an esbuild plugin for
// tsup, and by a Vite plugin for vitest — so a rendered page inlines them and needs nothing else.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const CLIENT_MODULE = "virtual:nq-report-client";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function buildClient() {
  const result = await build({
    entryPoints: { main: join(ROOT, "src/client/main.ts"), compare: join(ROOT, "src/client/compare.ts") },
    bundle: true,
    format: "iife",
    minify: true,
    write: false,
    outdir: join(ROOT, ".client-out"),
    target: ["chrome100", "firefox102", "safari15.4"],
    legalComments: "eof",
    metafile: true,
    logLevel: "silent",
  });
  const out = (name) => result.outputFiles.find((f) => f.path.endsWith(name))?.text ?? "";
  // Both entries import the same styles; the chain page's CSS serves both pages.
  return { js: out("main.js"), css: out("main.css"), compareJs: out("compare.js"), inputs: Object.keys(result.metafile.inputs).map((input) => join(ROOT, input)) };
}

function moduleText({ js, css, compareJs }) {
  return `export const js = ${JSON.stringify(js)};\nexport const css = ${JSON.stringify(css)};\nexport const compareJs = ${JSON.stringify(compareJs)};\n`;
}

/** For tsup (esbuildPlugins). */
export function clientEsbuildPlugin() {
  return {
    name: "nq-report-client",
    setup(b) {
      b.onResolve({ filter: /^virtual:nq-report-client$/ }, (args) => ({ path: args.path, namespace: "nq-report-client" }));
      b.onLoad({ filter: /.*/, namespace: "nq-report-client" }, async () => {
        const client = await buildClient();
        return { contents: moduleText(client), loader: "js", watchFiles: client.inputs };
      });
    },
  };
}

/** For vitest (plugins). */
export function clientVitePlugin() {
  const id = `\0${CLIENT_MODULE}`;
  return {
    name: "nq-report-client",
    resolveId: (source) => (source === CLIENT_MODULE ? id : null),
    load: async (loaded) => (loaded === id ? moduleText(await buildClient()) : null),
  };
}
