/**
 * `nq-runner serve`: a small read-only web server (Hono on Node's http) for a profile's output folder.
 * `/` is the page of the newest chain (`*.chain.json`, by modification time) and reloads itself over
 * Server-Sent Events (`/events`) when a newer chain is written — by `watch` or any run; `/chains/<name>` is
 * an older chain's page; `/files/<name>` a file of the folder as it is; `/history` the history index when
 * the folder has one. Bound to 127.0.0.1 unless told otherwise; GET and HEAD only; a name from the URL is
 * only ever looked up in the folder's own listing (never joined into a path), and a symlink that leads out
 * of the folder is refused.
 */
import { existsSync, watch, type FSWatcher } from "node:fs";
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { basename, join, relative, resolve, sep } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { Command, InvalidArgumentError } from "commander";
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { loadProfile } from "@nq/core";
import { escapeHtml, renderChainHtml } from "@nq/report";
import { resolveProfilePath } from "../run.js";

export const DEFAULT_SERVE_PORT = 8787;
export const DEFAULT_SERVE_HOST = "127.0.0.1";
/** A chain file larger than this is listed but not rendered (the page is built in memory). */
export const SERVE_MAX_CHAIN_BYTES = 256 * 1024 * 1024;

const CHAIN_SUFFIX = ".chain.json";
const HISTORY_NAME = /^(?:history|chain-history|chains-history|index)(?:[._-][\w.-]*)?\.(?:jsonl|ndjson|json|csv)$/i;
const FILE_TYPES: [RegExp, string][] = [
  [/\.chain\.html$/i, "text/html; charset=utf-8"],
  [/\.(?:json)$/i, "application/json; charset=utf-8"],
  [/\.(?:jsonl|ndjson)$/i, "application/x-ndjson; charset=utf-8"],
  [/\.csv$/i, "text/csv; charset=utf-8"],
];

export interface ServeOptions {
  /** The folder to serve (a profile's output folder). */
  dir: string;
  host?: string;
  /** 0 picks a free port. Default 8787. */
  port?: number;
  /** How often the folder is re-read besides fs.watch events, in ms (fs.watch can miss events). Default 1000. */
  pollMs?: number;
  /** Keep-alive comment interval on the event stream, in ms. Default 15 s. */
  keepAliveMs?: number;
  onLog?: (line: string) => void;
}

export interface ServeHandle {
  url: string;
  host: string;
  port: number;
  dir: string;
  /** The newest chain file's name now, or null. */
  newest(): string | null;
  close(): Promise<void>;
}

interface Entry {
  name: string;
  mtimeMs: number;
  size: number;
}

/** The folder's chain files (regular files named *.chain.json), newest first. Missing folder: none. */
export async function listChains(dir: string): Promise<Entry[]> {
  return (await listFiles(dir)).filter((e) => e.name.endsWith(CHAIN_SUFFIX)).sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? 1 : -1));
}

async function listFiles(dir: string): Promise<Entry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const entries: Entry[] = [];
  for (const name of names) {
    if (name.startsWith(".") || name.endsWith(".tmp")) continue;
    try {
      const info = await stat(join(dir, name));
      if (info.isFile()) entries.push({ name, mtimeMs: info.mtimeMs, size: info.size });
    } catch {
      // gone meanwhile
    }
  }
  return entries;
}

/**
 * Resolves a name from a URL to a file of `dir`, or null: the name must be one of the folder's own
 * entries (so "..", "/", "%2F" and friends never match), and its real path must stay inside the folder.
 */
export async function confinedFile(dir: string, name: string, allowed: (name: string) => boolean = () => true): Promise<string | null> {
  if (!name || name.includes("/") || name.includes("\\") || name.includes("\0") || name === "." || name === ".." || !allowed(name)) return null;
  const listing = await listFiles(dir);
  if (!listing.some((e) => e.name === name)) return null;
  try {
    const root = await realpath(dir);
    const real = await realpath(join(dir, name));
    const rel = relative(root, real);
    if (!rel || rel.startsWith("..") || rel.includes(sep) || resolve(root, rel) !== real) return null;
    if (!(await lstat(real)).isFile()) return null;
    return real;
  } catch {
    return null;
  }
}

const pageCache = new Map<string, { key: string; html: string }>();

async function chainPage(dir: string, entry: Entry, live: { follow: boolean; chains: Entry[]; history: string | null }): Promise<string> {
  const file = await confinedFile(dir, entry.name, (n) => n.endsWith(CHAIN_SUFFIX));
  if (!file) return messagePage("Not found", `${entry.name} is not a chain file of this folder.`, live.follow);
  if (entry.size > SERVE_MAX_CHAIN_BYTES) return messagePage("Too large to show", `${entry.name} is ${Math.round(entry.size / 1048576)} MB; the page is made for chains up to ${SERVE_MAX_CHAIN_BYTES / 1048576} MB. Its JSON is at /files/${entry.name}.`, live.follow);
  const links = [
    ...live.chains.slice(0, 12).map((c, i) => ({ label: i === 0 ? `${c.name} (newest)` : c.name, href: i === 0 ? "/" : `/chains/${encodeURIComponent(c.name)}`, current: c.name === entry.name && (i === 0) === live.follow })),
    ...(live.history ? [{ label: "history index", href: "/history" }] : []),
    { label: "JSON", href: `/files/${encodeURIComponent(entry.name)}` },
  ];
  const key = `${entry.name}:${entry.mtimeMs}:${entry.size}:${live.follow}:${links.map((l) => l.href + l.label).join("|")}`;
  const cached = pageCache.get(entry.name);
  if (cached?.key === key) return cached.html;
  let chain: unknown;
  try {
    chain = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    return messagePage("Cannot read this chain", `${entry.name}: ${error instanceof Error ? error.message : String(error)}`, live.follow);
  }
  try {
    const html = renderChainHtml(chain as Parameters<typeof renderChainHtml>[0], {
      live: { events: "/events", follow: live.follow, newestHref: "/", links, folder: basename(dir) },
    });
    pageCache.set(entry.name, { key, html });
    return html;
  } catch (error) {
    return messagePage("Cannot show this chain", `${entry.name} is not a chain this page understands: ${error instanceof Error ? error.message : String(error)}`, live.follow);
  }
}

/** A plain page (no chain yet, an error) that still reloads when a chain is written. */
function messagePage(title: string, text: string, follow: boolean): string {
  const script = follow ? `<script>new EventSource("/events").addEventListener("chain",function(){location.reload()})</script>` : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>${escapeHtml(title)}</title></head><body style="font:16px/1.5 system-ui,sans-serif;margin:2rem"><h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(text)}</p>${follow ? '<p role="status">This page reloads when a chain is written.</p>' : ""}${script}</body></html>`;
}

function historyPage(name: string, text: string): string {
  let rows: Record<string, unknown>[] | null = null;
  try {
    if (/\.(?:jsonl|ndjson)$/i.test(name)) rows = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    else if (/\.json$/i.test(name)) {
      const parsed = JSON.parse(text) as unknown;
      const list = Array.isArray(parsed) ? parsed : ((parsed as { entries?: unknown; runs?: unknown }).entries ?? (parsed as { runs?: unknown }).runs);
      if (Array.isArray(list)) rows = list as Record<string, unknown>[];
    }
  } catch {
    rows = null;
  }
  const cell = (v: unknown) => escapeHtml(v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  let body: string;
  if (rows && rows.every((r) => r && typeof r === "object")) {
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    body = `<table><thead><tr>${columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>${[...rows]
      .reverse()
      .map((r) => `<tr>${columns.map((c) => `<td>${cell(r[c])}</td>`).join("")}</tr>`)
      .join("")}</tbody></table>`;
  } else body = `<pre>${escapeHtml(text)}</pre>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>History · ${escapeHtml(name)}</title><style>body{font:14px/1.45 system-ui,sans-serif;margin:1rem}table{border-collapse:collapse}th,td{border-bottom:1px solid #8886;padding:2px 8px;text-align:left;white-space:nowrap}div{overflow:auto}</style></head><body><p><a href="/">← the newest chain</a></p><h1>History index (${escapeHtml(name)}), newest first</h1><div tabindex="0">${body}</div></body></html>`;
}

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost" || host.startsWith("127.");
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServeOptions): Promise<ServeHandle> {
  const dir = resolve(options.dir);
  const host = options.host ?? DEFAULT_SERVE_HOST;
  const log = options.onLog ?? (() => {});
  const listeners = new Set<(name: string) => void>();
  let newest: Entry | null = (await listChains(dir))[0] ?? null;
  let closed = false;

  const findHistory = async () => (await listFiles(dir)).find((e) => HISTORY_NAME.test(e.name))?.name ?? null;

  const app = new Hono();
  app.use("*", async (c, next) => {
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      c.header("Allow", "GET, HEAD");
      return c.text("read-only: GET and HEAD only\n", 405);
    }
    // Bound to loopback, answer only to loopback names (a DNS-rebinding page cannot read the folder).
    if (isLoopback(host)) {
      const hostname = (c.req.header("host") ?? "").replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
      if (!isLoopback(hostname)) return c.text("unexpected Host header\n", 403);
    }
    await next();
  });

  const html = (c: Context, body: string, status: 200 | 404 | 500 = 200) => c.html(body, status);

  app.get("/", async (c) => {
    const chains = await listChains(dir);
    const entry = chains[0];
    if (!entry) return html(c, messagePage("No chain yet", `No chain has been written to ${dir} yet.`, true));
    return html(c, await chainPage(dir, entry, { follow: true, chains, history: await findHistory() }));
  });

  app.get("/chains/:name", async (c) => {
    const name = c.req.param("name");
    const chains = await listChains(dir);
    const entry = chains.find((e) => e.name === name);
    if (!entry || !(await confinedFile(dir, name, (n) => n.endsWith(CHAIN_SUFFIX)))) return html(c, messagePage("Not found", "No such chain in this folder.", false), 404);
    return html(c, await chainPage(dir, entry, { follow: false, chains, history: await findHistory() }));
  });

  app.get("/files/:name", async (c) => {
    const name = c.req.param("name");
    const type = FILE_TYPES.find(([pattern]) => pattern.test(name))?.[1];
    const file = type ? await confinedFile(dir, name) : null;
    if (!file || !type) return c.text("not found\n", 404);
    return c.body(await readFile(file), 200, { "Content-Type": type });
  });

  app.get("/history", async (c) => {
    const name = await findHistory();
    const file = name ? await confinedFile(dir, name) : null;
    if (!name || !file) return html(c, messagePage("No history index", "This folder has no history index (watch writes one).", false), 404);
    return html(c, historyPage(name, await readFile(file, "utf8")));
  });

  app.get("/events", (c) =>
    streamSSE(c, async (stream) => {
      const send = (name: string) => void stream.writeSSE({ event: "chain", data: JSON.stringify({ name, href: "/" }) }).catch(() => {});
      listeners.add(send);
      stream.onAbort(() => {
        listeners.delete(send);
      });
      await stream.writeSSE({ event: "hello", data: JSON.stringify({ newest: newest?.name ?? null }), retry: 1000 });
      while (!stream.aborted && !closed) {
        await stream.sleep(options.keepAliveMs ?? 15_000);
        if (!stream.aborted && !closed) await stream.write(": keep-alive\n\n");
      }
      listeners.delete(send);
    }),
  );

  app.notFound((c) => c.text("not found\n", 404));
  app.onError((error, c) => {
    log(`serve: ${error.message}`);
    return c.text("internal error\n", 500);
  });

  // Watch the folder: fs.watch for promptness, a poll for what it misses (network drives, a folder made later).
  let timer: NodeJS.Timeout | null = null;
  const check = async () => {
    if (closed) return;
    const current = (await listChains(dir))[0] ?? null;
    if (current && (!newest || current.name !== newest.name || current.mtimeMs !== newest.mtimeMs)) {
      newest = current;
      log(`serve: new chain ${current.name}`);
      // Make the page before telling the browsers, so their reload is answered from the cache at once.
      await chainPage(dir, current, { follow: true, chains: await listChains(dir), history: await findHistory() }).catch(() => {});
      for (const send of listeners) send(current.name);
    } else if (!current) newest = null;
  };
  const soon = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void check().catch(() => {}), 50);
  };
  let watcher: FSWatcher | null = null;
  const startWatcher = () => {
    if (watcher || !existsSync(dir)) return;
    try {
      watcher = watch(dir, { persistent: false }, soon);
      watcher.on("error", () => {
        watcher?.close();
        watcher = null;
      });
    } catch {
      watcher = null;
    }
  };
  startWatcher();
  const poll = setInterval(() => {
    startWatcher();
    void check().catch(() => {});
  }, options.pollMs ?? 1000);
  poll.unref();

  const server = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(options.port ?? DEFAULT_SERVE_PORT, host, () => {
      server.off("error", rejectListen);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    dir,
    newest: () => newest?.name ?? null,
    close: async () => {
      closed = true;
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      watcher?.close();
      listeners.clear();
      const http = server as import("node:http").Server;
      await new Promise<void>((done) => {
        http.close(() => done());
        http.closeAllConnections?.();
      });
    },
  };
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${value}"`);
  return n;
}

/**
 * The `serve` subcommand. `--profile` may come before or after `serve`; `--out` overrides the profile's
 * output folder. Runs until SIGINT/SIGTERM.
 */
export function serveCommand(context: { profilesDir: string; cwd: string }): Command {
  return new Command("serve")
    // addCommand does not inherit the program's exitOverride: a bad flag must be exit 2, like everywhere.
    .exitOverride()
    .showHelpAfterError()
    .description("show the newest chain of the profile's output folder in the browser, live (read-only, 127.0.0.1 by default)")
    .option("-p, --profile <name>", "profile whose output folder to serve (default: default)")
    .option("-c, --config <file>", "a profile file of your own")
    .option("-o, --out <dir>", "serve this folder instead of the profile's output.dir")
    .option("--host <host>", "address to bind", DEFAULT_SERVE_HOST)
    .option("--port <n>", "port (0: any free port)", parsePort, DEFAULT_SERVE_PORT)
    .action(async function (this: Command, flags: { profile?: string; config?: string; out?: string; host: string; port: number }) {
      const outer = this.parent?.opts<{ profile?: string; config?: string; out?: string }>() ?? {};
      const out = flags.out ?? outer.out;
      let dir: string;
      if (out) dir = resolve(context.cwd, out);
      else {
        const profilePath = flags.config ?? outer.config ?? resolveProfilePath(flags.profile ?? outer.profile, context.profilesDir, context.cwd);
        const loaded = loadProfile(resolve(context.cwd, profilePath), { env: process.env, dotenvFiles: [resolve(context.cwd, ".env"), resolve(resolve(context.cwd, profilePath), "..", ".env")] });
        dir = resolve(loaded.baseDir, loaded.profile.output.dir);
      }
      if (!isLoopback(flags.host)) process.stderr.write(`warning: --host ${flags.host} makes the folder readable from other machines\n`);
      const handle = await startServer({ dir, host: flags.host, port: flags.port, onLog: (line) => process.stderr.write(`${line}\n`) });
      process.stdout.write(`serving ${dir}\n  ${handle.url}  (newest chain: ${handle.newest() ?? "none yet"})\n  the page reloads when a new chain is written; Ctrl-C stops\n`);
      // Serving is not a run: stop at once, before the runner's "partial run" handler speaks. Nothing is
      // written, so there is nothing to finish; the sockets go with the process.
      const stop = (code: number) => {
        process.stderr.write("serve: stopped\n");
        process.exit(code);
      };
      process.prependOnceListener("SIGINT", () => stop(130));
      process.prependOnceListener("SIGTERM", () => stop(143));
      await new Promise<never>(() => {});
    });
}
