/**
 * The chain page in a real browser (headless Chromium), opened from disk with every non-file request
 * aborted: charts drawn with data points, the banner's SAMPLE / DELAYED / INCOMPLETE words, switching the
 * expiry redraws, the table sorts from the keyboard, and nothing is fetched. Screenshots at desktop and
 * phone widths, light and dark, go to test-artifacts/ (gitignored).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticChain } from "../scripts/synthetic-chain.mjs";
import { renderChainHtml } from "./index.js";
import { artifact, canvasHash, chromiumPath, inkedPixels, launch, offlinePage } from "./test-support/browser.js";

const SAMPLE_FILE = new URL("../../source-saved/samples/nq-sample.chain.json", import.meta.url);
const hasBrowser = chromiumPath() !== null;

function writePage(name: string, html: string): string {
  const file = artifact(`${name}.chain.html`);
  writeFileSync(file, html);
  return pathToFileURL(file).href;
}

async function open(browser: Browser, url: string, viewport = { width: 1280, height: 800 }, scheme: "light" | "dark" = "light") {
  const offline = await offlinePage(browser);
  await offline.page.setViewport(viewport);
  await offline.page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
  await offline.page.goto(url, { waitUntil: "load" });
  await offline.page.waitForFunction(() => document.documentElement.dataset.ready, { timeout: 15_000 });
  expect(await offline.page.evaluate(() => document.documentElement.dataset.ready)).toBe("true");
  return offline;
}

describe.skipIf(!hasBrowser)("chain.html in headless Chromium, offline", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("the generated sample chain: SAMPLE in the banner, three charts with points, nothing fetched; screenshots", async () => {
    const chain = JSON.parse(readFileSync(SAMPLE_FILE, "utf8"));
    const url = writePage("sample", renderChainHtml(chain));
    for (const [label, viewport, scheme] of [
      ["desktop-light", { width: 1280, height: 800 }, "light"],
      ["desktop-dark", { width: 1280, height: 800 }, "dark"],
      ["phone-light", { width: 390, height: 844 }, "light"],
      ["phone-dark", { width: 390, height: 844 }, "dark"],
    ] as const) {
      const { page, blocked, errors } = await open(browser, url, viewport, scheme);
      const banner = await page.$eval("#banner", (el) => (el as HTMLElement).innerText);
      expect(banner).toContain("SAMPLE DATA");
      expect(banner).toMatch(/not market data/i);
      for (const id of ["fig-oi", "fig-vol", "fig-iv"]) {
        expect(await page.$$eval(`#${id} canvas`, (c) => c.length)).toBeGreaterThan(0);
        expect(Number(await page.$eval(`#${id}`, (el) => (el as HTMLElement).dataset.points))).toBeGreaterThan(10);
        expect(await inkedPixels(page, id)).toBeGreaterThan(100);
        // the text alternative says what the chart shows
        expect(await page.$eval(`#${id} .chart`, (el) => el.getAttribute("aria-label") ?? "")).toMatch(/strike/i);
      }
      // readable at this width: the page itself never scrolls sideways (the table scrolls in its box)
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await page.screenshot({ path: artifact(`sample-${label}.png`), fullPage: true });
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    }
  });

  it("switching the expiry redraws the charts, the stats and the table for that expiry", async () => {
    const chain = syntheticChain({ expiries: 4, strikesPerExpiry: 80 });
    const { page, blocked } = await open(browser, writePage("switch", renderChainHtml(chain)));
    const options = await page.$$eval("#expiry option", (list) => list.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual([...options].sort()); // nearest first
    const before = { oi: await canvasHash(page, "fig-oi"), iv: await canvasHash(page, "fig-iv") };
    expect(await page.$eval("#fig-oi", (el) => (el as HTMLElement).dataset.expiry)).toBe(options[0]);
    await page.select("#expiry", options[3]!);
    await page.waitForFunction((d) => (document.querySelector("#fig-oi") as HTMLElement).dataset.expiry === d, {}, options[3]);
    expect(await canvasHash(page, "fig-oi")).not.toBe(before.oi);
    expect(await canvasHash(page, "fig-iv")).not.toBe(before.iv);
    expect(await page.$eval("#expiry-stats", (el) => (el as HTMLElement).innerText)).toContain(options[3]);
    expect(await page.$eval("#table-note", (el) => el.textContent)).toContain(options[3]);
    // the expiry is kept in the address, so a reload stays on it
    expect(await page.evaluate(() => location.hash)).toContain(`expiry=${options[3]}`);
    // the underlying of the later expiries is their own future
    expect(await page.$eval("#fig-oi .chart", (el) => el.getAttribute("aria-label"))).toContain("NQZ6");
    expect(blocked).toEqual([]);
    await page.close();
  });

  it("keyboard: the expiry select and the sort buttons are reachable and work; the ATM row is marked in words", async () => {
    const chain = syntheticChain({ expiries: 3, strikesPerExpiry: 60 });
    const { page } = await open(browser, writePage("keyboard", renderChainHtml(chain)));
    await page.focus("#expiry");
    const first = await page.$eval("#expiry", (el) => (el as HTMLSelectElement).value);
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction((d) => (document.querySelector("#fig-oi") as HTMLElement).dataset.expiry !== d, {}, first);
    // Tab from the controls reaches a sort button; Enter sorts by it
    let focused = "";
    for (let i = 0; i < 12 && !focused.startsWith("c."); i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset?.sort ?? "");
    }
    expect(focused).toBe("c.bid");
    await page.keyboard.press("Enter");
    expect(await page.$eval('th:has(button[data-sort="c.bid"])', (th) => th.getAttribute("aria-sort"))).toBe("descending");
    const bids = await page.$$eval("#chain-table tbody tr", (rows) => rows.map((r) => Number((r.children[0]!.textContent ?? "").replace(/,/g, "")) || 0));
    expect(bids).toEqual([...bids].sort((a, b) => b - a));
    const atm = await page.$$eval("#chain-table tr.atm", (rows) => rows.map((r) => r.textContent ?? ""));
    expect(atm).toHaveLength(1);
    expect(atm[0]).toContain("ATM");
    await page.close();
  });

  it("a delayed, incomplete chain says DELAYED and INCOMPLETE with its reasons; a chain without IV skips the smile gracefully", async () => {
    const chain = syntheticChain({
      expiries: 2,
      strikesPerExpiry: 40,
      sample: false,
      delayed: true,
      complete: false,
      incompleteReasons: ["series Q3A: the page showed a placeholder"],
      withIv: false,
      source: "barchart",
      cache: "hit",
    });
    const { page, blocked, errors } = await open(browser, writePage("delayed-incomplete", renderChainHtml(chain, { run: { substituted: true, firstChoice: "databento", substitutionReason: "no API key" } })));
    const banner = await page.$eval("#banner", (el) => (el as HTMLElement).innerText);
    expect(banner).toContain("DELAYED");
    expect(banner).toContain("INCOMPLETE");
    expect(banner).toContain("series Q3A: the page showed a placeholder");
    expect(banner).toContain("SUBSTITUTED");
    expect(banner).toContain("FROM CACHE");
    expect(banner).not.toContain("SAMPLE DATA");
    const flags = await page.$$eval("#banner .flag", (list) => list.map((el) => el.getAttribute("data-flag")));
    expect(flags.slice(0, 4)).toEqual(["SUBSTITUTED", "INCOMPLETE", "DELAYED", "FROM CACHE"]);
    expect(Number(await page.$eval("#fig-oi", (el) => (el as HTMLElement).dataset.points))).toBeGreaterThan(0);
    expect(await page.$eval("#fig-iv", (el) => (el as HTMLElement).dataset.points)).toBe("0");
    expect(await page.$eval("#fig-iv", (el) => (el as HTMLElement).innerText)).toMatch(/No implied volatility/);
    await page.screenshot({ path: artifact("delayed-incomplete-desktop.png") });
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a 20,000-contract chain: under 1 MB, compressed data decoded in the page, drawn", async () => {
    const chain = syntheticChain({ expiries: 10, strikesPerExpiry: 1000 });
    expect(chain.contracts).toHaveLength(20_000);
    const html = renderChainHtml(chain);
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
    expect(html).toContain('type="application/gzip-base64"');
    const { page, blocked, errors } = await open(browser, writePage("large", html));
    expect(Number(await page.$eval("#fig-oi", (el) => (el as HTMLElement).dataset.points))).toBeGreaterThan(100);
    expect(await inkedPixels(page, "fig-oi")).toBeGreaterThan(100);
    expect(await page.$$eval("#expiry option", (o) => o.length)).toBe(10);
    // every strike: the table draws 200 rows around the ATM strike until asked for all
    await page.select("#range", "all");
    await page.waitForFunction(() => !(document.getElementById("table-more") as HTMLButtonElement).hidden);
    expect(await page.$$eval("#chain-table tbody tr", (rows) => rows.length)).toBe(200);
    expect(await page.$$eval("#chain-table tr.atm", (rows) => rows.length)).toBe(1);
    await page.click("#table-more");
    expect(await page.$$eval("#chain-table tbody tr", (rows) => rows.length)).toBe(1000);
    expect(await page.$eval("#table-more", (b) => (b as HTMLButtonElement).hidden)).toBe(true);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("the interception is real: a page that tries the network has its request recorded and aborted", async () => {
    const url = writePage("probe", "<!doctype html><title>probe</title><img src='http://127.0.0.1:9/x.png'><script>document.documentElement.dataset.ready='true'</script>");
    const { page, blocked } = await open(browser, url);
    expect(blocked).toEqual(["http://127.0.0.1:9/x.png"]);
    await page.close();
  });
});
