/**
 * `serve`: read-only, confined to the folder (traversal attempts, symlinks out, other methods, foreign Host
 * headers), the history index, and — in headless Chromium — the page following the folder: a chain written
 * while the page is open shows within 2 s. The CLI form starts, answers and stops on SIGTERM.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OptionsChain } from "@nq/core";
import { generateSampleChain } from "@nq/source-saved";
import puppeteer, { type Browser } from "puppeteer-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeChainOutputs } from "../outputs.js";
import { startServer, type ServeHandle } from "./serve.js";

const temps: string[] = [];
const servers: ServeHandle[] = [];
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-serve-"));
  temps.push(dir);
  return dir;
}
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
  while (temps.length) rmSync(temps.pop()!, { recursive: true, force: true });
});

function chainAt(asOf: string, source = "saved"): OptionsChain {
  const chain = generateSampleChain();
  chain.metadata = { ...chain.metadata, asOf, fetchedAt: asOf, source };
  return chain;
}

/** A raw request: the path goes out exactly as written (no URL normalization of "..", "%2e"). */
function raw(url: string, path: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: options.method ?? "GET", headers: options.host ? { host: options.host } : {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function serveFolder(dir: string): Promise<ServeHandle> {
  const handle = await startServer({ dir, port: 0, pollMs: 200 });
  servers.push(handle);
  return handle;
}

describe("serve: read-only and confined to the output folder", () => {
  it("binds 127.0.0.1 by default and serves the newest chain's page and the folder's files", async () => {
    const root = workspace();
    const dir = join(root, "out");
    const written = await writeChainOutputs(chainAt("2026-11-20T21:00:00.000Z"), dir, { html: true });
    const handle = await serveFolder(dir);
    expect(handle.host).toBe("127.0.0.1");
    const page = await raw(handle.url, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    expect(page.body).toContain("SAMPLE DATA");
    expect(page.body).toContain('id="nq-report-live"');
    const name = written.json.split("/").pop()!;
    const file = await raw(handle.url, `/files/${encodeURIComponent(name)}`);
    expect(file.status).toBe(200);
    expect(JSON.parse(file.body).metadata.asOf).toBe("2026-11-20T21:00:00.000Z");
    expect((await raw(handle.url, `/chains/${encodeURIComponent(name)}`)).status).toBe(200);
  });

  it("no path leaves the folder: traversal in every spelling, absolute paths, and a symlink pointing out all fail", async () => {
    const root = workspace();
    const dir = join(root, "out");
    await writeChainOutputs(chainAt("2026-11-20T21:00:00.000Z"), dir);
    const SECRET = "top-secret-outside-the-folder";
    writeFileSync(join(root, "secret.json"), JSON.stringify({ SECRET }));
    writeFileSync(join(root, "secret.chain.json"), JSON.stringify({ SECRET }));
    symlinkSync(join(root, "secret.chain.json"), join(dir, "link.chain.json"));
    symlinkSync(root, join(dir, "up"));
    const handle = await serveFolder(dir);
    const attempts = [
      "/files/../secret.json",
      "/files/..%2Fsecret.json",
      "/files/..%2fsecret.json",
      "/files/%2e%2e%2fsecret.json",
      "/files/%2E%2E/secret.json",
      "/files/..%5Csecret.json",
      "/files/%2Fetc%2Fpasswd",
      "/files//etc/passwd",
      "/files/....//secret.json",
      "/files/up%2Fsecret.json",
      "/files/link.chain.json",
      "/files/secret.json%00.json",
      "/chains/..%2Fsecret.chain.json",
      "/chains/link.chain.json",
      "/chains/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/../secret.json",
      "/%2e%2e/secret.json",
      "/history/../../secret.json",
    ];
    for (const path of attempts) {
      const answer = await raw(handle.url, path);
      expect(answer.status, path).toBeGreaterThanOrEqual(400);
      expect(answer.body, path).not.toContain(SECRET);
      expect(answer.body, path).not.toContain("root:");
    }
    // the symlinked chain is not the newest page either
    expect((await raw(handle.url, "/")).body).not.toContain(SECRET);
  });

  it("has no write endpoints and answers only to loopback Host names", async () => {
    const dir = workspace();
    await writeChainOutputs(chainAt("2026-11-20T21:00:00.000Z"), dir);
    const handle = await serveFolder(dir);
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const answer = await raw(handle.url, "/files/x.chain.json", { method });
      expect(answer.status, method).toBe(405);
      expect(answer.headers.allow).toBe("GET, HEAD");
    }
    expect((await raw(handle.url, "/", { host: "evil.example:80" })).status).toBe(403);
    expect((await raw(handle.url, "/", { host: `localhost:${handle.port}` })).status).toBe(200);
  });

  it("shows the history index when the folder has one, and links it from the page", async () => {
    const dir = workspace();
    await writeChainOutputs(chainAt("2026-11-20T21:00:00.000Z"), dir);
    writeFileSync(join(dir, "history.jsonl"), `${JSON.stringify({ at: "2026-11-20T21:00:05Z", source: "saved", file: "nq-saved.chain.json" })}\n${JSON.stringify({ at: "2026-11-20T21:05:05Z", source: "<b>x</b>" })}\n`);
    const handle = await serveFolder(dir);
    const history = await raw(handle.url, "/history");
    expect(history.status).toBe(200);
    expect(history.body).toContain("2026-11-20T21:05:05Z");
    expect(history.body).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect((await raw(handle.url, "/")).body).toContain('href="/history"');
    rmSync(join(dir, "history.jsonl"));
    expect((await raw(handle.url, "/history")).status).toBe(404);
  });

  it("an empty folder says so (and is ready to reload); a folder made later is picked up", async () => {
    const root = workspace();
    const dir = join(root, "not-yet");
    const handle = await serveFolder(dir);
    const empty = await raw(handle.url, "/");
    expect(empty.status).toBe(200);
    expect(empty.body).toContain("No chain yet");
    mkdirSync(dir);
    await writeChainOutputs(chainAt("2026-11-21T15:00:00.000Z"), dir);
    const deadline = Date.now() + 3000;
    while (handle.newest() === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(handle.newest()).toMatch(/20261121T150000Z\.chain\.json$/);
  });
});

const CHROMIUM = [process.env.PUPPETEER_EXECUTABLE_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p): p is string => Boolean(p) && existsSync(p!));

describe.skipIf(!CHROMIUM)("serve in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM!,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("the page updates within 2 s when a new chain is written, and asks nothing of any other host", async () => {
    const dir = workspace();
    await writeChainOutputs(chainAt("2026-11-20T21:00:00.000Z"), dir);
    const handle = await serveFolder(dir);
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    await page.setRequestInterception(true);
    page.on("request", (req) => {
      if (req.url().startsWith(handle.url)) void req.continue();
      else {
        elsewhere.push(req.url());
        void req.abort();
      }
    });
    await page.goto(handle.url);
    await page.waitForFunction(() => document.documentElement.dataset.ready === "true", { timeout: 15_000 });
    await page.waitForFunction(() => /^Live:/.test(document.getElementById("live")?.textContent ?? ""), { timeout: 5000 });
    expect(await page.$eval("h1", (h) => h.textContent)).toContain("2026-11-20 21:00");

    // A new chain file appears the way every writer makes one: written aside, then renamed into place.
    const next = JSON.stringify(chainAt("2026-11-21T15:30:00.000Z", "saved"));
    const started = Date.now();
    writeFileSync(join(dir, "next.chain.json.tmp"), next);
    renameSync(join(dir, "next.chain.json.tmp"), join(dir, "nq-saved-sample-20261121T153000Z.chain.json"));
    await page.waitForFunction(() => document.documentElement.dataset.ready === "true" && (document.querySelector("h1")?.textContent ?? "").includes("2026-11-21 15:30"), {
      timeout: 2000,
      polling: 50,
    });
    const took = Date.now() - started;
    expect(took).toBeLessThan(2000);
    expect(Number(await page.$eval("#fig-oi", (el) => (el as HTMLElement).dataset.points))).toBeGreaterThan(0);
    expect(elsewhere).toEqual([]);
    await page.close();
  });
});

const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

describe.skipIf(!existsSync(CLI))("nq-runner serve (the CLI)", () => {
  it("prints its URL, serves the folder, and stops on SIGTERM without calling it a partial run", async () => {
    const dir = workspace();
    await writeChainOutputs(chainAt("2026-11-20T21:00:00.000Z"), dir);
    const child = spawn(process.execPath, [CLI, "serve", "--out", dir, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!/http:\/\/127\.0\.0\.1:\d+\//.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout)?.[0];
    expect(url, stderr).toBeDefined();
    const answer = await raw(url!, "/");
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("SAMPLE DATA");
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(stderr).toContain("serve: stopped");
    expect(stderr).not.toMatch(/partial run/);
  });
});
