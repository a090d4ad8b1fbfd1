// Child process of hostile.mjs: decodes one generated input of about argv[3] bytes and reports
// its time, outcome and peak RSS. `valid-dbn` and `valid-zstd` are the baselines.
import { readFileSync } from "node:fs";
import { visitDbn } from "../dist/index.js";
import { HOSTILE_CASES, validDbn, validZstdDbn } from "../dist/hostile.js";

const name = process.argv[2];
const size = Number(process.argv[3]);
let bytes;
if (name === "valid-dbn") bytes = validDbn(Math.floor((size - 200) / 48));
else if (name === "valid-zstd") bytes = validZstdDbn(size);
else bytes = HOSTILE_CASES.find((c) => c.name === name).make(size);

async function* chunks() {
  for (let i = 0; i < bytes.length; i += 65_536) yield bytes.subarray(i, i + 65_536);
}
const start = performance.now();
let outcome;
try {
  const { recordCount } = await visitDbn(chunks(), () => undefined);
  outcome = `ok, ${recordCount} records`;
} catch (error) {
  outcome = error.code ? `${error.code} @ ${error.offset}` : `UNEXPECTED ${error.message}`;
}
const seconds = (performance.now() - start) / 1000;
const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
const maxRssKb = match ? Number(match[1]) : process.resourceUsage().maxRSS;
process.stdout.write(JSON.stringify({ name, bytes: bytes.length, outcome, seconds, maxRssKb }) + "\n");
