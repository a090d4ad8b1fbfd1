import { spawnSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { OptionContract, OptionsChain } from "@nq/core";
import { generateSampleChain } from "@nq/source-saved";
import { afterEach, describe, expect, it } from "vitest";
import { chainJsonChunks, OutputError, removeStaleTemporaries, writeAtomically, writeChainOutputs, type ChainToWrite } from "./outputs.js";

const temps: string[] = [];
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-outputs-"));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  while (temps.length) rmSync(temps.pop()!, { recursive: true, force: true });
});

const sample = generateSampleChain();

describe("chain outputs (issue 18 item 10)", () => {
  it("streams JSON byte for byte as JSON.stringify(chain, null, 2) would write it", () => {
    expect([...chainJsonChunks(sample)].join("")).toBe(`${JSON.stringify(sample, null, 2)}\n`);
    const empty: OptionsChain = { ...sample, contracts: [] };
    expect([...chainJsonChunks(empty)].join("")).toBe(`${JSON.stringify(empty, null, 2)}\n`);
  });

  it("writes a 10^6-contract chain in bounded memory (JSON.stringify of it would not fit in a string)", async () => {
    const dir = workspace();
    const count = 1_000_000;
    const template = sample.contracts[0]!;
    // Re-iterable (JSON, then CSV) without ever holding the million contracts.
    const contracts: Iterable<OptionContract> = {
      *[Symbol.iterator]() {
        for (let i = 0; i < count; i += 1) yield { ...template, strike: 1000 + i, symbol: `NQ C${1000 + i}` };
      },
    };
    const chain: ChainToWrite = { ...sample, contracts };
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const written = await writeChainOutputs(chain, dir);
      const jsonSize = statSync(written.json).size;
      // Far more than V8's longest string (~2^29 characters): one stringify would throw RangeError.
      expect(jsonSize).toBeGreaterThan(2 ** 29);
      expect(peak - before).toBeLessThan(200 * 1024 * 1024);
      let lines = 0;
      for await (const _line of createInterface({ input: createReadStream(written.csv) })) lines += 1;
      expect(lines).toBe(count + 1);
      // The end of the JSON closes the contracts array and the object.
      const handle = await open(written.json);
      const tail = Buffer.alloc(200);
      await handle.read(tail, 0, 200, jsonSize - 200);
      await handle.close();
      expect(tail.toString("utf8").endsWith("}\n  ]\n}\n")).toBe(true);
    } finally {
      clearInterval(sampler);
    }
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  }, 300_000);

  it("writes files with mode 0644 whatever the umask", async () => {
    const dir = workspace();
    const old = process.umask(0o077);
    try {
      const written = await writeChainOutputs(sample, dir);
      expect(statSync(written.json).mode & 0o777).toBe(0o644);
      expect(statSync(written.csv).mode & 0o777).toBe(0o644);
    } finally {
      process.umask(old);
    }
  });

  it("removes the temporary file and says what to do when a write fails (EACCES)", async () => {
    const dir = workspace();
    const file = join(dir, "x.chain.json");
    const failing = function* (): Generator<string> {
      yield "{";
      throw Object.assign(new Error("EACCES: permission denied, write"), { code: "EACCES" });
    };
    const error = await writeAtomically(file, failing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect((error as OutputError).code).toBe("EACCES");
    expect((error as Error).message).toMatch(/cannot write .*x\.chain\.json: permission denied; make the folder writable or choose another with --out \(EACCES\)/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("removes temporary files of dead runs at start, and leaves a live run's alone", async () => {
    const dir = workspace();
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout);
    writeFileSync(join(dir, `nq-x.chain.json.${deadPid}.tmp`), "{");
    writeFileSync(join(dir, `nq-x.csv.${process.ppid}.tmp`), "a");
    writeFileSync(join(dir, "notes.tmp.txt"), "keep");
    const removed = await removeStaleTemporaries(dir);
    expect(removed).toEqual([join(dir, `nq-x.chain.json.${deadPid}.tmp`)]);
    expect(readdirSync(dir).sort()).toEqual([`nq-x.csv.${process.ppid}.tmp`, "notes.tmp.txt"].sort());
  });

  it("turns a full disk (ENOSPC) into a clear OutputError and leaves no temporary file", async (context) => {
    const mountPoint = workspace();
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint], { encoding: "utf8" });
    if (mounted.status !== 0) return context.skip("cannot mount a small tmpfs here (needs root)");
    try {
      const error = await writeChainOutputs(sample, mountPoint).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutputError);
      expect((error as OutputError).code).toBe("ENOSPC");
      expect((error as Error).message).toMatch(/the disk is full; free some space or choose another folder with --out/);
      expect(readdirSync(mountPoint).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    } finally {
      spawnSync("umount", [mountPoint]);
    }
    expect(existsSync(mountPoint)).toBe(true);
    mkdirSync(join(mountPoint, "after"), { recursive: true });
  });
});
