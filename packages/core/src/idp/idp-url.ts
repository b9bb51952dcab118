/**
 * Checks the URLs a client is told to send credentials to. Assertions, client secrets
 * and access tokens are bearer credentials: over plain HTTP anyone on the path can
 * replay them, so only https is accepted, with one exception for loopback hosts (a
 * local ZITADEL or the testing IdP), where the traffic never leaves the machine.
 */
import { ZitauthConfigError } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/** True for hosts whose traffic never leaves the machine: localhost, `*.localhost`, 127/8, ::1. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    LOOPBACK_HOSTS.has(hostname) ||
    hostname.endsWith('.localhost') ||
    /^127(?:\.\d{1,3}){3}$/.test(hostname)
  );
}

/**
 * Parses `value` as an absolute https URL (http only for loopback hosts, or anywhere
 * with `allowInsecureHttp` for a trusted private network) without query
 * or fragment, and returns it unchanged: the issuer must stay byte for byte what the
 * IdP calls itself. Throws `ZitauthConfigError` naming the option.
 */
export function checkIdpUrl(value: unknown, name: string, allowInsecureHttp = false): string {
  if (typeof value !== 'string' || value === '') {
    throw new ZitauthConfigError(`zitauth: ${name} is required (e.g. https://acme.zitadel.cloud)`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ZitauthConfigError(
      `zitauth: ${name} is not an absolute URL (e.g. https://acme.zitadel.cloud)`,
      'ERR_ZITAUTH_INVALID_OPTION',
      { cause },
    );
  }
  const httpAllowed = allowInsecureHttp || isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && httpAllowed)) {
    throw new ZitauthConfigError(
      `zitauth: ${name} must use https (plain http is only accepted for localhost, or with allowInsecureHttp: true), got ${url.protocol}//${url.host}`,
    );
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ZitauthConfigError(
      `zitauth: ${name} must not carry credentials, a query or a fragment`,
    );
  }
  return value;
}

/**
 * `endpointOrigins`: the origins (scheme, host, port) of the URLs given, each checked like
 * an issuer; `[]` when not set. Throws `ZitauthConfigError` naming the option.
 */
export function resolveOrigins(value: unknown, allowInsecureHttp = false): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new ZitauthConfigError('zitauth: endpointOrigins must be an array of https origins');
  }
  return Object.freeze(
    value.map(
      (origin: unknown) =>
        new URL(checkIdpUrl(origin, 'endpointOrigins', allowInsecureHttp)).origin,
    ),
  );
}
