/**
 * The backfill's last step, DBN → Parquet with @nq/parquet: every DBN file to Parquet per schema and CME
 * trade date (`<out>/parquet/<schema>/trade_date=<date>/…`), then the daily chain table (one row per
 * contract per trade date: settlement, OI, cleared volume, close bid/ask, IV) from the same files when
 * definitions are among them. @nq/parquet (DuckDB) is imported only when a conversion runs, so
 * `--no-convert` and every other command never load it.
 */
import { AbortedError, type BackfillRunOptions } from "@nq/core";

export type BackfillConverter = NonNullable<BackfillRunOptions["convert"]>;

export const DAILY_CHAIN_DIR = "daily_chain";

export const convertToParquet: BackfillConverter = async ({ files, outDir, signal }) => {
  const parquet = await import("@nq/parquet");
  const outputs: { path: string; rows: number; schema: string }[] = [];
  const stopIfAborted = () => {
    if (signal.aborted) throw new AbortedError("runner", "the conversion was interrupted; the files converted so far are complete, the next run converts again", { cause: signal.reason });
  };
  // One DuckDB instance for every file: a new one per file costs its start-up and first row groups again.
  const session = await parquet.openParquetSession();
  try {
    for (const file of files) {
      stopIfAborted();
      const result = await session.convert({ input: file.path, outDir });
      outputs.push(...result.files.map((f) => ({ path: f.path, rows: f.rows, schema: f.schema })));
    }
  } finally {
    session.close();
  }
  // The chain needs the definitions to know what each instrument is; without them there is no table.
  if (files.some((f) => f.schema === "definition")) {
    stopIfAborted();
    const chain = await parquet.buildDailyChainTable({ inputs: files.map((f) => f.path), outDir: `${outDir}/${DAILY_CHAIN_DIR}` });
    outputs.push(...chain.files.map((f) => ({ path: f.path, rows: f.rows, schema: DAILY_CHAIN_DIR })));
  }
  return { outputs };
};
