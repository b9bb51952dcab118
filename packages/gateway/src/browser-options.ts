/**
 * The browser-mode options of `createGateway`, checked where the gateway is built: which
 * mode, the upstream APIs of the session proxy, and the session's lifetime and cookie.
 * Kept apart from `options.ts` so each concern reads on its own.
 */
import type { SameSite } from './session-cookie.js';

/** Browser sessions of the backend-for-frontend mode. */
export interface SessionOptions {
  /** Longest a session lives, refreshed or not, in milliseconds. @default 28800000 (8 hours) */
  lifetimeMs?: number | undefined;
  /** Refresh the access token when less than this is left, in milliseconds. @default 60000 */
  refreshMarginMs?: number | undefined;
  /**
   * `SameSite` of the session cookie. `strict` fits both placements (the gateway under a
   * path of the app's origin, or on a subdomain of the app's site); `none` (https only) is
   * for a gateway on another site, where browsers that block third-party cookies will not
   * send it. @default 'strict'
   */
  sameSite?: SameSite | undefined;
}

/** What the browser-mode options resolve to. */
export interface ResolvedBrowserOptions {
  browserMode: 'session' | 'token';
  upstreams: Record<string, string>;
  session: { lifetimeMs: number; refreshMarginMs: number; sameSite: SameSite };
}

/** The options this module reads. */
export interface BrowserOptionsInput {
  browserMode?: 'session' | 'token' | undefined;
  upstreams?: Readonly<Record<string, string>> | undefined;
  session?: SessionOptions | undefined;
}

type Fail = (option: string, message: string) => Error;

const UPSTREAM_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

function checkUpstreams(
  upstreams: Readonly<Record<string, string>> | undefined,
  fail: Fail,
): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(upstreams ?? {})) {
    // `v1` is the gateway's own prefix: /api/v1/… must never reach an upstream.
    if (!UPSTREAM_NAME.test(name) || name === 'v1')
      throw fail(
        'upstreams',
        `"${name.slice(0, 40)}" must be lower-case letters, digits and -, not v1`,
      );
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw fail('upstreams', `${name}: "${String(value).slice(0, 80)}" is not a URL`);
    }
    if (!['http:', 'https:'].includes(url.protocol) || url.search !== '' || url.hash !== '')
      throw fail('upstreams', `${name}: must be an http(s) URL without query or fragment`);
    checked[name] = url.href;
  }
  return checked;
}

function duration(value: number | undefined, option: string, fallback: number, fail: Fail): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw fail(option, 'must be a number greater than 0');
  return value;
}

export function resolveBrowserOptions(
  options: BrowserOptionsInput,
  secureCookies: boolean,
  fail: Fail,
): ResolvedBrowserOptions {
  const browserMode = options.browserMode ?? 'session';
  if (browserMode !== 'session' && browserMode !== 'token')
    throw fail('browserMode', "must be 'session' or 'token'");
  const sameSite = options.session?.sameSite ?? 'strict';
  if (!['strict', 'lax', 'none'].includes(sameSite))
    throw fail('session.sameSite', "must be 'strict', 'lax' or 'none'");
  if (sameSite === 'none' && !secureCookies)
    throw fail('session.sameSite', "'none' needs an https publicUrl (browsers drop it otherwise)");
  return {
    browserMode,
    upstreams: checkUpstreams(options.upstreams, fail),
    session: {
      lifetimeMs: duration(options.session?.lifetimeMs, 'session.lifetimeMs', 8 * 3_600_000, fail),
      refreshMarginMs: duration(
        options.session?.refreshMarginMs,
        'session.refreshMarginMs',
        60_000,
        fail,
      ),
      sameSite,
    },
  };
}
