// One measured job in its own process, so its peak RSS (VmHWM) is its own:
//   node child.mjs <job> <input.dbn> <outDir>
// Jobs: parquet (v2 pages, the default), parquet-v1, decode (visitDbn fast path, reads every field the converter
// reads), csv (@nq/dbn's CsvEncoder, Databento's CSV, written to a file), parquet-session (the input converted
// SESSION_FILES times through one openParquetSession, as a backfill converts its days; timed: files 2…N).
import { createWriteStream, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { convertDbnToParquet, openParquetSession } from "../dist/index.js";
import { CsvEncoder, DEFAULT_ZSTD_BACKEND, openDbn, TsSymbolMap, visitDbn } from "@nq/dbn";

const [job, input, outDir] = process.argv.slice(2);
const SESSION_FILES = 5;
const started = performance.now();
const cpuStart = process.cpuUsage();
let bytesOut = 0;
let rows = 0;
/** Where the clock starts when it is not at the start (parquet-session), and how many inputs' worth it covers. */
let timedFrom = null;
let timedInputs = 1;
if (job === "parquet" || job === "parquet-v1") {
  const result = await convertDbnToParquet({ input, outDir, parquetVersion: job === "parquet-v1" ? "v1" : "v2" });
  bytesOut = result.files.reduce((n, f) => n + f.bytes, 0);
  rows = result.rows;
} else if (job === "parquet-session") {
  // The first file pays the process's and the session's start-up; the clock starts after it.
  const session = await openParquetSession();
  const first = await session.convert({ input, outDir: join(outDir, "0") });
  rows = 0;
  bytesOut = first.files.reduce((n, f) => n + f.bytes, 0);
  timedFrom = { started: performance.now(), cpu: process.cpuUsage() };
  timedInputs = SESSION_FILES - 1;
  for (let i = 1; i < SESSION_FILES; i++) {
    const result = await session.convert({ input, outDir: join(outDir, String(i)) });
    rows += result.rows;
  }
  session.close();
} else if (job === "decode") {
  let sum = 0;
  const result = await visitDbn(input, (view, offset) => {
    for (let at = offset; at < offset + 80; at += 4) sum += view.getUint32(at, true);
  });
  rows = result.recordCount;
  if (sum === -1) console.error("unreachable");
} else if (job === "csv") {
  const decoder = openDbn(input);
  const metadata = await decoder.metadata();
  const csv = new CsvEncoder(metadata, { symbolMap: new TsSymbolMap(metadata) });
  const out = createWriteStream(join(outDir, "out.csv"));
  out.write(csv.begin());
  for await (const batch of decoder.batches()) {
    let text = "";
    for (const record of batch) text += csv.encode(record);
    rows += batch.length;
    if (!out.write(text)) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise((resolve) => out.end(resolve));
  bytesOut = statSync(join(outDir, "out.csv")).size;
} else {
  throw new Error(`unknown job ${job}`);
}
const ms = performance.now() - (timedFrom?.started ?? started);
// CPU time of every thread of the process (JS and DuckDB's worker): on a shared machine this, not
// the wall clock, says what one core does.
const cpu = process.cpuUsage(timedFrom?.cpu ?? cpuStart);
const cpuMs = (cpu.user + cpu.system) / 1000;
const rss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
process.stdout.write(JSON.stringify({ job, ms, cpuMs, rss, bytesOut, rows, timedInputs, zstdBackend: DEFAULT_ZSTD_BACKEND.name }));
