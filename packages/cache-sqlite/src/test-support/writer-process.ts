/** Starts ./cache-writer-process.mjs (which uses the built package) and follows what it prints. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./cache-writer-process.mjs", import.meta.url));
const built = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

export interface WriterOptions {
  file: string;
  prefix: string;
  count: number;
  contracts: number;
  hangBeforeCommitAt?: number;
  /** Contracts in the entry it hangs in (default `contracts`). */
  hangContracts?: number;
  waitForGo?: boolean;
  /** Keep the cache open after the writes until a line arrives on stdin (prints "holding <pid>"). */
  holdOpen?: boolean;
}

export interface WriterProcess {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  /** Resolves when the child prints a line matching `pattern`; rejects if it exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startWriter(options: WriterOptions): WriterProcess {
  if (!existsSync(built)) throw new Error(`the crash and concurrency tests run the built package: ${built} is missing; run "pnpm --filter @nq/cache-sqlite build" first`);
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  let err = "";
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    stderr: () => err,
    exit,
    waitFor(pattern, timeoutMs = 20_000) {
      const seen = lines.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`writer ${options.prefix} printed no ${pattern} within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
        const waiter = {
          pattern,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        waiters.push(waiter);
        void exit.then(({ code, signal }) => {
          if (!waiters.includes(waiter)) return;
          clearTimeout(timer);
          reject(new Error(`writer ${options.prefix} exited (code ${code}, signal ${signal}) before printing ${pattern}; stderr: ${err}`));
        });
      });
    },
  };
}
