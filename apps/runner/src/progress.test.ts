import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgressReporter, describeProgress } from "./progress.js";

function capture(tty: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe("progress (issue 17 item 3)", () => {
  it("describes a request, its count, bytes and spend so far", () => {
    expect(describeProgress("databento", { stage: "timeseries.get_range trades", done: 3, total: 9, bytes: 3 * 1024 * 1024, spendUsd: 0.0123 })).toBe(
      "databento: timeseries.get_range trades · 3/9 · 3.0 MiB · $0.01 spent",
    );
    expect(describeProgress("barchart", { stage: "series QN2Z6" })).toBe("barchart: series QN2Z6");
  });

  it("without a terminal: plain lines, the first at once, then at most one a second", () => {
    const out = capture(false);
    let now = 0;
    const progress = createProgressReporter({ stream: out.stream, tty: false, now: () => now });
    progress.update("databento", { stage: "definition", done: 1, total: 4 });
    now = 300;
    progress.update("databento", { stage: "statistics", done: 2, total: 4 });
    now = 1300;
    progress.update("databento", { stage: "trades", done: 3, total: 4 });
    progress.update("saved", { stage: "file 1 of 1" });
    expect(out.text().split("\n").filter(Boolean)).toEqual([
      "[progress] databento: definition · 1/4",
      "[progress] databento: trades · 3/4",
      "[progress] saved: file 1 of 1",
    ]);
  });

  it("on a terminal: one spinner line that log lines do not tear, cleared at the end", () => {
    const out = capture(true);
    const progress = createProgressReporter({ stream: out.stream, tty: true });
    progress.update("databento", { stage: "trades", done: 1, total: 2 });
    progress.line("[warn] databento: slow answer");
    progress.update("databento", { stage: "trades", done: 2, total: 2 });
    progress.stop();
    expect(out.text()).toContain("databento: trades · 1/2");
    expect(out.text()).toContain("[warn] databento: slow answer\n");
  });
});
