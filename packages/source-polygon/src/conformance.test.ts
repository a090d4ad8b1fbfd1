/** @nq/core's conformance suite, against the local Polygon-compatible server over real HTTP, with the canary key as the secret. */
import { AuthError, EntitlementError, InvalidRequestError, NetworkError, RateLimitError, ServiceUnavailableError, TimeoutError } from "@nq/core";
import { describeSourceConformance } from "@nq/core/testing";
import { polygon } from "./index.js";
import { type LocalPolygonServer, startLocalPolygonServer } from "./test-server/index.js";
import { CANARY_KEY, OTHER_KEY, testConfig } from "./test-support/harness.js";

let servers: LocalPolygonServer[] = [];

describeSourceConformance(polygon, {
  secrets: [CANARY_KEY, OTHER_KEY],
  setup: async () => {
    const main = await startLocalPolygonServer({ apiKeys: [CANARY_KEY] });
    const basic = await startLocalPolygonServer({ apiKeys: [CANARY_KEY], plan: "basic" });
    const limited = await startLocalPolygonServer({ apiKeys: [CANARY_KEY] });
    limited.setFault({ kind: "429", retryAfterSeconds: 30 });
    const down = await startLocalPolygonServer({ apiKeys: [CANARY_KEY] });
    down.setFault({ kind: "503" });
    const hung = await startLocalPolygonServer({ apiKeys: [CANARY_KEY] });
    hung.setFault({ kind: "hang" });
    const gone = await startLocalPolygonServer();
    await gone.close(); // its port now refuses connections
    servers = [main, basic, limited, down, hung];
    return {
      config: testConfig(main.url),
      failures: [
        { name: "401: a key the server does not know", config: testConfig(main.url, { api_key: OTHER_KEY }), expected: AuthError },
        { name: "403 NOT_AUTHORIZED: a plan without options", config: testConfig(basic.url), expected: EntitlementError },
        { name: "429 with Retry-After", config: testConfig(limited.url), expected: RateLimitError },
        { name: "503", config: testConfig(down.url), expected: ServiceUnavailableError },
        { name: "a hung server, past timeout_ms", config: testConfig(hung.url, { timeout_ms: 300 }), expected: TimeoutError },
        { name: "connection refused", config: testConfig(gone.url), expected: NetworkError },
        { name: "an NQ request without allow_proxy", config: testConfig(main.url, { allow_proxy: false }), expected: InvalidRequestError },
      ],
      teardown: async () => {
        await Promise.all(servers.map((server) => server.close()));
      },
    };
  },
});
