import { describe, expect, it } from "vitest";
import { z } from "zod";
import { assertSourceDefinition } from "../source.js";

const message = (value: unknown, module?: Record<string, unknown>): string => {
  try {
    assertSourceDefinition(value, 'the plugin "commander" (data_sources.x.plugin)', module);
  } catch (error) {
    return (error as Error).message;
  }
  return "accepted";
};

describe("assertSourceDefinition", () => {
  it("says what a module that is not a source exported, never 'undefined undefined'", () => {
    function program() {}
    class Command {}
    expect(message(program, { default: program })).toBe(
      'the plugin "commander" (data_sources.x.plugin) is not a source plugin: the module\'s default export is a function named program; expected its default export to be an object made with defineSource',
    );
    expect(message(undefined, { Command, program: {}, Option: class Option {} })).toMatch(
      /the module has no default export; it exports "Command", "program", "Option"; expected its default export/,
    );
    expect(message(Command, { default: Command })).toMatch(/default export is a class named Command/);
    expect(message(undefined)).toMatch(/got nothing \(undefined\)/);
    expect(message(undefined)).not.toMatch(/undefined undefined/);
    expect(message(42)).toMatch(/got the number 42/);
  });

  it("checks shape, not class: a schema from any copy of zod, a plain object from any copy of core", () => {
    const capabilities = Object.fromEntries(
      ["chain", "quotes", "openInterest", "settlement", "volume", "greeks", "impliedVolatility", "streaming", "needsCredentials", "costsMoney", "delayed"].map((k) => [k, false]),
    );
    const foreignSchema = { safeParse: () => ({ success: true, data: {} }) };
    expect(message({ name: "acme", capabilities, configSchema: foreignSchema, create: () => ({}) })).toBe("accepted");
    expect(message({ name: "acme", capabilities, configSchema: z.object({}), create: () => ({}) })).toBe("accepted");
    expect(message({ name: "Acme!", capabilities: {}, configSchema: {}, create: 1 })).toMatch(/"name" must be[\s\S]*"capabilities.chain"[\s\S]*"configSchema"[\s\S]*"create"/);
  });
});
