/**
 * Finding and reading the chains earlier runs saved (`*.chain.json`, the runner's JSON output). A file
 * that cannot be read or is not a chain is reported as a warning and passed over, so one damaged file
 * does not hide the good ones beside it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "@nq/core";

export const CHAIN_FILE_SUFFIX = ".chain.json";

/**
 * The request a run answered, as the runner records it in `metadata.request` (a `ChainRequest`). Optional:
 * files written before it was recorded are replayed only within what they can be shown to hold.
 */
const recordedRequestSchema = z.object({
  product: z.string().optional(),
  expirations: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).optional(),
  maxExpirations: z.number().int().positive().optional(),
  strikeMin: z.number().optional(),
  strikeMax: z.number().optional(),
  asOf: z.string().refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO time").optional(),
});

/** Enough of the chain's shape to replay it; contract fields are re-validated by the normalizer. */
const savedChainSchema = z.object({
  metadata: z.object({
    source: z.string(),
    product: z.string(),
    asOf: z.string().refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO time"),
    fetchedAt: z.string(),
    delayed: z.boolean(),
    sample: z.boolean(),
    complete: z.boolean(),
    warnings: z.array(z.string()),
    request: recordedRequestSchema.optional(),
    /** Set on a chain that stood in for the product (a proxy): never replayed as the product. */
    proxy: z.object({ label: z.string() }).passthrough().nullable().optional(),
  }),
  optionsSummary: z.object({ underlying: z.string(), underlyingPrice: z.number().nullable(), expirations: z.array(z.string()) }),
  strikeRange: z.object({ min: z.number(), max: z.number() }).nullable(),
  contracts: z.array(z.record(z.string(), z.unknown())),
});

export interface SavedChain {
  file: string;
  chain: z.infer<typeof savedChainSchema>;
}

export interface SavedChainScan {
  chains: SavedChain[];
  warnings: string[];
}

export function scanSavedChains(dir: string): SavedChainScan {
  const warnings: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(CHAIN_FILE_SUFFIX));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") return { chains: [], warnings: [`saved-chain folder ${dir} does not exist yet`] };
    throw error;
  }
  const chains: SavedChain[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    const chain = readSavedChain(file);
    if (typeof chain === "string") warnings.push(chain);
    else chains.push({ file, chain });
  }
  return { chains, warnings };
}

/** The chain in `file`, or a sentence saying why it cannot be used. */
export function readSavedChain(file: string): SavedChain["chain"] | string {
  let json: unknown;
  try {
    if (!statSync(file).isFile()) return `${file} is not a file`;
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    return `skipped ${file}: ${(error as Error).message}`;
  }
  const parsed = savedChainSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `skipped ${file}: not a saved chain (${issue?.path.join(".") || "top level"}: ${issue?.message ?? "invalid"})`;
  }
  return parsed.data;
}
