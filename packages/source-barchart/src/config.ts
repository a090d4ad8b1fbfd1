/**
 * The `config` object of a Barchart entry in a profile. Defaults are chosen for unattended, polite use:
 * one request every 3–5 s, two retries for transient failures, never for a block or a rate limit.
 */
import { z } from "zod";

export const SERIES_TYPE_NAMES = ["monthly", "eom", "weekly", "monday", "tuesday", "wednesday", "thursday", "friday"] as const;
export type SeriesTypeName = (typeof SERIES_TYPE_NAMES)[number];

const seriesCode = z.string().regex(/^[A-Z0-9]{3,10}$/, "expected a Barchart series code such as \"MC7M25\" or \"NQZ25\"");

const expirySelector = z.union([z.enum(SERIES_TYPE_NAMES), seriesCode], {
  error: `expected a series type (${SERIES_TYPE_NAMES.join(", ")}) or a Barchart series code such as "MC7M25"`,
});

export const barchartConfigSchema = z
  .object({
    /** "live" drives a browser; "saved" replays raw responses from `saved_dir` with no browser and no network. */
    mode: z.enum(["live", "saved"]).default("live"),
    base_url: z
      .string()
      .url("expected an absolute http(s) URL such as https://www.barchart.com")
      .regex(/^https?:\/\//i, "expected an http(s) URL")
      .default("https://www.barchart.com"),
    /** The futures contract whose options page starts the crawl; default `<product>*0`, the front month. */
    future: z.string().regex(/^[A-Z0-9*]{2,10}$/, 'expected a futures symbol such as "NQZ25" or "NQ*0"').optional(),
    headless: z.boolean().default(true),
    executable_path: z.string().min(1, "expected the path of a Chromium/Chrome binary").optional(),
    min_interval_ms: z.number().int().min(0).max(600_000).default(3_000),
    jitter_ms: z.number().int().min(0).max(600_000).default(2_000),
    max_retries: z.number().int().min(0).max(5).default(0),
    retry_backoff_ms: z.number().int().min(0).max(600_000).default(2_000),
    timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
    /** How long a bot-challenge page may take to clear itself (it often does in a real browser) before it counts as a block. */
    challenge_wait_ms: z.number().int().min(0).max(120_000).default(10_000),
    /** "listed": every series the page lists (nearest first, bounded by request.maxExpirations); or a list of types/codes. */
    expiries: z.union([z.literal("listed"), z.array(expirySelector).min(1, "expected at least one series type or code")]).default("listed"),
    save_dir: z.string().min(1).optional(),
    saved_dir: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.mode === "saved" && !config.saved_dir) {
      ctx.addIssue({ code: "custom", path: ["saved_dir"], message: 'mode "saved" needs saved_dir: the folder a previous run saved with save_dir' });
    }
  });

export type BarchartConfig = z.infer<typeof barchartConfigSchema>;
export type BarchartConfigInput = z.input<typeof barchartConfigSchema>;
