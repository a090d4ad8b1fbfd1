// Child process of bench.mjs: decodes a generated stream of argv[2] bytes and prints its peak RSS.
import { readFileSync } from "node:fs";
import { openDbn, visitDbn } from "../dist/index.js";
import { mboStream } from "./synthetic.mjs";

const total = Number(process.argv[2]);
const mode = process.argv[3] ?? "objects";
const zstd = process.argv[4] === "zstd";
let records = 0;
let volume = 0;
const start = performance.now();
if (mode === "objects") {
  for await (const record of openDbn(mboStream(total, zstd))) {
    records++;
    volume += record.size;
  }
} else {
  const result = await visitDbn(mboStream(total, zstd), (view, offset) => {
    volume += view.getUint32(offset + 32, true);
  });
  records = result.recordCount;
}
const seconds = (performance.now() - start) / 1000;
// VmHWM is this process's own peak RSS. getrusage's maxRSS is not: on Linux it starts from the
// parent's high-water mark at fork, so a large parent would mask the child's real peak.
function peakRssKb() {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (match) return Number(match[1]);
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return process.resourceUsage().maxRSS;
}
process.stdout.write(JSON.stringify({ bytes: total, records, volume, seconds, maxRssKb: peakRssKb() }) + "\n");
