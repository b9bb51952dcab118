/**
 * What happens after a successful code exchange, by browser mode. In `session` mode (the
 * default) the tokens go into a new server-side session and the browser gets only the
 * session cookie and a redirect to the page it came from; a session cookie it already had
 * is ended first, so a session id set before the login is never promoted by it (session
 * fixation). In `token` mode the access token goes to the app in the URL fragment.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserSessions } from './browser-sessions.js';
import { GatewayError } from './http-errors.js';
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

function handOffToken(reply: FastifyReply, result: LoginResult, returnTo: string): FastifyReply {
  const fragment = new URLSearchParams({ access_token: result.accessToken, token_type: 'Bearer' });
  if (result.expiresIn !== undefined) fragment.set('expires_in', String(result.expiresIn));
  return reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .redirect(`${returnTo}#${fragment.toString()}`, 302);
}

/** Finishes a login whose code was redeemed: a session (default) or the token hand-off. */
export function completeLogin(
  browser: BrowserSessions | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  result: LoginResult,
  returnTo: string,
): Promise<FastifyReply> | FastifyReply {
  if (browser !== undefined) return startSession(browser, request, reply, result, returnTo);
  return handOffToken(reply, result, returnTo);
}
