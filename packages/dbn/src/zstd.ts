import * as zlib from "node:zlib";
import { createRequire } from "node:module";
import type { Transform } from "node:stream";
import { Decompress } from "fzstd";
import { DbnDecodeError } from "./errors.js";
import { MAX_ZSTD_BLOCK, MAX_ZSTD_WINDOW, ZstdFrameWalker, type ZstdFrameHeader, type ZstdUnit } from "./zstd-frames.js";
import { Xxh64 } from "./xxh64.js";

/** True when `bytes` starts with a zstd frame or a zstd skippable frame. */
export function isZstd(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  if (bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd) return true;
  return (bytes[0]! & 0xf0) === 0x50 && bytes[1] === 0x2a && bytes[2] === 0x4d && bytes[3] === 0x18;
}

/**
 * A synchronous streaming decompression context with `ZSTD_decompressStream` semantics: it
 * consumes some of `src`, writes at most `dst.length` bytes, and returns
 * `[hint, produced, consumed]`, `hint` being 0 once a frame is fully decoded and flushed.
 */
export interface ZstdStreamContext {
  decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
}

/**
 * A zstd decompressor. For streaming, `createContext` (a native libzstd context, used
 * synchronously) is preferred, then `createTransform` (a Node Transform stream, e.g.
 * node:zlib's), else fzstd's synchronous push decoder; `decompressSync` for whole buffers.
 */
export interface ZstdBackend {
  readonly name: string;
  decompressSync(bytes: Uint8Array): Uint8Array;
  /** A streaming decompressor; undefined means "use the built-in fzstd push decoder". */
  createTransform?: () => Transform;
  /** A native streaming context refusing windows above `maxWindow` bytes itself too. */
  createContext?: (maxWindow: number) => ZstdStreamContext;
}

/** Names accepted by the `zstdBackend` option and the NQ_DBN_ZSTD_BACKEND variable. */
export type ZstdBackendName = "fzstd" | "zstd-napi" | "native" | "node:zlib";

/** Options shared by every zstd entry point. */
export interface ZstdOptions {
  /** A backend or its name; default DEFAULT_ZSTD_BACKEND. */
  backend?: ZstdBackend | ZstdBackendName;
  /** Largest frame window accepted, in bytes (default MAX_ZSTD_WINDOW, 128 MiB). */
  maxWindow?: number;
  /**
   * Let the native backend write each piece into memory a previous piece used: a piece is then
   * valid only until the next one is requested. For consumers that copy what they keep (the DBN
   * parser does): fresh output memory costs about half again the decompression's own time.
   */
  reuseOutput?: boolean;
}

/**
 * Pure-JS fzstd: installs everywhere. One-shot decompression also goes through the bounded
 * streaming decoder, which checks frame headers, rejects a stream cut inside a frame (checksum
 * included) and verifies each frame's content checksum (fzstd does none of these itself; libzstd
 * verifies checksums on its own).
 */
export const FZSTD_BACKEND: ZstdBackend = {
  name: "fzstd",
  decompressSync: (bytes) => concatAll(new ZstdStreamDecoder({ backend: FZSTD_BACKEND }).push(bytes, true)),
};

/** The slice of zstd-napi's low-level binding used here (`zstd-napi/binding`, libzstd's DCtx). */
interface ZstdNapiBinding {
  DCtx: new () => ZstdStreamContext & { setParameter(parameter: number, value: number): void };
  DParameter: { windowLogMax: number };
}

// createRequire rather than an import: the addon is an optional dependency, loaded synchronously
// (no top-level await, so the package stays require()-able) and allowed to be absent.
const requireOptional = createRequire(import.meta.url);

/**
 * libzstd through the `zstd-napi` addon (an optional dependency, compiled from source on
 * install): the reference C decoder, several times faster than fzstd. Undefined when the addon
 * is not installed or does not load; `load` is replaceable for tests.
 */
export function nativeZstdBackend(load: () => unknown = () => requireOptional("zstd-napi/binding")): ZstdBackend | undefined {
  let binding: ZstdNapiBinding;
  try {
    binding = load() as ZstdNapiBinding;
    if (typeof binding?.DCtx !== "function" || typeof binding.DParameter?.windowLogMax !== "number") return undefined;
  } catch {
    return undefined;
  }
  const backend: ZstdBackend = {
    name: "zstd-napi",
    createContext: (maxWindow) => {
      const context = new binding.DCtx();
      // libzstd's own bound, behind the frame walker's exact one: window logs 10..31.
      const log = Math.min(31, Math.max(10, Math.ceil(Math.log2(maxWindow))));
      context.setParameter(binding.DParameter.windowLogMax, log);
      return context;
    },
    // Through the bounded streaming decoder: zstd-napi's own one-shot `decompress` allocates the
    // declared content size up front, which a hostile header sets to petabytes.
    decompressSync: (bytes) => concatAll(new ZstdStreamDecoder({ backend }).push(bytes, true)),
  };
  return backend;
}

type ZlibWithZstd = typeof zlib & {
  createZstdDecompress?: () => Transform;
  zstdDecompressSync?: (bytes: Uint8Array) => Buffer;
};

/**
 * node:zlib's zstd (Node ≥ 22.15 / 23.8, marked experimental there), several times faster than
 * fzstd; undefined on Node versions without it.
 */
export function nodeZlibZstdBackend(): ZstdBackend | undefined {
  const z = zlib as ZlibWithZstd;
  if (typeof z.createZstdDecompress !== "function" || typeof z.zstdDecompressSync !== "function") return undefined;
  const create = z.createZstdDecompress;
  const once = z.zstdDecompressSync;
  return { name: "node:zlib", decompressSync: (bytes) => new Uint8Array(once(bytes)), createTransform: () => create() };
}

const NATIVE_ZSTD_BACKEND = nativeZstdBackend();

/**
 * The backend called `name`. Throws a plain Error naming the cause when that backend is not
 * available here (zstd-napi not installed or not built; node:zlib without zstd before Node 22.15).
 */
export function zstdBackendNamed(name: string): ZstdBackend {
  switch (name) {
    case "fzstd":
      return FZSTD_BACKEND;
    case "native":
    case "zstd-napi":
      if (NATIVE_ZSTD_BACKEND) return NATIVE_ZSTD_BACKEND;
      throw new Error(`zstd backend "${name}" is not available: the optional dependency zstd-napi is not installed or its addon did not build or load`);
    case "node:zlib": {
      const backend = nodeZlibZstdBackend();
      if (backend) return backend;
      throw new Error(`zstd backend "node:zlib" is not available: Node ${process.versions.node} has no zlib zstd (Node >= 22.15 does)`);
    }
    default:
      throw new Error(`unknown zstd backend "${name}": expected fzstd, zstd-napi (alias native) or node:zlib`);
  }
}

/**
 * The backend chosen automatically: NQ_DBN_ZSTD_BACKEND when set (fzstd, zstd-napi/native,
 * node:zlib; an unavailable one is an error at first use, not a silent fallback), else zstd-napi
 * when its addon loads, else node:zlib when the runtime has zstd, else fzstd.
 */
function chooseDefaultBackend(): ZstdBackend {
  const forced = process.env.NQ_DBN_ZSTD_BACKEND?.trim();
  if (forced) {
    try {
      return zstdBackendNamed(forced);
    } catch (error) {
      const fail = (): never => {
        throw new Error(`NQ_DBN_ZSTD_BACKEND=${forced}: ${(error as Error).message}`);
      };
      return { name: `${forced} (unavailable)`, decompressSync: fail, createContext: fail };
    }
  }
  return NATIVE_ZSTD_BACKEND ?? nodeZlibZstdBackend() ?? FZSTD_BACKEND;
}

/** The backend used when none is given (see chooseDefaultBackend: zstd-napi, node:zlib, fzstd). */
export const DEFAULT_ZSTD_BACKEND: ZstdBackend = chooseDefaultBackend();

/** Resolves a backend given by object, by name or not at all. */
export function resolveZstdBackend(backend: ZstdBackend | string | undefined): ZstdBackend {
  if (backend === undefined) return DEFAULT_ZSTD_BACKEND;
  return typeof backend === "string" ? zstdBackendNamed(backend) : backend;
}

function zstdOptions(options: ZstdBackend | ZstdOptions | undefined): { backend: ZstdBackend; maxWindow: number; reuseOutput: boolean } {
  const given: ZstdOptions = options === undefined ? {} : "decompressSync" in options ? { backend: options } : options;
  const maxWindow = given.maxWindow ?? MAX_ZSTD_WINDOW;
  if (!Number.isSafeInteger(maxWindow) || maxWindow < 1024) {
    throw new RangeError(`maxZstdWindow must be an integer number of bytes >= 1024, got ${String(given.maxWindow)}`);
  }
  return { backend: resolveZstdBackend(given.backend), maxWindow, reuseOutput: given.reuseOutput ?? false };
}

/** A decompressor failure inside a frame the walker found whole: always corrupt data. */
function zstdFailure(error: unknown, offset: number): DbnDecodeError {
  if (error instanceof DbnDecodeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DbnDecodeError("corrupt_zstd", offset, `corrupt zstd data: ${message}`, { cause: error });
}

/**
 * Window work fzstd may do before it is held to FZSTD_WORK_PER_BYTE: 1 GiB. A block costs its
 * frame's window size (fzstd moves the whole window per block, ~6 GB/s); a frame costs 8× its
 * window size, because fzstd allocates a fresh window per frame and touching new pages costs
 * about 10× a move (1.3 s for 128 MiB on the 2-core VM). So the allowance is at most ~1.5 s, and
 * in practice the fzstd backend refuses a 128 MiB window at its first block; 64 MiB passes.
 */
export const FZSTD_WORK_ALLOWANCE = 1024 * 1024 * 1024;
/**
 * Window work allowed per output byte past the allowance: a full 128 KiB block may move a 32 MiB
 * window, so real files up to zstd level 20 pass.
 */
export const FZSTD_WORK_PER_BYTE = 256;
/** The cost of a frame, in units of its window size (see FZSTD_WORK_ALLOWANCE). */
export const FZSTD_FRAME_FACTOR = 8;

/** Tracks one frame's output against its declared content size. */
class FrameCount {
  produced = 0;
  /** fzstd path: the frame's content hash when it carries a checksum (libzstd checks its own). */
  hash: Xxh64 | null = null;
  constructor(readonly header: ZstdFrameHeader) {}
  add(length: number, offset: number): void {
    this.produced += length;
    const declared = this.header.contentSize;
    if (declared !== undefined && this.produced > declared) {
      throw new DbnDecodeError("corrupt_zstd", offset, `corrupt zstd data: frame decodes to more than its declared content size ${declared}`);
    }
  }
  end(offset: number): void {
    const declared = this.header.contentSize;
    if (declared !== undefined && this.produced !== declared) {
      throw new DbnDecodeError("corrupt_zstd", offset, `corrupt zstd data: frame decodes to ${this.produced} bytes, its header declares ${declared}`);
    }
  }
}

/** Output per native call: one block, so the context runs at most 128 KiB ahead. */
const NATIVE_OUTPUT = MAX_ZSTD_BLOCK;
/** Pieces are cut from buffers of this size: fewer allocations than one buffer per piece. */
const NATIVE_BUFFER = 1024 * 1024;
/** With `reuseOutput`, one buffer this size serves every piece (it stays in the CPU's cache). */
const NATIVE_REUSED_BUFFER = 256 * 1024;
/** Checked input is handed to a native context once it may regenerate this much… */
const NATIVE_BATCH_OUTPUT = 1024 * 1024;
/** …or once this much of it is waiting. */
const NATIVE_BATCH_INPUT = 64 * 1024;

/**
 * Bounded streaming zstd decoder, synchronous: libzstd when the backend has a native context
 * (zstd-napi), fzstd otherwise (a Transform-only backend such as node:zlib gets fzstd here).
 * Frame headers are checked here first (window ≤ maxWindow, no dictionary, content size
 * honoured), and the output is yielded in pieces of at most one block (128 KiB), each before
 * more is decompressed. fzstd is given one whole block at a time (it holds back frames shorter
 * than 18 bytes: at most 4 blocks); libzstd is given the checked input in runs of up to a frame
 * end and writes into a 128 KiB buffer, so the output waiting for its consumer never exceeds a
 * few blocks, whatever the compression ratio.
 */
export class ZstdStreamDecoder {
  private readonly walker: ZstdFrameWalker;
  /** The native context, or null for fzstd. */
  private readonly native: ZstdStreamContext | null;
  private inner: Decompress | null = null;
  private count: FrameCount | null = null;
  private out: Uint8Array[] = [];
  /** Bytes fzstd has allocated or moved for its windows so far (see FZSTD_WORK_ALLOWANCE). */
  private work = 0;
  private produced = 0;
  /** Native path: absolute input offset up to which the context has been fed. */
  private nativeFed = 0;
  /** Native path: absolute end of the last unit the walker accepted. */
  private checkedEnd = 0;
  /**
   * Native path: where the current frame starts. libzstd does not say where in its input it
   * found a problem, so its errors carry this offset (the same in every chunking).
   */
  private frameOffset = 0;
  /** Native path: the start of a header cut by a chunk's end, held back until checked (≤ 18 bytes). */
  private held: Uint8Array = new Uint8Array(0);
  /** Native path: the most the checked, unfed blocks may regenerate. */
  private pendingOutput = 0;
  /** Native path: the output buffer being filled, and how full it is. */
  private dst: Uint8Array = new Uint8Array(0);
  private fill = 0;

  /** The backend actually decompressing (fzstd unless the given one has a native context). */
  readonly backendName: string;
  private readonly reuseOutput: boolean;

  constructor(options: ZstdOptions = {}) {
    const { backend, maxWindow, reuseOutput } = zstdOptions(options);
    this.reuseOutput = reuseOutput;
    this.walker = new ZstdFrameWalker(maxWindow);
    this.native = backend.createContext ? backend.createContext(maxWindow) : null;
    this.backendName = this.native ? backend.name : FZSTD_BACKEND.name;
  }

  /** Total compressed bytes fed so far. */
  get consumed(): number {
    return this.walker.fed;
  }

  /**
   * Feeds `chunk` and lazily yields the decompressed pieces it completes; `final` marks the end
   * of input (throws `truncated` if it ends inside a frame). Consume the generator fully before
   * calling `decode` again.
   */
  *decode(chunk: Uint8Array, final = false): Generator<Uint8Array> {
    if (this.native) {
      yield* this.decodeNative(this.native, chunk);
      if (final) this.walker.end();
      return;
    }
    this.walker.feed(chunk);
    for (let unit = this.walker.next(); unit; unit = this.walker.next()) {
      try {
        this.unit(unit);
      } catch (error) {
        throw zstdFailure(error, unit.offset);
      }
      const out = this.out;
      this.out = [];
      for (const piece of out) {
        this.count!.add(piece.length, unit.offset);
        this.count!.hash?.update(piece);
        this.produced += piece.length;
        yield piece;
      }
      if (unit.kind === "end") {
        this.count!.end(unit.offset);
        verifyChecksum(this.count!, unit);
        this.count = null;
      }
    }
    if (final) this.walker.end();
  }

  /**
   * The native path. libzstd only ever sees input the walker has accepted — except the start of
   * a block cut by the chunk's end, which it merely buffers (the walker has checked the block's
   * header). A frame header or magic cut by the chunk's end is held back until the walker has
   * checked it whole, so libzstd never judges a header first (it would refuse a partial bad
   * magic in its own words). Input is fed in runs ending at frame ends, so each frame's output is
   * counted against its own declared content size; on a structural error everything before the
   * bad unit is decoded and yielded first.
   */
  private *decodeNative(context: ZstdStreamContext, chunk: Uint8Array): Generator<Uint8Array> {
    const chunkStart = this.walker.fed;
    this.walker.feed(chunk);
    for (;;) {
      let unit: ZstdUnit | undefined;
      try {
        unit = this.walker.next();
      } catch (error) {
        if (this.checkedEnd > this.nativeFed) yield* this.feedTo(context, chunk, chunkStart, this.checkedEnd);
        throw error;
      }
      if (!unit) break;
      this.checkedEnd = unit.offset + unit.bytes.length;
      if (unit.kind === "frame") {
        this.count = new FrameCount(unit.header);
        this.frameOffset = unit.offset;
      }
      if (unit.kind === "block") this.pendingOutput += unit.maxOutput;
      // Checked input is fed in batches, not only at frame ends, so a consumer that stops early
      // (a parser error) stops the walk too, however large the chunk.
      if (unit.kind === "block" && (this.pendingOutput >= NATIVE_BATCH_OUTPUT || this.checkedEnd - this.nativeFed >= NATIVE_BATCH_INPUT)) {
        yield* this.feedTo(context, chunk, chunkStart, this.checkedEnd);
      }
      if (unit.kind === "end") {
        // A frame ending inside bytes fed with the previous chunk was fed whole already.
        if (this.checkedEnd > this.nativeFed) yield* this.feedTo(context, chunk, chunkStart, this.checkedEnd);
        this.count!.end(unit.offset);
        this.count = null;
      }
    }
    const end = chunkStart + chunk.length;
    const hold = this.walker.incompleteHeaderAt;
    if (hold === undefined) {
      yield* this.feedTo(context, chunk, chunkStart, end);
    } else {
      if (hold > this.nativeFed) yield* this.feedTo(context, chunk, chunkStart, hold);
      const tail = chunk.subarray(Math.max(hold, chunkStart) - chunkStart);
      this.held = this.held.length === 0 ? tail.slice() : concatAll([this.held, tail]);
    }
  }

  /**
   * Feeds the context up to absolute offset `to`: first the bytes held back from earlier chunks
   * (`held`, which ends where `chunk` starts), then `chunk`'s.
   */
  private *feedTo(context: ZstdStreamContext, chunk: Uint8Array, chunkStart: number, to: number): Generator<Uint8Array> {
    if (this.held.length > 0) {
      const held = this.held;
      this.held = new Uint8Array(0);
      yield* this.feedNative(context, held);
    }
    if (to > this.nativeFed) yield* this.feedNative(context, chunk.subarray(this.nativeFed - chunkStart, to - chunkStart));
  }

  /** Feeds `input` (the bytes at `nativeFed`) to the context, yielding its output as it comes. */
  private *feedNative(context: ZstdStreamContext, input: Uint8Array): Generator<Uint8Array> {
    this.nativeFed += input.length;
    this.pendingOutput = 0;
    let rest = input;
    for (;;) {
      if (this.fill === this.dst.length) {
        // Reused only on request: the consumer has asked for this piece, so it is done with all
        // the earlier ones.
        if (!this.reuseOutput || this.dst.length === 0) this.dst = new Uint8Array(this.reuseOutput ? NATIVE_REUSED_BUFFER : NATIVE_BUFFER);
        this.fill = 0;
      }
      const room = Math.min(NATIVE_OUTPUT, this.dst.length - this.fill);
      let produced: number;
      let consumed: number;
      try {
        [, produced, consumed] = context.decompressStream(this.dst.subarray(this.fill, this.fill + room), rest);
      } catch (error) {
        throw zstdFailure(error, this.frameOffset);
      }
      rest = rest.subarray(consumed);
      if (produced > 0) {
        // The piece handed out is never written again: later output goes after it, or to a new buffer.
        const piece = this.dst.subarray(this.fill, this.fill + produced);
        this.fill += produced;
        this.count?.add(produced, this.frameOffset);
        this.produced += produced;
        yield piece;
      }
      // Done when the input is used up and the context had room to spare (nothing left to flush).
      if (rest.length === 0 && produced < room) return;
      if (produced === 0 && consumed === 0 && rest.length > 0) {
        throw new DbnDecodeError("corrupt_zstd", this.frameOffset, "corrupt zstd data: the native decompressor made no progress");
      }
    }
  }

  /**
   * fzstd allocates each frame's whole window and moves the whole window once per block, so a
   * stream of tiny blocks (or tiny frames) in a large window costs time out of all proportion to
   * its size. That work is metered: past a fixed allowance it may not exceed 256× the output.
   */
  private charge(unit: ZstdUnit, cost: number, window: number): void {
    this.work += cost;
    if (this.work > FZSTD_WORK_ALLOWANCE + FZSTD_WORK_PER_BYTE * this.produced) {
      throw new DbnDecodeError(
        "corrupt_zstd",
        unit.offset,
        `zstd stream too costly for fzstd: ${this.work} bytes of window work for ${this.produced} bytes of output ` +
          `(tiny blocks or frames in a ${window}-byte window); the zstd-napi and node:zlib backends have no such limit`,
      );
    }
  }

  /** Feeds `chunk` and returns everything it completes (all at once: push small chunks). */
  push(chunk: Uint8Array, final = false): Uint8Array[] {
    return [...this.decode(chunk, final)];
  }

  private unit(unit: ZstdUnit): void {
    if (unit.kind === "frame") {
      this.charge(unit, FZSTD_FRAME_FACTOR * unit.header.windowSize, unit.header.windowSize);
      this.count = new FrameCount(unit.header);
      if (unit.header.checksum) this.count.hash = new Xxh64();
      this.inner = new Decompress((piece) => {
        if (piece.length > 0) this.out.push(piece);
      });
      // fzstd may keep a header reference until it has 18 bytes: give it a copy it owns.
      this.inner.push(unit.bytes.slice());
      return;
    }
    if (unit.kind === "block") this.charge(unit, this.count!.header.windowSize, this.count!.header.windowSize);
    this.inner!.push(unit.bytes.slice());
    if (unit.kind === "end") {
      // Throws if fzstd did not reach the end of the frame with its last block.
      this.inner!.push(new Uint8Array(0), true);
      this.inner = null;
    }
  }
}

/**
 * A frame's content checksum is the low 32 bits of the XXH64 of its content, little-endian, in the
 * 4 bytes after its last block (the `end` unit's bytes). A mismatch means the decoded bytes are not
 * the ones compressed: a damaged file whose damage still decodes.
 */
function verifyChecksum(count: FrameCount, end: ZstdUnit): void {
  if (!count.hash || end.bytes.length !== 4) return;
  const stored = (end.bytes[0]! | (end.bytes[1]! << 8) | (end.bytes[2]! << 16) | (end.bytes[3]! << 24)) >>> 0;
  const actual = count.hash.digest()[1];
  if (actual !== stored) {
    throw new DbnDecodeError(
      "corrupt_zstd",
      end.offset,
      `corrupt zstd data: the frame's content checksum is 0x${stored.toString(16).padStart(8, "0")} but its ${count.produced} decoded bytes hash to 0x${actual.toString(16).padStart(8, "0")} (the file is damaged)`,
    );
  }
}

/** A Transform backend (node:zlib) fed whole blocks; one transform serves the whole stream. */
class TransformFeed {
  private readonly transform: Transform;
  private out: Uint8Array[] = [];
  private error: Error | undefined;

  constructor(backend: ZstdBackend) {
    this.transform = backend.createTransform!();
    this.transform.on("data", (piece: Uint8Array) => {
      if (piece.length > 0) this.out.push(piece);
    });
    this.transform.on("error", (error: Error) => {
      this.error ??= error;
    });
  }

  /** Writes `bytes` and waits until the transform has processed them; returns their output. */
  async write(bytes: Uint8Array): Promise<Uint8Array[]> {
    if (bytes.length > 0 && !this.error) {
      await new Promise<void>((resolve) => {
        const onError = (): void => resolve();
        this.transform.once("error", onError);
        this.transform.write(bytes, (error) => {
          if (error) this.error ??= error;
          this.transform.off("error", onError);
          resolve();
        });
      });
      // Output pushed from inside the write may be delivered on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.take();
  }

  destroy(): void {
    this.transform.destroy();
  }

  private take(): Uint8Array[] {
    if (this.error) throw this.error;
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** Units are written to a Transform backend in batches whose output bound stays under this. */
const TRANSFORM_BATCH_OUTPUT = 128 * 1024;

/**
 * Decompresses an async sequence of zstd chunks with `backend`, as a stream. Both kinds of
 * backend get whole blocks (a Transform gets as many as may regenerate 128 KiB at most), and
 * their output is yielded before more is decompressed, so memory is bounded by the block size,
 * not by the compression ratio.
 */
export async function* zstdDecompressStream(source: AsyncIterable<Uint8Array>, options?: ZstdBackend | ZstdOptions): AsyncGenerator<Uint8Array> {
  const { backend, maxWindow, reuseOutput } = zstdOptions(options);
  if (backend.createContext || !backend.createTransform) {
    const decoder = new ZstdStreamDecoder({ backend, maxWindow, reuseOutput });
    for await (const chunk of source) yield* decoder.decode(chunk);
    yield* decoder.decode(new Uint8Array(0), true);
    return;
  }
  // Input errors (a missing file, a reset socket) surface as themselves: only the walker's and
  // the backend's failures become DbnDecodeErrors.
  const walker = new ZstdFrameWalker(maxWindow);
  const feed = new TransformFeed(backend);
  let count: FrameCount | null = null;
  let batch: ZstdUnit[] = [];
  let batchOutput = 0;
  async function* flush(): AsyncGenerator<Uint8Array> {
    if (batch.length === 0) return;
    const units = batch;
    batch = [];
    batchOutput = 0;
    const bytes = units.length === 1 ? units[0]!.bytes : concatAll(units.map((u) => u.bytes));
    let out: Uint8Array[];
    try {
      out = await feed.write(bytes);
    } catch (error) {
      throw zstdFailure(error, units[0]!.offset);
    }
    // Output is attributed to the frame of the batch's last unit: a batch spans at most one
    // frame end, which is flushed on its own below.
    for (const piece of out) {
      count?.add(piece.length, units[units.length - 1]!.offset);
      yield piece;
    }
  }
  try {
    for await (const chunk of source) {
      walker.feed(chunk);
      for (let unit = walker.next(); unit; unit = walker.next()) {
        const bound = unit.kind === "block" ? unit.maxOutput : 0;
        if (batchOutput + bound > TRANSFORM_BATCH_OUTPUT) yield* flush();
        if (unit.kind === "frame") count = new FrameCount(unit.header);
        // Units own their bytes only until the walker is fed again: copy when batching across chunks.
        batch.push(unit);
        batchOutput += bound;
        if (unit.kind === "end") {
          yield* flush();
          count!.end(unit.offset);
          count = null;
        }
      }
      if (batch.length > 0) batch = batch.map((u) => ({ ...u, bytes: u.bytes.slice() }));
    }
    yield* flush();
    walker.end();
  } finally {
    feed.destroy();
  }
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * One-shot decompression of a whole zstd buffer (all frames). The result is held in memory: for
 * large or untrusted input, stream it (`ZstdStreamDecoder.decode`, or the DBN decoders).
 */
export function zstdDecompress(bytes: Uint8Array, options?: ZstdBackend | ZstdOptions): Uint8Array {
  const { backend, maxWindow } = zstdOptions(options);
  if (backend === FZSTD_BACKEND || backend.createContext) return concatAll(new ZstdStreamDecoder({ backend, maxWindow }).push(bytes, true));
  // Other backends: the frame headers are checked here first (window, dictionary).
  const walker = new ZstdFrameWalker(maxWindow);
  walker.feed(bytes);
  while (walker.next());
  walker.end();
  try {
    return backend.decompressSync(bytes);
  } catch (error) {
    throw zstdFailure(error, 0);
  }
}
