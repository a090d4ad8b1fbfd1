#!/usr/bin/env node
// Makes docs/chain-report.png for the root README: the chain page of the generated sample chain (its
// banner says SAMPLE DATA), opened from disk in headless Chromium with the network blocked, light scheme,
// 1280×800. Build first (pnpm --filter @nq/report build).
//
//   node scripts/screenshot.mjs [chain.json] [out.png]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";
import { renderChainHtml } from "../dist/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const input = resolve(process.argv[2] ?? join(ROOT, "packages/source-saved/samples/nq-sample.chain.json"));
const output = resolve(process.argv[3] ?? join(ROOT, "docs/chain-report.png"));
const chain = JSON.parse(readFileSync(input, "utf8"));
if (!chain.metadata.sample) console.warn(`warning: ${input} is not sample data; the README screenshot should be`);
const executablePath = [process.env.PUPPETEER_EXECUTABLE_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p && existsSync(p));
if (!executablePath) throw new Error("no Chromium found (set PUPPETEER_EXECUTABLE_PATH)");

const dir = mkdtempSync(join(tmpdir(), "nq-report-shot-"));
const file = join(dir, "chain.html");
// A fixed "made at" time keeps the picture the same from one run to the next.
writeFileSync(file, renderChainHtml(chain, { generatedAt: new Date(chain.metadata.fetchedAt) }));
const browser = await puppeteer.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
  await page.setRequestInterception(true);
  const blocked = [];
  page.on("request", (r) => (r.url().startsWith("file:") ? r.continue() : (blocked.push(r.url()), r.abort())));
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "true", { timeout: 30_000 });
  if (blocked.length) throw new Error(`the page tried the network: ${blocked.join(", ")}`);
  mkdirSync(dirname(output), { recursive: true });
  await page.screenshot({ path: output, clip: { x: 0, y: 0, width: 1280, height: 800 } });
  console.log(`${output}: ${statSync(output).size} bytes, from ${input}`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
