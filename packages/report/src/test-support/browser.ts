/**
 * Headless Chromium for the page tests: Debian's /usr/bin/chromium (or PUPPETEER_EXECUTABLE_PATH /
 * CHROME_PATH), no sandbox as root, no background networking, and pages that may load file: URLs only —
 * every other request is aborted and recorded, so a test can assert that none was attempted.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test-artifacts");

export function chromiumPath(): string | null {
  const candidates = [process.env.PUPPETEER_EXECUTABLE_PATH, process.env.CHROME_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  return candidates.find((path): path is string => Boolean(path) && existsSync(path!)) ?? null;
}

export async function launch(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("no Chromium found (set PUPPETEER_EXECUTABLE_PATH)");
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
  });
}

export interface OfflinePage {
  page: Page;
  /** Non-file requests the page attempted (all were aborted). */
  blocked: string[];
  /** Console errors and uncaught exceptions. */
  errors: string[];
}

/** A page that may load file: URLs only (and, when given, URLs starting with `allow`). */
export async function offlinePage(browser: Browser, allow: string[] = []): Promise<OfflinePage> {
  const page = await browser.newPage();
  const blocked: string[] = [];
  const errors: string[] = [];
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    const url = request.url();
    if (url.startsWith("file:") || allow.some((prefix) => url.startsWith(prefix))) void request.continue();
    else {
      blocked.push(url);
      void request.abort("blockedbyclient");
    }
  });
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  return { page, blocked, errors };
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** Non-background pixels of every chart canvas in a figure (0 when nothing is drawn). */
export async function inkedPixels(page: Page, figureId: string): Promise<number> {
  return page.evaluate((id) => {
    let inked = 0;
    for (const canvas of document.querySelectorAll<HTMLCanvasElement>(`#${id} canvas`)) {
      const ctx = canvas.getContext("2d");
      if (!ctx || canvas.width === 0) continue;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 3; i < data.length; i += 4 * 7) if (data[i]! > 0) inked += 1;
    }
    return inked;
  }, figureId);
}

/** A cheap hash of a figure's canvas pixels: changes when the chart is redrawn with other data. */
export async function canvasHash(page: Page, figureId: string): Promise<number> {
  return page.evaluate((id) => {
    let hash = 0;
    for (const canvas of document.querySelectorAll<HTMLCanvasElement>(`#${id} canvas`)) {
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 13) hash = (hash * 31 + data[i]!) | 0;
    }
    return hash;
  }, figureId);
}
