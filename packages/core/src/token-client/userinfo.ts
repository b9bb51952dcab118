/**
 * The OpenID Connect userinfo call (Core §5.3): the profile behind an access token, as
 * the IdP sees it now. The token goes out in the `Authorization` header only, through
 * `idpFetch` (no redirects, so it is never replayed to another host), and never appears
 * in an error. A 401 means the IdP no longer accepts the token; an outage, a 5xx or an
 * unreadable answer is an `UpstreamError`, never a bad token.
 */
import {
  InsufficientScopeError,
  InvalidTokenError,
  UpstreamError,
  ZitauthConfigError,
} from '../errors.js';
import { createDiscovery } from '../idp/discovery.js';
import { idpFetch, parseJsonObject, type FetchLike, type IdpResponse } from '../idp/http.js';
import { checkIdpUrl, resolveOrigins } from '../idp/idp-url.js';
import { checkOptionKeys, optionKeys } from '../option-keys.js';
import { traceIdpCall } from '../observability/idp-calls.js';

/** Options of {@link fetchUserinfo}. */
export interface UserinfoOptions {
  /** The IdP's issuer URL, exactly as in its discovery document. */
  issuer: string;
  /**
   * The userinfo endpoint; skips discovery (each call otherwise reads the discovery
   * document first). For ZITADEL: `${issuer}/oidc/v1/userinfo`.
   */
  userinfoEndpoint?: string | undefined;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: FetchLike | undefined;
  /** Time limit of each IdP call, in milliseconds. @default 5000 */
  timeoutMs?: number | undefined;
  /** Aborts the call. */
  signal?: AbortSignal | undefined;
  /**
   * Origins besides the issuer's that a discovered userinfo endpoint may be on. By default
   * it must be https on the issuer's own origin (http on loopback), so a tampered discovery
   * document cannot collect the access token. @default [] (the issuer's origin only)
   */
  endpointOrigins?: readonly string[] | undefined;
}

const USERINFO_KEYS = optionKeys<UserinfoOptions>({
  issuer: true,
  userinfoEndpoint: true,
  fetch: true,
  timeoutMs: true,
  signal: true,
  endpointOrigins: true,
});

const HEADER_SAFE = /^[\x21-\x7e]+$/;

function httpOptions(options: UserinfoOptions): {
  fetch?: FetchLike;
  timeoutMs?: number;
  signal?: AbortSignal;
} {
  return {
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
}

async function userinfoUrl(options: UserinfoOptions): Promise<string> {
  const issuer = checkIdpUrl(options.issuer, 'issuer');
  if (options.userinfoEndpoint !== undefined) {
    return checkIdpUrl(options.userinfoEndpoint, 'userinfoEndpoint');
  }
  return createDiscovery(issuer, {
    ...httpOptions(options),
    endpointOrigins: resolveOrigins(options.endpointOrigins, false),
  }).endpoint('userinfo_endpoint');
}

function processUserinfoResponse(response: IdpResponse): Record<string, unknown> {
  if (response.status === 401) throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_INACTIVE');
  // 403 (RFC 6750 insufficient_scope): the token is fine but lacks a scope userinfo needs.
  if (response.status === 403) throw new InsufficientScopeError({ scopes: ['openid'] });
  if (response.status !== 200) {
    throw upstream(`the userinfo endpoint answered HTTP ${response.status}`);
  }
  const profile = parseJsonObject(response.body);
  if (typeof profile['sub'] !== 'string' || profile['sub'] === '') {
    throw upstream('the userinfo response has no "sub"');
  }
  return profile;
}

function upstream(reason: string): UpstreamError {
  return new UpstreamError('ERR_ZITAUTH_UPSTREAM', { cause: new Error(reason) });
}

/**
 * The claims the IdP returns for `accessToken`. Rejects with `InvalidTokenError` (401:
 * the token is not accepted), `InsufficientScopeError` (403), `UpstreamError` (IdP
 * unreachable, 5xx, garbage) or `ZitauthConfigError` (bad issuer or endpoint).
 */
export async function fetchUserinfo(
  accessToken: string,
  options: UserinfoOptions,
): Promise<Record<string, unknown>> {
  if (typeof accessToken !== 'string' || !HEADER_SAFE.test(accessToken)) {
    throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED');
  }
  if (typeof options !== 'object' || options === null) {
    throw new ZitauthConfigError('zitauth: fetchUserinfo needs options with an issuer');
  }
  checkOptionKeys(options, USERINFO_KEYS, 'fetchUserinfo options');
  const url = await userinfoUrl(options);
  return traceIdpCall('userinfo', url, async (note) => {
    const response = await idpFetch(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/json', authorization: `Bearer ${accessToken}` },
      },
      httpOptions(options),
    );
    note.status = response.status;
    return processUserinfoResponse(response);
  });
}
