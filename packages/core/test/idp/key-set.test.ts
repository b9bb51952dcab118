/**
 * The key set against an injected fetch that counts calls and an injected clock:
 * freshness from `Cache-Control`, the kid-miss cooldown, shared in-flight fetches,
 * stale keys while the IdP is down, body caps, bad bodies, key selection and shutdown.
 */
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, type CryptoKey, type FlattenedJWSInput, type JWK } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { UpstreamError, ZitauthConfigError } from '../../src/errors.js';
import {
  FAILURE_BACKOFF_MS,
  createKeySet,
  type KeySet,
  type KeySetOptions,
} from '../../src/idp/key-set.js';
import { parseKeySet } from '../../src/idp/jwk.js';

const JWKS_URI = 'https://acme.zitadel.cloud/oauth/v2/keys';
const T0 = Date.UTC(2026, 0, 1);
/** getKey never reads the token; the key set decides from the header alone. */
const TOKEN: FlattenedJWSInput = { payload: '', signature: '' };
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const COOLDOWN = 30 * SECOND;

type Reply = () => Response | Promise<Response>;

/** A JWKS reply with an optional `Cache-Control` header. */
function jwks(keys: unknown[], cacheControl?: string): Reply {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (cacheControl !== undefined) headers['cache-control'] = cacheControl;
  return () => new Response(JSON.stringify({ keys }), { status: 200, headers });
}

const status =
  (code: number, body = ''): Reply =>
  () =>
    new Response(body, { status: code });
const text =
  (body: string): Reply =>
  () =>
    new Response(body, { status: 200 });

/** A scriptable IdP: `reply` answers every call; `calls` counts them; `inits` records them. */
function fakeIdp(initial: Reply) {
  const idp = {
    reply: initial,
    calls: 0,
    inits: [] as RequestInit[],
    urls: [] as string[],
    fetch: async (url: string | URL, init?: RequestInit): Promise<Response> => {
      idp.calls += 1;
      idp.urls.push(String(url));
      idp.inits.push(init ?? {});
      return idp.reply();
    },
  };
  return idp;
}

/** A reply that waits until released, so several callers overlap one fetch. */
function gate(reply: Reply): { reply: Reply; release: () => void } {
  let release = (): void => undefined;
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { reply: async () => opened.then(reply), release };
}

function setup(initial: Reply, options: Partial<KeySetOptions> = {}) {
  const idp = fakeIdp(initial);
  const clock = { now: T0 };
  const keySet = createKeySet({
    jwksUri: async () => JWKS_URI,
    http: { fetch: idp.fetch },
    now: () => clock.now,
    ...options,
  });
  return { idp, clock, keySet };
}

interface TestKey {
  kid: string;
  jwk: JWK;
}

async function publicJwk(alg: string, kid: string, extra: Partial<JWK> = {}): Promise<TestKey> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig', ...extra } };
}

const resolve = (keySet: KeySet, alg: string, kid?: string): Promise<CryptoKey | unknown> =>
  keySet.getKey(kid === undefined ? { alg } : { alg, kid }, TOKEN);

/** The public JWK of the key `getKey` resolved, to tell which key was picked. */
async function picked(keySet: KeySet, alg: string, kid?: string): Promise<JWK> {
  return exportJWK((await resolve(keySet, alg, kid)) as CryptoKey);
}

const material = (jwk: JWK): string | undefined => jwk.n ?? jwk.x;

let rsa: TestKey;
let rsa2: TestKey;
let ec: TestKey;
let ed: TestKey;

beforeAll(async () => {
  [rsa, rsa2, ec, ed] = await Promise.all([
    publicJwk('RS256', 'rsa-1'),
    publicJwk('RS256', 'rsa-2'),
    publicJwk('ES256', 'ec-1'),
    publicJwk('EdDSA', 'ed-1'),
  ]);
});

describe('createKeySet: freshness', () => {
  it('serves fresh keys from memory without fetching again', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk], 'max-age=300, must-revalidate'));
    await resolve(keySet, 'RS256', 'rsa-1');
    clock.now += 299 * SECOND;
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.calls).toBe(1);
  });

  it('refetches once the Cache-Control max-age has passed', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk], 'max-age=300'));
    await resolve(keySet, 'RS256', 'rsa-1');
    clock.now += 300 * SECOND;
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.calls).toBe(2);
  });

  it('uses defaultMaxAgeMs when the response has no Cache-Control', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk]), { defaultMaxAgeMs: 120 * SECOND });
    await resolve(keySet, 'RS256', 'rsa-1');
    clock.now += 119 * SECOND;
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.calls).toBe(1);
    clock.now += 1 * SECOND;
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.calls).toBe(2);
  });

  it.each([
    ['a max-age below the minimum', 'max-age=1'],
    ['no-store', 'no-store'],
  ])('keeps keys for minMaxAgeMs despite %s', async (_, cacheControl) => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk], cacheControl));
    await resolve(keySet, 'RS256', 'rsa-1');
    clock.now += 29 * SECOND;
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.calls).toBe(1);
    clock.now += 1 * SECOND;
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.calls).toBe(2);
  });

  it('caps a long max-age at maxMaxAgeMs', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk], 'max-age=31536000'), {
      maxMaxAgeMs: 10 * MINUTE,
    });
    await resolve(keySet, 'RS256', 'rsa-1');
    clock.now += 10 * MINUTE - 1;
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.calls).toBe(1);
    clock.now += 1;
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.calls).toBe(2);
  });

  it('drops keys the IdP no longer lists once the background refresh lands', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk, rsa2.jwk], 'max-age=300'));
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = jwks([rsa2.jwk], 'max-age=300');
    clock.now += 300 * SECOND;
    // Stale keys answer at once (stale-while-revalidate) while the refresh runs.
    await resolve(keySet, 'RS256', 'rsa-1');
    await keySet.refresh();
    expect(idp.urls).toHaveLength(2);
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
  });

  it('fetches with redirects off and asks for a JWKS', async () => {
    const { idp, keySet } = setup(jwks([rsa.jwk]));
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.urls).toEqual([JWKS_URI]);
    expect(idp.inits[0]).toMatchObject({ redirect: 'manual' });
    expect(new Headers(idp.inits[0]?.headers).get('accept')).toContain('application/jwk-set+json');
  });
});

describe('createKeySet: unknown kid', () => {
  it('refetches for a rotated key after the cooldown and then finds it', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk]));
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = jwks([rsa.jwk, rsa2.jwk]);
    clock.now += COOLDOWN;
    expect(material(await picked(keySet, 'RS256', 'rsa-2'))).toBe(rsa2.jwk.n);
    expect(idp.calls).toBe(2);
  });

  it('does not refetch within the cooldown of the last fetch', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk]));
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = jwks([rsa.jwk, rsa2.jwk]);
    clock.now += COOLDOWN - 1;
    await expect(resolve(keySet, 'RS256', 'rsa-2')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
    expect(idp.calls).toBe(1);
  });

  it('answers a flood of random kids with one fetch per cooldown', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk]));
    const flood = async (): Promise<void> => {
      const misses = Array.from({ length: 50 }, (_, i) =>
        resolve(keySet, 'RS256', `random-${clock.now}-${i}`),
      );
      for (const miss of misses) {
        await expect(miss).rejects.toMatchObject({ code: 'ERR_ZITAUTH_KEY_NOT_FOUND' });
      }
    };
    await flood();
    expect(idp.calls).toBe(1);
    clock.now += COOLDOWN;
    await flood();
    expect(idp.calls).toBe(2);
    clock.now += COOLDOWN - 1;
    await flood();
    expect(idp.calls).toBe(2);
    clock.now += 1;
    await flood();
    expect(idp.calls).toBe(3);
  });

  it('shares one refetch among concurrent misses', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk]));
    await resolve(keySet, 'RS256', 'rsa-1');
    const slow = gate(jwks([rsa.jwk, rsa2.jwk]));
    idp.reply = slow.reply;
    clock.now += COOLDOWN;
    const waiting = Array.from({ length: 10 }, () => resolve(keySet, 'RS256', 'rsa-2'));
    slow.release();
    await expect(Promise.all(waiting)).resolves.toHaveLength(10);
    expect(idp.calls).toBe(2);
  });

  it('reports a failed refetch as an upstream failure, not a bad token', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk]));
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = status(503);
    clock.now += COOLDOWN;
    const failure = resolve(keySet, 'RS256', 'rsa-2');
    await expect(failure).rejects.toBeInstanceOf(UpstreamError);
    await expect(failure).rejects.toMatchObject({ code: 'ERR_ZITAUTH_UPSTREAM', status: 503 });
  });

  it('waits a full cooldown after a failed refetch before trying again', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk]));
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = status(500);
    clock.now += COOLDOWN;
    await expect(resolve(keySet, 'RS256', 'rsa-2')).rejects.toBeInstanceOf(UpstreamError);
    idp.reply = jwks([rsa.jwk, rsa2.jwk]);
    clock.now += COOLDOWN - 1;
    await expect(resolve(keySet, 'RS256', 'rsa-2')).rejects.toBeInstanceOf(UpstreamError);
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
    expect(idp.calls).toBe(2);
    clock.now += 1;
    await expect(resolve(keySet, 'RS256', 'rsa-2')).resolves.toBeDefined();
    expect(idp.calls).toBe(3);
  });

  it('reports a kid still unknown after a successful refetch as KEY_NOT_FOUND', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk]));
    await resolve(keySet, 'RS256', 'rsa-1');
    clock.now += COOLDOWN;
    const failure = resolve(keySet, 'RS256', 'nope');
    await expect(failure).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
      status: 401,
      error: 'invalid_token',
    });
    expect(idp.calls).toBe(2);
  });
});

describe('createKeySet: IdP down', () => {
  it('answers a cold start with the IdP down with UpstreamError', async () => {
    const { keySet } = setup(() => Promise.reject(new TypeError('fetch failed')));
    const failure = resolve(keySet, 'RS256', 'rsa-1');
    await expect(failure).rejects.toBeInstanceOf(UpstreamError);
    await expect(failure).rejects.toMatchObject({ code: 'ERR_ZITAUTH_UPSTREAM', status: 503 });
  });

  it('retries a failed cold start only after the failure backoff', async () => {
    const { idp, clock, keySet } = setup(status(502));
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toBeInstanceOf(UpstreamError);
    idp.reply = jwks([rsa.jwk]);
    clock.now += Math.min(COOLDOWN, FAILURE_BACKOFF_MS) - 1;
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toBeInstanceOf(UpstreamError);
    expect(idp.calls).toBe(1);
    clock.now += 1;
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
    expect(idp.calls).toBe(2);
  });

  it('serves the last good keys while stale within maxStaleMs', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk], 'max-age=300'), {
      maxStaleMs: 10 * MINUTE,
    });
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = status(503);
    clock.now += 300 * SECOND;
    expect(material(await picked(keySet, 'RS256', 'rsa-1'))).toBe(rsa.jwk.n);
    // The stale keys answer at once; the refresh runs in the background, so the call
    // count is read once that refresh has had its turn, not at a fixed microtask.
    await vi.waitFor(() => expect(idp.calls).toBe(2));
    clock.now += Math.min(COOLDOWN, FAILURE_BACKOFF_MS) - 1;
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
    expect(idp.calls).toBe(2);
    clock.now += 1;
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
    await vi.waitFor(() => expect(idp.calls).toBe(3));
  });

  it('fails with UpstreamError once the keys are stale longer than maxStaleMs', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk], 'max-age=300'), {
      maxStaleMs: 10 * MINUTE,
    });
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = status(503);
    clock.now += 300 * SECOND + 10 * MINUTE - 1;
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
    clock.now += 1;
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toBeInstanceOf(UpstreamError);
    clock.now += 1;
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_UPSTREAM',
    });
  });

  it('reports an unknown kid while serving stale keys as an upstream failure', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk], 'max-age=300'));
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = status(503);
    clock.now += 300 * SECOND;
    await expect(resolve(keySet, 'RS256', 'rsa-2')).rejects.toBeInstanceOf(UpstreamError);
    expect(idp.calls).toBe(2);
  });

  it('keeps the failure as the cause of the UpstreamError', async () => {
    const { keySet } = setup(status(404));
    const failure = resolve(keySet, 'RS256', 'rsa-1');
    await expect(failure).rejects.toMatchObject({ cause: expect.any(Error) });
  });

  it('keeps the code of an UpstreamError from the key set URL', async () => {
    const { idp, keySet } = setup(jwks([rsa.jwk]), {
      jwksUri: () => Promise.reject(new UpstreamError('ERR_ZITAUTH_UPSTREAM_TIMEOUT')),
    });
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_UPSTREAM_TIMEOUT',
    });
    expect(idp.calls).toBe(0);
  });

  it('gives each caller its own UpstreamError', async () => {
    const slow = gate(status(503));
    const { keySet } = setup(slow.reply);
    const first = resolve(keySet, 'RS256', 'rsa-1').catch((error: unknown) => error);
    const second = resolve(keySet, 'RS256', 'rsa-1').catch((error: unknown) => error);
    slow.release();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBeInstanceOf(UpstreamError);
    expect(b).toBeInstanceOf(UpstreamError);
    expect(a).not.toBe(b);
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.not.toBe(a);
  });

  it('wraps any other failure to resolve the key set URL as UpstreamError', async () => {
    const { keySet } = setup(jwks([rsa.jwk]), {
      jwksUri: () => Promise.reject(new Error('boom')),
    });
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toBeInstanceOf(UpstreamError);
  });

  it('aborts a fetch in flight when the shutdown signal fires', async () => {
    const shutdown = new AbortController();
    let seen: AbortSignal | undefined;
    const hanging = (_url: string | URL, init?: RequestInit): Promise<Response> =>
      new Promise((_resolve, reject) => {
        seen = init?.signal ?? undefined;
        seen?.addEventListener('abort', () => reject(seen?.reason));
      });
    const { keySet } = setup(jwks([]), { http: { fetch: hanging, signal: shutdown.signal } });
    const pending = resolve(keySet, 'RS256', 'rsa-1');
    await new Promise((settle) => setImmediate(settle));
    shutdown.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ZITAUTH_UPSTREAM' });
    expect(seen?.aborted).toBe(true);
  });

  it('reports a timed-out fetch as ERR_ZITAUTH_UPSTREAM_TIMEOUT', async () => {
    const hanging = (_url: string | URL, init?: RequestInit): Promise<Response> =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const { keySet } = setup(jwks([]), { http: { fetch: hanging, timeoutMs: 10 } });
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_UPSTREAM_TIMEOUT',
    });
  });
});

describe('createKeySet: shared fetches', () => {
  it('shares one cold fetch among concurrent callers', async () => {
    const slow = gate(jwks([rsa.jwk, ec.jwk]));
    const { idp, keySet } = setup(slow.reply);
    const waiting = [
      resolve(keySet, 'RS256', 'rsa-1'),
      resolve(keySet, 'ES256', 'ec-1'),
      resolve(keySet, 'RS256', 'rsa-1'),
    ];
    slow.release();
    await expect(Promise.all(waiting)).resolves.toHaveLength(3);
    expect(idp.calls).toBe(1);
  });

  it('refresh fetches even while the keys are fresh', async () => {
    const { idp, keySet } = setup(jwks([rsa.jwk], 'max-age=300'));
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = jwks([rsa2.jwk], 'max-age=300');
    await keySet.refresh();
    expect(idp.calls).toBe(2);
    await expect(resolve(keySet, 'RS256', 'rsa-2')).resolves.toBeDefined();
  });

  it('refresh shares the fetch already in flight', async () => {
    const slow = gate(jwks([rsa.jwk]));
    const { idp, keySet } = setup(slow.reply);
    const waiting = Promise.all([keySet.refresh(), keySet.refresh(), resolve(keySet, 'RS256')]);
    slow.release();
    await waiting;
    expect(idp.calls).toBe(1);
  });

  it('refresh rejects with UpstreamError and keeps the last good keys', async () => {
    const { idp, keySet } = setup(jwks([rsa.jwk]));
    await keySet.refresh();
    idp.reply = text('not json');
    await expect(keySet.refresh()).rejects.toBeInstanceOf(UpstreamError);
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
  });
});

describe('createKeySet: bad responses', () => {
  it('rejects a body over the default 256 KiB cap as an upstream failure', async () => {
    const padding = 'x'.repeat(300 * 1024);
    const { keySet } = setup(text(JSON.stringify({ keys: [rsa.jwk], padding })));
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toBeInstanceOf(UpstreamError);
  });

  it('applies maxResponseBytes over the HTTP default', async () => {
    const body = JSON.stringify({ keys: [rsa.jwk] });
    const { keySet } = setup(text(body), {
      maxResponseBytes: body.length - 1,
      http: { maxResponseBytes: 1024 * 1024 },
    });
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toBeInstanceOf(UpstreamError);
  });

  it('accepts a body exactly at the cap', async () => {
    const body = JSON.stringify({ keys: [rsa.jwk] });
    const { keySet } = setup(text(body), { maxResponseBytes: body.length });
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
  });

  it.each([
    ['garbage', text('<html>oops</html>')],
    ['a JSON array', text('[]')],
    ['no keys member', text('{"issuer":"x"}')],
    ['a keys member that is not an array', text('{"keys":{}}')],
    ['only unusable keys', text('{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}')],
    ['an empty key list', text('{"keys":[]}')],
    ['a 404', status(404, '{"keys":[]}')],
    ['a 500', status(500)],
    ['a redirect', () => new Response(null, { status: 302, headers: { location: '/x' } })],
  ])('treats %s as an upstream failure', async (_, reply) => {
    const { keySet } = setup(reply);
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toBeInstanceOf(UpstreamError);
  });

  it('keeps serving the last good keys when a refetch answers an empty set', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk], 'max-age=300'));
    await resolve(keySet, 'RS256', 'rsa-1');
    idp.reply = text('{"keys":[]}');
    clock.now += 300 * SECOND;
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
  });
});

describe('createKeySet: key selection', () => {
  it.each([
    ['RS256', 'rsa-1', () => rsa],
    ['ES256', 'ec-1', () => ec],
    ['EdDSA', 'ed-1', () => ed],
  ])('selects the %s key by kid', async (alg, kid, key) => {
    const { keySet } = setup(jwks([rsa.jwk, ec.jwk, ed.jwk]));
    expect(material(await picked(keySet, alg, kid))).toBe(material(key().jwk));
  });

  it('uses the only compatible key when the token has no kid', async () => {
    const { keySet } = setup(jwks([rsa.jwk, ec.jwk]));
    expect(material(await picked(keySet, 'ES256'))).toBe(ec.jwk.x);
  });

  it('refuses to guess among several compatible keys when the token has no kid', async () => {
    const { keySet } = setup(jwks([rsa.jwk, rsa2.jwk]));
    await expect(resolve(keySet, 'RS256')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
  });

  it('verifies RSA keys without an alg member for every RSA algorithm', async () => {
    const { alg: _, ...bare } = rsa.jwk;
    const { keySet } = setup(jwks([bare]));
    for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) {
      await expect(resolve(keySet, alg, 'rsa-1')).resolves.toBeDefined();
    }
  });

  it.each([
    ['an alg other than the token’s', { alg: 'PS256' }],
    ['use "enc"', { use: 'enc' }],
    ['key_ops without "verify"', { key_ops: ['encrypt'] }],
    ['key_ops that is not an array', { key_ops: 'verify' }],
    ['a non-string kid', { kid: 7 }],
    ['a non-string alg', { alg: 256 }],
  ])('skips a key with %s', async (_, extra) => {
    const { keySet } = setup(jwks([{ ...rsa.jwk, ...extra }, ec.jwk]));
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
  });

  it('uses a key whose key_ops include "verify"', async () => {
    const { keySet } = setup(jwks([{ ...rsa.jwk, key_ops: ['verify'] }]));
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
  });

  it('skips a key of the right type on the wrong curve', async () => {
    const { keySet } = setup(jwks([{ ...ec.jwk, alg: undefined }]));
    await expect(resolve(keySet, 'ES384', 'ec-1')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
  });

  it('never uses a symmetric key, even under the token’s kid', async () => {
    const oct = { kty: 'oct', kid: 'rsa-1', k: 'c2VjcmV0', alg: 'RS256' };
    const { keySet } = setup(jwks([oct, ec.jwk]));
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
  });

  it('skips entries that carry private key material', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const leaked = { ...(await exportJWK(privateKey)), kid: 'leaked' };
    const { keySet } = setup(jwks([leaked, rsa.jwk]));
    await expect(resolve(keySet, 'ES256', 'leaked')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
  });

  it('skips RSA keys shorter than 2048 bits', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const short = { ...publicKey.export({ format: 'jwk' }), kid: 'short', alg: 'RS256' };
    const { keySet } = setup(jwks([short, rsa.jwk]));
    await expect(resolve(keySet, 'RS256', 'short')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
  });

  it('skips broken keys without failing the whole set', async () => {
    const broken = [
      { kty: 'RSA', kid: 'bad-rsa', n: '!!', e: 'AQAB' },
      { kty: 'EC', kid: 'bad-ec', crv: 'P-256', x: 'AA', y: 'AA' },
      { kty: 'ML-DSA', kid: 'pq' },
      'not a key',
      null,
      [rsa.jwk],
    ];
    const { keySet } = setup(jwks([...broken, rsa.jwk]));
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBeDefined();
    await expect(resolve(keySet, 'RS256', 'bad-rsa')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
  });

  it('skips a key that fails to import and tries the next one with the same kid', async () => {
    // WebCrypto refuses a public RSA key whose key_ops also allow signing.
    const unimportable = { ...rsa.jwk, key_ops: ['verify', 'sign'] };
    const { keySet } = setup(jwks([unimportable, { ...rsa2.jwk, kid: 'rsa-1' }]));
    expect(material(await picked(keySet, 'RS256', 'rsa-1'))).toBe(rsa2.jwk.n);
  });

  it('reports a kid whose only key fails to import as KEY_NOT_FOUND', async () => {
    const unimportable = { ...rsa.jwk, key_ops: ['verify', 'sign'] };
    const { keySet } = setup(jwks([unimportable]));
    await expect(resolve(keySet, 'RS256', 'rsa-1')).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_KEY_NOT_FOUND',
    });
  });

  it('imports a key once per algorithm', async () => {
    const { keySet } = setup(jwks([rsa.jwk]));
    const first = await resolve(keySet, 'RS256', 'rsa-1');
    await expect(resolve(keySet, 'RS256', 'rsa-1')).resolves.toBe(first);
  });

  it.each(['none', 'HS256', 'HS512', 'RSA-OAEP', 'ML-DSA-44', undefined, 256])(
    'refuses alg %s without fetching',
    async (alg) => {
      const { idp, keySet } = setup(jwks([rsa.jwk]));
      const header = { alg, kid: 'rsa-1' } as unknown as { alg: string };
      await expect(keySet.getKey(header, TOKEN)).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_ALG_NOT_ALLOWED',
      });
      expect(idp.calls).toBe(0);
    },
  );

  it('refuses a non-string kid without fetching', async () => {
    const { idp, keySet } = setup(jwks([rsa.jwk]));
    const header = { alg: 'RS256', kid: 1 } as unknown as { alg: string };
    await expect(keySet.getKey(header, TOKEN)).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_TOKEN_MALFORMED',
    });
    expect(idp.calls).toBe(0);
  });
});

describe('parseKeySet', () => {
  it('returns only the usable keys', () => {
    const usable = parseKeySet(JSON.stringify({ keys: [{ kty: 'oct', k: 'AA' }, rsa.jwk] }));
    expect(usable).toEqual([rsa.jwk]);
  });
});

describe('createKeySet: options', () => {
  it.each([
    ['a negative cooldown', { cooldownMs: -1 }],
    ['a NaN maxStaleMs', { maxStaleMs: Number.NaN }],
    ['an infinite defaultMaxAgeMs', { defaultMaxAgeMs: Infinity }],
    ['minMaxAgeMs above maxMaxAgeMs', { minMaxAgeMs: 2, maxMaxAgeMs: 1 }],
    ['a zero maxResponseBytes', { maxResponseBytes: 0 }],
    ['a non-number', { cooldownMs: '30' as unknown as number }],
  ])('throws a config error for %s', (_, options) => {
    expect(() => setup(jwks([]), options)).toThrow(ZitauthConfigError);
  });

  it('uses Date.now when no clock is given', async () => {
    const idp = fakeIdp(jwks([rsa.jwk]));
    const keySet = createKeySet({ jwksUri: async () => JWKS_URI, http: { fetch: idp.fetch } });
    await resolve(keySet, 'RS256', 'rsa-1');
    await resolve(keySet, 'RS256', 'rsa-1');
    expect(idp.calls).toBe(1);
  });
});

describe('createKeySet: peekKeyObject', () => {
  it('lends a fresh key from memory and never fetches', async () => {
    const { idp, clock, keySet } = setup(jwks([rsa.jwk, rsa2.jwk, ec.jwk], 'max-age=300'));
    const peek = keySet.peekKeyObject!;
    // Nothing fetched yet: finding the key needs I/O.
    expect(peek({ alg: 'RS256', kid: 'rsa-1' })).toBeUndefined();
    expect(idp.calls).toBe(0);
    const fetched = await keySet.getKeyObject({ alg: 'RS256', kid: 'rsa-1' });
    expect(peek({ alg: 'RS256', kid: 'rsa-1' })).toBe(fetched);
    // The same selection rules: one key fits without a kid, two do not, an unknown kid is a miss.
    expect(peek({ alg: 'ES256' })).toBe(await keySet.getKeyObject({ alg: 'ES256' }));
    expect(peek({ alg: 'RS256' })).toBeUndefined();
    expect(peek({ alg: 'RS256', kid: 'rotated' })).toBeUndefined();
    expect(peek({ alg: 'ES256', kid: 'rsa-1' })).toBeUndefined();
    // A header no key could verify is refused as getKeyObject refuses it.
    expect(() => peek({ alg: 'HS256', kid: 'rsa-1' })).toThrow(
      expect.objectContaining({ code: 'ERR_ZITAUTH_ALG_NOT_ALLOWED' }),
    );
    // Stale keys are the asynchronous path's to refresh.
    clock.now += 300 * SECOND;
    expect(peek({ alg: 'RS256', kid: 'rsa-1' })).toBeUndefined();
    expect(idp.calls).toBe(1);
  });
});
