/**
 * The OpenID Connect authorization code flow with PKCE, as the gateway runs it for a
 * browser (a ZITADEL "User Agent" application, or a "Web" one with a secret). Protocol
 * steps are oauth4webapi's: the callback is validated (state, `iss` mix-up defence,
 * error responses), the code redeemed with the PKCE verifier, the ID token's claims
 * checked (iss, aud = client id, azp, exp, iat, nonce) and then its signature against
 * the IdP's published keys. oauth4webapi skips that last step by default (TLS vouches
 * for the token endpoint); the seed ran over plain HTTP to a local ZITADEL, where TLS
 * vouches for nothing, so the gateway always checks it.
 *
 * oauth4webapi errors keep the raw token response in `cause`; they are wrapped in a
 * `LoginFlowError` that says only what kind of failure happened, and their cause must
 * never be logged.
 */
import * as oauth from 'oauth4webapi';
import type { Discovery, FetchLike } from '@zitauth/core';

/** Options of {@link createLoginFlow}. */
export interface LoginFlowOptions {
  /** Core's discovery of the issuer (its `issuer` is checked against the configured one). */
  discovery: Discovery;
  clientId: string;
  /** A confidential ("Web") application's secret; public PKCE clients have none. */
  clientSecret?: string | undefined;
  /** The gateway's callback URL, as registered with the application. */
  redirectUri: string;
  /** Space-separated scopes of the authorization request. */
  scope: string;
  /** Time limit of each IdP call, in milliseconds. */
  timeoutMs: number;
  fetch?: FetchLike | undefined;
}

/** Why a login could not be completed. */
export class LoginFlowError extends Error {
  override name = 'LoginFlowError';
  /** `rejected`: the callback, code or ID token is not acceptable; `unavailable`: the IdP failed. */
  readonly kind: 'rejected' | 'unavailable';
  /** oauth4webapi's error code (no secrets), for logs. */
  readonly reason: string;
  constructor(kind: 'rejected' | 'unavailable', reason: string, cause?: unknown) {
    super(kind === 'rejected' ? 'The login could not be completed' : 'The IdP is unavailable', {
      cause,
    });
    this.kind = kind;
    this.reason = reason;
  }
}

/** The tokens a finished login yields. */
export interface LoginResult {
  accessToken: string;
  /** Seconds, as the IdP said; undefined when it did not. */
  expiresIn: number | undefined;
  idToken: string;
  /** Issued when the login asked for `offline_access` (session mode does). */
  refreshToken: string | undefined;
}

/** PKCE and nonce values the authorization request is built from (kept server-side). */
export interface LoginSecrets {
  codeVerifier: string;
  nonce: string;
}

/** One login flow configuration. */
export interface LoginFlow {
  /** Fresh PKCE verifier and nonce. */
  secrets(): LoginSecrets;
  /** The IdP's authorization URL for this login. Rejects with `LoginFlowError('unavailable')`. */
  authorizationUrl(state: string, secrets: LoginSecrets): Promise<URL>;
  /** Redeems the callback's code. Rejects with `LoginFlowError`. */
  complete(callback: URLSearchParams, state: string, secrets: LoginSecrets): Promise<LoginResult>;
  /** The IdP's end-session URL, or undefined when the IdP advertises none. */
  endSessionUrl(postLogoutRedirectUri: string): Promise<URL | undefined>;
}

type FetchInit = oauth.CustomFetchOptions<'GET' | 'POST', URLSearchParams | undefined>;

/**
 * Options for every oauth4webapi call of the gateway (the login flow here, refresh and
 * revocation in the token endpoint): a timeout, and the injected fetch if any.
 */
export function httpOptions(options: Pick<LoginFlowOptions, 'fetch' | 'timeoutMs'>) {
  const custom = options.fetch;
  return {
    signal: () => AbortSignal.timeout(options.timeoutMs),
    // Core already refused plain http for any host but loopback when the issuer was checked.
    [oauth.allowInsecureRequests]: true,
    ...(custom === undefined
      ? {}
      : {
          [oauth.customFetch]: (url: string, init: FetchInit) =>
            custom(url, { ...init, body: init.body ?? null } as RequestInit),
        }),
  };
}

/** Sorts an oauth4webapi (or network) failure into rejected or unavailable. */
export function classify(error: unknown): LoginFlowError {
  if (error instanceof LoginFlowError) return error;
  if (
    error instanceof oauth.ResponseBodyError ||
    error instanceof oauth.AuthorizationResponseError ||
    error instanceof oauth.OperationProcessingError ||
    error instanceof oauth.WWWAuthenticateChallengeError
  ) {
    return new LoginFlowError('rejected', (error as { code?: string }).code ?? error.name, error);
  }
  // Network errors, timeouts, aborts and core's UpstreamError from discovery.
  return new LoginFlowError('unavailable', (error as Error | undefined)?.name ?? 'unknown', error);
}

/** The IdP's authorization URL for one login (`authorizationUrl` of the flow). */
async function authorizationUrl(
  options: LoginFlowOptions,
  state: string,
  secrets: LoginSecrets,
): Promise<URL> {
  try {
    const url = new URL(await options.discovery.endpoint('authorization_endpoint'));
    const challenge = await oauth.calculatePKCECodeChallenge(secrets.codeVerifier);
    for (const [name, value] of Object.entries({
      client_id: options.clientId,
      redirect_uri: options.redirectUri,
      response_type: 'code',
      scope: options.scope,
      state,
      nonce: secrets.nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })) {
      url.searchParams.set(name, value);
    }
    return url;
  } catch (error) {
    throw new LoginFlowError('unavailable', 'discovery', error);
  }
}

/** What the code exchange needs besides the callback: built once per flow. */
interface ExchangeContext {
  options: LoginFlowOptions;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  http: ReturnType<typeof httpOptions>;
  /** oauth4webapi's key set cache, kept across logins so each one does not refetch keys. */
  jwks: oauth.JWKSCacheInput;
}

/** Validates the callback, redeems the code and verifies the ID token (claims, then signature). */
async function complete(
  ctx: ExchangeContext,
  callback: URLSearchParams,
  state: string,
  secrets: LoginSecrets,
): Promise<LoginResult> {
  const { options, client, clientAuth, http } = ctx;
  try {
    const as = (await options.discovery.metadata()) as oauth.AuthorizationServer;
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      options.redirectUri,
      secrets.codeVerifier,
      http,
    );
    // An outage, not a refusal: say so rather than blame the code.
    if (response.status >= 500) throw new LoginFlowError('unavailable', `HTTP ${response.status}`);
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: secrets.nonce,
      requireIdToken: true,
    });
    await oauth.validateApplicationLevelSignature(as, response, {
      ...http,
      [oauth.jwksCache]: ctx.jwks,
    });
    return {
      accessToken: result.access_token,
      expiresIn: result.expires_in,
      idToken: result.id_token as string,
      refreshToken: result.refresh_token,
    };
  } catch (error) {
    throw classify(error);
  }
}

/** The IdP's end-session URL, or undefined when it advertises none. */
async function endSessionUrl(
  options: LoginFlowOptions,
  postLogoutRedirectUri: string,
): Promise<URL | undefined> {
  const endpoint = (await options.discovery.metadata()).end_session_endpoint;
  if (typeof endpoint !== 'string' || endpoint === '') return undefined;
  const url = new URL(endpoint);
  url.searchParams.set('client_id', options.clientId);
  url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
  return url;
}

export function createLoginFlow(options: LoginFlowOptions): LoginFlow {
  const ctx: ExchangeContext = {
    options,
    client: { client_id: options.clientId },
    clientAuth:
      options.clientSecret === undefined
        ? oauth.None()
        : oauth.ClientSecretBasic(options.clientSecret),
    http: httpOptions(options),
    jwks: {},
  };
  return {
    secrets: () => ({
      codeVerifier: oauth.generateRandomCodeVerifier(),
      nonce: oauth.generateRandomNonce(),
    }),
    authorizationUrl: (state, secrets) => authorizationUrl(options, state, secrets),
    complete: (callback, state, secrets) => complete(ctx, callback, state, secrets),
    endSessionUrl: (uri) => endSessionUrl(options, uri),
  };
}
