/**
 * An M2M token client: a backend service gets an access token from ZITADEL with its
 * service-user key (JWT bearer grant, RFC 7523), its client id and secret (client
 * credentials) or a personal access token, and calls protected APIs with it. The token
 * is cached until shortly before it expires, concurrent callers share one token request,
 * outages are retried with backoff, and refusals surface as a typed `TokenRequestError`.
 * Configuration is checked when the client is built, so a wrong key file fails at start-up
 * rather than on the first request.
 */
import { setMaxListeners } from 'node:events';
import { createSingleFlight } from '../verification/cache.js';
import { createDiscovery } from '../idp/discovery.js';
import { UpstreamError } from '../errors.js';
import { asksForNonce, type DpopSigner } from './dpop-client.js';
import { idpFetch, type FetchLike, type HttpOptions } from '../idp/http.js';
import { traceIdpCall } from '../observability/idp-calls.js';
import { withRetry } from '../idp/retry.js';
import {
  resolveTokenClientOptions,
  type ClientConfig,
  type TokenClientOptions,
} from './token-client-options.js';
import {
  processTokenResponse,
  tokenRequest,
  tokenRequestError,
  TokenUnavailableError,
  type GrantCredential,
  type TokenResponse,
} from './token-grant.js';

export { fetchUserinfo, type UserinfoOptions } from './userinfo.js';
export { type TokenClientOptions } from './token-client-options.js';
export { type TokenClientDpopOptions } from './dpop-client.js';
export {
  TokenRequestError,
  TokenUnavailableError,
  type TokenResponse,
  type TokenRequestErrorDetails,
} from './token-grant.js';
export { type RetryOptions } from '../idp/retry.js';
export {
  OPENID_SCOPE,
  ROLES_SCOPE,
  ZITADEL_API_SCOPE,
  projectAudienceScope,
} from './token-scopes.js';

/** A client that keeps one M2M access token fresh. */
export interface TokenClient {
  /** The cached access token, fetched or refreshed when needed. */
  getToken(): Promise<string>;
  /** The cached token with its expiry, granted scope and type. */
  getTokenResponse(): Promise<TokenResponse>;
  /**
   * `fetch` with `Authorization: Bearer <token>` (or, for a DPoP-bound token,
   * `Authorization: DPoP <token>` and a fresh `DPoP` proof). When the API answers 401, the
   * token is dropped, a fresh one fetched and the request sent once more (after a
   * `use_dpop_nonce` refusal, with the same token and the API's nonce), if its body can be
   * sent twice (none, a string, URLSearchParams, Blob, FormData or bytes; not a stream).
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /** Drops the cached token; the next call fetches a new one. */
  invalidate(): void;
  /** Aborts token requests in flight and forgets the token; later calls reject. */
  close(): void;
}

/** The moving parts behind a {@link TokenClient}. */
interface TokenSource {
  getTokenResponse(): Promise<TokenResponse>;
  /** Drops `rejected` if it is still the cached token; true when a retry may help. */
  renew(rejected: string): boolean;
  invalidate(): void;
  close(): void;
}

/** Builds a token client; throws `ZitauthConfigError` at once when the options are wrong. */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  const { credential, config } = resolveTokenClientOptions(options);
  const source =
    credential.kind === 'pat'
      ? createStaticSource(credential.token)
      : createGrantSource(config, credential);
  return {
    getToken: async () => (await source.getTokenResponse()).accessToken,
    getTokenResponse: () => source.getTokenResponse(),
    fetch: authorizedFetch(source, config.fetch, config.dpop),
    invalidate: () => source.invalidate(),
    close: () => source.close(),
  };
}

/** A personal access token: nothing to fetch, nothing to refresh. */
function createStaticSource(token: string): TokenSource {
  // The PAT's expiry is set in the console and not known here: report the latest Date.
  const response: TokenResponse = {
    accessToken: token,
    expiresAt: new Date(8.64e15),
    scope: undefined,
    tokenType: 'Bearer',
  };
  let closed = false;
  return {
    getTokenResponse: async () => {
      if (closed) throw closedError();
      return { ...response };
    },
    renew: () => false,
    invalidate: () => undefined,
    close: () => {
      closed = true;
    },
  };
}

function closedError(): UpstreamError {
  return new TokenUnavailableError('ERR_ZITAUTH_UPSTREAM', {
    cause: new Error('the token client was closed'),
  });
}

/** An outage seen by the token client, told as what it is: no token could be got. */
function gettingToken(error: unknown): unknown {
  if (!(error instanceof UpstreamError) || error instanceof TokenUnavailableError) return error;
  const timedOut = error.code === 'ERR_ZITAUTH_UPSTREAM_TIMEOUT';
  return new TokenUnavailableError(timedOut ? error.code : 'ERR_ZITAUTH_UPSTREAM', {
    cause: error,
  });
}

/** A token kept with the times it must be refreshed by and stops being valid. */
interface CachedToken {
  response: TokenResponse;
  refreshAtMs: number;
}

function cacheEntry(response: TokenResponse, sentAtMs: number, marginMs: number): CachedToken {
  const lifetimeMs = response.expiresAt.getTime() - sentAtMs;
  return { response, refreshAtMs: sentAtMs + lifetimeMs - Math.min(marginMs, lifetimeMs / 2) };
}

/** Asks the token endpoint; only the exchange is retried, and only for outages. */
function createRequester(
  config: ClientConfig,
  credential: GrantCredential,
  signal: AbortSignal,
): () => Promise<CachedToken> {
  const http: HttpOptions = {
    ...(config.fetch === undefined ? {} : { fetch: config.fetch }),
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    signal,
  };
  // Lazy: nothing is fetched unless no tokenEndpoint was given.
  const discovery = createDiscovery(config.issuer, {
    ...http,
    now: config.now,
    endpointOrigins: config.endpointOrigins,
  });
  const exchange = async () => {
    const endpoint = config.tokenEndpoint ?? (await discovery.endpoint('token_endpoint'));
    // Signed per attempt: every assertion gets a fresh jti and iat.
    const sentAtMs = config.now();
    const request = await tokenRequest(
      credential,
      config.issuer,
      config.scope,
      sentAtMs,
      config.tokenParams,
    );
    return traceIdpCall('token', endpoint, async (note) => {
      const response = await sendGrant(endpoint, request.init, http, config.dpop);
      note.status = response.status;
      if (response.status === 429) throw upstream('the token endpoint answered HTTP 429');
      // A refusal is not an UpstreamError, so it is not retried: it would come back the same.
      if (response.status >= 400) throw tokenRequestError(response, request.secrets);
      return { response, sentAtMs };
    });
  };
  return async () => {
    // A malformed answer would come back the same, so it is checked after the retries.
    const { response, sentAtMs } = await withRetry(exchange, config.retry, {
      retryable: (error) => error instanceof UpstreamError,
      signal,
    });
    const token = processTokenResponse(response, sentAtMs, config.dpop !== undefined);
    return cacheEntry(token, sentAtMs, config.refreshMarginMs);
  };
}

/** Adds a DPoP proof for `url` to a copy of `init`. */
function withProof(init: RequestInit, proof: string): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string>), dpop: proof } };
}

/**
 * The token request, with a DPoP proof when on. An IdP requiring a nonce answers the
 * first proof with `use_dpop_nonce` and the nonce (RFC 9449 §8): the request is sent once
 * more with a proof carrying it.
 */
async function sendGrant(
  endpoint: string,
  init: RequestInit,
  http: HttpOptions,
  dpop: DpopSigner | undefined,
) {
  if (dpop === undefined) return idpFetch(endpoint, init, http);
  const response = await idpFetch(endpoint, withProof(init, dpop.proof('POST', endpoint)), http);
  const fresh = dpop.remember(endpoint, response.headers);
  if (!fresh || !asksForNonce(response.status, response.headers, response.body)) return response;
  return idpFetch(endpoint, withProof(init, dpop.proof('POST', endpoint)), http);
}

function upstream(reason: string): UpstreamError {
  return new UpstreamError('ERR_ZITAUTH_UPSTREAM', { cause: new Error(reason) });
}

/**
 * After a refresh failed for an outage, calls serve the still-valid token at once for
 * this long instead of each running the whole retry sequence again, in milliseconds.
 */
export const FAILED_REFRESH_MEMORY_MS = 5_000;

/**
 * The JWT bearer or client credentials grant behind a cache of one token. A refresh
 * that fails for an outage keeps serving the current token while it is still valid: the
 * refresh margin exists so that an IdP hiccup does not stop the service. The failure is
 * remembered for `FAILED_REFRESH_MEMORY_MS`, so calls during an outage do not wait.
 */
function createGrantSource(config: ClientConfig, credential: GrantCredential): TokenSource {
  const controller = new AbortController();
  // Each IdP call in flight listens to it (and lets go when answered).
  setMaxListeners(0, controller.signal);
  const request = createRequester(config, credential, controller.signal);
  const singleFlight = createSingleFlight<CachedToken>();
  let cached: CachedToken | undefined;
  let quietUntil = -Infinity;

  const refresh = (): Promise<CachedToken> =>
    singleFlight('token', async () => {
      const entry = await request();
      if (!controller.signal.aborted) cached = entry;
      return entry;
    });

  const stillValid = (entry: CachedToken | undefined): entry is CachedToken =>
    entry !== undefined && config.now() < entry.response.expiresAt.getTime();

  async function getTokenResponse(): Promise<TokenResponse> {
    if (controller.signal.aborted) throw closedError();
    const now = config.now();
    if (cached !== undefined && now < cached.refreshAtMs) return { ...cached.response };
    if (now < quietUntil && stillValid(cached)) return { ...cached.response };
    try {
      return { ...(await refresh()).response };
    } catch (error) {
      const current = cached;
      if (error instanceof UpstreamError && !controller.signal.aborted && stillValid(current)) {
        quietUntil = config.now() + FAILED_REFRESH_MEMORY_MS;
        return { ...current.response };
      }
      throw gettingToken(error);
    }
  }

  return {
    getTokenResponse,
    renew: (rejected) => {
      if (cached?.response.accessToken === rejected) cached = undefined;
      return true;
    },
    invalidate: () => {
      cached = undefined;
    },
    close: () => {
      cached = undefined;
      controller.abort();
    },
  };
}

/** Bodies fetch can send a second time (a stream is consumed by the first attempt). */
function isReplayable(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof FormData ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body)
  );
}

/** `init` with the token: as a bearer token, or as a DPoP token with a fresh proof. */
function withToken(
  input: string | URL,
  init: RequestInit | undefined,
  token: TokenResponse,
  dpop: DpopSigner | undefined,
): RequestInit {
  const headers = new Headers(init?.headers);
  if (dpop !== undefined && token.tokenType.toLowerCase() === 'dpop') {
    headers.set('authorization', `DPoP ${token.accessToken}`);
    headers.set('dpop', dpop.proof(init?.method ?? 'GET', input, token.accessToken));
  } else {
    headers.set('authorization', `Bearer ${token.accessToken}`);
  }
  return { ...init, headers };
}

/**
 * `fetch` with the token. After a 401: a DPoP nonce request is answered with the same
 * token and the API's nonce; any other 401 renews the token. One resend, when the body
 * allows it.
 */
function authorizedFetch(
  source: TokenSource,
  fetchImpl: FetchLike | undefined,
  dpop: DpopSigner | undefined,
): TokenClient['fetch'] {
  return async (input, init) => {
    const send = (token: TokenResponse): Promise<Response> =>
      (fetchImpl ?? globalThis.fetch)(input, withToken(input, init, token, dpop));
    const token = await source.getTokenResponse();
    const response = await send(token);
    const fresh = dpop?.remember(input, response.headers) === true;
    if (response.status !== 401 || !isReplayable(init?.body)) return response;
    if (fresh && asksForNonce(401, response.headers)) {
      await response.body?.cancel().catch(() => undefined);
      return send(token);
    }
    if (!source.renew(token.accessToken)) return response;
    // The API no longer accepts this token (revoked, keys rotated): one fresh try.
    await response.body?.cancel().catch(() => undefined);
    return send(await source.getTokenResponse());
  };
}
