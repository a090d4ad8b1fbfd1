import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthError, isSourceError, isSourceErrorOfKind, RateLimitError, SourceError, toSourceError } from "../errors.js";
import { createLogger } from "../logger.js";
import { runSources, type RegistryEntry } from "../registry.js";
import type { SourceDefinition } from "../source.js";
import { makeSeparateCoreProject, type SeparateCoreProject } from "./fixtures/separate-core.js";

// The "done when": a plugin installed in a separate npm project, loaded by path, keeps
// AuthError/RateLimitError and is retried.
describe("a plugin with its own copy of @nq/core, loaded by path", () => {
  let project: SeparateCoreProject;
  let plugin: SourceDefinition<unknown>;
  let theirs: typeof import("../index.js");

  beforeAll(async () => {
    project = makeSeparateCoreProject();
    plugin = ((await import(pathToFileURL(project.pluginPath).href)) as { default: SourceDefinition<unknown> }).default;
    theirs = (await import(pathToFileURL(project.coreEntry).href)) as typeof import("../index.js");
  });
  afterAll(() => project?.cleanup());

  const entry = (mode: string): RegistryEntry => ({ name: "acme", definition: plugin, config: { mode } });
  const options = { request: { product: "NQ" }, log: createLogger(() => {}), policy: "fallback" as const, maxRetryDelayMs: 50 };

  it("really is a separate copy: its classes are not ours", () => {
    expect(theirs.AuthError).not.toBe(AuthError);
    expect(Object.getPrototypeOf(new theirs.AuthError("acme", "x"))).not.toBe(AuthError.prototype);
  });

  it("keeps AuthError: typed, not retried, not called a bug in the plugin", async () => {
    const result = await runSources([entry("auth")], { ...options, retries: 2 });
    expect(result.ok).toBe(false);
    expect(result.attempts[0]).toMatchObject({ outcome: "failed", tries: 1, reason: "acme-separate: the key was refused; check ACME_KEY" });
    expect(result.attempts[0]!.error).toMatchObject({ name: "AuthError", kind: "auth", code: "auth", retryable: false });
  });

  it("keeps RateLimitError and its Retry-After, and the registry retries it", async () => {
    const result = await runSources([entry("rate_limit_once")], { ...options, retries: 1 });
    expect(result.ok).toBe(true);
    expect(result.attempts[0]).toMatchObject({ outcome: "success", tries: 2 });
  });

  it("is recognised by every guard and by instanceof", () => {
    const auth = new theirs.AuthError("acme", "refused");
    const limited = new theirs.RateLimitError("acme", "429", { retryAfterMs: 1500 });
    expect(isSourceError(auth)).toBe(true);
    expect(toSourceError("acme", auth)).toBe(auth);
    expect(auth).toBeInstanceOf(AuthError);
    expect(auth).toBeInstanceOf(SourceError);
    expect(auth).not.toBeInstanceOf(RateLimitError);
    expect(isSourceErrorOfKind(limited, "rate_limit")).toBe(true);
    expect(isSourceErrorOfKind(limited, "network")).toBe(true);
    expect(limited).toBeInstanceOf(RateLimitError);
    // and the other way round: their guards know our errors
    expect(theirs.isSourceError(new AuthError("acme", "refused"))).toBe(true);
  });
});
