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
 * One entry of the return-page allowlist: an exact page (`https://app.example.com/done`,
 * query included) or a path prefix (`https://app.example.com/app/*`: any page under
 * `/app/`, with any query). Not "any page of an allowed origin": one open redirect
 * anywhere on the app's origin would then forward the user (and, in the token hand-off,
 * the token) elsewhere.
 */
export interface ReturnRule {
  readonly origin: string;
  /** The exact path (with query), or the prefix the path must start with. */
  readonly path: string;
  readonly prefix: boolean;
}

/**
 * Parses an allowlist entry; its origin must be allowed. Throws a `TypeError` saying
 * what is wrong.
 */
export function parseReturnRule(entry: string, allowedOrigins: readonly string[]): ReturnRule {
  const prefix = entry.endsWith('*');
  const text = prefix ? entry.slice(0, -1) : entry;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(
      `"${entry.slice(0, 80)}" is not a page such as https://app.example.com/ or a prefix such as https://app.example.com/app/*`,
    );
  }
  if (!allowedOrigins.includes(url.origin)) {
    throw new TypeError(`"${entry.slice(0, 80)}" is not on an allowed origin`);
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '' || text.includes('#')) {
    throw new TypeError(`"${entry.slice(0, 80)}" must not have credentials or a fragment`);
  }
  if (prefix && (url.search !== '' || !url.pathname.endsWith('/'))) {
    throw new TypeError(`the prefix "${entry.slice(0, 80)}" must end with "/*" and have no query`);
  }
  return { origin: url.origin, path: prefix ? url.pathname : url.pathname + url.search, prefix };
}

/** The default allowlist: the root page of each allowed origin, exactly. */
export function defaultReturnRules(allowedOrigins: readonly string[]): ReturnRule[] {
  return allowedOrigins.map((origin) => ({ origin, path: '/', prefix: false }));
}

/** Encoded slashes could turn `/app/%2F..%2Fevil` into another path on a server that decodes them. */
const ENCODED_SEPARATOR = /%2f|%5c/i;

function matches(url: URL, rule: ReturnRule): boolean {
  if (url.origin !== rule.origin) return false;
  if (!rule.prefix) return url.pathname + url.search === rule.path;
  return url.pathname.startsWith(rule.path) && !ENCODED_SEPARATOR.test(url.pathname);
}

/**
 * The page to return to: `requested` when it is an absolute http(s) URL the allowlist
 * names, the first entry when nothing was requested, `undefined` otherwise. The fragment
 * is dropped: the gateway writes its own.
 */
export function resolveReturnTo(
  requested: string | undefined,
  rules: readonly ReturnRule[],
): string | undefined {
  if (requested === undefined || requested === '') {
    const first = rules[0];
    return first === undefined ? undefined : `${first.origin}${first.path}`;
  }
  let url: URL;
  try {
    url = new URL(requested);
  } catch {
    return undefined;
  }
  if (url.username !== '' || url.password !== '') return undefined;
  if (!rules.some((rule) => matches(url, rule))) return undefined;
  url.hash = '';
  return url.href;
}
