import { AbortedError } from "@nq/core";

/** A pause that ends early, with AbortedError, when the caller gives up. */
export function abortableSleep(ms: number, signal: AbortSignal, source: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AbortedError(source, "the load was aborted", { cause: signal.reason }));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(source, "the load was aborted", { cause: signal.reason }));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
