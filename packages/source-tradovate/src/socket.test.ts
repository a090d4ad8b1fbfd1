/** The frame protocol and the client heartbeat, with a fake socket and fake timers: no wall clock involved. */
import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { formatRequest, MdConnection, parseFrame, type SocketLike } from "./socket.js";

describe("frames", () => {
  it("reads o, h, a[…] and c[…] frames", () => {
    expect(parseFrame("o")).toEqual({ type: "o" });
    expect(parseFrame("h")).toEqual({ type: "h" });
    expect(parseFrame('a[{"s":200,"i":3,"d":{}},{"e":"md","d":{"quotes":[]}}]')).toEqual({ type: "a", messages: [{ s: 200, i: 3, d: {} }, { e: "md", d: { quotes: [] } }] });
    expect(parseFrame('c[1000,"Normal closure"]')).toEqual({ type: "c", code: 1000, reason: "Normal closure" });
    expect(parseFrame("a{not json")).toMatchObject({ type: "unknown" });
    expect(parseFrame("x")).toMatchObject({ type: "unknown" });
  });

  it("writes endpoint, id, query and body on four lines", () => {
    expect(formatRequest("md/subscribeQuote", 7, { symbol: "NQZ6" })).toBe('md/subscribeQuote\n7\n\n{"symbol":"NQZ6"}');
    expect(formatRequest("authorize", 0, "tok")).toBe("authorize\n0\n\ntok");
  });
});

class FakeSocket extends EventEmitter implements SocketLike {
  sent: { at: number; text: string }[] = [];
  send(text: string) {
    this.sent.push({ at: Date.now(), text });
    const [endpoint, id] = text.split("\n");
    if (endpoint === "authorize") queueMicrotask(() => this.emit("message", Buffer.from(`a[{"s":200,"i":${id}}]`)));
  }
  close() {
    this.emit("close", 1000, Buffer.from(""));
  }
  terminate() {
    this.emit("close", 1006, Buffer.from(""));
  }
}

describe("client heartbeat", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends [] every heartbeatMs from the open frame on, and stops when the connection closes", async () => {
    const socket = new FakeSocket();
    const connection = new MdConnection("ws://fake", { heartbeatMs: 2_500, requestTimeoutMs: 10_000, createSocket: () => socket });
    const opening = connection.open("token", new AbortController().signal);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(socket.sent.filter((s) => s.text === "[]")).toHaveLength(0); // not before "o"
    socket.emit("message", Buffer.from("o"));
    await expect(opening).resolves.toMatchObject({ s: 200, i: 0 });
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(2_499);
    expect(socket.sent.filter((s) => s.text === "[]")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.sent.filter((s) => s.text === "[]")).toHaveLength(1);
    // Server heartbeats and messages do not delay it.
    for (let i = 0; i < 10; i += 1) {
      socket.emit("message", Buffer.from("h"));
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const beats = socket.sent.filter((s) => s.text === "[]").map((s) => s.at - start);
    expect(beats).toEqual([2_500, 5_000, 7_500, 10_000, 12_500]);
    expect(connection.heartbeats).toBe(5);
    connection.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(socket.sent.filter((s) => s.text === "[]")).toHaveLength(5);
  });

  it("answers are matched by request id; a close rejects what is pending", async () => {
    const socket = new FakeSocket();
    const connection = new MdConnection("ws://fake", { heartbeatMs: 2_500, requestTimeoutMs: 10_000, createSocket: () => socket });
    const opening = connection.open("token", new AbortController().signal);
    socket.emit("message", Buffer.from("o"));
    await opening;
    const signal = new AbortController().signal;
    const a = connection.request("md/subscribeQuote", { symbol: "A" }, signal);
    const b = connection.request("md/subscribeQuote", { symbol: "B" }, signal);
    socket.emit("message", Buffer.from('a[{"s":404,"i":2,"d":"Unknown symbol"},{"s":200,"i":1}]'));
    await expect(a).resolves.toEqual({ s: 200, i: 1 });
    await expect(b).resolves.toEqual({ s: 404, i: 2, d: "Unknown symbol" });
    const c = connection.request("md/subscribeQuote", { symbol: "C" }, signal);
    socket.emit("message", Buffer.from('c[1011,"bye"]'));
    await expect(c).rejects.toMatchObject({ name: "ConnectionLost", code: 1011 });
  });
});
