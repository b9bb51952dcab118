/**
 * Discovery: the exact-issuer rule (trailing slashes included), caching on an injected
 * clock, one shared fetch for concurrent callers, failures not remembered, the last
 * trusted document served while the IdP fails, and endpoint look-ups.
 */
import { describe, expect, it } from 'vitest';
import { createDiscovery, discoveryUrl, type DiscoveryOptions } from '../../src/idp/discovery.js';
import { UpstreamError } from '../../src/errors.js';
import type { OperatorFault } from '../../src/observability/operator-fault.js';
import type { FetchLike } from '../../src/idp/http.js';

const ISSUER = 'https://acme.zitadel.cloud';

function document(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer: ISSUER,
    jwks_uri: `${ISSUER}/oauth/v2/keys`,
    introspection_endpoint: `${ISSUER}/oauth/v2/introspect`,
    token_endpoint: `${ISSUER}/oauth/v2/token`,
    ...overrides,
  };
}

/** A fake IdP: answers each call with the next responder (the last one repeats). */
function idp(
  ...responders: (() => Response | Promise<Response>)[]
): FetchLike & { urls: string[]; inits: RequestInit[] } {
  const urls: string[] = [];
  const inits: RequestInit[] = [];
  const fetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    urls.push(String(url));
    inits.push(init ?? {});
    const respond = responders[Math.min(urls.length, responders.length) - 1];
    if (respond === undefined) throw new Error('no responder');
    return respond();
  };
  return Object.assign(fetch, { urls, inits });
}

const ok =
  (body: unknown = document()) =>
  () =>
    new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
const status = (code: number) => () => new Response('{}', { status: code });

function setup(fetch: FetchLike, options: DiscoveryOptions = {}, issuer = ISSUER) {
  let time = 1_000_000;
  const discovery = createDiscovery(issuer, { fetch, now: () => time, ...options });
  return {
    discovery,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

describe('discoveryUrl', () => {
  it.each([
    ['https://acme.zitadel.cloud', 'https://acme.zitadel.cloud/.well-known/openid-configuration'],
    ['https://acme.zitadel.cloud/', 'https://acme.zitadel.cloud/.well-known/openid-configuration'],
    ['https://idp.example/tenant', 'https://idp.example/tenant/.well-known/openid-configuration'],
  ])('appends the well-known path to %s', (issuer, url) => {
    expect(discoveryUrl(issuer)).toBe(url);
  });
});

describe('createDiscovery', () => {
  it('fetches nothing until asked', () => {
    const fetch = idp(ok());
    setup(fetch);
    expect(fetch.urls).toHaveLength(0);
  });

  it('fetches the document from the well-known URL, asking for JSON', async () => {
    const fetch = idp(ok());
    const { discovery } = setup(fetch);
    await expect(discovery.metadata()).resolves.toEqual(document());
    expect(fetch.urls).toEqual([`${ISSUER}/.well-known/openid-configuration`]);
    expect(new Headers(fetch.inits[0]?.headers).get('accept')).toBe('application/json');
    expect(fetch.inits[0]?.redirect).toBe('manual');
  });

  it('reuses the document for ttlMs, then fetches it again', async () => {
    const fetch = idp(ok(), ok(document({ jwks_uri: `${ISSUER}/keys2` })));
    const { discovery, advance } = setup(fetch, { ttlMs: 1_000 });
    await discovery.metadata();
    advance(999);
    await expect(discovery.endpoint('jwks_uri')).resolves.toBe(`${ISSUER}/oauth/v2/keys`);
    expect(fetch.urls).toHaveLength(1);
    advance(1);
    await expect(discovery.endpoint('jwks_uri')).resolves.toBe(`${ISSUER}/keys2`);
    expect(fetch.urls).toHaveLength(2);
  });

  it('keeps a document for an hour by default', async () => {
    const fetch = idp(ok());
    const { discovery, advance } = setup(fetch);
    await discovery.metadata();
    advance(3_599_999);
    await discovery.metadata();
    expect(fetch.urls).toHaveLength(1);
    advance(1);
    await discovery.metadata();
    expect(fetch.urls).toHaveLength(2);
  });

  it('shares one fetch between concurrent callers', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetch = idp(async () => {
      await gate;
      return ok()();
    });
    const { discovery } = setup(fetch);
    const pending = [discovery.metadata(), discovery.endpoint('token_endpoint')];
    release();
    await expect(Promise.all(pending)).resolves.toEqual([document(), `${ISSUER}/oauth/v2/token`]);
    expect(fetch.urls).toHaveLength(1);
  });

  it.each([
    ['another host', 'https://evil.example'],
    ['a trailing slash', `${ISSUER}/`],
    ['another case', ISSUER.toUpperCase()],
    ['no issuer', undefined],
    ['a non-string issuer', 42],
  ])('refuses a document naming %s as issuer', async (_name, issuer) => {
    const { discovery } = setup(idp(ok(document({ issuer }))));
    const error = await discovery.metadata().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    const fault = (error as UpstreamError).cause as OperatorFault;
    expect(fault.kind).toBe('issuer-mismatch');
    expect(fault.message).toContain(`but issuer is set to "${ISSUER}"`);
    expect(fault.message).toContain(
      issuer === undefined
        ? 'names no issuer'
        : `names the issuer ${JSON.stringify(String(issuer))}`,
    );
  });

  it('refuses a document without a trailing slash when the issuer has one', async () => {
    const { discovery } = setup(idp(ok()), {}, `${ISSUER}/`);
    await expect(discovery.metadata()).rejects.toBeInstanceOf(UpstreamError);
  });

  it('accepts an issuer with a trailing slash when the document names it exactly', async () => {
    const fetch = idp(ok(document({ issuer: `${ISSUER}/` })));
    const { discovery } = setup(fetch, {}, `${ISSUER}/`);
    await expect(discovery.endpoint('jwks_uri')).resolves.toBe(`${ISSUER}/oauth/v2/keys`);
    expect(fetch.urls).toEqual([`${ISSUER}/.well-known/openid-configuration`]);
  });

  it.each([
    ['a 404', status(404)],
    ['a 204', () => new Response(null, { status: 204 })],
    ['a 500', status(500)],
    ['a garbage body', () => new Response('<html>')],
    ['a JSON array', ok([])],
    ['a redirect', () => new Response(null, { status: 301, headers: { location: '/x' } })],
    ['a network failure', () => Promise.reject(new TypeError('fetch failed'))],
  ])('turns %s into UpstreamError', async (_name, respond) => {
    const { discovery } = setup(idp(respond));
    await expect(discovery.metadata()).rejects.toBeInstanceOf(UpstreamError);
  });

  it('names the status of a non-200 answer in the cause', async () => {
    const { discovery } = setup(idp(status(404)));
    const error = await discovery.metadata().catch((e: unknown) => e);
    const fault = (error as UpstreamError).cause as OperatorFault;
    expect(fault.kind).toBe('discovery-unreachable');
    expect(fault.message).toBe(
      `zitauth: the discovery document at ${ISSUER}/.well-known/openid-configuration could not ` +
        'be read (discovery answered HTTP 404); check that issuer is the IdP URL and that the ' +
        'IdP is reachable from here',
    );
  });

  it('does not remember a failure: the next call fetches again', async () => {
    const fetch = idp(status(500), ok());
    const { discovery } = setup(fetch);
    await expect(discovery.metadata()).rejects.toBeInstanceOf(UpstreamError);
    await expect(discovery.metadata()).resolves.toEqual(document());
    expect(fetch.urls).toHaveLength(2);
  });

  it('serves the last trusted document while refreshing it fails', async () => {
    const fetch = idp(ok(), status(503), ok(document({ issuer: 'https://evil.example' })), ok());
    const { discovery, advance } = setup(fetch, { ttlMs: 1_000 });
    await discovery.metadata();
    advance(1_000);
    await expect(discovery.metadata()).resolves.toEqual(document());
    // After a failed refresh the trusted document is reused for 30 s without a call.
    await expect(discovery.metadata()).resolves.toEqual(document());
    expect(fetch.urls).toHaveLength(2);
    advance(30_000);
    await expect(discovery.metadata()).resolves.toEqual(document());
    expect(fetch.urls).toHaveLength(3);
    advance(30_000);
    await discovery.metadata();
    expect(fetch.urls).toHaveLength(4);
    await discovery.metadata();
    expect(fetch.urls).toHaveLength(4);
  });

  it('times out with the configured limit', async () => {
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const { discovery } = setup(hanging, { timeoutMs: 10 });
    await expect(discovery.metadata()).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_UPSTREAM_TIMEOUT',
    });
  });

  it('uses Date.now when no clock is given', async () => {
    const fetch = idp(ok());
    const discovery = createDiscovery(ISSUER, { fetch });
    await discovery.metadata();
    await discovery.metadata();
    expect(fetch.urls).toHaveLength(1);
  });
});

describe('endpoint', () => {
  it.each([
    'jwks_uri',
    'introspection_endpoint',
    'token_endpoint',
    'userinfo_endpoint',
    'authorization_endpoint',
    'end_session_endpoint',
    'revocation_endpoint',
  ] as const)('reads %s', async (name) => {
    const { discovery } = setup(idp(ok(document({ [name]: `${ISSUER}/${name}` }))));
    await expect(discovery.endpoint(name)).resolves.toBe(`${ISSUER}/${name}`);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not a string', ['https://x']],
  ])('fails with UpstreamError when the endpoint is %s', async (_name, value) => {
    const { discovery } = setup(idp(ok(document({ introspection_endpoint: value }))));
    const error = await discovery.endpoint('introspection_endpoint').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(((error as UpstreamError).cause as OperatorFault).message).toBe(
      `zitauth: the discovery document of ${ISSUER} does not advertise introspection_endpoint; ` +
        'configure the endpoint explicitly, or use an IdP that offers it',
    );
  });
});
