// An @nq source in under 60 lines: read an options chain from a CSV file with a header row.
// Columns are matched by name (the runner's own CSV output works as input); extra columns are ignored.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { AbortedError, defineSource, InvalidRequestError, NoDataError, z, type SourceRow } from "@nq/core";

const COLUMNS: Record<string, keyof SourceRow> = {
  symbol: "symbol", underlying: "underlying", root: "root", expiration: "expiration", strike: "strike",
  right: "right", bid: "bid", ask: "ask", last: "last", volume: "volume", open_interest: "openInterest",
  settlement: "settlement", implied_volatility: "impliedVolatility", delta: "delta", multiplier: "multiplier",
};

export default defineSource({
  name: "acme-csv",
  description: "Options chain from a CSV file (one contract per line, header row, no quoted commas).",
  capabilities: {
    chain: true, quotes: true, openInterest: true, settlement: true, volume: true, greeks: true,
    impliedVolatility: true, streaming: false, needsCredentials: false, costsMoney: false, delayed: true,
  },
  configSchema: z.object({ file: z.string().min(1), as_of: z.iso.datetime({ offset: true }) }).strict(),
  create: (config, context) => ({
    async load(_request, { signal }) {
      if (signal.aborted) throw new AbortedError("acme-csv", "the load was aborted");
      const path = resolve(context.baseDir ?? process.cwd(), config.file);
      const text = await readFile(path, { encoding: "utf8", signal }).catch((cause: unknown) => {
        if (signal.aborted) throw new AbortedError("acme-csv", "the load was aborted", { cause });
        throw new InvalidRequestError("acme-csv", `cannot read ${path}; check "file" in the profile`, { cause });
      });
      const [header, ...lines] = text.split(/\r?\n/).filter((line) => line.trim() !== "");
      if (!header || lines.length === 0) throw new NoDataError("acme-csv", `${path} has no contract lines`);
      const fields = header.split(",").map((name) => COLUMNS[name.trim().toLowerCase()]);
      if (!fields.includes("strike")) throw new InvalidRequestError("acme-csv", `${path}: no "strike" column in the header`);
      const rows = lines.map((line) => {
        const row: SourceRow = {};
        line.split(",").forEach((cell, i) => {
          const field = fields[i];
          if (field) row[field] = cell === "" ? null : cell; // an empty cell is unknown, not zero
        });
        return row;
      });
      return { rows, asOf: config.as_of, delayed: true };
    },
  }),
});
