/** The runner as a library: run a profile from code, render or write its results. */
export { EXIT, listProfiles, runProfile, openProfileCache, resolveProfilePath, type RunnerOptions, type RunnerOutcome } from "./run.js";
export { renderSummary, noticesFor, type RunSummary, type SourceSpend } from "./summary.js";
export { chainToCsv, writeChainOutputs, removeStaleTemporaries, OutputError, OUTPUT_FILE_MODE, CSV_COLUMNS, type ChainToWrite, type WrittenOutputs } from "./outputs.js";
export { createProgressReporter, describeProgress, type ProgressReporter } from "./progress.js";
export { loadSourcePlugin, loadCachePlugin, type PluginRef } from "./plugin-loader.js";
