// One measured job in its own process, so its peak RSS (VmHWM) is its own:
//   node child.mjs <job> <input.dbn> <outDir>
// Jobs: parquet (v2 pages, the default), parquet-v1, decode (visitDbn fast path, reads every field the converter
// reads), csv (@nq/dbn's CsvEncoder, Databento's CSV, written to a file).
import { createWriteStream, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { convertDbnToParquet } from "../dist/index.js";
import { CsvEncoder, openDbn, TsSymbolMap, visitDbn } from "@nq/dbn";

const [job, input, outDir] = process.argv.slice(2);
const started = performance.now();
const cpuStart = process.cpuUsage();
let bytesOut = 0;
let rows = 0;
if (job === "parquet" || job === "parquet-v1") {
  const result = await convertDbnToParquet({ input, outDir, parquetVersion: job === "parquet-v1" ? "v1" : "v2" });
  bytesOut = result.files.reduce((n, f) => n + f.bytes, 0);
  rows = result.rows;
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
const ms = performance.now() - started;
// CPU time of every thread of the process (JS and DuckDB's worker): on a shared machine this, not
// the wall clock, says what one core does.
const cpu = process.cpuUsage(cpuStart);
const cpuMs = (cpu.user + cpu.system) / 1000;
const rss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
process.stdout.write(JSON.stringify({ job, ms, cpuMs, rss, bytesOut, rows }));
