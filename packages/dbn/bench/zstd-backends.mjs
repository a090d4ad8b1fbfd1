// `pnpm --filter @nq/dbn bench:zstd` (also run by `bench`): zstd DBN decode with each backend on
// one file, against the `zstd -d` command-line tool on the same file, all measured in this run.
// Targets (issue 16): native ≥ 3× fzstd, and native within 1.5× of the CLI's time.
//
// The file is generated with the package's own encoder in a temporary folder (≥ 200 MB of DBN by
// default; BENCH_ZSTD_MB sets the size, BENCH_QUICK=1 makes it 50 MB) and deleted afterwards. It
// is compressed by /usr/bin/zstd -3 when present (one checksummed frame, as Databento's files
// are), else by the encoder's own zstd frames. Each row is the median of BENCH_RUNS runs (5).
import { execFileSync, spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { once } from "node:events";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { DbnEncoder, FZSTD_BACKEND, nativeZstdBackend, visitDbn, zstdDecompressStream } from "../dist/index.js";
import { mboMetadata } from "./synthetic.mjs";

const QUICK = process.env.BENCH_QUICK === "1";
const TARGET_MB = Number(process.env.BENCH_ZSTD_MB ?? (QUICK ? 50 : 210));
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 3 : 5));
const ZSTD_CLI = "/usr/bin/zstd";
const NATIVE = nativeZstdBackend();

const T0 = 1_700_000_000_000_000_000n;

/**
 * MBO records whose fields move the way a real book's do (a random walk of prices, bursts of
 * timestamps, mixed actions and sizes), so the file compresses like real data (~4–6×), not like a
 * repeated template.
 */
function* mboRecords(count) {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let price = 18_000 * 4;
  let ts = T0;
  for (let i = 0; i < count; i++) {
    price += Math.floor(rand() * 5) - 2;
    ts += BigInt(Math.floor(rand() * rand() * 2_000_000));
    const instrument = 40_000_000 + Math.floor(rand() * rand() * 3000);
    yield {
      hd: { length: 14, rtype: 0xa0, publisher_id: 1, instrument_id: instrument, ts_event: ts },
      order_id: BigInt(6_400_000_000_000 + i - Math.floor(rand() * rand() * 20_000)),
      price: BigInt(price) * 250_000_000n,
      size: 1 + Math.floor(rand() * rand() * 50),
      flags: rand() < 0.1 ? 0x80 : 0,
      channel_id: instrument % 4,
      action: "AAACCMTF"[Math.floor(rand() * 8)],
      side: rand() < 0.5 ? "A" : "B",
      ts_recv: ts + BigInt(10_000 + Math.floor(rand() * 30_000)),
      ts_in_delta: 15_000 + Math.floor(rand() * 5_000),
      sequence: i,
    };
  }
}

async function writeDbn(path, bytes) {
  const out = createWriteStream(path);
  const encoder = new DbnEncoder(mboMetadata(), (chunk) => {
    if (!out.write(chunk)) pending.push(once(out, "drain"));
  }, { chunkBytes: 4 << 20 });
  const pending = [];
  const count = Math.ceil(bytes / 56);
  let n = 0;
  for (const record of mboRecords(count)) {
    encoder.write(record);
    if (++n % 100_000 === 0 && pending.length) await Promise.all(pending.splice(0));
  }
  encoder.end();
  out.end();
  await once(out, "finish");
  return count;
}

async function writeZstdDbnWithEncoder(path, bytes) {
  const out = createWriteStream(path);
  const encoder = new DbnEncoder(mboMetadata(), (chunk) => out.write(chunk), { zstd: true, chunkBytes: 8 << 20 });
  let n = 0;
  for (const record of mboRecords(Math.ceil(bytes / 56))) {
    encoder.write(record);
    if (++n % 100_000 === 0 && out.writableNeedDrain) await once(out, "drain");
  }
  encoder.end();
  out.end();
  await once(out, "finish");
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Wall and CPU time (user + system) of one run of `fn`; `fn` may report a child's CPU time. */
async function measure(fn) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const out = await fn();
  const used = process.cpuUsage(cpuStart);
  const wall = (performance.now() - start) / 1000;
  const child = out && typeof out === "object" && "cpu" in out;
  return { wall, cpu: child ? out.cpu : (used.user + used.system) / 1e6, result: child ? out.result : out };
}

/**
 * Runs every case once per round, RUNS rounds, so a busy spell on the shared machine lands on all
 * of them alike; returns each case's median wall and CPU time. Ratios use CPU time: on a shared
 * machine wall time measures the neighbours as much as the code.
 */
async function rounds(cases) {
  const samples = new Map(cases.map(([name]) => [name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, fn] of cases) {
      const m = await measure(fn);
      samples.get(name).push(m);
      console.error(`  round ${i + 1}/${RUNS} ${name}: ${m.wall.toFixed(3)} s wall, ${m.cpu.toFixed(3)} s CPU`);
    }
  }
  const out = {};
  for (const [name, list] of samples) {
    out[name] = { wall: median(list.map((m) => m.wall)), seconds: median(list.map((m) => m.cpu)), result: list.at(-1).result };
  }
  return out;
}

async function decompressOnly(path, backend) {
  let bytes = 0;
  // The same 1 MiB reads the decoder makes of a path.
  // reuseOutput, as the DBN decoder asks for: this consumer keeps nothing of a piece.
  for await (const piece of zstdDecompressStream(createReadStream(path, { highWaterMark: 1 << 20 }), { backend, reuseOutput: true })) bytes += piece.length;
  return bytes;
}

let sink = 0;
async function decodeAndParse(path, backend) {
  const { recordCount } = await visitDbn(path, (view, offset) => {
    sink += view.getUint32(offset + 4, true); // instrument_id: every record is read
  }, { zstdBackend: backend });
  return recordCount;
}

/** `zstd -d -c file > /dev/null`, its CPU time read with bash's `times` (children's user + sys). */
function cliDecompress(path) {
  const script = `"${ZSTD_CLI}" -d -c -q "$1" > /dev/null || exit 1; times`;
  const run = spawnSync("bash", ["-c", script, "bash", path], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`zstd -d failed: ${run.stderr}`);
  const children = run.stdout.trim().split("\n").at(-1).split(/\s+/).map((t) => {
    const [, m, s] = /^(\d+)m([\d.]+)s$/.exec(t);
    return Number(m) * 60 + Number(s);
  });
  return { result: null, cpu: children[0] + children[1] };
}

const dir = mkdtempSync(join(tmpdir(), "nq-dbn-zstd-bench-"));
try {
  const plain = join(dir, "mbo.dbn");
  const zst = join(dir, "mbo.dbn.zst");
  console.error(`generating ~${TARGET_MB} MB of MBO DBN with the package's encoder in ${dir}…`);
  let compressor;
  if (existsSync(ZSTD_CLI)) {
    await writeDbn(plain, TARGET_MB * 1e6);
    execFileSync(ZSTD_CLI, ["-3", "-q", "-f", plain, "-o", zst]);
    rmSync(plain);
    compressor = "`zstd -3` (one frame, checksum)";
  } else {
    await writeZstdDbnWithEncoder(zst, TARGET_MB * 1e6);
    compressor = "the encoder's zstd frames (WASM level 3)";
  }
  const compressed = statSync(zst).size;

  const rows = [];
  const cases = [
    ["fzstd decompress", () => decompressOnly(zst, FZSTD_BACKEND)],
    ...(NATIVE ? [["zstd-napi decompress", () => decompressOnly(zst, NATIVE)]] : []),
    ...(existsSync(ZSTD_CLI) ? [["zstd -d CLI", () => cliDecompress(zst)]] : []),
    ["fzstd decode+parse", () => decodeAndParse(zst, FZSTD_BACKEND)],
    ...(NATIVE ? [["zstd-napi decode+parse", () => decodeAndParse(zst, NATIVE)]] : []),
  ];
  const got = await rounds(cases);
  const fzstd = got["fzstd decompress"];
  const size = fzstd.result;
  const native = got["zstd-napi decompress"] ?? null;
  if (native && native.result !== size) throw new Error(`zstd-napi produced ${native.result} bytes, fzstd ${size}`);
  const cli = got["zstd -d CLI"] ?? null;
  const fzstdParse = got["fzstd decode+parse"];
  const nativeParse = got["zstd-napi decode+parse"] ?? null;
  if (nativeParse && nativeParse.result !== fzstdParse.result) throw new Error("record counts differ between backends");

  const mbps = (s) => `${(size / 1e6 / s).toFixed(0)} MB/s`;
  const row = (what, t, ratio, target = "") =>
    rows.push(`| ${what} | ${t ? `${t.seconds.toFixed(3)} s` : "—"} | ${t ? mbps(t.seconds) : "—"} | ${t ? `${t.wall.toFixed(3)} s` : "—"} | ${ratio} | ${target} |`);
  row("(a) decompress, fzstd (today's path)", fzstd, "1.00× (baseline)");
  if (native) {
    const speedup = fzstd.seconds / native.seconds;
    row("(b) decompress, zstd-napi (native)", native, `${speedup.toFixed(2)}× faster than fzstd`, `≥ 3× — ${speedup >= 3 ? "met" : "**missed**"}`);
  } else {
    row("(b) decompress, zstd-napi (native)", null, "skipped: zstd-napi's addon is not built here");
  }
  if (cli) {
    row("(c) `zstd -d -c file > /dev/null` (CLI)", cli, "reference");
    if (native) {
      const ratio = native.seconds / cli.seconds;
      rows.push(`| native time ÷ CLI time | | | | ${ratio.toFixed(2)}× CPU (${(native.wall / cli.wall).toFixed(2)}× wall) | ≤ 1.5× — ${ratio <= 1.5 ? "met" : "**missed**"} |`);
    }
  } else {
    row("(c) `zstd -d` CLI", null, `skipped: ${ZSTD_CLI} not found`);
  }
  row("(d) decode + parse (visitDbn), fzstd", fzstdParse, "1.00× (baseline)");
  if (nativeParse) row("(d) decode + parse (visitDbn), zstd-napi", nativeParse, `${(fzstdParse.seconds / nativeParse.seconds).toFixed(2)}× faster than fzstd`);

  console.log(`@nq/dbn zstd backends — node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length}, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`file: ${(size / 1e6).toFixed(0)} MB of MBO DBN (${fzstdParse.result.toLocaleString("en-US")} records), ${(compressed / 1e6).toFixed(1)} MB compressed by ${compressor} (${(size / compressed).toFixed(2)}:1); median of ${RUNS} rounds (each round runs every row once); CPU time (user + system) and MB/s of decompressed DBN per CPU second; wall time for reference\n`);
  console.log("| run | CPU time | throughput | wall time | ratio (CPU) | target |");
  console.log("|---|---:|---:|---:|---|---|");
  for (const line of rows) console.log(line);
  if (sink === 0) console.error("(no records read)");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
