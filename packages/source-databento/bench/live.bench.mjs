#!/usr/bin/env node
/**
 * Live decode-and-apply benchmark: the local Live gateway (in a child process, so the client has a core
 * to itself) streams the generated NQ session — definitions, statistics, trades and mbp-1 for NQ.OPT and
 * NQ.FUT, replayed from the session's open and then repeated as fast as the client reads (`firehose`) —
 * and this process decodes it with LiveClient and folds it into a LiveChain.
 *
 * Rows: the baseline (decode only: LiveClient batches, nothing applied) and decode + apply, each in
 * records/s of wall time and per CPU second of this process; memory: RSS after 1 M and after 10 M
 * records of the decode-and-apply run. Targets: ≥ 1 M records/s on one core; RSS(10 M) / RSS(1 M) ≤ 1.2.
 * Uses dist/ (run `pnpm --filter @nq/source-databento build` first). `--records N` changes the long run.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { LiveChain, LiveClient } from "../dist/index.js";

const args = process.argv.slice(2);
const at = args.indexOf("--records");
const TOTAL = at >= 0 ? Number(args[at + 1]) : 10_000_000;
const FIRST = Math.min(1_000_000, TOTAL);
const BASELINE = Math.min(3_000_000, TOTAL);
const here = fileURLToPath(import.meta.url);

if (process.argv[2] === "--gateway") {
  const { startLocalLiveGateway, DEFAULT_LIVE_NOW } = await import("../dist/test-server/index.js");
  const gateway = await startLocalLiveGateway({ firehose: true, contracts: 200 });
  process.send({ port: gateway.port, host: gateway.host, apiKey: gateway.apiKey, nowMs: Date.parse(DEFAULT_LIVE_NOW), startedAt: Date.now() });
} else {
  const child = fork(here, ["--gateway"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const info = await new Promise((resolve) => child.once("message", resolve));
  const now = () => new Date(info.nowMs + (Date.now() - info.startedAt));
  const client = () => new LiveClient({ apiKey: info.apiKey, host: info.host, port: info.port, reconnect: false, highWaterMark: 100_000 });
  const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;
  const rate = (n, s) => (n / s >= 1e6 ? `${(n / s / 1e6).toFixed(2)} M rec/s` : `${(n / s / 1e3).toFixed(1)} k rec/s`);

  async function run(apply, total, onMark) {
    const c = client();
    const chain = new LiveChain({ client: c, now, sample: true });
    const sink = apply ? (batch) => chain.applyBatch(batch) : () => undefined;
    // LiveChain.start subscribes and starts; its own loop is replaced here by the sink being measured.
    for (const sub of chain.subscriptions(now())) c.subscribe(sub);
    await c.start();
    let n = 0;
    let marked = false;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for await (const batch of c.batches()) {
      sink(batch);
      n += batch.length;
      if (!marked && n >= FIRST) {
        marked = true;
        onMark?.();
      }
      if (n >= total) break;
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    await c.close();
    return { n, wall, cpuS, chain };
  }

  // Warm-up (JIT, the gateway's generation), not measured.
  await run(true, 300_000);
  const base = await run(false, BASELINE);
  let rss1 = 0;
  globalThis.gc?.();
  const full = await run(true, TOTAL, () => (rss1 = process.memoryUsage().rss));
  const rss10 = process.memoryUsage().rss;
  const snapshot = full.chain.snapshot();
  child.kill();

  const baseRate = base.n / base.wall;
  const fullRate = full.n / full.wall;
  const rows = [
    ["LiveClient decode only (baseline)", rate(base.n, base.wall), rate(base.n, base.cpuS), `${(base.cpuS / base.wall).toFixed(2)} cores`, "1.00× (baseline)", ""],
    ["LiveClient decode + LiveChain apply", rate(full.n, full.wall), rate(full.n, full.cpuS), `${(full.cpuS / full.wall).toFixed(2)} cores`, `${(fullRate / baseRate).toFixed(2)}× baseline rate`, "≥ 1 M rec/s on one core"],
    [`RSS after ${(FIRST / 1e6).toFixed(0)} M → after ${(full.n / 1e6).toFixed(1)} M records`, `${mib(rss1)} → ${mib(rss10)}`, "", "", `${(rss10 / rss1).toFixed(2)}×`, "≤ 1.20×"],
  ];
  console.log(`@nq/source-databento Live benchmark — node ${process.version}, ${full.n.toLocaleString("en-US")} records, ${snapshot.rows.length} contracts in the final snapshot\n`);
  console.log("| run | wall rate | per CPU second | CPU used | ratio | target |");
  console.log("|---|---:|---:|---:|---|---|");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  const ok = full.n / full.cpuS >= 1e6 && rss10 / rss1 <= 1.2;
  console.log(`\n${ok ? "targets met" : "target missed"}`);
  process.exit(0);
}
