/** @nq/core's conformance suite, against the local Tradovate-compatible server over real HTTP and WebSocket. */
import { AuthError, EntitlementError, InvalidRequestError } from "@nq/core";
import { describeSourceConformance } from "@nq/core/testing";
import { tradovate } from "./index.js";
import { resetSessions } from "./auth.js";
import { startLocalTradovateServer, type LocalTradovateServer } from "./test-server/index.js";
import { localConfig, PASSWORD, SECRET } from "./test-support/harness.js";

let servers: LocalTradovateServer[] = [];

describeSourceConformance(tradovate, {
  secrets: [PASSWORD, SECRET],
  setup: async () => {
    resetSessions();
    const main = await startLocalTradovateServer();
    const captcha = await startLocalTradovateServer();
    captcha.setFaults({ loginPenalty: { pTime: 3600, captcha: true, times: 100 } });
    const refusing = await startLocalTradovateServer();
    refusing.setFaults({ refuseSubscriptions: { status: 403, message: "No market data subscription" } });
    servers = [main, captcha, refusing];
    return {
      config: localConfig(main),
      failures: [
        { name: "a wrong password (HTTP 200 with errorText)", config: localConfig(main, { password: "not-the-password" }), expected: AuthError },
        { name: "a captcha penalty on login", config: localConfig(captcha), expected: AuthError },
        { name: "every subscription refused (403)", config: localConfig(refusing), expected: EntitlementError },
        { name: "a request for a past time", config: localConfig(main), expected: InvalidRequestError, request: { product: "NQ", asOf: "2020-01-02T15:00:00Z" } },
      ],
      teardown: async () => {
        await Promise.all(servers.map((server) => server.close()));
      },
    };
  },
});
