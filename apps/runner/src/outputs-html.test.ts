import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSampleChain } from "@nq/source-saved";
import { afterEach, describe, expect, it } from "vitest";
import { writeChainOutputs } from "./outputs.js";
import { runProfile } from "./run.js";
import { renderSummary } from "./summary.js";

const temps: string[] = [];
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "nq-html-"));
  temps.push(dir);
  return dir;
}
afterEach(() => {
  while (temps.length) rmSync(temps.pop()!, { recursive: true, force: true });
});

function writeProfile(dir: string, output: Record<string, unknown> = { dir: "out" }): string {
  const file = join(dir, "profile.json");
  writeFileSync(
    file,
    JSON.stringify({ profile_name: "html", output, data_source_priority: ["saved"], data_sources: { saved: { plugin: "@nq/source-saved", config: { include_sample: true } } } }),
  );
  return file;
}

describe("the chain page beside the outputs", () => {
  it("writeChainOutputs writes <stem>.chain.html beside the JSON when asked, with the run's banner, mode 0644", async () => {
    const dir = workspace();
    const written = await writeChainOutputs(generateSampleChain(), dir, { html: { run: { substituted: true, firstChoice: "databento", substitutionReason: "no key" } } });
    expect(written.html).toBe(written.json.replace(/\.chain\.json$/, ".chain.html"));
    expect(written.htmlError).toBeNull();
    const page = readFileSync(written.html!, "utf8");
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain("SAMPLE DATA");
    expect(page).toContain("SUBSTITUTED");
    expect(page).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(statSync(written.html!).mode & 0o777).toBe(0o644);
  });

  it("writeChainOutputs alone writes no page (a library caller opts in)", async () => {
    const dir = workspace();
    const written = await writeChainOutputs(generateSampleChain(), dir);
    expect(written).toEqual({ json: written.json, csv: written.csv });
    expect(existsSync(written.json.replace(/\.chain\.json$/, ".chain.html"))).toBe(false);
  });

  it("a run writes the page by default and lists it in the summary", async () => {
    const dir = workspace();
    const { summary, exitCode } = await runProfile({ profilePath: writeProfile(dir), env: {}, useCache: false });
    expect(exitCode).toBe(0);
    expect(summary.outputs!.html).toMatch(/\.chain\.html$/);
    expect(existsSync(summary.outputs!.html!)).toBe(true);
    expect(readFileSync(summary.outputs!.html!, "utf8")).toContain("(profile html)");
    expect(renderSummary(summary)).toMatch(/HTML\s+.*\.chain\.html/);
  });

  it("--no-html (html: false) and the profile's output.html: false write none", async () => {
    const flagged = workspace();
    const off = await runProfile({ profilePath: writeProfile(flagged), env: {}, useCache: false, html: false });
    expect(off.exitCode).toBe(0);
    expect(off.summary.outputs!.html).toBeUndefined();
    expect(existsSync(off.summary.outputs!.json.replace(/\.chain\.json$/, ".chain.html"))).toBe(false);

    const profiled = workspace();
    const quiet = await runProfile({ profilePath: writeProfile(profiled, { dir: "out", html: false }), env: {}, useCache: false });
    expect(quiet.exitCode).toBe(0);
    expect(quiet.summary.outputs!.html).toBeUndefined();
    expect(renderSummary(quiet.summary)).not.toMatch(/HTML/);
  });

  it("a wrong output.html is a profile error naming the field", async () => {
    const dir = workspace();
    await expect(runProfile({ profilePath: writeProfile(dir, { dir: "out", html: "yes" }), env: {} })).rejects.toThrow(/output\.html/);
  });
});
