import { describe, expect, it } from "vitest";
import { encodingsOf, redactSecrets, registerSecret } from "./secrets.js";

describe("secret redaction", () => {
  const key = "db-ENCODEDencodedENCODED-42+/x";
  registerSecret(key);

  it("redacts every encoding a request may carry the key in: Basic auth base64, base64url, percent-encoded", () => {
    const basicUser = Buffer.from(`${key}:`).toString("base64");
    const basicPassword = Buffer.from(`:${key}`).toString("base64");
    const plain64 = Buffer.from(key).toString("base64");
    const url64 = Buffer.from(key).toString("base64url");
    const echoed = [
      `Authorization: Basic ${basicUser}`,
      `Authorization: Basic ${basicPassword}`,
      `token=${plain64}`,
      `t=${url64}`,
      `?key=${encodeURIComponent(key)}`,
      `?key=${encodeURIComponent(key).toLowerCase()}`,
      `?basic=${encodeURIComponent(basicUser)}`,
      `raw ${key}`,
    ].join("\n");
    const redacted = redactSecrets(echoed);
    for (const form of [key, basicUser, basicPassword, plain64, url64, encodeURIComponent(key), encodeURIComponent(basicUser)]) {
      expect(redacted).not.toContain(form);
    }
    expect(redacted).toContain("Basic ***+/x(encoded)");
    expect(redacted).toContain("raw ***+/x");
  });

  it("lists the encodings it redacts", () => {
    expect(encodingsOf("abcdefgh")).toEqual(expect.arrayContaining(["abcdefgh", "YWJjZGVmZ2g=", "YWJjZGVmZ2g6", "OmFiY2RlZmdo", "YWJjZGVmZ2g%3D"]));
  });

  it("shares one list with every copy of @nq/core in the process", () => {
    const store = (globalThis as unknown as Record<symbol, Map<string, string>>)[Symbol.for("@nq/core/secrets@1")]!;
    expect(store.has(key)).toBe(true);
    // what another copy registered is redacted by this one
    store.set("other-copy-secret-123", "***123");
    expect(redactSecrets("x other-copy-secret-123 y")).toBe("x ***123 y");
  });
});
