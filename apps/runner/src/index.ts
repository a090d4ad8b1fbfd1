/** The runner as a library: run a profile from code, render or write its results. */
export { runProfile, openProfileCache, resolveProfilePath, type RunnerOptions, type RunnerOutcome } from "./run.js";
export { renderSummary, noticesFor, type RunSummary } from "./summary.js";
export { chainToCsv, writeChainOutputs, CSV_COLUMNS, type WrittenOutputs } from "./outputs.js";
export { loadSourcePlugin, loadCachePlugin, type PluginRef } from "./plugin-loader.js";
