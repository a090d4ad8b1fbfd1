/**
 * The backfill capability: a source plugin may export `backfill` — history in bulk onto disk (for
 * Databento: batch jobs → verified DBN files → the caller's converter) behind a manifest, so the same call
 * after Ctrl-C or a crash continues where it stopped. The runner's `backfill` command drives any plugin
 * through this contract without naming the source.
 */
import type { Logger } from "./logger.js";
import type { SpendLedger } from "./spend.js";

export type BackfillProgress =
  | { phase: "plan"; message: string }
  | { phase: "job"; schema: string; jobId: string; state: string }
  | {
      phase: "download";
      file: string;
      /** Bytes of every file of the backfill on disk, and in all. */
      bytesDone: number;
      bytesTotal: number;
      filesDone: number;
      filesTotal: number;
    }
  | { phase: "convert"; message: string };

export interface BackfillConvertInput {
  files: { schema: string; path: string }[];
  outDir: string;
  signal: AbortSignal;
}

export interface BackfillConvertOutput {
  outputs: { path: string; rows?: number; schema?: string }[];
}

/** One paid piece of a backfill (a batch job), reported as soon as it is paid or found. */
export interface BackfillPayment {
  /** The source that was paid ("databento"), as its spend entries name it. */
  source: string;
  jobId: string;
  schema: string;
  usd: number;
  /** What was bought, for the ledger ("batch job GLBX.MDP3-…: …"). */
  what: string;
  /** When it was paid: the job's submission time as the provider reports it, else now. */
  at: string;
  /** "submitted" by this run, or "found" at the provider without being in the manifest. */
  how: "submitted" | "found";
}

export interface BackfillRunOptions {
  /** Inclusive start: YYYY-MM-DD (midnight UTC) or an ISO time. */
  from: string;
  /** Exclusive end, same forms. */
  to: string;
  schemas: string[];
  outDir: string;
  /** USD for everything this run buys together; refused before buying when crossed. */
  maxCostUsd: number;
  /** Where the limit comes from, for the refusal ("--max-cost", "run_cost_limit_usd"). */
  limitName: string;
  signal: AbortSignal;
  log: Logger;
  spend: SpendLedger;
  /**
   * Called for each paid piece as soon as it is paid for, or found at the provider without being in the
   * manifest (paid by a run that stopped before saving it), before the manifest records it — so a durable
   * ledger keyed by `jobId` counts it exactly once, whenever the run dies. A failure stops the backfill:
   * the piece is found again next time and reported again.
   */
  onPaid?: (payment: BackfillPayment) => Promise<void>;
  onProgress?: (progress: BackfillProgress) => void;
  /** The last step (e.g. DBN → Parquet). Left out, the backfill ends with the verified raw files. */
  convert?: (input: BackfillConvertInput) => Promise<BackfillConvertOutput>;
  /** Buy again (paying again) a piece of the manifest that expired before its files were downloaded. */
  resubmitExpired?: boolean;
}

export interface BackfillRunResult {
  manifestPath: string;
  manifest: { status: string; jobs: { schema: string; jobId: string | null; files: { downloadedAt: string | null; size: number }[] | null }[] };
  /** Paid by this run (0 when everything was reused or already in the manifest). */
  paidUsd: number;
  submitted: number;
  reused: number;
  filesDownloaded: number;
  filesSkipped: number;
  bytesFetched: number;
  converted: boolean;
}

/** The shape of a plugin module's `backfill` export. */
export interface BackfillCapability {
  source?: string;
  description?: string;
  schemas?: readonly string[];
  defaultSchemas?: readonly string[];
  run(config: unknown, options: BackfillRunOptions): Promise<BackfillRunResult>;
}
