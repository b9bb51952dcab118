/**
 * What happens after a successful code exchange, by browser mode. In `session` mode (the
 * default) the tokens go into a new server-side session and the browser gets only the
 * session cookie and a redirect to the page it came from; a session cookie it already had
 * is ended first, so a session id set before the login is never promoted by it (session
 * fixation). In `token` mode the app gets a one-time code in the URL fragment, which its
 * page redeems with the secret it made when it started the login (see `handoff.ts`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserSessions } from './browser-sessions.js';
import { issueHandoffCode, type HandoffStore } from './handoff.js';
import { badRequest, GatewayError } from './http-errors.js';
import type { LoginResult } from './login-flow.js';
import { sessionCookie } from './session-cookie.js';

async function startSession(
  browser: BrowserSessions,
  request: FastifyRequest,
  reply: FastifyReply,
  result: LoginResult,
  returnTo: string,
): Promise<FastifyReply> {
  try {
    const previous = browser.sessionId(request);
    if (previous !== undefined) await browser.sessions.end(previous);
    const profile = await browser.tokens.profile(result.accessToken).catch((error: unknown) => {
      request.log.info({ reason: (error as Error).name }, 'no profile for the session');
      return undefined;
    });
    const { id } = await browser.sessions.create(result, profile);
    reply.header('set-cookie', sessionCookie(id, browser.lifetimeMs, browser.cookie));
  } catch (error) {
    request.log.error({ reason: (error as Error).name }, 'a session could not be stored');
    throw new GatewayError(
      503,
      'temporarily_unavailable',
      'The session cannot be stored; try again later',
      { 'Retry-After': '5' },
    );
  }
  return reply.header('cache-control', 'no-store').redirect(returnTo, 302);
}

/** Token mode: a one-time code for the page, redeemable only with its secret. */
async function handOffCode(
  store: HandoffStore,
  request: FastifyRequest,
  reply: FastifyReply,
  login: FinishedLogin,
): Promise<FastifyReply> {
  const { result } = login;
  if (login.handoffHash === undefined) throw badRequest('The login carries no page secret');
  let code: string;
  try {
    code = await issueHandoffCode(store, login.handoffHash, {
      access_token: result.accessToken,
      token_type: 'Bearer',
      ...(result.expiresIn === undefined ? {} : { expires_in: result.expiresIn }),
    });
  } catch (error) {
    request.log.error({ reason: (error as Error).name }, 'a hand-off code could not be stored');
    throw new GatewayError(503, 'temporarily_unavailable', 'Try again later', {
      'Retry-After': '5',
    });
  }
  return reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .redirect(`${login.returnTo}#${new URLSearchParams({ code }).toString()}`, 302);
}

/** A login whose code was redeemed, with what its sealed state carried. */
export interface FinishedLogin {
  result: LoginResult;
  returnTo: string;
  handoffHash?: string | undefined;
}

/** Finishes a login whose code was redeemed: a session (default) or the token hand-off. */
export function completeLogin(
  browser: BrowserSessions | undefined,
  store: HandoffStore,
  request: FastifyRequest,
  reply: FastifyReply,
  login: FinishedLogin,
): Promise<FastifyReply> {
  if (browser !== undefined)
    return startSession(browser, request, reply, login.result, login.returnTo);
  return handOffCode(store, request, reply, login);
}
