import { describe, expect, it } from "vitest";
import { authLine, cramResponse, gatewayHost, LineReader, MAX_SYMBOLS_PER_LINE, parseAuthReply, subscriptionLines } from "./protocol.js";

describe("Live protocol (reference §5)", () => {
  it("computes the CRAM response of the reference's test vector", () => {
    expect(cramResponse("Zx81vQ0pLm4tRe7uYw2nBs6kHj9aFd3c", "db-DocExampleKey00000000000AbCdE")).toBe(
      "0babc527541f32d98b92569b62e491f1d75eebb28dae42fc00e6a81e86c4d9c5-AbCdE",
    );
  });

  it("derives the gateway host from the dataset", () => {
    expect(gatewayHost("GLBX.MDP3")).toBe("glbx-mdp3.lsg.databento.com");
  });

  it("writes the auth line with every field", () => {
    const line = authLine("abc-12345", { dataset: "GLBX.MDP3", compression: "zstd", tsOut: true, heartbeatIntervalS: 5, client: "nq" });
    expect(line).toBe("auth=abc-12345|dataset=GLBX.MDP3|encoding=dbn|compression=zstd|ts_out=1|client=nq|heartbeat_interval_s=5\n");
  });

  it("reads auth replies; anything but success=1 is a failure", () => {
    expect(parseAuthReply("success=1|session_id=42")).toEqual({ ok: true, sessionId: "42" });
    expect(parseAuthReply("success=0|error=Authentication failed.")).toEqual({ ok: false, error: "Authentication failed." });
    expect(parseAuthReply("session_id=42").ok).toBe(false);
    expect(parseAuthReply("success=2|session_id=1").ok).toBe(false);
  });

  it("splits symbol lists into lines of at most 500 with is_last only on the last", () => {
    const symbols = Array.from({ length: 1201 }, (_, i) => `S${i}`);
    const lines = subscriptionLines({ schema: "trades", stypeIn: "raw_symbol", symbols, start: 5n });
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.match(/symbols=([^|]*)/)![1]!.split(",").length)).toEqual([MAX_SYMBOLS_PER_LINE, MAX_SYMBOLS_PER_LINE, 201]);
    expect(lines.map((l) => /is_last=(\d)/.exec(l)![1])).toEqual(["0", "0", "1"]);
    expect(lines.every((l) => l.endsWith("|start=5\n"))).toBe(true);
    expect(subscriptionLines({ schema: "definition", stypeIn: "parent", symbols: ["NQ.OPT"] })).toEqual([
      "schema=definition|stype_in=parent|symbols=NQ.OPT|snapshot=0|is_last=1\n",
    ]);
  });

  it("gives lines across split reads and keeps the bytes after the last newline", () => {
    const reader = new LineReader();
    reader.push(Buffer.from("lsg_ver"));
    expect(reader.next()).toBeNull();
    reader.push(Buffer.from("sion=0.7.2\ncr"));
    expect(reader.next()).toBe("lsg_version=0.7.2");
    expect(reader.next()).toBeNull();
    reader.push(Buffer.from("am=xyz\nsuccess=1|session_id=1\n\x01\x02"));
    expect(reader.next()).toBe("cram=xyz");
    expect(reader.next()).toBe("success=1|session_id=1");
    expect([...reader.rest()]).toEqual([1, 2]);
  });
});
