/**
 * OpenID Connect discovery. The document's `issuer` must equal the configured issuer
 * exactly (OpenID Connect Discovery §4.3); otherwise nothing from it is used, since a
 * document naming another issuer could point key and introspection URLs anywhere. A good
 * document is kept for `ttlMs`; a failure is not remembered, so the next call retries.
 *
 * The endpoints we send credentials or trust to (keys, introspection, token, userinfo,
 * revocation) must be https on the issuer's own origin, or on an origin the caller listed
 * in `endpointOrigins`: a tampered or misconfigured document must not send introspection
 * credentials or tokens to another host. Loopback hosts may use http, as for the issuer.
 */
import type { UpstreamError } from '../errors.js';
import { idpFetch, parseJsonObject, type HttpOptions } from './http.js';
import { traceIdpCall } from '../observability/idp-calls.js';
import { describeCause, upstreamFault } from '../observability/operator-fault.js';
import { isLoopbackHost } from './idp-url.js';

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
  /**
   * Origins besides the issuer's that endpoints may be on (e.g. `https://www.googleapis.com`
   * for Google's key set). @default [] (the issuer's origin only)
   */
  endpointOrigins?: readonly string[];
  /** Accept http endpoints off loopback (a trusted private network). @default false */
  allowInsecureHttp?: boolean;
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

/** A value from the IdP, quoted for a message: printable, short, so it cannot forge log lines. */
export function quoteIdpValue(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 200 ? `${clean.slice(0, 200)}…` : clean);
}

/**
 * The issuer check failed: both values go into the message, since the difference is
 * usually one character (a trailing slash, `localhost` for `127.0.0.1`, http for https).
 */
function issuerMismatch(url: string, configured: string, advertised: unknown): UpstreamError {
  return upstreamFault(
    'issuer-mismatch',
    `zitauth: the discovery document at ${url} names ` +
      (advertised === undefined ? 'no issuer' : `the issuer ${quoteIdpValue(advertised)}`) +
      ', ' +
      `but issuer is set to ${quoteIdpValue(configured)}; they must be equal, character for ` +
      `character: set issuer to the IdP's value if that IdP is the right one`,
  );
}

/** Discovery could not be read: an outage, or an issuer URL that points at no IdP. */
function unreachable(url: string, error: unknown): UpstreamError {
  return upstreamFault(
    'discovery-unreachable',
    `zitauth: the discovery document at ${url} could not be read (${describeCause(error)}); ` +
      'check that issuer is the IdP URL and that the IdP is reachable from here',
    error,
  );
}

/** Endpoints that receive credentials or decide what is trusted; browser redirects are not. */
const GUARDED: ReadonlySet<EndpointName> = new Set([
  'jwks_uri',
  'introspection_endpoint',
  'token_endpoint',
  'userinfo_endpoint',
  'revocation_endpoint',
]);

/** A discovered endpoint we will not use: the operator's to look at (a tampered document?). */
function refused(name: string, reason: string): UpstreamError {
  return upstreamFault('upstream', `zitauth: the discovery document's ${name} ${reason}`);
}

/** Checks a discovered endpoint: https (http on loopback) and an allowed origin. */
function checkEndpoint(
  name: EndpointName,
  value: string,
  allowed: ReadonlySet<string>,
  insecure: boolean,
): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refused(name, 'is not an absolute URL');
  }
  const httpOk = url.protocol === 'http:' && (insecure || isLoopbackHost(url.hostname));
  if (url.protocol !== 'https:' && !httpOk) throw refused(name, 'does not use https');
  if (!allowed.has(url.origin)) {
    throw refused(
      name,
      `is on ${url.origin}, not the issuer's origin; list it in endpointOrigins if that is intended`,
    );
  }
  return value;
}

/** After a failed refresh, the last good document is reused this long before retrying. */
const RETRY_AFTER_FAILURE_MS = 30_000;

export function createDiscovery(issuer: string, options: DiscoveryOptions = {}): Discovery {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? 3_600_000;
  const allowed = new Set([new URL(issuer).origin, ...(options.endpointOrigins ?? [])]);
  const insecure = options.allowInsecureHttp === true;
  let cached: { document: DiscoveryDocument; until: number } | undefined;
  let pending: Promise<DiscoveryDocument> | undefined;

  async function load(): Promise<DiscoveryDocument> {
    const url = discoveryUrl(issuer);
    const document = await traceIdpCall('discovery', url, async (note) => {
      const response = await idpFetch(url, { headers: { accept: 'application/json' } }, options);
      note.status = response.status;
      if (response.status !== 200) throw new Error(`discovery answered HTTP ${response.status}`);
      return parseJsonObject(response.body);
    }).catch((error: unknown) => {
      throw unreachable(url, error);
    });
    if (document['issuer'] !== issuer) throw issuerMismatch(url, issuer, document['issuer']);
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
      throw upstreamFault(
        'endpoint-missing',
        `zitauth: the discovery document of ${issuer} does not advertise ${name}; ` +
          'configure the endpoint explicitly, or use an IdP that offers it',
      );
    }
    return GUARDED.has(name) ? checkEndpoint(name, value, allowed, insecure) : value;
  }

  return { metadata, endpoint };
}
