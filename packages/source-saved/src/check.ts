/**
 * `check` for saved chains: which files a replay could use, and the newest as-of among them. Reads the
 * folder only; no network. Ready when a complete chain of the product is there, or the sample is allowed.
 */
import { basename, isAbsolute, resolve } from "node:path";
import type { CheckItem, CheckResult } from "@nq/core";
import { scanSavedChains } from "./saved-chain-files.js";

export interface SavedCheckOptions {
  baseDir?: string;
  product?: string;
  now?: Date;
}

export async function checkSaved(config: { dir?: string | undefined; include_sample?: boolean | undefined }, options: SavedCheckOptions = {}): Promise<CheckResult> {
  const items: CheckItem[] = [];
  const product = (options.product ?? "NQ").toUpperCase();
  const now = options.now ?? new Date();
  if (config.dir === undefined) {
    items.push({ name: "saved chains", status: config.include_sample ? "warn" : "fail", detail: 'no folder configured ("dir")' });
  } else {
    const dir = isAbsolute(config.dir) ? config.dir : resolve(options.baseDir ?? process.cwd(), config.dir);
    try {
      const scan = scanSavedChains(dir);
      const ofProduct = scan.chains.filter((c) => c.chain.metadata.product.toUpperCase() === product);
      const complete = ofProduct.filter((c) => c.chain.metadata.complete && !c.chain.metadata.sample);
      const newest = [...complete].sort((a, b) => Date.parse(b.chain.metadata.asOf) - Date.parse(a.chain.metadata.asOf))[0];
      const ageHours = newest ? (now.getTime() - Date.parse(newest.chain.metadata.asOf)) / 3_600_000 : null;
      items.push({
        name: "saved chains",
        status: newest ? "ok" : config.include_sample ? "warn" : "fail",
        detail: newest
          ? `${complete.length} complete ${product} chain(s) in ${dir}; newest ${basename(newest.file)} as of ${newest.chain.metadata.asOf} (${ageHours!.toFixed(1)} h ago, from ${newest.chain.metadata.source})`
          : `no complete ${product} chain in ${dir} (${scan.chains.length} file(s) read${scan.warnings.length ? `; ${scan.warnings[0]}` : ""})`,
        data: { dir, files: scan.chains.length, complete: complete.length, newestAsOf: newest?.chain.metadata.asOf ?? null, newestFile: newest?.file ?? null },
      });
    } catch (error) {
      items.push({ name: "saved chains", status: "fail", detail: `cannot read ${dir}: ${(error as Error).message}` });
    }
  }
  if (config.include_sample) items.push({ name: "sample chain", status: "ok", detail: "the generated sample is allowed (include_sample): SAMPLE DATA, not market data" });
  const ready = items.some((i) => i.status === "ok");
  return { source: "saved", ready, items: ready ? items.map((i) => (i.status === "fail" ? { ...i, status: "warn" as const } : i)) : items };
}
