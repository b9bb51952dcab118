// The zitauth:idp tracing channel around every IdP call, against the real testing IdP:
// endpoint kind, URL, status, duration and error code, and never a response body (an
// introspection answer holds claims, a token answer holds a token).
import diagnostics from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  CHANNELS,
  createTokenClient,
  createVerifier,
  fetchUserinfo,
  type IdpCallMessage,
  type Verifier,
} from '../../src/index.js';

let idp: TestIdp;
const verifiers: Verifier[] = [];
const unsubscribers: (() => void)[] = [];

beforeAll(async () => {
  idp = await startTestIdp();
});
afterEach(() => {
  for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
  for (const verifier of verifiers.splice(0)) verifier.close();
  idp.faults.clear();
});
afterAll(async () => {
  await idp.close();
});

/** Every event of the tracing channel, as [event name, copy of the context]. */
function trace(): [string, IdpCallMessage][] {
  const events: [string, IdpCallMessage][] = [];
  const channel = diagnostics.tracingChannel<unknown, IdpCallMessage>(CHANNELS.idpCall);
  const record = (name: string) => (message: IdpCallMessage) =>
    void events.push([name, { ...message }]);
  const handlers = {
    start: record('start'),
    end: record('end'),
    asyncStart: record('asyncStart'),
    asyncEnd: record('asyncEnd'),
    error: record('error'),
  };
  channel.subscribe(handlers);
  unsubscribers.push(() => channel.unsubscribe(handlers));
  return events;
}

/** The finished calls: the context as `asyncEnd` sees it. */
function finished(events: [string, IdpCallMessage][]): IdpCallMessage[] {
  return events.filter(([name]) => name === 'asyncEnd').map(([, message]) => message);
}

function verifier(options: Partial<Parameters<typeof createVerifier>[0]> = {}): Verifier {
  const created = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    ...options,
  });
  verifiers.push(created);
  return created;
}

describe('the zitauth:idp tracing channel', () => {
  it('traces discovery and the key set with status and duration', async () => {
    const events = trace();
    await verifier().verify(await idp.mintAccessToken());
    const calls = finished(events);
    expect(
      calls.map(({ endpoint, url, status, errorCode }) => ({ endpoint, url, status, errorCode })),
    ).toEqual([
      {
        endpoint: 'discovery',
        url: `${idp.issuer}/.well-known/openid-configuration`,
        status: 200,
        errorCode: undefined,
      },
      { endpoint: 'keys', url: `${idp.issuer}/oauth/v2/keys`, status: 200, errorCode: undefined },
    ]);
    for (const call of calls) expect(call.durationMs).toBeGreaterThanOrEqual(0);
    expect(events.map(([name]) => name).slice(0, 2)).toEqual(['start', 'end']);
  });

  it('traces introspection without putting the answer on the context', async () => {
    const events = trace();
    const app = idp.createApiApp({ auth: 'basic' });
    const token = await idp.mintAccessToken({ format: 'opaque', subject: 'user-42' });
    await verifier({
      introspection: { clientId: app.clientId, clientSecret: app.clientSecret },
    }).verify(token);
    const call = finished(events).find((message) => message.endpoint === 'introspection');
    expect(call).toMatchObject({ url: `${idp.issuer}/oauth/v2/introspect`, status: 200 });
    expect(JSON.stringify(events)).not.toContain('user-42');
    expect(JSON.stringify(events)).not.toContain(token);
    expect((call as { result?: unknown }).result).toBeUndefined();
  });

  it('reports a failed call with its status and error code on the error event', async () => {
    const events = trace();
    idp.faults.set('keys', { status: 500 });
    await expect(verifier().verify(await idp.mintAccessToken())).rejects.toMatchObject({
      status: 503,
    });
    const failed = events.filter(([name]) => name === 'error').map(([, message]) => message);
    expect(failed).toEqual([
      expect.objectContaining({
        endpoint: 'keys',
        status: 500,
        errorCode: 'ERR_ZITAUTH_UPSTREAM',
        error: expect.any(Error),
      }),
    ]);
  });

  it('reports a refusal status of the introspection endpoint', async () => {
    const events = trace();
    const token = await idp.mintAccessToken({ format: 'opaque' });
    await expect(
      verifier({ introspection: { clientId: 'x', clientSecret: 'wrong' } }).verify(token),
    ).rejects.toMatchObject({ status: 503 });
    expect(finished(events).at(-1)).toMatchObject({
      endpoint: 'introspection',
      status: 401,
      errorCode: 'ERR_ZITAUTH_UPSTREAM',
    });
  });

  it('traces the token endpoint and userinfo, never the token they carry', async () => {
    const events = trace();
    const user = idp.createServiceUser();
    const client = createTokenClient({
      issuer: idp.issuer,
      keyFile: user.keyFile,
      tokenEndpoint: `${idp.issuer}/oauth/v2/token`,
    });
    const token = await client.getToken();
    client.close();
    await fetchUserinfo(token, {
      issuer: idp.issuer,
      userinfoEndpoint: `${idp.issuer}/oidc/v1/userinfo`,
    });
    expect(finished(events).map(({ endpoint, status }) => [endpoint, status])).toEqual([
      ['token', 200],
      ['userinfo', 200],
    ]);
    expect(JSON.stringify(events)).not.toContain(token);
  });
});
