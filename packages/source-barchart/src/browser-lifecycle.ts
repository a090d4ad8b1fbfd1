/**
 * The life of the Chromium processes this package starts, so none outlives its owner:
 *
 *  - every browser gets a fresh profile folder `<tmp>/nq-barchart-chromium-XXXXXX` holding an owner file
 *    (`nq-owner.json`: our pid and its start time, the browser's pid);
 *  - `close()` kills the browser's whole process group and removes the folder (see browser.ts);
 *  - while a browser is open, this process's `exit` and SIGINT/SIGTERM/SIGHUP kill it and remove its
 *    folder synchronously. When nothing else in the process listens for that signal, the signal is then
 *    raised again, so the process still ends the way it would have without us;
 *  - a SIGKILL cannot be caught: the next start reaps what it left (`reapOrphanedBrowsers`): any profile
 *    folder whose owner process is gone has its leftover Chromium processes killed and is removed.
 *    Folders whose owner is alive, and folders without an owner file, are never touched.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PROFILE_PREFIX = "nq-barchart-chromium-";
export const OWNER_FILE = "nq-owner.json";
const OWNER_FORMAT = "nq-barchart-profile/1";

export interface OwnerRecord {
  format: typeof OWNER_FORMAT;
  /** The process that started the browser. */
  pid: number;
  /** Its start time (Linux /proc starttime), so a recycled pid is not taken for the owner. */
  pidStart: string | null;
  /** The browser's main process: the leader of its process group. */
  browserPid: number | null;
  createdAt: string;
}

/** A fresh profile folder with an owner file naming this process. */
export async function createProfileDir(parent: string = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(parent, PROFILE_PREFIX));
  await writeOwner(dir, null);
  return dir;
}

export async function writeOwner(dir: string, browserPid: number | null): Promise<void> {
  const record: OwnerRecord = { format: OWNER_FORMAT, pid: process.pid, pidStart: processStart(process.pid), browserPid, createdAt: new Date().toISOString() };
  await writeFile(join(dir, OWNER_FILE), `${JSON.stringify(record)}\n`);
}

export async function readOwner(dir: string): Promise<OwnerRecord | null> {
  try {
    const record = JSON.parse(await readFile(join(dir, OWNER_FILE), "utf8")) as OwnerRecord;
    return record.format === OWNER_FORMAT && Number.isInteger(record.pid) ? record : null;
  } catch {
    return null;
  }
}

/** The start time of a process (field 22 of /proc/<pid>/stat); null where there is no /proc. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether a process is running (a zombie is not). */
export function isRunning(pid: number, start: string | null = null): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return false;
    if (start !== null && fields[19] !== start) return false; // the pid now belongs to another process
  } catch {
    // No /proc (macOS, Windows): kill(0) said it exists.
  }
  return true;
}

/** Pids of running processes started with this profile folder (the browser and its helpers). */
export function processesUsingProfile(dir: string): number[] {
  const marker = `--user-data-dir=${dir}`;
  // Helpers rewrite their command line into one space-separated string; the browser keeps NULs.
  const uses = (cmdline: string) => cmdline.split(/[\0 ]/).some((arg) => arg === marker || arg === `${marker}/`);
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return psProcessesUsing(marker);
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (uses(readFileSync(`/proc/${entry}/cmdline`, "utf8")) && isRunning(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function psProcessesUsing(marker: string): number[] {
  if (process.platform === "win32") return [];
  try {
    const out = execFileSync("ps", ["-axo", "pid=,command="], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return out
      .split("\n")
      .filter((line) => line.includes(marker))
      .map((line) => Number.parseInt(line.trim(), 10))
      .filter((pid) => Number.isInteger(pid) && pid !== process.pid);
  } catch {
    return [];
  }
}

/**
 * Kills every process of a profile: the browser's process group (its helpers are in it), then anything
 * else still started with the folder. The group is only killed when its leader really is that browser.
 */
export function killProfileProcesses(dir: string, browserPid: number | null, options: { ownChild?: boolean } = {}): number[] {
  const pids = processesUsingProfile(dir);
  const killed: number[] = [];
  // Our own child's group can be killed even after its leader exited (its helpers may linger); a group
  // found in an owner file only when its leader is still that browser (the pid may have been reused).
  if (browserPid !== null && (options.ownChild || pids.includes(browserPid)) && process.platform !== "win32") {
    try {
      process.kill(-browserPid, "SIGKILL");
      killed.push(browserPid);
    } catch {
      // not a group leader (any more): the pids below are killed one by one
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
      if (!killed.includes(pid)) killed.push(pid);
    } catch {
      // already gone
    }
  }
  return killed;
}

/** Removes a folder now, retrying while a dying process may still write into it. */
export function removeDirSync(dir: string): void {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch {
      sleepSync(20);
    }
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits (blocking) until none of the pids runs, at most `ms`. For `exit` and signal handlers only. */
export function waitGoneSync(pids: number[], ms: number): void {
  const deadline = performance.now() + ms;
  while (pids.some((pid) => isRunning(pid)) && performance.now() < deadline) sleepSync(10);
}

export interface ReapReport {
  /** Profile folders removed (their owner was gone). */
  removed: string[];
  /** Chromium pids killed in them. */
  killed: number[];
}

/**
 * Finds profile folders left by processes that are gone (killed with SIGKILL, crashed), kills the
 * Chromium processes still running in them and removes them. A folder whose owner runs is left alone,
 * and so is one with no owner file (it may be one being created right now, or not ours).
 */
export async function reapOrphanedBrowsers(options: { dir?: string } = {}): Promise<ReapReport> {
  const parent = options.dir ?? tmpdir();
  const report: ReapReport = { removed: [], killed: [] };
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return report;
  }
  for (const name of names) {
    if (!name.startsWith(PROFILE_PREFIX)) continue;
    const dir = join(parent, name);
    const owner = await readOwner(dir);
    if (!owner || isRunning(owner.pid, owner.pidStart)) continue;
    report.killed.push(...killProfileProcesses(dir, owner.browserPid));
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }).catch(() => {});
    report.removed.push(dir);
  }
  return report;
}

/** Profile folders this process owns now (tests check that none is left). */
export async function ownedProfiles(parent: string = tmpdir()): Promise<{ dir: string; owner: OwnerRecord }[]> {
  const names = await readdir(parent).catch(() => [] as string[]);
  const out: { dir: string; owner: OwnerRecord }[] = [];
  for (const name of names) {
    if (!name.startsWith(PROFILE_PREFIX)) continue;
    const owner = await readOwner(join(parent, name));
    if (owner?.pid === process.pid) out.push({ dir: join(parent, name), owner });
  }
  return out;
}

// ---- Process hooks: while a browser is open, the process's end takes it along. ----

export interface TrackedBrowser {
  dir: string;
  browserPid(): number | null;
  /** Told why the browser is being killed (e.g. "the process received SIGTERM"). */
  onKilled(reason: string): void;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const tracked = new Set<TrackedBrowser>();
let hooked = false;

export function trackBrowser(browser: TrackedBrowser): () => void {
  tracked.add(browser);
  if (!hooked) {
    hooked = true;
    process.on("exit", onExit);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  return () => {
    tracked.delete(browser);
    if (tracked.size === 0) unhook();
  };
}

function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.removeListener("exit", onExit);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

/** Kills every tracked browser and removes its profile, synchronously. */
function killAllNow(reason: string): void {
  const browsers = [...tracked];
  tracked.clear();
  const pids: number[] = [];
  for (const browser of browsers) {
    browser.onKilled(reason);
    pids.push(...killProfileProcesses(browser.dir, browser.browserPid(), { ownChild: true }));
  }
  waitGoneSync(pids, 1_000);
  for (const browser of browsers) removeDirSync(browser.dir);
}

function onExit(): void {
  killAllNow("the process is exiting");
  unhook();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow(`the process received ${signal}`);
  unhook();
  // Nobody else handles this signal: end the process as the signal would have without our listener.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
