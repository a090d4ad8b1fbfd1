import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { runSources, silentLogger } from "@nq/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "./browser.js";
import { isRunning, ownedProfiles, processesUsingProfile, reapOrphanedBrowsers } from "./browser-lifecycle.js";
import { barchartConfigSchema } from "./config.js";
import { BrowserClosedError } from "./errors.js";
import { barchartSource } from "./index.js";
import { recordingContext } from "./test-context.js";
import { browserForTests } from "./test-environment.js";
import { startLocalBarchartSite, type LocalBarchartSite } from "./test-site/index.js";

const browser = await browserForTests();
const here = dirname(fileURLToPath(import.meta.url));

/** Bundles the child fixture next to the package's node_modules, so it finds puppeteer-core there. */
async function bundleChild(): Promise<string> {
  const require = createRequire(import.meta.url);
  // esbuild comes with the workspace's tsup.
  const esbuild = createRequire(require.resolve("tsup"))("esbuild") as { build(options: Record<string, unknown>): Promise<unknown> };
  const outDir = resolve(here, "../node_modules/.cache/nq-barchart-tests");
  await mkdir(outDir, { recursive: true });
  const outfile = join(outDir, `lifecycle-child-${process.pid}.mjs`);
  await esbuild.build({ entryPoints: [join(here, "lifecycle-child.fixture.ts")], bundle: true, platform: "node", format: "esm", target: "node20", outfile, external: ["puppeteer-core"], logLevel: "silent" });
  return outfile;
}

interface Child {
  process: ChildProcess;
  next(event: string): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(script: string, mode: string, parent: string): Child {
  const child = spawn(process.execPath, [script, mode, parent], { stdio: ["ignore", "pipe", "pipe"] });
  const events: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
      for (const wake of waiters.splice(0)) wake();
    } catch {
      // not ours
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once("exit", (code, signal) => done({ code, signal })));
  return {
    process: child,
    exited,
    async next(event) {
      const deadline = Date.now() + 45_000;
      for (;;) {
        const found = events.find((e) => e.event === event);
        if (found) return found;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the child ended before "${event}": ${stderr}`);
        if (Date.now() > deadline) throw new Error(`no "${event}" from the child: ${stderr}`);
        await new Promise<void>((wake) => {
          waiters.push(wake);
          setTimeout(wake, 200);
        });
      }
    },
  };
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe.skipIf(browser.skip)(`the browser's life cycle (${browser.message})`, () => {
  let parent: string;
  let childScript: string;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), "nqlc-"));
    childScript = await bundleChild();
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
    await rm(childScript, { force: true });
  });

  it("close() kills Chromium and removes its profile within 2 s", async () => {
    const launched = await launchBrowser({ executablePath: browser.path!, headless: true, timeoutMs: 30_000, profileParent: parent });
    const page = await launched.browser.newPage();
    await page.goto("data:text/html,<p>hi</p>");
    const pids = processesUsingProfile(launched.profileDir);
    expect(pids.length).toBeGreaterThan(1);
    expect(pids).toContain(launched.pid);
    const started = performance.now();
    await launched.close();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(existsSync(launched.profileDir)).toBe(false);
    expect(pids.filter((pid) => isRunning(pid))).toEqual([]);
    expect(launched.closedReason()).toMatch(/close\(\) was called/);
    await launched.close(); // twice is fine
  });

  describe("a browser that dies under a load", () => {
    let site: LocalBarchartSite;
    beforeAll(async () => {
      site = await startLocalBarchartSite({ weeksPerType: 1, fixturesDir: null });
    });
    afterAll(() => site.close());

    it("ends the load at once with 'browser closed', not retried by the source nor by the registry", async () => {
      const config = barchartConfigSchema.parse({
        base_url: site.url,
        executable_path: browser.path!,
        min_interval_ms: 0,
        jitter_ms: 0,
        max_retries: 2,
        retry_backoff_ms: 1_000,
        timeout_ms: 15_000,
        challenge_wait_ms: 0,
      });
      site.setFault({ kind: "slow", on: "quotes", delayMs: 20_000 });
      const before = site.requests.length;
      const run = runSources([{ name: "barchart", definition: barchartSource as never, config }], { request: { product: "NQ" }, policy: "fallback", log: silentLogger, retries: 2 });
      expect(await until(() => site.requests.slice(before).some((r) => r.kind === "quotes"), 30_000)).toBe(true);
      const [mine] = await ownedProfiles();
      expect(mine?.owner.browserPid).toBeTypeOf("number");
      const killedAt = performance.now();
      process.kill(-mine!.owner.browserPid!, "SIGKILL");
      const result = await run;
      expect(performance.now() - killedAt).toBeLessThan(2_000);
      site.setFault(null);
      expect(result.ok).toBe(false);
      expect(result.attempts[0]).toMatchObject({ outcome: "failed", tries: 1 });
      expect(result.attempts[0]!.reason).toMatch(/browser closed: the browser (process was killed|disconnected)/);
      expect(result.attempts[0]!.reason).not.toMatch(/check the connection/);
      // Nothing more was asked of the site after the kill, and close() left no profile behind.
      const afterKill = site.requests.slice(before).filter((r) => r.kind === "page" && Date.parse(r.at) > Date.now() - (performance.now() - killedAt));
      expect(afterKill).toEqual([]);
      expect(await ownedProfiles()).toEqual([]);
    });

    it("an error from a closed browser is a BrowserClosedError (not retryable, no 'check the connection'), and close() during a load ends it", async () => {
      const source = await barchartSource.create(
        barchartConfigSchema.parse({ base_url: site.url, executable_path: browser.path!, min_interval_ms: 0, jitter_ms: 0, max_retries: 2, timeout_ms: 15_000 }),
        recordingContext(),
      );
      site.setFault({ kind: "slow", on: "quotes", delayMs: 20_000 });
      const before = site.requests.length;
      const load = source.load({ product: "NQ" }, { signal: new AbortController().signal }).then(() => null, (e: unknown) => e);
      expect(await until(() => site.requests.slice(before).some((r) => r.kind === "quotes"), 30_000)).toBe(true);
      const started = performance.now();
      await source.close!();
      const error = await load;
      expect(performance.now() - started).toBeLessThan(2_000);
      site.setFault(null);
      expect(error).toBeInstanceOf(BrowserClosedError);
      expect((error as Error).message).not.toMatch(/check the connection/);
      expect((error as BrowserClosedError).retryable).toBe(false);
      expect((error as Error).message).toMatch(/browser closed/);
      expect(await ownedProfiles()).toEqual([]);
    });
  });

  it("reaps a browser orphaned by kill -9 of the process that started it, and leaves a live owner's alone", async () => {
    const child = startChild(childScript, "idle", parent);
    const ready = await child.next("ready");
    const dir = ready.dir as string;
    const pid = ready.pid as number;
    expect(isRunning(pid)).toBe(true);
    const ours = await launchBrowser({ executablePath: browser.path!, headless: true, timeoutMs: 30_000, profileParent: parent });
    try {
      child.process.kill("SIGKILL");
      await child.exited;
      // SIGKILL cannot be caught: the browser outlives its owner (it runs in a process group of its own).
      expect(processesUsingProfile(dir).length).toBeGreaterThan(0);
      expect(existsSync(dir)).toBe(true);

      const report = await reapOrphanedBrowsers({ dir: parent });
      expect(report.removed).toEqual([dir]);
      expect(report.killed).toContain(pid);
      expect(await until(() => processesUsingProfile(dir).length === 0 && !isRunning(pid), 2_000)).toBe(true);
      expect(existsSync(dir)).toBe(false);
      // Our own, live browser was not touched.
      expect(existsSync(ours.profileDir)).toBe(true);
      expect(isRunning(ours.pid!)).toBe(true);
    } finally {
      await ours.close();
    }
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} to a process with an open browser and no handler of its own: it ends at once, taking browser and profile along`, async () => {
      const child = startChild(childScript, "idle", parent);
      const ready = await child.next("ready");
      const dir = ready.dir as string;
      const pids = processesUsingProfile(dir);
      expect(pids.length).toBeGreaterThan(0);
      const sent = performance.now();
      child.process.kill(signal);
      const exit = await child.exited;
      expect(performance.now() - sent).toBeLessThan(2_000);
      expect(exit.signal).toBe(signal);
      expect(existsSync(dir)).toBe(false);
      expect(pids.filter((p) => isRunning(p))).toEqual([]);
    });
  }

  it("an app that handles SIGTERM itself keeps control; its browser is already gone when its handler runs", async () => {
    const child = startChild(childScript, "app-handles-sigterm", parent);
    const ready = await child.next("ready");
    const dir = ready.dir as string;
    const pids = processesUsingProfile(dir);
    child.process.kill("SIGTERM");
    const handled = await child.next("app-sigterm");
    expect(handled.closed).toMatch(/received SIGTERM/);
    const exit = await child.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(dir)).toBe(false);
    expect(pids.filter((p) => isRunning(p))).toEqual([]);
  });

  it("leaves no profile folder of this process behind", async () => {
    expect(await ownedProfiles()).toEqual([]);
    expect(await ownedProfiles(parent)).toEqual([]);
  });
});
