/**
 * Where tests find the shared captures and a browser. Used by the test files only (not exported).
 *
 * Shared data: `NQ_SHARED_DIR`, else `<repo root>/../shared`. Browser: the same lookup the source uses;
 * when none is found, browser tests skip locally but must run (and fail) under CI.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { locateBrowser } from "./browser.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export const sharedDir = process.env.NQ_SHARED_DIR ? resolve(process.env.NQ_SHARED_DIR) : resolve(repoRoot, "../shared");
export const barchartFixturesDir = join(sharedDir, "fixtures", "barchart");
export const hasBarchartFixtures = existsSync(join(barchartFixturesDir, "quotes_MC7M25_2025-06-08.json"));
export const fixturesSkipMessage = `Barchart captures not found in ${barchartFixturesDir} (set NQ_SHARED_DIR); skipping tests that need them`;

export interface BrowserForTests {
  path: string | null;
  skip: boolean;
  message: string;
}

/** Locally with no browser: skip, saying so. Under CI: never skip; the tests fail without a browser. */
export async function browserForTests(): Promise<BrowserForTests> {
  const inCi = Boolean(process.env.CI) && process.env.CI !== "false";
  try {
    const found = await locateBrowser({});
    return { path: found.path, skip: false, message: `using ${found.path} (${found.how})` };
  } catch (error) {
    const message = `no Chromium/Chrome found: ${(error as Error).message}`;
    if (inCi) return { path: null, skip: false, message };
    console.warn(`[source-barchart] skipping browser tests — ${message}`);
    return { path: null, skip: true, message };
  }
}
