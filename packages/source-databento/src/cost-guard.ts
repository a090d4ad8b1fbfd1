/**
 * Nothing is spent without a price first. Before each `timeseries.get_range`, the guard asks
 * `metadata.get_cost` with the same parameters and refuses (CostLimitError, request not sent) when the
 * answer exceeds this schema's limit or would take the run past its cap. What was bought is recorded
 * in the run's ledger as soon as Databento starts streaming it.
 */
import { CostLimitError, type Logger, type SpendLedger } from "@nq/core";
import { type ChainSchema, costLimitFor, type ResolvedConfig } from "./config.js";
import type { HistoricalClient, RangeQuery } from "./historical/client.js";

export interface AuthorizedRequest {
  query: RangeQuery;
  what: string;
  estimatedUsd: number;
}

export class CostGuard {
  /** USD recorded by this guard (one load). */
  spentUsd = 0;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly client: HistoricalClient,
    private readonly spend: SpendLedger,
    private readonly log: Logger,
    private readonly source: string,
  ) {}

  async authorize(query: RangeQuery, signal: AbortSignal): Promise<AuthorizedRequest> {
    const schema = query.schema as ChainSchema;
    const what = describeQuery(query);
    const estimatedUsd = await this.client.getCost(query, signal);
    const limitUsd = costLimitFor(this.config, schema);
    if (estimatedUsd > limitUsd) {
      throw new CostLimitError(
        this.source,
        `${what} would cost $${estimatedUsd.toFixed(4)}, over the $${limitUsd.toFixed(2)} limit for "${schema}"; the request was not sent. Raise cost_limits["${schema}"] in the source's config, or narrow the request (fewer expirations, a strike window, an earlier asOf)`,
        { estimatedUsd, limitUsd, details: { schema, query: what } },
      );
    }
    this.spend.authorize(this.source, what, estimatedUsd);
    this.log.info(`authorized ${what}: estimated $${estimatedUsd.toFixed(4)} (limit $${limitUsd.toFixed(2)})`);
    return { query, what, estimatedUsd };
  }

  /** Databento bills what it streams: call once the data request was answered with data. */
  record(request: AuthorizedRequest): void {
    this.spend.record(this.source, request.what, request.estimatedUsd);
    this.spentUsd += request.estimatedUsd;
  }
}

export function describeQuery(query: RangeQuery): string {
  const symbols = query.symbols.length > 3 ? `${query.symbols.slice(0, 3).join(",")},… (${query.symbols.length} ${query.stypeIn} symbols)` : query.symbols.join(",");
  return `${query.schema} ${query.dataset} ${symbols} ${query.start.toISOString()}–${query.end.toISOString()}`;
}
