// `pnpm --filter @nq/dbn bench:hostile`: every hostile input of issue 18 at 1 MiB, each decoded in
// its own child process (streaming, 64 KiB chunks), against valid files of the same size measured
// in the same run. Target: each hostile input ends in ≤ 2 s and ≤ 256 MiB peak RSS.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { HOSTILE_CASES } from "../dist/hostile.js";

const SIZE = 1 << 20;
const child = fileURLToPath(new URL("./hostile-child.mjs", import.meta.url));
function run(name) {
  const out = execFileSync(process.execPath, [child, name, String(SIZE)], { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out);
}

const mib = (kb) => kb / 1024;
console.error("baselines…");
const base = run("valid-dbn");
const baseZstd = run("valid-zstd");
const rows = [];
let failures = 0;
for (const c of [{ name: "valid-dbn" }, { name: "valid-zstd" }, ...HOSTILE_CASES]) {
  console.error(`  ${c.name}`);
  const r = c.name === "valid-dbn" ? base : c.name === "valid-zstd" ? baseZstd : run(c.name);
  const ref = c.name === "valid-dbn" ? base : baseZstd;
  const baseline = c.item === undefined;
  const within = r.seconds <= 2 && mib(r.maxRssKb) <= 256;
  if (!baseline && (!within || r.outcome.startsWith("ok") || r.outcome.startsWith("UNEXPECTED"))) failures++;
  const isZstd = !["valid-dbn", "4 GB metadata length declared", "15 MiB metadata length declared, input ends", "100 records then a length-0 record"].includes(c.name);
  const against = isZstd ? baseZstd : base;
  rows.push(
    `| ${baseline ? `baseline: ${c.name}` : `${c.item}: ${c.name}`} | ${r.bytes.toLocaleString("en-US")} | ${r.outcome} | ${(r.seconds * 1000).toFixed(0)} ms | ` +
      `${baseline && ref === r ? "1.00× (baseline)" : `${(r.seconds / against.seconds).toFixed(2)}× ${isZstd ? "zstd" : "dbn"}`} | ` +
      `${mib(r.maxRssKb).toFixed(1)} MiB | ${baseline && ref === r ? "1.00× (baseline)" : `${(r.maxRssKb / against.maxRssKb).toFixed(2)}× ${isZstd ? "zstd" : "dbn"}`} | ${baseline ? "" : within ? "yes" : "**NO**"} |`,
  );
}
console.log(`@nq/dbn hostile-input benchmark — node ${process.version}, inputs of ~${SIZE / 1024} KiB, one child process each\n`);
console.log("| input (issue item) | bytes | outcome | time | time ratio | peak RSS | RSS ratio | ≤ 2 s and ≤ 256 MiB |");
console.log("|---|---:|---|---:|---|---:|---|---|");
for (const row of rows) console.log(row);
if (failures > 0) {
  console.error(`${failures} hostile input(s) missed the bound or decoded`);
  process.exitCode = 1;
}
