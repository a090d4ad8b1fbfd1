import { SourceError, type SourceErrorKind } from "@nq/core";

/**
 * The browser this source drives is gone: closed by `close()`, killed with the process, crashed or killed
 * from outside. Not retryable — the page a retry would use no longer exists — so the crawl ends at once
 * and the runner moves on, instead of retrying "network errors" against a dead page.
 */
export class BrowserClosedError extends SourceError {
  readonly kind: SourceErrorKind = "unavailable";
  readonly retryable = false;
  constructor(source: string, why: string, options: { cause?: unknown } = {}) {
    super(source, `browser closed: ${why}; the crawl stopped (nothing was retried)`, options);
  }
}

/** Puppeteer's ways of saying the page or browser went away under a call. */
export function isTargetClosed(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  const message = String((error as { message?: unknown } | null)?.message ?? error);
  return (
    name === "TargetCloseError" ||
    /Target closed|Session closed|Connection closed|browser has disconnected|Protocol error.*(closed|detached)|Navigating frame was detached|Execution context was destroyed.*closed|Page has been closed|net::ERR_ABORTED.*closed/i.test(message)
  );
}
