import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBarchart } from "./check.js";
import { browserForTests } from "./test-environment.js";
import { startLocalBarchartSite, type LocalBarchartSite } from "./test-site/index.js";

const browser = await browserForTests();

describe("checkBarchart against the local Barchart-like site", () => {
  let site: LocalBarchartSite;
  beforeAll(async () => {
    site = await startLocalBarchartSite({ today: "2026-11-18", fixturesDir: null });
  });
  afterAll(() => site.close());

  it("plain HTTP probe: page reachable, session cookie and XSRF token set, not blocked, one quotes request accepted", async () => {
    const before = site.requests.length;
    const result = await checkBarchart({ base_url: site.url }, { probe: "http" });
    expect(result.ready, JSON.stringify(result.items)).toBe(true);
    const byName = Object.fromEntries(result.items.map((i) => [i.name, i.status]));
    expect(byName).toMatchObject({ "page reachable": "ok", "not blocked": "ok", "session cookies and XSRF token": "ok", "quotes endpoint": "ok" });
    const made = site.requests.slice(before);
    expect(made.map((r) => r.kind)).toEqual(["page", "quotes"]);
    expect(made[1]).toMatchObject({ xsrfValid: true, hadSessionCookie: true, status: 200 });
  });

  it("a blocked site is not ready, and says so", async () => {
    site.setFault("block");
    try {
      const result = await checkBarchart({ base_url: site.url }, { probe: "http" });
      expect(result.ready).toBe(false);
      expect(result.items.find((i) => i.name === "not blocked")).toMatchObject({ status: "fail" });
    } finally {
      site.setFault(null);
    }
  });

  it.skipIf(browser.skip)("browser probe: Chromium found with its version, the page loads, cookies and token set", async () => {
    const result = await checkBarchart({ base_url: site.url }, { probe: "browser" });
    expect(result.ready, JSON.stringify(result.items)).toBe(true);
    expect(result.items[0]!.detail).toMatch(/Chrom/);
    expect(result.items.map((i) => i.name)).toEqual(["browser", "page reachable", "not blocked", "session cookies and XSRF token"]);
  });

  it("saved mode: the capture a replay would use, or why there is none", async () => {
    const result = await checkBarchart({ mode: "saved", saved_dir: "/nonexistent-nq-captures" });
    expect(result.ready).toBe(false);
    expect(result.items[0]).toMatchObject({ name: "saved capture", status: "fail" });
  });
});
