/**
 * Single flight with real processes, each with its own pool: of N runners missing one key at once, one
 * fetches and the others are handed its entry; when the fetcher is killed mid-fetch (SIGKILL: no release,
 * no goodbye), its lease lapses and exactly one waiter takes over. Runs the built package (pnpm build).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { historyTestChain } from "@nq/core/testing";
import { afterEach, expect, it } from "vitest";
import { describeWithPostgres } from "./test-support/with-postgres.js";

const CLAIMANT = fileURLToPath(new URL("./test-support/claimant-process.mjs", import.meta.url));

interface Claimant {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  send(line: string): void;
}

const running: Claimant[] = [];
const folders: string[] = [];
afterEach(() => {
  for (const claimant of running.splice(0)) if (claimant.child.exitCode === null) claimant.child.kill("SIGKILL");
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function startClaimant(options: Record<string, unknown>): Claimant {
  const child = spawn(process.execPath, [CLAIMANT, JSON.stringify(options)], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const claimant: Claimant = {
    child,
    lines,
    send: (line) => child.stdin.write(`${line}\n`),
    waitFor: (pattern, timeoutMs = 120_000) => {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`claimant ${child.pid} printed no ${pattern} within ${timeoutMs} ms; stdout: ${lines.join(" | ")}; stderr: ${stderr}`)), timeoutMs);
        waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
  };
  running.push(claimant);
  return claimant;
}

function exited(claimant: Claimant): Promise<void> {
  if (claimant.child.exitCode !== null || claimant.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => claimant.child.once("exit", () => resolve()));
}

describeWithPostgres("single flight across processes", (server) => {
  const chain = historyTestChain({ asOf: "2026-11-20T21:00:00.000Z", seed: 9 });
  const chainSha = createHash("sha256").update(JSON.stringify(chain)).digest("hex");
  const chainFile = () => {
    const folder = mkdtempSync(join(tmpdir(), "nq-pg-chain-"));
    folders.push(folder);
    const file = join(folder, "chain.json");
    writeFileSync(file, JSON.stringify(chain));
    return file;
  };

  it("six processes missing one key at once: one fetches, five get its entry", async () => {
    // waitMs is long: on a loaded machine six processes can take a while to be served.
    const options = { url: server().url, schema: "fleet_six", source: "databento", leaseMs: 2_000, waitMs: 120_000, chainFile: chainFile() };
    const claimants = Array.from({ length: 6 }, () => startClaimant(options));
    await Promise.all(claimants.map((c) => c.waitFor(/^ready$/)));
    for (const c of claimants) c.send("go");
    const fetcher = await Promise.race(claimants.map((c) => c.waitFor(/^fetching /).then(() => c)));
    await new Promise((resolve) => setTimeout(resolve, 500)); // the paid request takes a while
    fetcher.send("finish");
    await Promise.all(claimants.map(exited));
    const outcomes = claimants.map((c) => c.lines.find((line) => /^(fetched|entry|timeout)/.test(line)) ?? `none (${c.lines.join(" | ")})`);
    expect(outcomes.filter((o) => o === "fetched")).toHaveLength(1);
    expect(outcomes.filter((o) => o === `entry ${chainSha}`)).toHaveLength(5);
    expect(claimants.flatMap((c) => c.lines).filter((line) => line.startsWith("fetching"))).toHaveLength(1);
  }, 300_000);

  it("the fetcher is killed mid-fetch: after its lease lapses exactly one waiter takes over, and the rest get that entry", async () => {
    const leaseMs = 1_500;
    const options = { url: server().url, schema: "fleet_killed", source: "databento", leaseMs, waitMs: 120_000, chainFile: chainFile() };
    const claimants = Array.from({ length: 4 }, () => startClaimant(options));
    await Promise.all(claimants.map((c) => c.waitFor(/^ready$/)));
    for (const c of claimants) c.send("go");
    const first = await Promise.race(claimants.map((c) => c.waitFor(/^fetching /).then(() => c)));
    // The waiters are polling and listening; the fetcher dies without releasing anything.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const killedAt = Date.now();
    first.child.kill("SIGKILL");
    await exited(first);

    const rest = claimants.filter((c) => c !== first);
    const second = await Promise.race(rest.map((c) => c.waitFor(/^fetching /, 60_000).then(() => c)));
    const tookOverAfter = Date.now() - killedAt;
    // Not before the lease could have lapsed (it was renewed until the kill), and soon after it did.
    expect(tookOverAfter).toBeGreaterThanOrEqual(leaseMs - 600);
    expect(tookOverAfter).toBeLessThan(leaseMs + 5_000);
    second.send("finish");
    await Promise.all(rest.map(exited));
    const outcomes = rest.map((c) => c.lines.find((line) => /^(fetched|entry|timeout)/.test(line)) ?? "none");
    expect(outcomes.filter((o) => o === "fetched")).toHaveLength(1);
    expect(outcomes.filter((o) => o === `entry ${chainSha}`)).toHaveLength(2);
    expect(claimants.flatMap((c) => c.lines).filter((line) => line.startsWith("fetching"))).toHaveLength(2);
  }, 300_000);
});
