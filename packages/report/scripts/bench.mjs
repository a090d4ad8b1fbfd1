#!/usr/bin/env node
// Size and speed of the chain page: renders synthetic chains (and the generated sample chain) with the
// built package, writes them to a temporary folder, and opens each from disk in headless Chromium with the
// network blocked, several times, reporting the file size, Node's render time, and the time from navigation
// start until the first expiry is drawn (median of the warm runs). Not a test: numbers to read.
//
//   pnpm --filter @nq/report bench            (build first: pnpm --filter @nq/report build)
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";
import { renderChainHtml } from "../dist/index.js";
import { syntheticChain } from "./synthetic-chain.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const executablePath = [process.env.PUPPETEER_EXECUTABLE_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p && existsSync(p));
const sampleFile = new URL("../../source-saved/samples/nq-sample.chain.json", import.meta.url);
const cases = [
  ["sample chain", existsSync(sampleFile) ? JSON.parse(readFileSync(sampleFile, "utf8")) : null],
  ["2,000 contracts", syntheticChain({ expiries: 4, strikesPerExpiry: 250 })],
  ["20,000 contracts", syntheticChain({ expiries: 10, strikesPerExpiry: 1000 })],
  ["20,000 contracts, one expiry", syntheticChain({ expiries: 1, strikesPerExpiry: 10000, step: 5 })],
].filter(([, chain]) => chain);

const dir = mkdtempSync(join(tmpdir(), "nq-report-bench-"));
const browser = executablePath
  ? await puppeteer.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] })
  : null;
if (!browser) console.log("no Chromium found: sizes only");
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
try {
  console.log(`${"chain".padEnd(30)} ${"contracts".padStart(9)} ${"HTML bytes".padStart(11)} ${"node ms".padStart(8)} ${"ready ms".padStart(9)} ${"script ms".padStart(9)}`);
  for (const [label, chain] of cases) {
    const t0 = performance.now();
    const html = renderChainHtml(chain);
    const nodeMs = performance.now() - t0;
    const file = join(dir, `${label.replace(/\W+/g, "-")}.html`);
    writeFileSync(file, html);
    let ready = "-";
    let script = "-";
    if (browser) {
      const readies = [];
      const scripts = [];
      for (let run = 0; run <= RUNS; run++) {
        const page = await browser.newPage();
        await page.setViewport({ width: 1280, height: 800 });
        await page.setRequestInterception(true);
        page.on("request", (r) => (r.url().startsWith("file:") ? r.continue() : r.abort()));
        await page.goto(pathToFileURL(file).href);
        await page.waitForFunction(() => document.documentElement.dataset.ready, { timeout: 30_000 });
        const state = await page.evaluate(() => window.__nqReport);
        if (run > 0) {
          readies.push(state.renderMs);
          scripts.push(state.scriptMs);
        }
        await page.close();
      }
      ready = median(readies).toFixed(0);
      script = median(scripts).toFixed(0);
    }
    console.log(`${label.padEnd(30)} ${String(chain.contracts.length).padStart(9)} ${String(Buffer.byteLength(html)).padStart(11)} ${nodeMs.toFixed(0).padStart(8)} ${ready.padStart(9)} ${script.padStart(9)}`);
  }
} finally {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
}
