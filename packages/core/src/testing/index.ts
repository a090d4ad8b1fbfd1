/**
 * @nq/core/testing — the conformance suite every source runs, ours and third parties' alike.
 *
 *   import { describeSourceConformance } from "@nq/core/testing";
 *   describeSourceConformance(mySource, { setup: async () => ({ config: { … } }) });
 *
 * It checks what the rest of the toolkit relies on: a well-formed definition, a config schema that
 * rejects garbage with a path, rows that normalize cleanly with provenance, `null` (not `0`) for what the
 * source does not give, aborts honoured, failures typed, and no secret in any message, log or result.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSourceConfig } from "../config.js";
import { ConfigError, isAbortError, isSourceError, type SourceError } from "../errors.js";
import { createLogger, type LogEntry } from "../logger.js";
import { normalizeChain } from "../normalize.js";
import type { ChainRequest } from "../request.js";
import { assertSourceDefinition, type Source, type SourceContext, type SourceDefinition, type SourceResult } from "../source.js";
import { SpendLedger } from "../spend.js";
import type { OptionContract, OptionsChain } from "../contract.js";

/** A configuration under which `load` must fail with a given error class. */
export interface ConformanceFailure<C> {
  name: string;
  config: C;
  expected: abstract new (...args: never[]) => SourceError;
  request?: ChainRequest;
}

export interface ConformanceFixture<C> {
  /** A config under which `load` succeeds (e.g. pointing at a local test server). */
  config: C;
  failures?: ConformanceFailure<C>[];
  teardown?: () => Promise<void> | void;
}

export interface ConformanceOptions<C> {
  /** Runs once before the suite: start servers, write files; return the configs to use. */
  setup: () => Promise<ConformanceFixture<C>> | ConformanceFixture<C>;
  request?: ChainRequest;
  /** Strings that must never appear in an error, a log line or a result (API keys, passwords). */
  secrets?: string[];
  /** Per-test timeout, for sources that launch browsers. */
  timeoutMs?: number;
}

const NULLABLE_BY_CAPABILITY: [keyof SourceDefinition["capabilities"], (keyof OptionContract)[]][] = [
  ["quotes", ["bid", "ask"]],
  ["openInterest", ["openInterest", "openInterestDate"]],
  ["settlement", ["settlement", "settlementDate"]],
  ["volume", ["volume"]],
  ["greeks", ["delta"]],
  ["impliedVolatility", ["impliedVolatility"]],
];

const NUMERIC_FIELDS: (keyof OptionContract)[] = [
  "bid",
  "ask",
  "bidSize",
  "askSize",
  "last",
  "volume",
  "openInterest",
  "settlement",
  "impliedVolatility",
  "delta",
];

export function describeSourceConformance<C>(definition: SourceDefinition<C>, options: ConformanceOptions<C>): void {
  const request: ChainRequest = options.request ?? { product: "NQ" };
  const timeout = options.timeoutMs ?? 30_000;
  const logs: LogEntry[] = [];
  const seenText: string[] = [];
  let fixture: ConformanceFixture<C>;
  let result: SourceResult | null = null;
  let chain: OptionsChain | null = null;

  const context = (): SourceContext => ({
    log: createLogger((entry) => logs.push(entry), definition.name),
    spend: new SpendLedger(null),
    now: () => new Date(),
  });
  const withSource = async <T>(config: C, use: (source: Source) => Promise<T>): Promise<T> => {
    const source = await definition.create(config, context());
    try {
      return await use(source);
    } finally {
      await source.close?.();
    }
  };
  const remember = (error: unknown) => {
    if (error instanceof Error) seenText.push(error.message, String(error.stack ?? ""), JSON.stringify(error));
    else seenText.push(String(error));
  };

  describe(`source conformance: ${String((definition as { name?: unknown }).name)}`, () => {
    beforeAll(async () => {
      fixture = await options.setup();
    }, timeout);
    afterAll(async () => {
      await fixture?.teardown?.();
    }, timeout);

    it("has a well-formed definition (name, capability map, zod config schema, create)", () => {
      expect(() => assertSourceDefinition(definition, "the definition")).not.toThrow();
    });

    it("accepts the fixture's config and rejects a config of the wrong type with a ConfigError naming the field", () => {
      expect(definition.configSchema.safeParse(fixture.config).success).toBe(true);
      let thrown: unknown;
      try {
        parseSourceConfig(definition, definition.name, 42, "conformance.json");
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).message).toContain(`data_sources.${definition.name}.config`);
    });

    it(
      "loads a chain that normalizes with no invalid rows, both rights, and provenance",
      async () => {
        const fetchedAt = new Date();
        result = await withSource(fixture.config, (source) => source.load(request, { signal: new AbortController().signal }));
        seenText.push(JSON.stringify(result, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)));
        chain = normalizeChain(result, { source: definition.name, capabilities: definition.capabilities, request, fetchedAt });
        expect(chain.contracts.length).toBeGreaterThan(0);
        expect(chain.qualityMetrics.invalidRows, JSON.stringify(chain.qualityMetrics.invalidReasons)).toBe(0);
        expect(chain.optionsSummary.calls).toBeGreaterThan(0);
        expect(chain.optionsSummary.puts).toBeGreaterThan(0);
        for (const contract of chain.contracts) {
          expect(contract.provenance.source).toBe(definition.name);
          expect(Number.isNaN(Date.parse(contract.provenance.asOf))).toBe(false);
        }
        if (definition.capabilities.delayed) expect(chain.metadata.delayed).toBe(true);
      },
      timeout,
    );

    it("uses null, never 0 or NaN, for what it does not give", () => {
      expect(chain, "the load test must pass first").not.toBeNull();
      const contracts = chain!.contracts;
      for (const [capability, fields] of NULLABLE_BY_CAPABILITY) {
        if (definition.capabilities[capability]) continue;
        // Analytics the normalizer computed (greeksSource "computed") are not the feed's: only the feed's count.
        const computed = capability === "greeks" || capability === "impliedVolatility";
        for (const field of fields) {
          const given = contracts.filter((c) => c[field] !== null && !(computed && (c as { greeksSource?: unknown }).greeksSource === "computed")).length;
          expect(given, `capabilities.${capability} is false, yet ${given} contracts have a ${field}`).toBe(0);
        }
      }
      for (const field of NUMERIC_FIELDS) {
        const values = contracts.map((c) => c[field]);
        expect(values.every((v) => v === null || (typeof v === "number" && Number.isFinite(v))), `${field} must be a finite number or null`).toBe(true);
        // A field that is 0 on every contract of a chain is "unknown" dressed as a number.
        if (contracts.length >= 10 && field !== "delta") {
          expect(values.every((v) => v === 0), `${field} is 0 on every contract: report unknown as null`).toBe(false);
        }
      }
    });

    it(
      "honours an AbortSignal that is already aborted",
      async () => {
        const controller = new AbortController();
        controller.abort();
        const error = await withSource(fixture.config, (source) => source.load(request, { signal: controller.signal })).then(
          () => null,
          (e: unknown) => e,
        );
        remember(error);
        expect(error, "load() resolved although its signal was aborted").not.toBeNull();
        expect(isAbortError(error), `expected an AbortError or AbortedError, got ${String(error)}`).toBe(true);
      },
      timeout,
    );

    it(
      "settles promptly, as a result or an abort, when aborted during the load",
      async () => {
        const controller = new AbortController();
        const outcome = await withSource(fixture.config, async (source) => {
          const pending = source.load(request, { signal: controller.signal });
          setTimeout(() => controller.abort(), 1);
          return pending.then(
            () => "resolved",
            (e: unknown) => e,
          );
        });
        if (outcome !== "resolved") {
          remember(outcome);
          expect(isAbortError(outcome), `expected an abort error, got ${String(outcome)}`).toBe(true);
        }
      },
      timeout,
    );

    it(
      "fails with the expected typed SourceError for each failure fixture",
      async () => {
        for (const failure of fixture.failures ?? []) {
          const error = await withSource(failure.config, (source) =>
            source.load(failure.request ?? request, { signal: new AbortController().signal }),
          ).then(
            () => null,
            (e: unknown) => e,
          );
          remember(error);
          expect(error, `${failure.name}: load() resolved, expected ${failure.expected.name}`).not.toBeNull();
          // By brand and code, not by class: a plugin may resolve its own copy of @nq/core.
          expect(isSourceError(error), `${failure.name}: ${String(error)} is not a SourceError (of any copy of @nq/core); the registry would call it a bug`).toBe(true);
          expect(error, `${failure.name}: got ${String(error)}`).toBeInstanceOf(failure.expected);
          expect((error as SourceError).source).toBe(definition.name);
          expect((error as SourceError).message.length).toBeGreaterThan(definition.name.length + 10);
        }
      },
      timeout * 4,
    );

    it("closes cleanly, twice", async () => {
      const source = await definition.create(fixture.config, context());
      await source.close?.();
      await source.close?.();
    });

    it("never shows a secret in an error, a log line or a result", () => {
      const haystack = [...seenText, ...logs.map((entry) => JSON.stringify(entry))].join("\n");
      for (const secret of options.secrets ?? []) {
        expect(haystack.includes(secret), `a secret (…${secret.slice(-3)}) appeared in an error, log or result`).toBe(false);
      }
    });
  });
}

export { describeChainHistoryConformance, expectedSnapshot, type ChainHistoryConformanceOptions, type ChainHistoryFixture } from "./history-conformance.js";
export { describeChainCacheConformance, type ChainCacheConformanceOptions, type ChainCacheFixture } from "./cache-conformance.js";
export { historyTestChain, quarterlySymbol, type HistoryTestChainOptions } from "./history-chains.js";
