import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { decodeDbnSync, RType } from "../index.js";
import { FIXTURE_DIR, HAVE_FIXTURES, readFixture } from "../fixtures.test-support.js";
import { runCli } from "./program.js";

async function run(args: string[], stdin: Uint8Array = new Uint8Array(0)) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  const code = await runCli(args, { stdin: Readable.from([stdin]), stdout, stderr });
  return { code, stdout: Buffer.concat(out).toString("utf8"), bytes: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8") };
}

const dir = mkdtempSync(join(tmpdir(), "nq-dbn-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fx = (name: string) => join(FIXTURE_DIR, name);

describe.skipIf(!HAVE_FIXTURES)("nq-dbn CLI", () => {
  it("-C -p -s renders pretty CSV with symbols", async () => {
    const { code, stdout } = await run(["-C", "-p", "-s", fx("dbn/test_data.mbo.v3.dbn.zst")]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe("ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,price,size,channel_id,order_id,flags,ts_in_delta,sequence,symbol");
    expect(lines[1]!.endsWith(",3722.750000000,1,0,647784973705,128,22993,1170352,ESH1")).toBe(true);
  });

  it("-J reads standard input and honours --limit", async () => {
    const { code, stdout } = await run(["-J", "-l", "1", "-"], readFixture("dbn/test_data.trades.v1.dbn.zst"));
    expect(code).toBe(0);
    expect(stdout).toBe(
      `{"ts_recv":"1609160400099150057","hd":{"ts_event":"1609160400098821953","rtype":0,"publisher_id":1,"instrument_id":5482},"action":"T","side":"A","depth":0,"price":"3720250000000","size":5,"flags":129,"ts_in_delta":19251,"sequence":1170380}\n`,
    );
  });

  it("-m prints the metadata", async () => {
    const { stdout } = await run(["-J", "-m", fx("dbn/test_data.mbo.v3.dbn")]);
    expect(JSON.parse(stdout)).toMatchObject({ version: 3, dataset: "GLBX.MDP3", schema: "mbo", limit: "2", symbols: ["ESH1"], end: "1609200000000000000" });
  });

  it("--omit-header, --schema filter and fragments", async () => {
    const noHeader = await run(["-C", "--omit-header", fx("dbn/test_data.mbo.v3.dbn")]);
    expect(noHeader.stdout.split("\n")[0]!.startsWith("1609160400000704060,")).toBe(true);
    const live = await run(["-J", "--schema", "mbo", fx("databento-python/LIVE/test_data.live.dbn.zst")]);
    const rtypes = live.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).hd.rtype);
    expect(rtypes.length).toBeGreaterThan(0);
    expect(new Set(rtypes)).toEqual(new Set([RType.Mbo]));
    const frag = await run(["-J", "--input-zstd-fragment", "--input-dbn-version", "1", fx("dbn/multi-frame.definition.v1.dbn.frag.zst")]);
    expect(frag.code).toBe(0);
    expect(frag.stdout.trimEnd().split("\n")).toHaveLength(8);
  });

  it("-D -u re-encodes v1 input as DBN v3 to a file", async () => {
    const out = join(dir, "out.dbn");
    const { code } = await run(["-u", "-o", out, fx("dbn/test_data.definition.v1.dbn.zst")]);
    expect(code).toBe(0);
    const decoded = decodeDbnSync(new Uint8Array(readFileSync(out)));
    expect(decoded.metadata?.version).toBe(3);
    expect(decoded.records).toEqual(decodeDbnSync(readFixture("dbn/test_data.definition.v1.dbn.zst"), { upgrade: true }).records);
    const again = await run(["-u", "-o", out, fx("dbn/test_data.definition.v1.dbn.zst")]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("--force");
  });

  it("merges several files in timestamp order", async () => {
    const { stdout } = await run(["-C", fx("dbn/test_data.mbo.v3.dbn"), fx("dbn/test_data.mbo.v3.dbn.zst")]);
    expect(stdout.trimEnd().split("\n")).toHaveLength(5);
  });

  it("reports decode errors with a non-zero exit", async () => {
    const truncated = readFixture("dbn/test_data.mbo.v3.dbn").slice(0, 400);
    const { code, stderr } = await run(["-J", "-"], truncated);
    expect(code).toBe(1);
    expect(stderr).toMatch(/decode error \(truncated\).*offset 360/);
    expect((await run(["-J", "-"], new TextEncoder().encode("not dbn at all"))).stderr).toContain("bad_magic");
  });
});

describe.skipIf(!HAVE_FIXTURES)("nq-dbn CLI, as Databento's CLI tests expect", () => {
  it("refuses conflicting flags", async () => {
    for (const args of [["-J", "-C"], ["-J", "-m", "-l", "1"], ["--input-fragment", "-D"], ["--fragment", "-J", "-m"]]) {
      const { code, stderr } = await run([...args, fx("dbn/test_data.mbo.dbn")]);
      expect(code, args.join(" ")).toBe(2);
      expect(stderr).toContain("cannot be used with");
    }
  });
  it("accepts the older --fragment / --zstd-fragment names", async () => {
    const { stdout } = await run(["--zstd-fragment", "--input-dbn-version", "2", "-J", fx("dbn/test_data.definition.dbn.frag.zst")]);
    expect(stdout.split("\n").length - 1).toBe(2);
  });
  it("reports an unopenable output file without crashing", async () => {
    const { code, stderr } = await run(["-C", "-o", join(dir, "missing", "dir", "out.csv"), fx("dbn/test_data.mbo.dbn")]);
    expect(code).toBe(1);
    expect(stderr).toContain("Unable to open output file");
  });
  it("records --limit in the metadata of DBN output", async () => {
    const out = join(dir, "limited.dbn");
    expect((await run(["-l", "1", "-o", out, fx("dbn/test_data.definition.v3.dbn.zst")])).code).toBe(0);
    expect(JSON.parse((await run(["-J", "-m", out])).stdout).limit).toBe("1");
    expect((await run(["-J", out])).stdout.trimEnd().split("\n")).toHaveLength(1);
  });
  it("writes the CSV header for an empty file, and the version", async () => {
    const { stdout } = await run(["--csv", fx("dbn/test_data.ohlcv-1d.dbn")]);
    expect(stdout).toBe("ts_event,rtype,publisher_id,instrument_id,open,high,low,close,volume\n");
    expect((await run(["--version"])).stdout).toBe("0.1.0\n");
  });
});

describe("nq-dbn CLI usage", () => {
  it("rejects unknown flags and missing encodings", async () => {
    expect((await run(["--bogus", "x"])).code).toBe(2);
    const { code, stderr } = await run(["file.dbn"]);
    expect(code).toBe(1);
    expect(stderr).toContain("Unable to infer output encoding");
  });
});
