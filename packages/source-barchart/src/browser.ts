/**
 * Finding and launching a system Chromium/Chrome for puppeteer-core. puppeteer-core ships no browser, so
 * the user's own install is used: `executable_path` from the config, `PUPPETEER_EXECUTABLE_PATH`, the
 * usual install paths, or — when the optional `puppeteer` package is installed — its bundled browser.
 */
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "@nq/core";
import type { Browser } from "puppeteer-core";
import { createProfileDir, isRunning, killProfileProcesses, trackBrowser, writeOwner } from "./browser-lifecycle.js";

const SOURCE = "barchart";

export const INSTALL_HINT =
  "install Chromium or Google Chrome (Debian/Ubuntu: `apt-get install chromium`; macOS: `brew install --cask chromium` or Google Chrome; " +
  "Windows: Google Chrome), or `npm install puppeteer` for its bundled browser, or point `executable_path` " +
  "(or PUPPETEER_EXECUTABLE_PATH) at a Chromium/Chrome binary";

export const KNOWN_BROWSER_PATHS: Record<string, string[]> = {
  linux: [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/usr/bin/microsoft-edge",
    "/snap/bin/chromium",
    "/opt/google/chrome/chrome",
  ],
  darwin: [
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
  ],
  win32: [
    "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
    "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe",
    "C:\\Program Files\\Microsoft\\Edge\\Application\\msedge.exe",
    "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
  ],
};

export interface LocateOptions {
  executablePath?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Paths to try; defaults to this platform's usual install paths. */
  candidates?: string[];
  exists?: (path: string) => boolean;
  /** Loads the optional `puppeteer` package; tests replace it. */
  importPuppeteer?: () => Promise<{ executablePath(): string } | null>;
}

export interface LocatedBrowser {
  path: string;
  how: "config" | "environment" | "system" | "puppeteer";
}

export async function locateBrowser(options: LocateOptions): Promise<LocatedBrowser> {
  const exists = options.exists ?? existsSync;
  const env = options.env ?? process.env;
  if (options.executablePath) {
    if (exists(options.executablePath)) return { path: options.executablePath, how: "config" };
    throw new ConfigError(SOURCE, `executable_path ${JSON.stringify(options.executablePath)} does not exist; ${INSTALL_HINT}`, {
      path: "executable_path",
    });
  }
  const fromEnv = env.PUPPETEER_EXECUTABLE_PATH;
  if (fromEnv) {
    if (exists(fromEnv)) return { path: fromEnv, how: "environment" };
    throw new ConfigError(SOURCE, `PUPPETEER_EXECUTABLE_PATH ${JSON.stringify(fromEnv)} does not exist; ${INSTALL_HINT}`, {
      path: "executable_path",
    });
  }
  const candidates = options.candidates ?? KNOWN_BROWSER_PATHS[process.platform] ?? KNOWN_BROWSER_PATHS.linux!;
  const found = candidates.find((path) => exists(path));
  if (found) return { path: found, how: "system" };
  const bundled = await (options.importPuppeteer ?? importOptionalPuppeteer)().catch(() => null);
  const bundledPath = bundled ? safeCall(() => bundled.executablePath()) : null;
  if (bundledPath && exists(bundledPath)) return { path: bundledPath, how: "puppeteer" };
  throw new ConfigError(SOURCE, `no Chromium or Chrome browser found (looked in ${candidates.join(", ")}); ${INSTALL_HINT}`, {
    path: "executable_path",
  });
}

async function importOptionalPuppeteer(): Promise<{ executablePath(): string } | null> {
  // A variable specifier keeps bundlers and tsc from requiring the optional package.
  const name = "puppeteer";
  const module = (await import(name)) as { default?: { executablePath(): string }; executablePath?: () => string };
  const api = module.default ?? (module as { executablePath(): string });
  return typeof api.executablePath === "function" ? api : null;
}

function safeCall<T>(call: () => T): T | null {
  try {
    return call();
  } catch {
    return null;
  }
}

export interface LaunchOptions {
  executablePath: string;
  headless: boolean;
  timeoutMs: number;
  /** Where profile folders go (default: the system temp folder); tests use their own. */
  profileParent?: string;
}

export interface LaunchedBrowser {
  browser: Browser;
  /** The browser's main process id (null if the platform gave none). */
  pid: number | null;
  /** Its temporary profile folder (removed by close()). */
  profileDir: string;
  /** Why the browser is gone (closed, crashed, killed), or null while it runs. */
  closedReason(): string | null;
  /** Resolves with the reason as soon as the browser is gone, whatever ended it. */
  whenClosed: Promise<string>;
  /** Kills the browser and removes its profile; resolves within about 2 s. Safe to call twice. */
  close(): Promise<void>;
}

/** How long a polite close may take before the browser's process group is killed. */
const GRACEFUL_CLOSE_MS = 700;

/**
 * One browser with a throw-away profile: no state leaks between runs, nothing phones home. Puppeteer's
 * own SIGINT/SIGTERM/SIGHUP handlers are off (they exit the process or leave it running against a dead
 * browser); this package's hooks take the browser along when the process ends (browser-lifecycle.ts).
 */
export async function launchBrowser(options: LaunchOptions): Promise<LaunchedBrowser> {
  const { default: puppeteer } = await import("puppeteer-core");
  const userDataDir = await createProfileDir(options.profileParent);
  // Chromium's own temporary files (its singleton socket folder) go inside the profile, so they go with
  // it — when the socket's path stays within the 107 bytes a Unix socket path may have.
  const browserTmp = join(userDataDir, "t");
  const tmpInProfile = join(browserTmp, "org.chromium.Chromium.XXXXXX", "SingletonSocket").length < 104;
  if (tmpInProfile) await mkdir(browserTmp, { recursive: true });
  const args = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-breakpad",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-dev-shm-usage",
    `--user-data-dir=${userDataDir}`,
  ];
  // Chromium refuses to run as root with its sandbox on (containers, CI).
  if (typeof process.getuid === "function" && process.getuid() === 0) args.unshift("--no-sandbox");

  let reason: string | null = null;
  let settleClosed: (why: string) => void = () => {};
  const whenClosed = new Promise<string>((resolve) => (settleClosed = resolve));
  const markClosed = (why: string) => {
    if (reason !== null) return;
    reason = why;
    settleClosed(why);
  };
  let pid: number | null = null;
  const untrack = trackBrowser({ dir: userDataDir, browserPid: () => pid, onKilled: markClosed });

  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: options.executablePath,
      headless: options.headless,
      args,
      timeout: options.timeoutMs,
      protocolTimeout: Math.max(options.timeoutMs * 2, 30_000),
      ...(tmpInProfile ? { env: { ...process.env, TMPDIR: browserTmp } } : {}),
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    untrack();
    killProfileProcesses(userDataDir, null);
    await rm(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }).catch(() => {});
    throw new ConfigError(
      SOURCE,
      `could not start the browser at ${options.executablePath}: ${(error as Error).message.split("\n")[0]}. Check that it is a working Chromium/Chrome; ${INSTALL_HINT}`,
      { cause: error, path: "executable_path" },
    );
  }
  const child = browser.process();
  pid = child?.pid ?? null;
  const exited = new Promise<void>((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", (code, signal) => {
      markClosed(signal ? `the browser process was killed (${signal})` : `the browser process exited (code ${code})`);
      resolve();
    });
  });
  browser.once("disconnected", () => markClosed("the browser disconnected"));
  await writeOwner(userDataDir, pid).catch(() => {});

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
        markClosed("the browser was closed (close() was called)");
        untrack();
        await Promise.race([browser.close().catch(() => {}), exited, delay(GRACEFUL_CLOSE_MS)]);
        // Still there (a hung browser, or helpers outliving it): kill the whole group.
        const left = killProfileProcesses(userDataDir, pid, { ownChild: true });
        await Promise.race([exited, delay(500)]);
        for (let waited = 0; waited < 500 && left.some((p) => isRunning(p)); waited += 20) await delay(20);
        await rm(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }).catch(() => {});
      })());
  // A browser that died (crashed, killed from outside) is cleaned up at once: helpers killed, profile removed.
  void whenClosed.then(() => close());
  return { browser, pid, profileDir: userDataDir, closedReason: () => reason, whenClosed, close };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
