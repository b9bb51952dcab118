/**
 * `GET /oauth/v2/authorize` and the login form behind it (`POST /ui/login/login`). The
 * client and its redirect URI are checked first and failures there answer 400 without a
 * redirect, so the IdP never sends anyone (or a code) to an unregistered URI. Later errors
 * go back to the client as `error` and `state` on the redirect URI (RFC 6749 §4.1.2.1).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { secretMatches } from '../client-auth.js';
import type { IdpContext } from '../context.js';
import { HttpError, readForm, redirect, sendHtml, sendJson } from '../http.js';
import { errorPage, loginPage } from '../login.js';
import type { WebApp } from '../types.js';

export const LOGIN_PATH = '/ui/login/login';

function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  error: string,
  description: string,
): void {
  if ((req.headers.accept ?? '').includes('text/html'))
    sendHtml(res, 400, errorPage(error, description));
  else sendJson(res, 400, { error, error_description: description });
}

/** `redirectUri` with extra query parameters. */
export function withParams(
  redirectUri: string,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

function registeredClient(
  ctx: IdpContext,
  params: URLSearchParams,
): { app: WebApp; redirectUri: string } | string {
  const client = ctx.store.clients.get(params.get('client_id') ?? '');
  if (client?.kind !== 'web') return 'unknown client_id';
  const redirectUri = params.get('redirect_uri') ?? '';
  if (!client.app.redirectUris.includes(redirectUri))
    return 'redirect_uri is not registered for this client';
  return { app: client.app, redirectUri };
}

function requestError(params: URLSearchParams): [string, string] | undefined {
  if (params.get('response_type') !== 'code')
    return ['unsupported_response_type', 'response_type must be code'];
  if ((params.get('code_challenge') ?? '') === '')
    return ['invalid_request', 'code_challenge is required'];
  if (params.get('code_challenge_method') !== 'S256')
    return ['invalid_request', 'code_challenge_method must be S256'];
  if (params.get('prompt') === 'none') return ['login_required', 'the user must log in'];
  return undefined;
}

export async function handleAuthorize(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IdpContext,
  url: URL,
): Promise<void> {
  const params = url.searchParams;
  const client = registeredClient(ctx, params);
  if (typeof client === 'string') return refuse(req, res, 'invalid_request', client);
  const state = params.get('state') ?? undefined;
  const problem = requestError(params);
  if (problem !== undefined) {
    return redirect(
      res,
      withParams(client.redirectUri, { error: problem[0], error_description: problem[1], state }),
    );
  }
  const id = ctx.logins.begin({
    clientId: client.app.clientId,
    redirectUri: client.redirectUri,
    state,
    nonce: params.get('nonce') ?? undefined,
    scope: params.get('scope') ?? 'openid',
    codeChallenge: params.get('code_challenge') ?? '',
  });
  sendHtml(res, 200, loginPage(LOGIN_PATH, id, client.app.clientId));
  return Promise.resolve();
}

export async function handleLogin(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: IdpContext,
): Promise<void> {
  const form = await readForm(req);
  const id = form.get('request') ?? '';
  const request = ctx.logins.pending(id);
  if (request === undefined) {
    sendHtml(
      res,
      400,
      errorPage('invalid_request', 'This sign-in has expired. Start again from the application.'),
    );
    return;
  }
  const userName = form.get('username') ?? '';
  const user = ctx.store.userByLogin(userName);
  if (user === undefined || !secretMatches(user.password, form.get('password') ?? '')) {
    sendHtml(
      res,
      401,
      loginPage(LOGIN_PATH, id, request.clientId, 'Invalid login name or password.', userName),
    );
    return;
  }
  const done = ctx.logins.complete(id, user.id, `V1_${randomUUID()}`);
  if (done === undefined) throw new HttpError(400, 'invalid_request', 'sign-in expired');
  redirect(
    res,
    withParams(done.request.redirectUri, { code: done.code, state: done.request.state }),
  );
}
