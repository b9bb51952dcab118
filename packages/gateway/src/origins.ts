/**
 * The origin allowlist. Only pages on these origins can be sent a token (the callback's
 * redirect carries the access token in its fragment) or be a post-logout target, so an
 * attacker cannot start a login that ends on their own site with the victim's token.
 * Origins are compared in their serialized form (`scheme://host[:port]`, lower case,
 * default port dropped), never by prefix: `https://app.example.com.evil.test` is not
 * `https://app.example.com`.
 */

/** Parses an origin such as `https://app.example.com`; throws a `TypeError` otherwise. */
export function parseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`"${value.slice(0, 80)}" is not an origin such as https://app.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`origin "${url.origin}" must use https (or http)`);
  }
  const bare = url.pathname === '/' && url.search === '' && url.hash === '';
  if (!bare || url.username !== '' || url.password !== '') {
    throw new TypeError(`"${value.slice(0, 80)}" must be an origin only, without path or query`);
  }
  return url.origin;
}

/**
 * The page to return to: `requested` when it is an absolute http(s) URL on an allowed
 * origin, the first allowed origin when nothing was requested, `undefined` otherwise.
 * The fragment is dropped: the gateway writes its own.
 */
export function resolveReturnTo(
  requested: string | undefined,
  allowedOrigins: readonly string[],
): string | undefined {
  if (requested === undefined || requested === '') {
    const first = allowedOrigins[0];
    return first === undefined ? undefined : `${first}/`;
  }
  let url: URL;
  try {
    url = new URL(requested);
  } catch {
    return undefined;
  }
  if (!allowedOrigins.includes(url.origin) || url.username !== '' || url.password !== '') {
    return undefined;
  }
  url.hash = '';
  return url.href;
}
