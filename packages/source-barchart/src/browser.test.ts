import { ConfigError } from "@nq/core";
import { describe, expect, it } from "vitest";
import { INSTALL_HINT, locateBrowser } from "./browser.js";

const none = () => false;
const only = (path: string) => (candidate: string) => candidate === path;

describe("finding a browser", () => {
  it("prefers executable_path, then PUPPETEER_EXECUTABLE_PATH, then the usual install paths", async () => {
    const exists = (p: string) => ["/opt/chrome", "/env/chrome", "/usr/bin/chromium"].includes(p);
    const candidates = ["/usr/bin/chromium"];
    expect(await locateBrowser({ executablePath: "/opt/chrome", env: { PUPPETEER_EXECUTABLE_PATH: "/env/chrome" }, candidates, exists })).toEqual({ path: "/opt/chrome", how: "config" });
    expect(await locateBrowser({ env: { PUPPETEER_EXECUTABLE_PATH: "/env/chrome" }, candidates, exists })).toEqual({ path: "/env/chrome", how: "environment" });
    expect(await locateBrowser({ env: {}, candidates, exists })).toEqual({ path: "/usr/bin/chromium", how: "system" });
  });

  it("uses the optional puppeteer package's bundled browser when nothing else is installed", async () => {
    const found = await locateBrowser({ env: {}, candidates: ["/usr/bin/chromium"], exists: only("/cache/chrome"), importPuppeteer: async () => ({ executablePath: () => "/cache/chrome" }) });
    expect(found).toEqual({ path: "/cache/chrome", how: "puppeteer" });
  });

  it("says what to install when no browser is found", async () => {
    const error = await locateBrowser({ env: {}, candidates: ["/usr/bin/chromium", "/usr/bin/google-chrome"], exists: none, importPuppeteer: async () => null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain("no Chromium or Chrome browser found");
    expect((error as ConfigError).message).toContain("apt-get install chromium");
    expect((error as ConfigError).message).toContain("/usr/bin/google-chrome");
    expect((error as ConfigError).path).toBe("executable_path");
  });

  it("names a configured path that does not exist, with the install hint", async () => {
    const error = await locateBrowser({ executablePath: "/nope/chrome", env: {}, exists: none }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('"/nope/chrome" does not exist');
    expect((error as Error).message).toContain(INSTALL_HINT);
    const fromEnv = await locateBrowser({ env: { PUPPETEER_EXECUTABLE_PATH: "/nope/env" }, exists: none }).catch((e: unknown) => e);
    expect((fromEnv as Error).message).toContain("PUPPETEER_EXECUTABLE_PATH");
  });
});
