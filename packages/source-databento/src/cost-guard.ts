/**
 * Nothing is bought without a price first, and nothing at all when the whole plan would cross a limit.
 *
 * Before the first purchase the guard prices every request of the load's plan with the free
 * `metadata.get_cost`. Which options the chain holds is known only after the definitions arrive, so the
 * market-data requests are priced for the whole parents (an upper bound of the narrower requests
 * actually sent). When any schema's total exceeds its `cost_limits` entry, or the plan would take the run
 * past `run_cost_limit_usd`, the load is refused before anything is bought, and the refusal lists the
 * plan with each price. Each request actually sent is priced again exactly, checked against the run's
 * cap, and recorded in the run's ledger as soon as Databento starts streaming it.
 */
import { CostLimitError, type Logger, type SpendLedger } from "@nq/core";
import { type ChainSchema, costLimitFor, type ResolvedConfig } from "./config.js";
import type { HistoricalClient, RangeQuery } from "./historical/client.js";

export interface AuthorizedRequest {
  query: RangeQuery;
  what: string;
  estimatedUsd: number;
}

export interface PlannedRequest {
  /** What the request is for, in words ("quotes for the quiet options, from the session's open"). */
  purpose: string;
  query: RangeQuery;
}

export interface PricedRequest extends PlannedRequest {
  usd: number;
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

  /** Prices the whole plan; throws CostLimitError (nothing bought) when any limit would be crossed. */
  async approvePlan(plan: PlannedRequest[], signal: AbortSignal): Promise<PricedRequest[]> {
    const priced: PricedRequest[] = [];
    for (const request of plan) priced.push({ ...request, usd: await this.client.getCost(request.query, signal) });
    const bySchema = new Map<ChainSchema, number>();
    for (const request of priced) bySchema.set(request.query.schema as ChainSchema, (bySchema.get(request.query.schema as ChainSchema) ?? 0) + request.usd);
    const total = priced.reduce((sum, request) => sum + request.usd, 0);
    const listing = priced.map((r) => `  - ${r.query.schema}: ${r.purpose} — $${r.usd.toFixed(4)} (${describeQuery(r.query)})`).join("\n");
    const problems: string[] = [];
    for (const [schema, usd] of bySchema) {
      const limit = costLimitFor(this.config, schema);
      if (usd > limit) problems.push(`"${schema}" would cost up to $${usd.toFixed(4)}, over its $${limit.toFixed(2)} limit (cost_limits["${schema}"])`);
    }
    const runLimit = this.spend.runLimitUsd;
    if (runLimit !== null && this.spend.totalUsd + total > runLimit) {
      problems.push(`the plan would bring this run to $${(this.spend.totalUsd + total).toFixed(4)}, over the run limit of $${runLimit.toFixed(2)} ("run_cost_limit_usd")`);
    }
    if (problems.length > 0) {
      const limitUsd = runLimit ?? Math.min(...[...bySchema.keys()].map((schema) => costLimitFor(this.config, schema)));
      throw new CostLimitError(
        this.source,
        `nothing was bought: ${problems.join("; ")}. The plan, priced with metadata.get_cost (market data priced for the whole parents, an upper bound until the definitions narrow it):\n${listing}\nRaise the limit. Fewer expirations or a strike window do not lower this bound, which prices every option of the parents; ` +
          `fewer parents do (parent_symbols; discover_parents: false keeps NQ.OPT's quarterly and serial options only), as do a cheaper quote schema (bbo-1m), fewer schemas or underlying_prices: false`,
        { estimatedUsd: total, limitUsd, details: { plan: priced.map((r) => ({ schema: r.query.schema, purpose: r.purpose, usd: r.usd })) } },
      );
    }
    for (const request of priced) this.spend.estimate(this.source, `${request.query.schema}: ${request.purpose}`, request.usd);
    this.log.info(`plan priced at up to $${total.toFixed(4)}:\n${listing}`);
    return priced;
  }

  /** Prices one request exactly and checks the run's cap; nothing is sent when it would cross it. */
  async authorize(query: RangeQuery, signal: AbortSignal): Promise<AuthorizedRequest> {
    const what = describeQuery(query);
    const estimatedUsd = await this.client.getCost(query, signal);
    this.spend.authorize(this.source, what, estimatedUsd);
    this.log.info(`authorized ${what}: $${estimatedUsd.toFixed(4)}`);
    return { query, what, estimatedUsd };
  }

  /** Databento bills what it streams: call once the data request was answered with data. */
  record(request: AuthorizedRequest): void {
    this.spend.record(this.source, request.what, request.estimatedUsd, { schema: request.query.schema });
    this.spentUsd += request.estimatedUsd;
  }
}

export function describeQuery(query: RangeQuery): string {
  const symbols = query.symbols.length > 3 ? `${query.symbols.slice(0, 3).join(",")},… (${query.symbols.length} ${query.stypeIn} symbols)` : query.symbols.join(",");
  return `${query.schema} ${query.dataset} ${symbols} ${query.start.toISOString()}–${query.end.toISOString()}`;
}
