/** @nq/core's conformance suite, against the local server over real HTTP, with the canary key as the secret. */
import { AuthError, CostLimitError, EntitlementError } from "@nq/core";
import { describeSourceConformance } from "@nq/core/testing";
import { databento } from "./index.js";
import { configSchema } from "./config.js";
import { type LocalDatabentoServer, startLocalDatabentoServer } from "./test-server/index.js";
import { CANARY_KEY, OTHER_KEY } from "./test-support/source-harness.js";

let servers: LocalDatabentoServer[] = [];
const config = (input: Record<string, unknown>) => configSchema.parse(input);

describeSourceConformance(databento, {
  secrets: [CANARY_KEY],
  setup: async () => {
    const main = await startLocalDatabentoServer({ contracts: 60, apiKeys: [CANARY_KEY] });
    const unlicensed = await startLocalDatabentoServer({ contracts: 60, apiKeys: [CANARY_KEY], entitledDatasets: [] });
    servers = [main, unlicensed];
    return {
      config: config({ api_key: CANARY_KEY, base_url: main.url }),
      failures: [
        { name: "401: a key the server does not know", config: config({ api_key: OTHER_KEY, base_url: main.url }), expected: AuthError },
        { name: "403: no licence for GLBX.MDP3", config: config({ api_key: CANARY_KEY, base_url: unlicensed.url }), expected: EntitlementError },
        {
          name: "cost over the definition limit",
          config: config({ api_key: CANARY_KEY, base_url: main.url, cost_limits: { definition: 0.000_000_1 } }),
          expected: CostLimitError,
        },
      ],
      teardown: async () => {
        await Promise.all(servers.map((server) => server.close()));
      },
    };
  },
});
