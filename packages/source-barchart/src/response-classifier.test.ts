import { BlockedError, IncompleteDataError, InvalidRequestError, NoDataError, RateLimitError, ServiceUnavailableError } from "@nq/core";
import { describe, expect, it } from "vitest";
import { classifyPageAnswer, classifyQuotesAnswer, parseRetryAfter } from "./response-classifier.js";
import { renderBlockPage, renderChallengePage } from "./test-site/page-template.js";

const answer = (status: number, body: string, retryAfter: string | null = null) => ({ url: "https://www.barchart.com/x", status, contentType: null, retryAfter, body });

describe("classifying Barchart's answers", () => {
  it("403 and challenge pages are blocks; a normal page passes", () => {
    expect(classifyPageAnswer(answer(403, renderBlockPage()))).toBeInstanceOf(BlockedError);
    const challenge = classifyPageAnswer(answer(200, renderChallengePage()));
    expect(challenge).toBeInstanceOf(BlockedError);
    expect(challenge!.message).toContain("Just a moment");
    expect(classifyPageAnswer(answer(200, "<html><body><strong>3 Days</strong> to expiration on <strong>06/09/25</strong></body></html>"))).toBeNull();
  });

  it("429 is a rate limit carrying Retry-After; 5xx the service; 404 no data; other 4xx a bad request", () => {
    const limited = classifyPageAnswer(answer(429, "", "30"));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).retryAfterMs).toBe(30_000);
    expect(classifyPageAnswer(answer(503, ""))).toBeInstanceOf(ServiceUnavailableError);
    expect(classifyPageAnswer(answer(404, ""))).toBeInstanceOf(NoDataError);
    expect(classifyPageAnswer(answer(400, ""))).toBeInstanceOf(InvalidRequestError);
  });

  it("quotes: HTML instead of JSON is a block, 419 a refused session, broken JSON a cut-short answer", () => {
    const html = classifyQuotesAnswer(answer(200, renderChallengePage()));
    expect("error" in html && html.error).toBeInstanceOf(BlockedError);
    const session = classifyQuotesAnswer(answer(419, '{"message":"CSRF token mismatch."}'));
    expect("error" in session && session.error).toBeInstanceOf(BlockedError);
    const broken = classifyQuotesAnswer(answer(200, '{"count":2,"data":{"Call":[{"strike"'));
    expect("error" in broken && broken.error).toBeInstanceOf(IncompleteDataError);
    expect(classifyQuotesAnswer(answer(200, '{"data":[]}'))).toEqual({ json: { data: [] } });
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("120")).toBe(120_000);
    expect(parseRetryAfter("Sat, 21 Nov 2026 12:00:30 GMT", () => Date.parse("2026-11-21T12:00:00Z"))).toBe(30_000);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});
