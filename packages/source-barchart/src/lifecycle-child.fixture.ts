/**
 * A child process for the life-cycle tests (bundled by the test, not part of the package): it starts a
 * browser the way the source does, prints where it lives, and waits to be killed.
 *   argv: <mode: "idle" | "app-handles-sigterm"> <profile parent folder>
 */
import { launchBrowser, locateBrowser } from "./browser.js";

const [mode = "idle", parent] = process.argv.slice(2);
const located = await locateBrowser({});
const launched = await launchBrowser({ executablePath: located.path, headless: true, timeoutMs: 30_000, ...(parent ? { profileParent: parent } : {}) });
const page = await launched.browser.newPage();
await page.goto("data:text/html,<title>child</title>");
if (mode === "app-handles-sigterm") {
  process.on("SIGTERM", () => {
    console.log(JSON.stringify({ event: "app-sigterm", closed: launched.closedReason() }));
    setTimeout(() => process.exit(0), 50);
  });
}
console.log(JSON.stringify({ event: "ready", dir: launched.profileDir, pid: launched.pid }));
setInterval(() => {}, 1_000);
