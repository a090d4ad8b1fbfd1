/**
 * A throwaway PostgreSQL server for tests and benchmarks: Debian's binaries (`initdb`, `postgres`) run on
 * a fresh data folder in a temporary directory, listening on 127.0.0.1 at a free port and on a unix socket
 * inside that directory, with password authentication over TCP. `stop()` shuts it down and removes the
 * directory. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user (else `nobody`).
 *
 * The server runs under a small shell guard that reads its stdin: when this process dies without calling
 * `stop()` (a crashed test worker, a killed benchmark), the pipe closes and the guard stops the server and
 * removes the directory, so nothing is left running.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, chmodSync, chownSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's postgresql-15 package puts its programs. `NQ_PG_BIN` points elsewhere. */
export const DEFAULT_POSTGRES_BIN_DIR = "/usr/lib/postgresql/15/bin";

export type PostgresBinaries = { available: true; binDir: string } | { available: false; binDir: string; reason: string };

/** Whether the server programs are installed (and where); never throws. */
export function findPostgresBinaries(binDir: string = process.env.NQ_PG_BIN ?? DEFAULT_POSTGRES_BIN_DIR): PostgresBinaries {
  for (const program of ["initdb", "postgres", "pg_isready", "createdb"]) {
    try {
      accessSync(join(binDir, program), constants.X_OK);
    } catch {
      return {
        available: false,
        binDir,
        reason: `PostgreSQL's ${program} is not at ${join(binDir, program)} (install Debian's postgresql package: apt-get install postgresql, or set NQ_PG_BIN to a folder holding initdb and postgres)`,
      };
    }
  }
  return { available: true, binDir };
}

export interface StartPostgresOptions {
  /** Folder with initdb, postgres, pg_isready, createdb; default NQ_PG_BIN or /usr/lib/postgresql/15/bin. */
  binDir?: string;
  /** The database created at start (the one `url` names); default "nq". */
  database?: string;
  /** Extra server settings (`-c name=value`), e.g. { max_connections: "200" }. */
  settings?: Record<string, string>;
  /** How long to wait for the server to accept connections; default 60 s. */
  startTimeoutMs?: number;
  /**
   * Also accept TLS: a self-signed certificate for 127.0.0.1 is made with openssl; `caFile` names it (the
   * file a client trusts). Plain connections are still accepted.
   */
  tls?: boolean;
}

export interface PostgresServer {
  /** postgres://nq:<password>@127.0.0.1:<port>/<database> */
  readonly url: string;
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** The folder holding the unix socket (and the data folder). */
  readonly directory: string;
  /** With `tls: true`: the server's self-signed certificate, to trust as a CA. */
  readonly caFile: string | null;
  /** The URL of another database on this server (created with `createDatabase`). */
  urlFor(database: string): string;
  /** Creates a database (a unique name unless given) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server at once (SIGKILL, like a crashed machine) — for connection-loss tests; `stop` still cleans up. */
  kill(): void;
  /** Fast shutdown, then the temporary directory is removed. Safe to call twice. */
  stop(): Promise<void>;
}

const SUPERUSER = "nq";

/** Starts a server; rejects with what went wrong (and removes what it made). */
export async function startPostgresServer(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const found = findPostgresBinaries(options.binDir);
  if (!found.available) throw new Error(found.reason);
  const bin = (program: string) => join(found.binDir, program);
  const runAs = unprivilegedUser();
  const directory = mkdtempSync(join(tmpdir(), "nq-pg-"));
  const dataDir = join(directory, "data");
  const password = randomBytes(12).toString("hex");
  const database = options.database ?? "nq";
  let guard: ChildProcess | null = null;
  const cleanUp = () => {
    if (guard && guard.exitCode === null) guard.kill("SIGKILL");
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    const passwordFile = join(directory, "password");
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      chownSync(directory, runAs.uid, runAs.gid);
      chownSync(passwordFile, runAs.uid, runAs.gid);
    }
    chmodSync(directory, 0o700);
    runProgram(bin("initdb"), ["-D", dataDir, "-U", SUPERUSER, `--pwfile=${passwordFile}`, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"], runAs);
    rmSync(passwordFile);
    const settings = { ...(options.settings ?? {}) };
    let caFile: string | null = null;
    if (options.tls) {
      caFile = join(directory, "server.crt");
      makeSelfSignedCertificate(directory, runAs);
      Object.assign(settings, { ssl: "on", ssl_cert_file: caFile, ssl_key_file: join(directory, "server.key") });
    }

    const started = await startOnFreePort(bin("postgres"), dataDir, directory, settings, runAs, options.startTimeoutMs ?? 60_000, bin("pg_isready"));
    guard = started.guard;
    const port = started.port;
    const urlFor = (name: string) => `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${encodeURIComponent(name)}`;
    let created = 0;
    const createDatabase = async (name?: string) => {
      const dbName = name ?? `nq_${process.pid}_${Date.now().toString(36)}_${(created += 1)}`;
      runProgram(bin("createdb"), ["-h", directory, "-p", String(port), "-U", SUPERUSER, dbName], runAs);
      return urlFor(dbName);
    };
    await createDatabase(database);
    let stopping: Promise<void> | null = null;
    const running = guard;
    return {
      url: urlFor(database),
      host: "127.0.0.1",
      port,
      user: SUPERUSER,
      password,
      database,
      directory,
      caFile,
      urlFor,
      createDatabase,
      kill: () => {
        const pid = postmasterPid(dataDir);
        if (pid !== null) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      },
      stop: () =>
        (stopping ??= (async () => {
          // Closing the guard's stdin makes it send the server SIGINT (fast shutdown) and wait for it.
          running.stdin?.end();
          const exited = await waitForExit(running, 30_000);
          if (!exited) running.kill("SIGKILL");
          const pid = postmasterPid(dataDir);
          if (pid !== null) {
            try {
              process.kill(pid, "SIGKILL");
            } catch {
              // already gone
            }
          }
          rmSync(directory, { recursive: true, force: true });
        })()),
    };
  } catch (error) {
    cleanUp();
    throw error;
  }
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/** As root, the user the server runs as (PostgreSQL refuses root); otherwise null (run as ourselves). */
function unprivilegedUser(): RunAs | null {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return null;
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n");
  for (const name of ["postgres", "nobody"]) {
    const fields = passwd.find((line) => line.startsWith(`${name}:`))?.split(":");
    if (fields && fields.length >= 4) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as (it refuses to run as root)");
}

function runProgram(program: string, args: string[], runAs: RunAs | null): void {
  const result = spawnSync(program, args, {
    encoding: "utf8",
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    env: { ...process.env, LC_ALL: "C", PGPASSWORD: "" },
    cwd: tmpdir(),
    timeout: 120_000,
  });
  if (result.error) throw new Error(`${program} could not run: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${program} ${args[0] ?? ""} failed (exit ${result.status ?? result.signal}): ${(result.stderr || result.stdout).trim().slice(-2000)}`);
  }
}

/** A key and a self-signed certificate for 127.0.0.1 in `directory`, readable by the server's user only. */
function makeSelfSignedCertificate(directory: string, runAs: RunAs | null): void {
  const key = join(directory, "server.key");
  const cert = join(directory, "server.crt");
  const result = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
    { encoding: "utf8", timeout: 60_000 },
  );
  if (result.status !== 0) throw new Error(`openssl could not make a test certificate: ${(result.stderr || String(result.error)).trim().slice(-500)}`);
  chmodSync(key, 0o600);
  chmodSync(cert, 0o644);
  if (runAs) {
    chownSync(key, runAs.uid, runAs.gid);
    chownSync(cert, runAs.uid, runAs.gid);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Picks a free port and starts the server there; another process may take the port between the check and
 * the bind, so a bind failure is retried on another port.
 */
async function startOnFreePort(
  postgres: string,
  dataDir: string,
  socketDir: string,
  settings: Record<string, string>,
  runAs: RunAs | null,
  timeoutMs: number,
  pgIsReady: string,
): Promise<{ guard: ChildProcess; port: number }> {
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freePort();
    const serverArgs = [
      "-D", dataDir,
      "-p", String(port),
      "-k", socketDir,
      "-c", "listen_addresses=127.0.0.1",
      // A test server: durability is not what is tested, and fsync on a busy machine costs seconds.
      "-c", "fsync=off",
      "-c", "synchronous_commit=off",
      "-c", "full_page_writes=off",
      "-c", "max_connections=200",
      ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
    ];
    const quoted = [postgres, ...serverArgs].map(shellQuote).join(" ");
    // The guard: start the server, then wait for stdin to close (stop() or this process dying), then stop it
    // (fast shutdown), wait, and remove the directory.
    const script = `${quoted} >"${socketDir}/server.log" 2>&1 & pid=$!; cat >/dev/null; kill -INT $pid 2>/dev/null; wait $pid; rm -rf ${shellQuote(socketDir)}`;
    const guard = spawn("/bin/sh", ["-c", script], {
      stdio: ["pipe", "ignore", "ignore"],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" },
      cwd: tmpdir(),
    });
    const deadline = Date.now() + timeoutMs;
    let ready = false;
    while (Date.now() < deadline) {
      const check = spawnSync(pgIsReady, ["-h", "127.0.0.1", "-p", String(port), "-t", "2"], { encoding: "utf8" });
      if (check.status === 0) {
        ready = true;
        break;
      }
      const log = readLog(socketDir);
      if (/could not bind|Address already in use/i.test(log)) break;
      if (/FATAL|PANIC/.test(log) && !/the database system is starting up/.test(log)) {
        lastError = new Error(`PostgreSQL did not start: ${log.trim().slice(-2000)}`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (ready) return { guard, port };
    const log = readLog(socketDir);
    guard.stdin?.end();
    if (!(await waitForExit(guard, 10_000))) guard.kill("SIGKILL");
    const pid = postmasterPid(dataDir);
    if (pid !== null) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    if (lastError) throw lastError;
    if (!/could not bind|Address already in use/i.test(log)) {
      throw new Error(`PostgreSQL did not accept connections on 127.0.0.1:${port} within ${timeoutMs} ms: ${log.trim().slice(-2000)}`);
    }
    lastError = new Error(`PostgreSQL could not bind 127.0.0.1:${port}: ${log.trim().slice(-500)}`);
  }
  throw lastError ?? new Error("PostgreSQL did not start");
}

function readLog(socketDir: string): string {
  try {
    return readFileSync(join(socketDir, "server.log"), "utf8");
  } catch {
    return "";
  }
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
