/**
 * The text side of Databento's Live Subscription Gateway protocol (reference §5.2–5.5), as pure functions:
 * the CRAM response, the auth line, the auth reply, subscription lines in chunks of at most 500 symbols,
 * and a line splitter that keeps whatever follows the last newline (the start of the next phase).
 * Written from the reference, not from any client's code.
 */
import { createHash } from "node:crypto";

/** Symbols per subscription line: both official clients split longer lists at 500 (§5.5). */
export const MAX_SYMBOLS_PER_LINE = 500;
export const DEFAULT_LIVE_PORT = 13000;

/** `<dataset lower-cased, "." → "-">.lsg.databento.com` (§5.1). */
export function gatewayHost(dataset: string): string {
  return `${dataset.toLowerCase().replaceAll(".", "-")}.lsg.databento.com`;
}

/** hex(sha256("<challenge>|<api_key>")) + "-" + the key's last 5 characters (§5.3). */
export function cramResponse(challenge: string, apiKey: string): string {
  const digest = createHash("sha256").update(`${challenge}|${apiKey}`, "utf8").digest("hex");
  return `${digest}-${apiKey.slice(-5)}`;
}

export type LiveCompression = "none" | "zstd";

export interface AuthFields {
  dataset: string;
  compression: LiveCompression;
  tsOut: boolean;
  heartbeatIntervalS?: number;
  slowReaderBehavior?: "warn" | "skip";
  client: string;
}

/** The one auth line (§5.3); the response is the only place the key's last 5 characters appear. */
export function authLine(response: string, fields: AuthFields): string {
  const parts = [
    `auth=${response}`,
    `dataset=${fields.dataset}`,
    "encoding=dbn",
    `compression=${fields.compression}`,
    `ts_out=${fields.tsOut ? 1 : 0}`,
    `client=${fields.client}`,
  ];
  if (fields.heartbeatIntervalS !== undefined) parts.push(`heartbeat_interval_s=${fields.heartbeatIntervalS}`);
  if (fields.slowReaderBehavior !== undefined) parts.push(`slow_reader_behavior=${fields.slowReaderBehavior}`);
  return `${parts.join("|")}\n`;
}

/** `key=value|key=value` → a map (field order does not matter). */
export function parseFields(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of line.split("|")) {
    const at = part.indexOf("=");
    if (at > 0) fields.set(part.slice(0, at), part.slice(at + 1));
  }
  return fields;
}

export type AuthReply = { ok: true; sessionId: string } | { ok: false; error: string };

/** `success=1|session_id=…` or `success=0|error=…`; a missing or other `success` is a failure (§5.4). */
export function parseAuthReply(line: string): AuthReply {
  const fields = parseFields(line);
  if (fields.get("success") === "1") return { ok: true, sessionId: fields.get("session_id") ?? "" };
  return { ok: false, error: fields.get("error") ?? (fields.has("success") ? "authentication failed" : `unexpected reply "${line.slice(0, 80)}"`) };
}

export type SType = "parent" | "raw_symbol" | "instrument_id" | "continuous" | "smart";

export interface Subscription {
  schema: string;
  symbols: string[];
  stypeIn?: SType;
  /** Intraday replay start, ns since the epoch (0n: everything available). */
  start?: bigint;
  snapshot?: boolean;
  id?: number;
}

/** The subscription's lines: at most 500 symbols each, `is_last=0` on every chunk but the last (§5.5). */
export function subscriptionLines(sub: Subscription, chunk = MAX_SYMBOLS_PER_LINE): string[] {
  const symbols = sub.symbols.length > 0 ? sub.symbols : ["ALL_SYMBOLS"];
  const lines: string[] = [];
  for (let i = 0; i < symbols.length; i += chunk) {
    const last = i + chunk >= symbols.length;
    let line = `schema=${sub.schema}|stype_in=${sub.stypeIn ?? "raw_symbol"}|symbols=${symbols.slice(i, i + chunk).join(",")}|snapshot=${sub.snapshot ? 1 : 0}|is_last=${last ? 1 : 0}`;
    if (sub.start !== undefined) line += `|start=${sub.start}`;
    if (sub.id !== undefined) line += `|id=${sub.id}`;
    lines.push(`${line}\n`);
  }
  return lines;
}

/**
 * Accumulates bytes and hands out complete `\n`-terminated lines; `rest()` returns the bytes after the
 * last complete line (they may already be the DBN stream). Lines are bounded: a peer that never sends a
 * newline cannot make it buffer without limit.
 */
export class LineReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxLine = 64 * 1024) {}

  push(chunk: Uint8Array): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
  }

  /** The next complete line without its newline, or null when none is complete yet. */
  next(): string | null {
    const at = this.buffer.indexOf(0x0a);
    if (at < 0) {
      if (this.buffer.length > this.maxLine) throw new Error(`a protocol line exceeds ${this.maxLine} bytes`);
      return null;
    }
    const line = this.buffer.subarray(0, at).toString("utf8");
    this.buffer = this.buffer.subarray(at + 1);
    return line.endsWith("\r") ? line.slice(0, -1) : line;
  }

  /** The bytes received after the last line taken, and forget them. */
  rest(): Uint8Array {
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }
}

/** A Date, ms number or ns bigint → ns bigint. */
export function toNs(value: Date | number | bigint): bigint {
  if (typeof value === "bigint") return value;
  if (value instanceof Date) return BigInt(value.getTime()) * 1_000_000n;
  return BigInt(Math.round(value)) * 1_000_000n;
}
