// Measures the zstd decompressors that can be installed here on the same MBO data.
// `node bench/zstd-candidates.mjs [path/to/zstd-napi]`: zstd-napi is not a dependency (its
// native build needs pnpm's build-script allowlist), so pass a separately installed copy.
import { createRequire } from "node:module";
import { Decompress, decompress } from "fzstd";
import { zstdCompress } from "../dist/index.js";
import { encodeMany, mboMetadata, mboRecord } from "./synthetic.mjs";

const raw = encodeMany(mboMetadata(), mboRecord, 1_000_000);
const frames = [];
for (let i = 0; i < raw.length; i += 1 << 20) frames.push(zstdCompress(raw.subarray(i, i + (1 << 20)), 3));
const compressed = Buffer.concat(frames);
const single = zstdCompress(raw, 3);
const mb = raw.length / 1e6;
const best = (fn, n = 3) => {
  let t = Infinity;
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    fn();
    t = Math.min(t, performance.now() - s);
  }
  return mb / (t / 1000);
};
const rows = [];
rows.push(["fzstd one-shot", best(() => decompress(single))]);
rows.push(["fzstd streaming, 64 KiB pushes, 1 MiB frames", best(() => {
  const d = new Decompress(() => {});
  for (let i = 0; i < compressed.length; i += 65536) d.push(compressed.subarray(i, i + 65536));
  d.push(new Uint8Array(0), true);
})]);
const napiPath = process.argv[2];
if (napiPath) {
  const napi = createRequire(import.meta.url)(napiPath);
  const d = new napi.Decompressor();
  rows.push(["zstd-napi one-shot", best(() => d.decompress(single))]);
  rows.push(["zstd-napi DecompressStream, 64 KiB writes", await (async () => {
    let t = Infinity;
    for (let r = 0; r < 3; r++) {
      const s = performance.now();
      await new Promise((resolve, reject) => {
        const stream = new napi.DecompressStream();
        stream.on("data", () => {}).on("end", resolve).on("error", reject);
        for (let i = 0; i < compressed.length; i += 65536) stream.write(compressed.subarray(i, i + 65536));
        stream.end();
      });
      t = Math.min(t, performance.now() - s);
    }
    return mb / (t / 1000);
  })()]);
}
console.log(`${mb.toFixed(0)} MB of MBO DBN, ${(raw.length / single.length).toFixed(1)}:1 at level 3`);
for (const [name, rate] of rows) console.log(`| ${name} | ${rate.toFixed(0)} MB/s |`);
