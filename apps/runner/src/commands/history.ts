/**
 * `nq-runner history …`: the chains every run appended to the profile's history store (see ../run-history.ts),
 * read back — `list` the snapshots, `show` one, `export` a range of contract rows as CSV or JSON (streamed,
 * written atomically), and two canned questions: `query oi` (open interest by strike over time for one
 * expiration) and `query settlement` (one contract's settlement series). `--profile`/`--config` choose whose
 * store; by default only that profile's snapshots are shown (`--all-profiles` for every profile in the store).
 * Read-only: the store is opened for reading where the plugin allows it.
 *
 * Exit codes: 0 shown or written; 2 a flag, an id or the profile is wrong (the message names it); 3 the export
 * file could not be written; 5 the history store cannot be opened; 6 `show`: no snapshot with that id.
 */
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { isSourceErrorOfKind, parseOptionSymbol, type ChainHistory, type HistoryContractFilter, type HistoryContractRow, type HistorySnapshot, type HistorySnapshotFilter, type OpenInterestPoint, type OptionContract, type SettlementPoint } from "@nq/core";
import { CSV_COLUMNS, csvCell, csvRow, OutputError, writeAtomically } from "../outputs.js";
import { EXIT, resolveProfilePath } from "../run.js";
import { openProfileHistory } from "../run-history.js";

// ─── Reading (store in, plain data out) ──────────────────────────────────────────────────────────────────

/** `history show --json`: the snapshot as a chain-like document (metadata, quality metrics, contracts). */
export interface SnapshotDocument {
  snapshot: { id: string; profile: string; recordedAt: string; contractCount: number };
  metadata: {
    source: string;
    product: string;
    asOf: string;
    fetchedAt: string;
    cache: HistorySnapshot["cache"];
    delayed: boolean;
    sample: boolean;
    complete: boolean;
    proxy: boolean;
    spendUsd: number;
    incompleteReasons: string[];
    warnings: string[];
  };
  qualityMetrics: HistorySnapshot["qualityMetrics"];
  contracts: OptionContract[];
}

export function snapshotDocument(snapshot: HistorySnapshot, contracts: OptionContract[]): SnapshotDocument {
  const s = snapshot;
  return {
    snapshot: { id: s.id, profile: s.profile, recordedAt: s.recordedAt, contractCount: s.contractCount },
    metadata: {
      source: s.source,
      product: s.product,
      asOf: s.asOf,
      fetchedAt: s.fetchedAt,
      cache: s.cache,
      delayed: s.delayed,
      sample: s.sample,
      complete: s.complete,
      proxy: s.proxy,
      spendUsd: s.spendUsd,
      incompleteReasons: s.incompleteReasons,
      warnings: s.warnings,
    },
    qualityMetrics: s.qualityMetrics,
    contracts,
  };
}

export type ExportFormat = "csv" | "json";

/** The export's CSV header: the snapshot's id and as-of, then the chain CSV's own columns. */
export const EXPORT_CSV_COLUMNS = ["snapshot_id", "snapshot_as_of", ...CSV_COLUMNS] as const;

/** The export file's text, row by row, never the whole of it at once. */
export async function* exportChunks(rows: AsyncIterable<HistoryContractRow>, format: ExportFormat, counter: { rows: number }): AsyncGenerator<string> {
  if (format === "csv") {
    yield `${EXPORT_CSV_COLUMNS.join(",")}\n`;
    for await (const row of rows) {
      counter.rows += 1;
      yield `${csvCell(row.snapshotId)},${csvCell(row.asOf)},${csvRow(row.contract)}\n`;
    }
    return;
  }
  yield "[";
  for await (const row of rows) {
    yield `${counter.rows === 0 ? "\n" : ",\n"}${JSON.stringify({ snapshotId: row.snapshotId, asOf: row.asOf, source: row.source, contract: row.contract })}`;
    counter.rows += 1;
  }
  yield counter.rows === 0 ? "]\n" : "\n]\n";
}

export interface ExportResult {
  file: string;
  format: ExportFormat;
  rows: number;
  location: string;
}

/** Streams the selected contract rows into `file` (a temporary name, then renamed); an OutputError when it cannot. */
export async function exportHistory(history: ChainHistory, filter: HistoryContractFilter, format: ExportFormat, file: string, signal?: AbortSignal): Promise<ExportResult> {
  const counter = { rows: 0 };
  await writeAtomically(file, () => exportChunks(history.contracts(filter), format, counter), signal);
  return { file, format, rows: counter.rows, location: history.location };
}

// ─── Rendering (plain data in, text out) ─────────────────────────────────────────────────────────────────

const DASH = "—";

export function renderSnapshotList(snapshots: HistorySnapshot[], options: { location: string; withProfile: boolean }): string {
  if (snapshots.length === 0) return `no snapshots in ${options.location} match\n`;
  const header = ["id", ...(options.withProfile ? ["profile"] : []), "as of", "source", "cache", "contracts", "complete", "flags", "spend"];
  const rows = snapshots.map((s) => [
    s.id,
    ...(options.withProfile ? [s.profile] : []),
    s.asOf,
    s.source,
    s.cache,
    String(s.contractCount),
    s.complete ? "yes" : "NO",
    flagsOf(s),
    usd(s.spendUsd),
  ]);
  return `${table(header, rows, new Set([0, options.withProfile ? 5 : 4, options.withProfile ? 8 : 7]))}\n${snapshots.length} snapshot${snapshots.length === 1 ? "" : "s"} · ${options.location}\n`;
}

export function renderSnapshot(document: SnapshotDocument, location: string): string {
  const m = document.metadata;
  const q = document.qualityMetrics;
  const out: string[] = [`snapshot ${document.snapshot.id} · profile "${document.snapshot.profile}" · ${location}`, ""];
  const facts: [string, string][] = [
    ["source", m.source],
    ["product", m.product],
    ["as of", m.asOf],
    ["fetched at", m.fetchedAt],
    ["recorded at", document.snapshot.recordedAt],
    ["cache", m.cache === "hit" ? "hit (served from the cache)" : m.cache],
    ["complete", m.complete ? "yes" : `NO: ${m.incompleteReasons.join("; ") || "the source said its data is partial"}`],
    ["flags", flagsOf(m) === DASH ? "none" : flagsOf(m)],
    ["spend", usd(m.spendUsd)],
    ["contracts", String(document.snapshot.contractCount)],
    ["missing bid/ask", pct(q.missingBidAskShare)],
    ["zero open interest", pct(q.zeroOpenInterestShare)],
    ...m.warnings.map((w): [string, string] => ["note", w]),
  ];
  const width = Math.max(...facts.map(([k]) => k.length));
  for (const [key, value] of facts) out.push(`  ${key.padEnd(width)}  ${value}`);
  out.push("");
  const header = ["symbol", "expiration", "strike", "right", "bid", "ask", "last", "volume", "open int", "settlement", "iv", "delta"];
  const rows = document.contracts.map((c) => [c.symbol, c.expiration, String(c.strike), c.right, num(c.bid), num(c.ask), num(c.last), num(c.volume), num(c.openInterest), num(c.settlement), c.impliedVolatility === null ? DASH : pct(c.impliedVolatility), c.delta === null ? DASH : c.delta.toFixed(3)]);
  out.push(rows.length ? table(header, rows, new Set([2, 4, 5, 6, 7, 8, 9, 10, 11])) : "  (no contracts)");
  return `${out.join("\n")}\n`;
}

export function renderOpenInterest(points: OpenInterestPoint[], query: { expiration: string; location: string }): string {
  if (points.length === 0) return `no open interest for expiration ${query.expiration} in ${query.location} (in the range asked)\n`;
  const header = ["as of", "strike", "right", "open interest", "oi date", "snapshot"];
  const rows = points.map((p) => [p.asOf, String(p.strike), p.right, num(p.openInterest), p.openInterestDate ?? DASH, p.snapshotId]);
  return `open interest by strike · expiration ${query.expiration} · ${query.location}\n${table(header, rows, new Set([1, 3, 5]))}\n`;
}

export function renderSettlements(points: SettlementPoint[], query: { symbol: string; location: string }): string {
  if (points.length === 0) return `no snapshot in ${query.location} holds ${query.symbol} (in the range asked)\n`;
  const header = ["as of", "settlement", "settlement date", "snapshot"];
  const rows = points.map((p) => [p.asOf, num(p.settlement), p.settlementDate ?? DASH, p.snapshotId]);
  return `settlement series · ${query.symbol} · ${query.location}\n${table(header, rows, new Set([1, 3]))}\n`;
}

function flagsOf(s: { delayed: boolean; sample: boolean; proxy: boolean }): string {
  const flags = [s.delayed ? "DELAYED" : "", s.sample ? "SAMPLE" : "", s.proxy ? "PROXY" : ""].filter(Boolean);
  return flags.length ? flags.join(",") : DASH;
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ")}`.trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const num = (v: number | null) => (v === null ? DASH : String(v));
const usd = (v: number) => `$${v.toFixed(v !== 0 && Math.abs(v) < 0.01 ? 4 : 2)}`;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

// ─── Flags ───────────────────────────────────────────────────────────────────────────────────────────────

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

function realDate(value: string): boolean {
  return DATE.test(value) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
}

/**
 * `--from`/`--to`: a UTC day (YYYY-MM-DD) or an instant with its offset. A day given to `--to` includes that
 * whole day (the bound is the next midnight, UTC); an instant given to `--to` is excluded.
 */
export function parseBound(value: string, which: "from" | "to"): string {
  const text = value.trim();
  if (realDate(text)) {
    const start = new Date(`${text}T00:00:00Z`);
    return which === "from" ? start.toISOString() : new Date(start.getTime() + 86_400_000).toISOString();
  }
  if (ISO_TIME.test(text) && !Number.isNaN(Date.parse(text)) && realDate(text.slice(0, 10))) return new Date(text).toISOString();
  throw new InvalidArgumentError(`expected a UTC date YYYY-MM-DD (e.g. 2026-11-20) or an ISO 8601 time with its offset (e.g. 2026-11-20T21:00:00Z), got "${value}"`);
}

function parseExpiration(value: string): string {
  if (!realDate(value.trim())) throw new InvalidArgumentError(`expected an expiration date YYYY-MM-DD (e.g. 2026-12-18), got "${value}"`);
  return value.trim();
}

function parseRight(value: string): "call" | "put" {
  const v = value.trim().toLowerCase();
  if (v === "call" || v === "put") return v;
  throw new InvalidArgumentError(`expected call or put, got "${value}"`);
}

function parseLimit(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1 || Number(value) > 1_000_000) throw new InvalidArgumentError(`expected a whole number from 1 to 1000000, got "${value}"`);
  return Number(value);
}

function parseFormat(value: string): ExportFormat {
  const v = value.trim().toLowerCase();
  if (v === "csv" || v === "json") return v;
  throw new InvalidArgumentError(`expected csv or json, got "${value}"`);
}

/** A snapshot id as `history list` prints it: a whole number. */
export function parseSnapshotId(value: string): string {
  const v = value.trim();
  if (!/^\d{1,18}$/.test(v) || /^0+$/.test(v)) throw new InvalidArgumentError(`expected a snapshot id, a whole number such as 42 (see \`history list\`), got "${value}"`);
  return v.replace(/^0+/, "");
}

function hasControlCharacter(text: string): boolean {
  return [...text].some((char) => char.charCodeAt(0) < 0x20);
}

function nonEmpty(flag: string) {
  return (value: string): string => {
    const v = value.trim();
    if (!v || hasControlCharacter(v)) throw new InvalidArgumentError(`${flag}: expected a non-empty name, got "${value}"`);
    return v;
  };
}

/**
 * `--symbol`: CME ("NQH6 C21500") and Barchart ("MQ4H6|21500C") spellings of NQ options become the canonical
 * CME symbol history stores; any other symbol (a proxy's) is matched as written.
 */
export function canonicalSymbol(value: string, now: Date = new Date()): string {
  const text = value.trim().replace(/\s+/g, " ");
  if (!text || hasControlCharacter(text)) throw new InvalidArgumentError(`expected an option symbol such as "NQH6 C21500", got "${value}"`);
  try {
    return parseOptionSymbol(text, now).symbol;
  } catch {
    return text;
  }
}

// ─── The command ─────────────────────────────────────────────────────────────────────────────────────────

interface StoreFlags {
  profile?: string;
  config?: string;
  json?: boolean;
  allProfiles?: boolean;
  source?: string;
  from?: string;
  to?: string;
}

export interface HistoryCommandSettings {
  profilesDir: string;
  cwd: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

const EXIT_CODES_HELP =
  "\nExit codes: 0 shown or written · 2 wrong flag, id or profile · 3 the export file could not be written · 5 the history store cannot be opened · 6 no snapshot with that id";

export function historyCommand(settings: HistoryCommandSettings): Command {
  const history = new Command("history")
    // addCommand does not inherit the program's exitOverride; subcommands made with .command() inherit this one.
    .exitOverride()
    .showHelpAfterError()
    .description("the chains every run appended to the profile's history store: list, show, export, query")
    .addHelpText(
      "after",
      `\nWhere: the profile's "history" section (default: @nq/cache-sqlite's history.db beside the cache).\nDates are UTC: --from 2026-11-02 --to 2026-11-30 covers both whole days; an ISO time is exact (--to excludes it).${EXIT_CODES_HELP}`,
    );

  storeOptions(history.command("list").description("the snapshots, newest first: id, as-of, source, cache, contracts, complete, delayed/sample/proxy, spend"), "snapshots")
    .option("--limit <n>", "at most this many (default 50)", parseLimit)
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (flags: StoreFlags & { limit?: number }, command: Command) => {
      const all = merged(flags, command);
      await withHistory(settings, all, command, async (store, profile) => {
        const filter = snapshotFilter(all, profile, command);
        filter.limit = flags.limit ?? 50;
        const snapshots = await store.listSnapshots(filter);
        process.stdout.write(all.json ? `${JSON.stringify({ location: store.location, snapshots }, null, 2)}\n` : renderSnapshotList(snapshots, { location: store.location, withProfile: all.allProfiles === true }));
      });
    });

  profileOptions(history.command("show").description("one snapshot: its provenance, quality and contracts (--json: a chain-like document)"))
    .argument("<id>", "the snapshot's id (from `history list`)", parseSnapshotId)
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (id: string, flags: StoreFlags, command: Command) => {
      const all = merged(flags, command);
      await withHistory(settings, all, command, async (store) => {
        const found = await store.getSnapshot(id);
        if (!found) {
          process.stderr.write(`error: no snapshot ${id} in ${store.location}; \`history list\` shows the ids there are\n`);
          process.exitCode = EXIT.snapshotNotFound;
          return;
        }
        const document = snapshotDocument(found.snapshot, found.contracts);
        process.stdout.write(all.json ? `${JSON.stringify(document, null, 2)}\n` : renderSnapshot(document, store.location));
      });
    });

  storeOptions(history.command("export").description("contract rows of the snapshots in a range, as CSV (header: column names) or JSON, streamed to a file written atomically"), "rows")
    .requiredOption("--out <file>", "the file to write (replaced atomically: a temporary name, then renamed)")
    .option("--format <csv|json>", "csv or json (default: from --out's extension, .csv or .json)", parseFormat)
    .option("--symbol <symbol>", 'only this contract ("NQH6 C21500")', (v) => canonicalSymbol(v))
    .option("--expiration <date>", "only this expiration (YYYY-MM-DD)", parseExpiration)
    .addHelpText("after", `\nCSV columns: ${EXPORT_CSV_COLUMNS.join(", ")}.\nJSON: an array of { snapshotId, asOf, source, contract }.${EXIT_CODES_HELP}`)
    .action(async (flags: StoreFlags & { out: string; format?: ExportFormat; symbol?: string; expiration?: string }, command: Command) => {
      const all = merged(flags, command);
      if (all.from === undefined || all.to === undefined) command.error(`error: export needs both --from and --to (a month of snapshots is a lot of rows; say which)`, { exitCode: EXIT.usage });
      const format = flags.format ?? (/\.json$/i.test(flags.out) ? "json" : /\.csv$/i.test(flags.out) ? "csv" : null);
      if (!format) command.error(`error: option '--format <csv|json>': give csv or json (or an --out file ending in .csv or .json), got --out "${flags.out}"`, { exitCode: EXIT.usage });
      const file = resolve(settings.cwd, flags.out);
      await withHistory(settings, all, command, async (store, profile) => {
        const filter: HistoryContractFilter = snapshotFilter(all, profile, command);
        if (flags.symbol) filter.symbol = flags.symbol;
        if (flags.expiration) filter.expiration = flags.expiration;
        let result: ExportResult;
        try {
          result = await exportHistory(store, filter, format!, file, settings.signal);
        } catch (error) {
          if (!(error instanceof OutputError)) throw error;
          process.stderr.write(`error: ${error.message}\n`);
          process.exitCode = EXIT.output;
          return;
        }
        process.stdout.write(all.json ? `${JSON.stringify(result, null, 2)}\n` : `wrote ${result.rows} contract row${result.rows === 1 ? "" : "s"} (${format}) to ${result.file}\n`);
      });
    });

  const query = history.command("query").description("canned questions: `oi` (open interest by strike over time for one expiration), `settlement` (one contract's settlement series)");
  storeOptions(query.command("oi").description("open interest by strike over time for one expiration (one point per snapshot, strike and right)"), "points")
    .requiredOption("--expiration <date>", "the expiration (YYYY-MM-DD)", parseExpiration)
    .option("--right <call|put>", "only calls or only puts", parseRight)
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (flags: StoreFlags & { expiration: string; right?: "call" | "put" }, command: Command) => {
      const all = merged(flags, command);
      await withHistory(settings, all, command, async (store, profile) => {
        const points = await store.openInterestByStrike({ ...snapshotFilter(all, profile, command), expiration: flags.expiration, ...(flags.right ? { right: flags.right } : {}) });
        process.stdout.write(all.json ? `${JSON.stringify({ location: store.location, expiration: flags.expiration, right: flags.right ?? null, points }, null, 2)}\n` : renderOpenInterest(points, { expiration: flags.expiration, location: store.location }));
      });
    });
  storeOptions(query.command("settlement").description("one contract's settlement over time (one point per snapshot that holds it)"), "points")
    .requiredOption("--symbol <symbol>", 'the contract ("NQH6 C21500")', (v) => canonicalSymbol(v))
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (flags: StoreFlags & { symbol: string }, command: Command) => {
      const all = merged(flags, command);
      await withHistory(settings, all, command, async (store, profile) => {
        const points = await store.settlementSeries({ ...snapshotFilter(all, profile, command), symbol: flags.symbol });
        process.stdout.write(all.json ? `${JSON.stringify({ location: store.location, symbol: flags.symbol, points }, null, 2)}\n` : renderSettlements(points, { symbol: flags.symbol, location: store.location }));
      });
    });
  return history;
}

function profileOptions(command: Command): Command {
  return command
    .option("-p, --profile <name>", "whose history store (default: default)")
    .option("-c, --config <file>", "a profile file of your own")
    .option("--json", "machine-readable output (stdout carries only the JSON)");
}

function storeOptions(command: Command, what: string): Command {
  return profileOptions(command)
    .option("--source <name>", `only ${what} from this source`, nonEmpty("--source"))
    .option("--from <date|time>", `only ${what} as of this UTC day or instant, or later`, (v) => parseBound(v, "from"))
    .option("--to <date|time>", `only ${what} as of before this instant (a YYYY-MM-DD day is included whole)`, (v) => parseBound(v, "to"))
    .option("--all-profiles", `${what} of every profile in the store, not only this profile's`);
}

/** This command's flags over its parents' (`--profile X history list` puts --profile on the program). */
function merged<T extends StoreFlags>(flags: T, command: Command): T {
  const out = { ...flags } as Record<string, unknown>;
  for (let parent = command.parent; parent; parent = parent.parent) {
    const opts = parent.opts<Record<string, unknown>>();
    for (const key of ["profile", "config", "json"]) if (out[key] === undefined && opts[key] !== undefined) out[key] = opts[key];
  }
  return out as T;
}

function snapshotFilter(flags: StoreFlags, profile: string, command: Command): HistorySnapshotFilter {
  if (flags.from !== undefined && flags.to !== undefined && flags.from >= flags.to) {
    command.error(`error: --from (${flags.from}) must be before --to (${flags.to})`, { exitCode: EXIT.usage });
  }
  return {
    ...(flags.allProfiles ? {} : { profile }),
    ...(flags.source ? { source: flags.source } : {}),
    ...(flags.from ? { from: flags.from } : {}),
    ...(flags.to ? { to: flags.to } : {}),
  };
}

/** Opens the store (exit 5 when it cannot be), runs `use`, closes it. */
async function withHistory(settings: HistoryCommandSettings, flags: StoreFlags, command: Command, use: (store: ChainHistory, profile: string) => Promise<void>): Promise<void> {
  const profilePath = resolve(settings.cwd, flags.config ?? resolveProfilePath(flags.profile, settings.profilesDir, settings.cwd));
  let opened: Awaited<ReturnType<typeof openProfileHistory>>;
  try {
    opened = await openProfileHistory(profilePath, { cwd: settings.cwd, ...(settings.env ? { env: settings.env } : {}), readOnly: true });
  } catch (error) {
    // A wrong profile or plugin is a usage error, thrown on to the CLI (exit 2); a store that will not open is 5.
    if (isSourceErrorOfKind(error, "config")) throw error;
    process.stderr.write(`error: the history store of ${profilePath} cannot be opened: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.cacheUnavailable;
    return;
  }
  if (!opened) command.error(`error: ${profilePath} has history turned off ("history": { "enabled": false }), so there is nothing to read`, { exitCode: EXIT.usage });
  if ("missing" in opened) {
    // Nothing recorded yet is an answer (no snapshots), not a failure; the read-only open created nothing.
    process.stderr.write(`note: there is no history at ${opened.missing.location} yet; every run appends its chain there\n`);
    return use(emptyHistory(opened.missing.location), opened.profile);
  }
  try {
    await use(opened.history, opened.profile);
  } finally {
    await opened.history.close().catch(() => {});
  }
}

/** The history of a store nobody has written to yet: no snapshots, no rows, no points. */
function emptyHistory(location: string): ChainHistory {
  const readOnly = () => Promise.reject(new Error(`the history command only reads (${location})`));
  return {
    location,
    append: readOnly,
    applyRetention: readOnly,
    listSnapshots: async () => [],
    getSnapshot: async () => null,
    contracts: async function* () {},
    openInterestByStrike: async () => [],
    settlementSeries: async () => [],
    close: async () => {},
  };
}
