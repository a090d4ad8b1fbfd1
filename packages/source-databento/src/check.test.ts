import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDatabento } from "./check.js";
import { startLocalDatabentoServer, type LocalDatabentoServer } from "./test-server/index.js";

const KEY = "db-CHECKcheckCHECKcheckCHECKchec";

describe("checkDatabento (free calls only)", () => {
  let server: LocalDatabentoServer;
  beforeAll(async () => {
    server = await startLocalDatabentoServer({ apiKeys: [KEY], fixturesDir: null });
  });
  afterAll(() => server.close());

  it("a good key: accepted, dataset entitled with its range, a tiny request priced — and nothing billed", async () => {
    const before = server.requests.length;
    const result = await checkDatabento({ api_key: KEY, base_url: server.url });
    expect(result.ready, JSON.stringify(result.items)).toBe(true);
    expect(result.items.map((i) => [i.name, i.status])).toEqual([
      ["api key present", "ok"],
      ["api key well-formed", "ok"],
      ["api key accepted", "ok"],
      ["dataset GLBX.MDP3 entitled", "ok"],
      ["schemas available", "ok"],
      ["cost query (get_cost)", "ok"],
    ]);
    expect(result.items[3]!.detail).toContain("2026-11-20T21:00:00.000Z");
    const paths = server.requests.slice(before).map((r) => r.path);
    expect(paths).toEqual(["/v0/metadata.list_datasets", "/v0/metadata.get_dataset_range", "/v0/metadata.get_cost"]);
    expect(server.spend(before).requests).toBe(0);
    expect(JSON.stringify(result)).not.toContain(KEY);
  });

  it("no key, a malformed key, a rejected key, no entitlement", async () => {
    const none = await checkDatabento({ base_url: server.url }, { env: {} });
    expect(none.ready).toBe(false);
    expect(none.items.at(-1)).toMatchObject({ name: "api key present", status: "fail" });

    const malformed = await checkDatabento({ api_key: "db-short", base_url: server.url });
    expect(malformed.items.at(-1)).toMatchObject({ name: "api key well-formed", status: "fail" });
    expect(JSON.stringify(malformed)).not.toContain("db-short");

    const rejected = await checkDatabento({ api_key: "db-WRONGwrongWRONGwrongWRONGwron", base_url: server.url });
    expect(rejected.items.at(-1)).toMatchObject({ name: "api key accepted", status: "fail" });
    expect(rejected.items.at(-1)!.detail).toMatch(/rejected \(401\)/);

    const other = await checkDatabento({ api_key: KEY, base_url: server.url, dataset: "XNAS.ITCH" });
    expect(other.ready).toBe(false);
    expect(other.items.at(-1)).toMatchObject({ name: "dataset XNAS.ITCH entitled", status: "fail" });
  });
});
