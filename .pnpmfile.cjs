// pnpm prints its own "> package@version start <dir>" banner on stdout before any script runs, so
// `pnpm start -- --json` would not be JSON only. Only pnpm's silent reporter drops that banner, and
// setting it for every command would also hide install errors; so it is set for one case alone: a
// `start` (or `run start`) whose arguments ask the runner for --json. Everything else keeps pnpm's output.
"use strict";

function asksRunnerForJson(argv) {
  const args = argv.slice(2);
  const dashDash = args.indexOf("--");
  const pnpmArgs = dashDash === -1 ? args : args.slice(0, dashDash);
  const scriptArgs = dashDash === -1 ? args : args.slice(dashDash + 1);
  const words = pnpmArgs.filter((arg) => !arg.startsWith("-"));
  const runsStart = words.includes("start");
  return runsStart && scriptArgs.includes("--json");
}

module.exports = {
  hooks: {
    updateConfig(config) {
      if (asksRunnerForJson(process.argv)) return { ...config, reporter: "silent" };
      return config;
    },
  },
};
