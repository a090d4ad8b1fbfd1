/**
 * One access token per credential set (reference §2, §3, §8): log in once with
 * `POST /auth/accesstokenrequest`, honour the time penalty (`p-ticket` / `p-time`: wait, then send the
 * same body again with the ticket; `p-captcha`: stop, a third-party app cannot solve it), renew with
 * `GET /auth/renewaccesstoken` before `expirationTime`, and never log in per request — Tradovate allows
 * two concurrent sessions and a third closes the oldest. The token is shared by every source instance
 * in the process with the same server and credentials, so a registry retry, or a second run in the same
 * process, reuses the session.
 */
import { createHash } from "node:crypto";
import { AuthError, type Logger, RateLimitError, registerSecret } from "@nq/core";
import { sleep } from "./abort.js";
import { type Credentials, SOURCE_NAME } from "./config.js";
import { HttpStatusError, type RestClient } from "./rest.js";

export interface AccessTokenResponse {
  errorText?: string;
  accessToken?: string;
  mdAccessToken?: string;
  expirationTime?: string;
  userStatus?: string;
  userId?: number;
  "p-ticket"?: string;
  "p-time"?: number;
  "p-captcha"?: boolean;
}

export interface Session {
  accessToken: string;
  /** Not in the spec but returned in practice; a renewal may omit it (the previous one is kept). */
  mdAccessToken: string | null;
  /** Epoch ms of `expirationTime`. */
  expiresAt: number;
  userId: number | null;
}

export interface AuthOptions {
  renewBeforeMs: number;
  maxPenaltyWaitMs: number;
  log: Logger;
}

/** Penalties in a row before giving up on one login. */
const MAX_PENALTIES = 5;
/** A token without an expirationTime is assumed to live this long (the shortest lifetime quoted, 80 min). */
const DEFAULT_LIFETIME_MS = 80 * 60_000;

const sessions = new Map<string, Session>();
/** A ticket from a penalty longer than a load may wait, kept for the next login with these credentials. */
const tickets = new Map<string, string>();

export class AuthManager {
  /** Logins and renewals sent by this manager (tests and the debug log read them). */
  logins = 0;
  renewals = 0;
  private readonly key: string;
  private pending: Promise<Session> | null = null;

  constructor(
    private readonly rest: RestClient,
    private readonly credentials: Credentials,
    baseUrl: string,
    private readonly options: AuthOptions,
  ) {
    const c = credentials;
    this.key = createHash("sha256").update(JSON.stringify([baseUrl, c.name, c.password, c.appId, c.appVersion, c.cid, c.sec, c.deviceId])).digest("hex");
  }

  /** The current session, logged in or renewed as needed. */
  async session(signal: AbortSignal): Promise<Session> {
    const current = sessions.get(this.key);
    const left = current ? current.expiresAt - Date.now() : -1;
    if (current && left > this.options.renewBeforeMs) return current;
    // One login or renewal at a time, however many callers ask.
    this.pending ??= (current && left > 0 ? this.renew(current, signal) : this.login(signal)).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** After a 401: renew the session if the server still knows it, else log in again. */
  async refresh(rejected: Session, signal: AbortSignal): Promise<Session> {
    const current = sessions.get(this.key);
    if (current && current.accessToken !== rejected.accessToken) return current;
    this.pending ??= this.renew(rejected, signal).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** Forgets the session (the server refused it). */
  forget(): void {
    sessions.delete(this.key);
  }

  private async renew(current: Session, signal: AbortSignal): Promise<Session> {
    for (let penalties = 0; ; penalties += 1) {
      let answer: AccessTokenResponse | null;
      this.renewals += 1;
      try {
        answer = await this.rest.get<AccessTokenResponse>("/auth/renewaccesstoken", {}, current.accessToken, signal);
      } catch (error) {
        if (error instanceof HttpStatusError && error.status === 401) {
          this.options.log.info("the access token could not be renewed (expired or closed); logging in again");
          this.forget();
          return this.login(signal);
        }
        throw error;
      }
      if (answer?.["p-ticket"] && penalties < MAX_PENALTIES && !answer["p-captcha"]) {
        await this.waitPenalty(answer, "renewing the access token", signal);
        continue;
      }
      if (!answer?.accessToken || answer.errorText || answer["p-ticket"]) {
        this.options.log.info(`the access token was not renewed (${answer?.errorText || "no token in the answer"}); logging in again`);
        this.forget();
        return this.login(signal);
      }
      const session = this.store(answer, current.mdAccessToken);
      this.options.log.debug(`access token renewed; expires ${new Date(session.expiresAt).toISOString()}`);
      return session;
    }
  }

  private async login(signal: AbortSignal): Promise<Session> {
    const c = this.credentials;
    const body: Record<string, unknown> = { name: c.name, password: c.password, appId: c.appId, appVersion: c.appVersion, deviceId: c.deviceId };
    if (c.cid !== null) body.cid = c.cid;
    if (c.sec !== null) body.sec = c.sec;
    let ticket = tickets.get(this.key) ?? null;
    for (let penalties = 0; ; penalties += 1) {
      this.logins += 1;
      let answer: AccessTokenResponse | null;
      try {
        answer = await this.rest.post<AccessTokenResponse>("/auth/accesstokenrequest", ticket ? { ...body, "p-ticket": ticket } : body, null, signal);
      } catch (error) {
        if (error instanceof HttpStatusError) throw new AuthError(SOURCE_NAME, `the login was refused (HTTP ${error.status}); check the user name, password, cid and sec`, { details: { status: error.status } });
        throw error;
      }
      tickets.delete(this.key);
      if (answer?.["p-ticket"]) {
        if (answer["p-captcha"]) {
          throw new AuthError(
            SOURCE_NAME,
            "Tradovate answered the login with a captcha penalty (too many failed logins from this network); a third-party app cannot solve it. " +
              "Wait about an hour, check the credentials, log in once on Tradovate's web site, then try again",
            { details: { "p-captcha": true, "p-time": answer["p-time"] ?? null } },
          );
        }
        if (penalties >= MAX_PENALTIES) throw new AuthError(SOURCE_NAME, `the login drew ${penalties + 1} time penalties in a row; wait a few minutes, then try again`);
        ticket = answer["p-ticket"];
        await this.waitPenalty(answer, "logging in", signal, ticket);
        continue;
      }
      if (!answer) throw new AuthError(SOURCE_NAME, "the login answered with nothing; check rest_url and the credentials");
      if (answer.errorText) throw new AuthError(SOURCE_NAME, `the login was refused: ${answer.errorText}; check the user name, password, app id, cid and sec`);
      if (!answer.accessToken) throw new AuthError(SOURCE_NAME, "the login answered without an access token; check the credentials and the account's API access");
      if (answer.userStatus && answer.userStatus !== "Active") {
        throw new AuthError(SOURCE_NAME, `the Tradovate user's status is ${answer.userStatus}, not Active; resolve it on Tradovate's web site`);
      }
      const session = this.store(answer, null);
      this.options.log.info(`logged in to Tradovate; the token expires ${new Date(session.expiresAt).toISOString()}`);
      return session;
    }
  }

  private async waitPenalty(answer: AccessTokenResponse, doing: string, signal: AbortSignal, ticket?: string): Promise<void> {
    const waitMs = Math.max(0, Math.ceil(Number(answer["p-time"] ?? 0) * 1000));
    if (waitMs > this.options.maxPenaltyWaitMs) {
      if (ticket) tickets.set(this.key, ticket);
      throw new RateLimitError(SOURCE_NAME, `Tradovate set a time penalty of ${waitMs / 1000} s while ${doing} (more than max_penalty_wait_ms); try again after it`, {
        retryAfterMs: waitMs,
        details: { "p-time": answer["p-time"] ?? null },
      });
    }
    this.options.log.warn(`Tradovate set a time penalty while ${doing}: waiting ${waitMs / 1000} s, then sending it again with the ticket`);
    await sleep(waitMs, signal);
  }

  private store(answer: AccessTokenResponse, previousMd: string | null): Session {
    registerSecret(answer.accessToken);
    registerSecret(answer.mdAccessToken);
    const expires = answer.expirationTime ? Date.parse(answer.expirationTime) : Number.NaN;
    const session: Session = {
      accessToken: answer.accessToken!,
      mdAccessToken: answer.mdAccessToken || previousMd,
      expiresAt: Number.isNaN(expires) ? Date.now() + DEFAULT_LIFETIME_MS : expires,
      userId: typeof answer.userId === "number" ? answer.userId : null,
    };
    sessions.set(this.key, session);
    return session;
  }
}

/** Tests: forget every shared session and ticket. */
export function resetSessions(): void {
  sessions.clear();
  tickets.clear();
}
