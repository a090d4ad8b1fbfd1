/**
 * What a run spends, across every paid source, against an optional hard cap. A source asks before it
 * sends a paid request (`authorize`) and records what it actually spent (`record`). The cap is checked
 * against what was already spent plus the new estimate, so the request that would cross it is never sent.
 */
import { CostLimitError } from "./errors.js";

export interface SpendEntry {
  source: string;
  /** What was bought ("definition NQ.OPT 2026-11-20"). */
  what: string;
  usd: number;
  at: string;
  /** What kind of data (a Databento schema), when the source says. */
  schema?: string;
  /** Bytes billed, when known. */
  bytes?: number;
}

export class SpendLedger {
  readonly entries: SpendEntry[] = [];
  /** What sources priced before buying (their plans); `entries` is what they then bought. */
  readonly estimates: SpendEntry[] = [];
  constructor(readonly runLimitUsd: number | null = null, private readonly now: () => Date = () => new Date()) {}

  get totalUsd(): number {
    return this.entries.reduce((sum, entry) => sum + entry.usd, 0);
  }

  get totalEstimatedUsd(): number {
    return this.estimates.reduce((sum, entry) => sum + entry.usd, 0);
  }

  estimatedBy(source: string): number {
    return this.estimates.filter((entry) => entry.source === source).reduce((sum, entry) => sum + entry.usd, 0);
  }

  /** Records a price a source obtained for its plan before buying (shown beside what was spent). */
  estimate(source: string, what: string, usd: number): void {
    this.estimates.push({ source, what, usd, at: this.now().toISOString() });
  }

  spentBy(source: string): number {
    return this.entries.filter((entry) => entry.source === source).reduce((sum, entry) => sum + entry.usd, 0);
  }

  /** Throws CostLimitError when spending `estimatedUsd` more would cross the run's cap. */
  authorize(source: string, what: string, estimatedUsd: number): void {
    if (!Number.isFinite(estimatedUsd) || estimatedUsd < 0) {
      throw new CostLimitError(source, `cannot authorize ${what}: the cost estimate ${estimatedUsd} is not a valid amount`, {
        estimatedUsd: Number.NaN,
        limitUsd: this.runLimitUsd ?? Number.NaN,
      });
    }
    if (this.runLimitUsd === null) return;
    const after = this.totalUsd + estimatedUsd;
    if (after > this.runLimitUsd) {
      throw new CostLimitError(
        source,
        `${what} would cost $${estimatedUsd.toFixed(4)}, bringing this run to $${after.toFixed(4)}, over the run limit of $${this.runLimitUsd.toFixed(2)}; the request was not sent. Raise "run_cost_limit_usd" in the profile or narrow the request`,
        { estimatedUsd, limitUsd: this.runLimitUsd },
      );
    }
  }

  record(source: string, what: string, usd: number, details: { schema?: string; bytes?: number } = {}): void {
    this.entries.push({ source, what, usd, at: this.now().toISOString(), ...details });
  }
}
