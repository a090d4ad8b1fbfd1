/**
 * compare.html in headless Chromium, opened from disk with every non-file request aborted: the three
 * difference charts drawn with data points, switching the expiry redraws them and the per-expiry tables,
 * the banner names both sources with their provenance in words, keyboard and light/dark work, and nothing
 * is fetched. Screenshots go to test-artifacts/ (gitignored).
 */
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderComparePage } from "./index.js";
import { artifact, canvasHash, chromiumPath, inkedPixels, launch, offlinePage } from "./test-support/browser.js";
import { syntheticComparison } from "./test-support/comparison.js";

const hasBrowser = chromiumPath() !== null;
const FIGURES = ["fig-settlement", "fig-openInterest", "fig-volume"];

function writePage(name: string, html: string): string {
  const file = artifact(`${name}.compare.html`);
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

describe.skipIf(!hasBrowser)("compare.html in headless Chromium, offline", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("the banner names both sources with their provenance; three difference charts with points; nothing fetched; screenshots", async () => {
    const report = syntheticComparison({ expiries: 3, strikesPerExpiry: 40, a: { sample: false, complete: false, incompleteReasons: ["series Q2A: no answer"] } });
    const url = writePage("sample", renderComparePage(report));
    for (const [label, viewport, scheme] of [
      ["desktop-light", { width: 1280, height: 800 }, "light"],
      ["desktop-dark", { width: 1280, height: 800 }, "dark"],
      ["phone-light", { width: 390, height: 844 }, "light"],
    ] as const) {
      const { page, blocked, errors } = await open(browser, url, viewport, scheme);
      const sides = await page.$$eval("#banner .side", (list) => list.map((el) => ({ side: el.getAttribute("data-side"), text: (el as HTMLElement).innerText })));
      expect(sides.map((s) => s.side)).toEqual(["A", "B"]);
      expect(sides[0]!.text).toContain("databento");
      expect(sides[0]!.text).toContain("INCOMPLETE");
      expect(sides[0]!.text).toContain("series Q2A: no answer");
      expect(sides[0]!.text).not.toContain("SAMPLE DATA");
      expect(sides[1]!.text).toContain("barchart");
      expect(sides[1]!.text).toContain("SAMPLE DATA");
      expect(sides[1]!.text).toContain("DELAYED");
      for (const id of FIGURES) {
        expect(await page.$$eval(`#${id} canvas`, (c) => c.length)).toBeGreaterThan(0);
        expect(Number(await page.$eval(`#${id}`, (el) => (el as HTMLElement).dataset.points))).toBeGreaterThan(10);
        expect(await inkedPixels(page, id)).toBeGreaterThan(100);
        expect(await page.$eval(`#${id} .chart`, (el) => el.getAttribute("role"))).toBe("img");
        expect(await page.$eval(`#${id} .chart`, (el) => el.getAttribute("aria-label") ?? "")).toMatch(/by strike .* B \(barchart\) minus A \(databento\)/);
      }
      // the per-expiry tables are drawn
      expect(await page.$eval("#expiry-counts caption", (el) => el.textContent)).toContain(report.expirations[0]!.expiration);
      expect(await page.$$eval("#one-sided-table tbody tr", (rows) => rows.length)).toBeGreaterThan(0);
      expect(await page.$$eval("#mismatch-table tbody tr", (rows) => rows.length)).toBeGreaterThan(0);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await page.screenshot({ path: artifact(`compare-${label}.png`), fullPage: true });
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    }
  });

  it("switching the expiry (from the keyboard too) redraws the charts and the per-expiry tables", async () => {
    const report = syntheticComparison({ expiries: 4, strikesPerExpiry: 40 });
    const { page, blocked, errors } = await open(browser, writePage("switch", renderComparePage(report)));
    const options = await page.$$eval("#expiry option", (list) => list.map((o) => (o as HTMLOptionElement).value));
    expect(options).toHaveLength(4);
    expect(options).toEqual([...options].sort()); // nearest first
    expect(await page.$eval("#expiry option", (o) => o.textContent)).toContain("(nearest)");
    const before = Object.fromEntries(await Promise.all(FIGURES.map(async (id) => [id, await canvasHash(page, id)] as const)));
    const beforeAlt = await page.$eval("#fig-settlement .chart", (el) => el.getAttribute("aria-label"));
    await page.select("#expiry", options[2]!);
    await page.waitForFunction((d) => (document.querySelector("#fig-settlement") as HTMLElement).dataset.expiry === d, {}, options[2]);
    for (const id of FIGURES) {
      expect(await page.$eval(`#${id}`, (el) => (el as HTMLElement).dataset.expiry)).toBe(options[2]);
      expect(Number(await page.$eval(`#${id}`, (el) => (el as HTMLElement).dataset.points))).toBeGreaterThan(10);
      expect(await canvasHash(page, id)).not.toBe(before[id]);
    }
    expect(await page.$eval("#fig-settlement .chart", (el) => el.getAttribute("aria-label"))).not.toBe(beforeAlt);
    expect(await page.$eval("#expiry-stats", (el) => (el as HTMLElement).innerText)).toContain(options[2]);
    expect(await page.$eval("#expiry-counts caption", (el) => el.textContent)).toContain(options[2]);
    expect(await page.evaluate(() => location.hash)).toContain(`expiry=${options[2]}`);
    // keyboard: focus the select, arrow down to the next expiry
    await page.focus("#expiry");
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction((d) => (document.querySelector("#fig-settlement") as HTMLElement).dataset.expiry === d, {}, options[3]);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
