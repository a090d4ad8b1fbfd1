import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@nq/core";
import { generateSampleChain } from "@nq/source-saved";
import { afterEach, describe, expect, it } from "vitest";
import { CSV_COLUMNS } from "./outputs.js";
import { runProfile } from "./run.js";
import { renderSummary } from "./summary.js";

const EXAMPLE_PLUGIN_DIR = fileURLToPath(new URL("../../../examples/source-csv", import.meta.url));
const temps: string[] = [];
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-runner-"));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  while (temps.length) rmSync(temps.pop()!, { recursive: true, force: true });
});

function writeProfile(dir: string, profile: Record<string, unknown>): string {
  const file = join(dir, "profile.json");
  writeFileSync(file, JSON.stringify({ profile_name: "test", output: { dir: "out" }, ...profile }));
  return file;
}

const savedSample = { plugin: "@nq/source-saved", config: { include_sample: true } };

describe("runProfile", () => {
  it("produces the sample chain offline, writes JSON and CSV, and says it is sample data", async () => {
    const dir = workspace();
    const profilePath = writeProfile(dir, { data_source_priority: ["saved"], data_sources: { saved: savedSample } });
    const { summary, exitCode } = await runProfile({ profilePath, env: {} });
    expect(exitCode).toBe(0);
    const sample = generateSampleChain();
    expect(summary.chain!.optionsSummary.total).toBe(sample.contracts.length);
    expect(summary.notices.join("\n")).toMatch(/SAMPLE DATA/);
    const json = JSON.parse(readFileSync(summary.outputs!.json, "utf8"));
    expect(json.contracts).toHaveLength(sample.contracts.length);
    expect(json.contracts[0].bid).toBe(sample.contracts[0]!.bid);
    const csv = readFileSync(summary.outputs!.csv, "utf8").trimEnd().split("\n");
    expect(csv[0]).toBe(CSV_COLUMNS.join(","));
    expect(csv).toHaveLength(sample.contracts.length + 1);
    // A contract with no bid has an empty cell, not 0.
    const noBid = sample.contracts.findIndex((c) => c.bid === null);
    expect(csv[noBid + 1]!.split(",")[8]).toBe("");
    const calls = sample.contracts.filter((c) => c.right === "C").length;
    expect(renderSummary(summary)).toContain(`${sample.contracts.length} (${calls} calls, ${sample.contracts.length - calls} puts)`);
  });

  it("loads the example third-party plugin by package name from node_modules beside the profile", async () => {
    const dir = workspace();
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    symlinkSync(EXAMPLE_PLUGIN_DIR, join(dir, "node_modules", "acme-nq-source-csv"), "dir");
    const chain = generateSampleChain().contracts.filter((c) => c.expiration === "2026-12-18");
    writeFileSync(join(dir, "quotes.csv"), ["strike,right,expiration,bid,ask", ...chain.map((c) => `${c.strike},${c.right},${c.expiration},${c.bid ?? ""},${c.ask}`)].join("\n"));
    const profilePath = writeProfile(dir, {
      data_source_priority: ["acme"],
      data_sources: { acme: { plugin: "acme-nq-source-csv", config: { file: "quotes.csv", as_of: "2026-11-20T21:00:00Z" } } },
    });
    const { summary, exitCode } = await runProfile({ profilePath, env: {} });
    expect(exitCode).toBe(0);
    expect(summary.source).toBe("acme");
    expect(summary.chain!.optionsSummary.total).toBe(chain.length);
    expect(summary.chain!.metadata.delayed).toBe(true);
  });

  it("falls back past a failing source and says so out loud", async () => {
    const dir = workspace();
    const profilePath = writeProfile(dir, {
      data_source_priority: ["acme", "saved"],
      data_sources: { acme: { plugin: "acme-nq-source-csv", config: { file: "missing.csv", as_of: "2026-11-20T21:00:00Z" } }, saved: savedSample },
    });
    const { summary, exitCode } = await runProfile({ profilePath, env: {} });
    expect(exitCode).toBe(0);
    expect(summary.attempts.map((a) => a.outcome)).toEqual(["failed", "success"]);
    expect(summary.attempts[0]!.reason).toMatch(/cannot read .*missing\.csv/);
    expect(summary.notices[0]).toMatch(/^SUBSTITUTED: the chain comes from "saved", not the first choice "acme"/);
  });

  it("skips a source whose key is not set, naming the variable", async () => {
    const dir = workspace();
    const profilePath = writeProfile(dir, {
      data_source_priority: ["acme", "saved"],
      data_sources: { acme: { plugin: "acme-nq-source-csv", config: { file: "${ACME_FILE}", as_of: "2026-11-20T21:00:00Z" } }, saved: savedSample },
    });
    const { summary } = await runProfile({ profilePath, env: {} });
    expect(summary.attempts[0]).toMatchObject({ outcome: "skipped", reason: "needs $ACME_FILE, which is not set (in the environment or a .env file)" });
  });

  it("exits 1 with a reason per source when none answers, and writes nothing", async () => {
    const dir = workspace();
    const profilePath = writeProfile(dir, {
      data_source_priority: ["acme", "saved"],
      data_sources: { acme: { plugin: "acme-nq-source-csv", config: { file: "missing.csv", as_of: "2026-11-20T21:00:00Z" } }, saved: { plugin: "@nq/source-saved", config: { dir: "nothing-here" } } },
    });
    const { summary, exitCode } = await runProfile({ profilePath, env: {} });
    expect(exitCode).toBe(1);
    expect(summary.attempts.every((a) => a.outcome === "failed" && a.reason)).toBe(true);
    expect(summary.notices[0]).toMatch(/NO SOURCE ANSWERED/);
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  it("refuses a plugin package that does not exist, naming it, before writing anything", async () => {
    const dir = workspace();
    const profilePath = writeProfile(dir, { data_source_priority: ["ghost"], data_sources: { ghost: { plugin: "@nq/source-does-not-exist" } } });
    const error = await runProfile({ profilePath, env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/data_sources\.ghost\.plugin: the plugin package "@nq\/source-does-not-exist" is not installed/);
    expect(readdirSync(dir)).toEqual(["profile.json"]);
  });

  it("refuses a field of the wrong type in a source's config, naming its path", async () => {
    const dir = workspace();
    const profilePath = writeProfile(dir, { data_source_priority: ["saved"], data_sources: { saved: { plugin: "@nq/source-saved", config: { include_sample: "yes" } } } });
    await expect(runProfile({ profilePath, env: {} })).rejects.toThrow(/data_sources\.saved\.config\.include_sample: .*expected boolean/);
    expect(readdirSync(dir)).toEqual(["profile.json"]);
  });

  it("refuses a module that is not a source definition, saying what is missing", async () => {
    const dir = workspace();
    writeFileSync(join(dir, "not-a-source.mjs"), "export default { name: 'Bad Name', create: 1 };\n");
    const profilePath = writeProfile(dir, { data_source_priority: ["x"], data_sources: { x: { plugin: "./not-a-source.mjs" } } });
    const error = (await runProfile({ profilePath, env: {} }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/not a valid source definition/);
    expect(error.message).toMatch(/"capabilities" must be an object/);
    expect(error.message).toMatch(/"create" must be a function/);
    expect(dirname(profilePath)).toBe(dir);
  });

  it("forces one source with --source and replays a chain an earlier run saved", async () => {
    const dir = workspace();
    const profilePath = writeProfile(dir, {
      data_source_priority: ["sample", "replay"],
      data_sources: { sample: savedSample, replay: { plugin: "@nq/source-saved", config: { dir: "out" } } },
    });
    const first = await runProfile({ profilePath, env: {} });
    expect(first.summary.source).toBe("sample");
    const replay = await runProfile({ profilePath, env: {}, forceSource: "replay" });
    expect(replay.exitCode).toBe(0);
    expect(replay.summary.policy).toBe("strict");
    expect(replay.summary.chain!.metadata.warnings[0]).toMatch(/^SAMPLE DATA \(generated, not market data\) from .*out\/nq-sample-sample-20261120T210000Z\.chain\.json/);
  });

  it("tries the sources given in `sources`, in that order, instead of the profile's priority (as watch narrows a window); unknown names refused", async () => {
    const dir = workspace();
    const profilePath = writeProfile(dir, {
      data_source_priority: ["empty", "sample", "other"],
      data_sources: { empty: { plugin: "@nq/source-saved", config: { dir: "nothing-here" } }, sample: savedSample, other: savedSample },
    });
    const narrowed = await runProfile({ profilePath, env: {}, sources: ["other", "sample"] });
    expect(narrowed.summary.attempts.map((a) => [a.source, a.outcome])).toEqual([["other", "success"], ["sample", "skipped"]]);
    expect(narrowed.summary.source).toBe("other");
    expect(narrowed.summary.policy).not.toBe("strict");
    // The profile's own first choice is not asked at all, and nothing is written beside the profile.
    const inOrder = await runProfile({ profilePath, env: {}, sources: ["empty", "sample"] });
    expect(inOrder.summary.attempts.map((a) => [a.source, a.outcome])).toEqual([["empty", "failed"], ["sample", "success"]]);
    expect(readdirSync(dir).filter((name) => name.endsWith(".json"))).toEqual(["profile.json"]);
    for (const sources of [["sample", "ghost"], []]) {
      const error = await runProfile({ profilePath, env: {}, sources }).catch((e: unknown) => e);
      expect(error, JSON.stringify(sources)).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(sources.length ? /no such source in .*profile\.json: ghost \(known: empty, sample, other\)/ : /expected at least one/);
    }
  });
});
