/**
 * OpenID Connect discovery. The document's `issuer` must equal the configured issuer
 * exactly (OpenID Connect Discovery §4.3); otherwise nothing from it is used, since a
 * document naming another issuer could point key and introspection URLs anywhere. A good
 * document is kept for `ttlMs`; a failure is not remembered, so the next call retries.
 */
import { UpstreamError } from './errors.js';
import { idpFetch, parseJsonObject, type HttpOptions } from './http.js';

/** The fields of a discovery document zitauth reads. */
export interface DiscoveryDocument {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
  authorization_endpoint?: string;
  end_session_endpoint?: string;
  revocation_endpoint?: string;
  [key: string]: unknown;
}

/** Options of {@link createDiscovery}. */
export interface DiscoveryOptions extends HttpOptions {
  /** How long a fetched document is reused, in milliseconds. @default 3600000 */
  ttlMs?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
}

/** Lazily fetched, cached discovery metadata of one issuer. */
export interface Discovery {
  /** The document (fetched on first use, then cached). Rejects with `UpstreamError`. */
  metadata(): Promise<DiscoveryDocument>;
  /** One endpoint by name; `UpstreamError` if the IdP does not advertise it. */
  endpoint(name: EndpointName): Promise<string>;
}

export type EndpointName =
  | 'jwks_uri'
  | 'introspection_endpoint'
  | 'token_endpoint'
  | 'userinfo_endpoint'
  | 'authorization_endpoint'
  | 'end_session_endpoint'
  | 'revocation_endpoint';

/** The discovery URL of an issuer (`/.well-known/openid-configuration` appended to its path). */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

/** After a failed refresh, the last good document is reused this long before retrying. */
const RETRY_AFTER_FAILURE_MS = 30_000;

export function createDiscovery(issuer: string, options: DiscoveryOptions = {}): Discovery {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? 3_600_000;
  let cached: { document: DiscoveryDocument; until: number } | undefined;
  let pending: Promise<DiscoveryDocument> | undefined;

  async function load(): Promise<DiscoveryDocument> {
    const response = await idpFetch(
      discoveryUrl(issuer),
      { headers: { accept: 'application/json' } },
      options,
    );
    if (response.status !== 200) {
      throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
        cause: new Error(`discovery answered ${response.status}`),
      });
    }
    const document = parseJsonObject(response.body);
    if (document['issuer'] !== issuer) {
      throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
        cause: new Error('the discovery document names another issuer than the configured one'),
      });
    }
    cached = { document: document as DiscoveryDocument, until: now() + ttlMs };
    return cached.document;
  }

  async function metadata(): Promise<DiscoveryDocument> {
    if (cached !== undefined && cached.until > now()) return cached.document;
    pending ??= load().finally(() => {
      pending = undefined;
    });
    try {
      return await pending;
    } catch (error) {
      // Keep using a document we already trusted rather than failing every request, and
      // wait before the next refresh so an outage does not add a timeout to each call.
      if (cached === undefined) throw error;
      cached.until = now() + RETRY_AFTER_FAILURE_MS;
      return cached.document;
    }
  }

  async function endpoint(name: EndpointName): Promise<string> {
    const value = (await metadata())[name];
    if (typeof value !== 'string' || value === '') {
      throw new UpstreamError('ERR_ZITAUTH_UPSTREAM', {
        cause: new Error(`the IdP does not advertise ${name}`),
      });
    }
    return value;
  }

  return { metadata, endpoint };
}
