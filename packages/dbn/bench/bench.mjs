// `pnpm --filter @nq/dbn bench`: throughput, zstd cost and streaming memory of @nq/dbn, each row
// with a ratio against the baseline measured in the same run. Uses the built package (dist/).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { decompress as fzstdDecompress, Decompress } from "fzstd";
import * as wasmZstd from "@bokuweb/zstd-wasm";
import {
  openDbn,
  readPrice,
  recordToJson,
  visitDbn,
  visitDbnSync,
  zstdCompress,
} from "../dist/index.js";
import { definitionMetadata, definitionRecord, encodeMany, mboMetadata, mboRecord } from "./synthetic.mjs";

let sink = 0;
const QUICK = process.env.BENCH_QUICK === "1";
const MBO_COUNT = QUICK ? 200_000 : 2_000_000;
const DEF_COUNT = QUICK ? 20_000 : 200_000;
const JSON_SAMPLE = QUICK ? 50_000 : 300_000;

/** Best of `repeat` runs, in seconds. */
function time(fn, repeat = 5) {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

async function timeAsync(fn, repeat = 3) {
  let best = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

function* chunksOf(bytes, size = 1 << 20) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const rows = [];
const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(2));
function row(metric, value, unit, ratio, baselineName, target = "") {
  rows.push({ metric, value: `${fmt(value)}${unit}`, ratio: ratio === null ? "1.00× (baseline)" : `${ratio.toFixed(2)}× ${baselineName}`, target });
  console.error(`  ${metric}: ${fmt(value)}${unit}`);
}

function throughput(name, metadata, make, count, fastVisitor) {
  console.error(`${name}: encoding ${count} synthetic records…`);
  const bytes = encodeMany(metadata, make, count);
  // Baseline: the same records as Databento's JSON encoding (what a JS user parses today).
  const lines = [];
  for (let i = 0; i < Math.min(JSON_SAMPLE, count); i++) lines.push(recordToJson(make(i)));
  const jsonSeconds = time(() => {
    let n = 0;
    for (const line of lines) n += JSON.parse(line).hd.instrument_id;
    sink += n;
  }, 3);
  const jsonRate = lines.length / jsonSeconds;
  row(`${name} — Databento JSON + JSON.parse (baseline)`, jsonRate, " rec/s", null, "");
  const objects = async () => {
    const seconds = await timeAsync(async () => {
      let n = 0;
      for await (const r of openDbn(chunksOf(bytes))) n += r.hd.instrument_id;
      sink += n;
    });
    row(`${name} — object iterator (for await openDbn)`, count / seconds, " rec/s", count / seconds / jsonRate, "JSON");
  };
  const fast = () => {
    const seconds = time(() => visitDbnSync(bytes, fastVisitor), 7);
    row(`${name} — fast path (visitDbnSync visitor)`, count / seconds, " rec/s", count / seconds / jsonRate, "JSON", name === "MBO" ? "≥ 50 M rec/s and ≥ 10× JSON" : "≥ 10× JSON");
  };
  return { bytes, objects, fast };
}

const mboVisitor = (view, offset) => {
  sink += readPrice(view, offset + 24) * view.getUint32(offset + 32, true);
};
const defVisitor = (view, offset) => {
  sink += readPrice(view, offset + 104) + view.getUint8(offset + 487);
};

const mbo = throughput("MBO", mboMetadata(), mboRecord, MBO_COUNT, mboVisitor);
await mbo.objects();
mbo.fast();
const def = throughput("Definition", definitionMetadata(), definitionRecord, DEF_COUNT, defVisitor);
await def.objects();
def.fast();

// zstd: decompression alone vs decompression + decode, same compressed bytes, streaming. All on
// fzstd, the baseline's decompressor (zstd-napi is compared in bench/zstd-backends.mjs).
console.error("zstd: compressing MBO data…");
const compressed = Buffer.concat([...chunksOf(mbo.bytes, 1 << 20)].map((c) => zstdCompress(c, 3)));
const mb = mbo.bytes.length / 1e6;
const streamDecompress = (onChunk) => {
  const d = new Decompress((chunk) => onChunk(chunk));
  for (const c of chunksOf(compressed, 1 << 16)) d.push(c);
  d.push(new Uint8Array(0), true);
};
const decompressSeconds = time(() => streamDecompress(() => {}), 5);
row("zstd decompress only (fzstd, streaming, 64 KiB chunks)", mb / decompressSeconds, " MB/s", null, "");
const { DbnParser } = await import("../dist/index.js");
const decodeFastSeconds = time(() => {
  const parser = new DbnParser(() => {}, mboVisitor, {});
  streamDecompress((chunk) => parser.push(chunk));
  parser.finish();
}, 5);
row("zstd decompress + fast-path decode", mb / decodeFastSeconds, " MB/s", decodeFastSeconds / decompressSeconds, "time of decompress only", "≤ 1.20× time");
const visitAsyncSeconds = await timeAsync(async () => {
  await visitDbn(chunksOf(compressed, 1 << 16), mboVisitor, { zstdBackend: "fzstd" });
}, 5);
row("zstd decompress + fast path via visitDbn (full async pipeline)", mb / visitAsyncSeconds, " MB/s", visitAsyncSeconds / decompressSeconds, "time of decompress only");
const decodeObjSeconds = await timeAsync(async () => {
  let n = 0;
  for await (const r of openDbn(chunksOf(compressed, 1 << 16), { zstdBackend: "fzstd" })) n += r.size;
  sink += n;
});
row("zstd decompress + object iterator", mb / decodeObjSeconds, " MB/s", decodeObjSeconds / decompressSeconds, "time of decompress only");

// The zstd library choice: one-shot decompression of the same bytes by each installable candidate.
await wasmZstd.init();
const fzstdOneShot = time(() => fzstdDecompress(compressed), 3);
row("zstd choice: fzstd one-shot decompress", mb / fzstdOneShot, " MB/s", null, "");
try {
  const wasmOneShot = time(() => { for (const c of chunksOf(compressed, 1 << 24)) wasmZstd.decompress(c); }, 3);
  row("zstd choice: @bokuweb/zstd-wasm one-shot decompress", mb / wasmOneShot, " MB/s", fzstdOneShot / wasmOneShot, "fzstd speed");
} catch (error) {
  console.error(`  @bokuweb/zstd-wasm decompress failed on multi-frame input: ${error.message}`);
}
const compressSeconds = time(() => { for (const c of chunksOf(mbo.bytes, 1 << 20)) zstdCompress(c, 3); }, 2);
row("zstd compress (@bokuweb/zstd-wasm, level 3, 1 MiB frames)", mb / compressSeconds, " MB/s", null, "");

// Peak RSS of a streamed input generated by the encoder, in child processes (nothing on disk).
const child = fileURLToPath(new URL("./rss-child.mjs", import.meta.url));
function rss(bytes, mode) {
  const out = execFileSync(process.execPath, [child, String(bytes), mode], { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out.trim());
}
const SMALL = 100 * 1024 * 1024;
const LARGE = QUICK ? 300 * 1024 * 1024 : 1024 * 1024 * 1024;
for (const mode of ["objects", "fast"]) {
  console.error(`RSS (${mode}): streaming ${SMALL >> 20} MiB and ${LARGE >> 20} MiB in child processes…`);
  const small = rss(SMALL, mode);
  const large = rss(LARGE, mode);
  row(`peak RSS, ${SMALL >> 20} MiB streamed (${mode})`, small.maxRssKb / 1024, " MiB", null, "");
  row(`peak RSS, ${LARGE >> 20} MiB streamed (${mode}), ${fmt(large.records / large.seconds)} rec/s`, large.maxRssKb / 1024, " MiB", large.maxRssKb / small.maxRssKb, `RSS(${SMALL >> 20} MiB)`, "≤ 1.20×");
}

console.log(`\n@nq/dbn benchmark — node ${process.version}, ${MBO_COUNT.toLocaleString()} MBO / ${DEF_COUNT.toLocaleString()} definition records${QUICK ? " (BENCH_QUICK)" : ""}\n`);
console.log("| metric | measured | ratio | target |");
console.log("|---|---:|---|---|");
for (const r of rows) console.log(`| ${r.metric} | ${r.value} | ${r.ratio} | ${r.target} |`);
if (sink === 42) console.log(""); // keep the visitors' work observable
