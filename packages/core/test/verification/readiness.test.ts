// The start-up check, `await verifier.ready()`, against the real testing IdP: a good
// set-up resolves (and warms the key set), every misconfiguration an operator makes on day
// one rejects with a ZitauthConfigError that names the fix, for one issuer and for several.
import { createServer } from 'node:net';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import {
  CHANNELS,
  createMultiIssuerVerifier,
  createVerifier,
  OperatorFault,
  ZitauthConfigError,
  type MultiIssuerVerifier,
  type VerifierOptions,
  type ZitauthVerifier,
} from '../../src/index.js';

let idp: TestIdp;
let other: TestIdp;
let credentials: { clientId: string; clientSecret: string };
const closers: { close(): void }[] = [];

beforeAll(async () => {
  [idp, other] = await Promise.all([startTestIdp(), startTestIdp()]);
  const app = idp.createApiApp({ auth: 'basic' });
  credentials = { clientId: app.clientId, clientSecret: app.clientSecret };
});
afterAll(async () => {
  await Promise.all([idp.close(), other.close()]);
});
afterEach(() => {
  for (const closer of closers.splice(0)) closer.close();
  for (const each of [idp, other]) {
    each.faults.clear();
    each.resetCalls();
  }
});

function verifier(options: Partial<VerifierOptions> = {}): ZitauthVerifier {
  const created = createVerifier({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    ...options,
  });
  closers.push(created);
  return created;
}

/** A loopback port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The rejection of a start-up check, asserted to be a ZitauthConfigError caused by a fault. */
async function failure(check: Promise<void>): Promise<ZitauthConfigError> {
  const error = await check.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ZitauthConfigError);
  return error as ZitauthConfigError;
}

describe('verifier.ready()', () => {
  it('resolves for a good JWT set-up, with the key set fetched for the first token', async () => {
    const v = verifier();
    await expect(v.ready()).resolves.toBeUndefined();
    expect(idp.calls('discovery')).toBe(1);
    expect(idp.calls('keys')).toBe(1);
    await v.verify(await idp.mintAccessToken());
    expect(idp.calls('keys')).toBe(1);
  });

  it('proves introspection credentials with one call for a good set-up', async () => {
    const v = verifier({ introspection: credentials });
    await v.ready();
    expect(idp.calls('introspect')).toBe(1);
    const opaque = await idp.mintAccessToken({ format: 'opaque' });
    await expect(v.verify(opaque)).resolves.toMatchObject({ tokenKind: 'opaque' });
  });

  it('checks introspection alone with mode introspect (no key set)', async () => {
    await verifier({ mode: 'introspect', introspection: credentials }).ready();
    expect(idp.calls('keys')).toBe(0);
    expect(idp.calls('introspect')).toBe(1);
  });

  it('names both issuer values when the configured one has a trailing slash', async () => {
    const error = await failure(verifier({ issuer: `${idp.issuer}/` }).ready());
    expect(error.message).toMatch(/^zitauth: start-up check failed: the discovery document at /);
    expect(error.message).toContain(`names the issuer "${idp.issuer}"`);
    expect(error.message).toContain(`but issuer is set to "${idp.issuer}/"`);
    expect(error.cause).toBeInstanceOf(OperatorFault);
    expect((error.cause as OperatorFault).kind).toBe('issuer-mismatch');
  });

  it('names both issuer values when the configured host is another name of the IdP', async () => {
    const localhost = idp.issuer.replace('127.0.0.1', 'localhost');
    const error = await failure(verifier({ issuer: localhost }).ready());
    expect(error.message).toContain(`names the issuer "${idp.issuer}"`);
    expect(error.message).toContain(`but issuer is set to "${localhost}"`);
  });

  it('says the introspection client credentials were refused, never the secret', async () => {
    const secret = 'not-the-secret';
    const v = verifier({ introspection: { clientId: credentials.clientId, clientSecret: secret } });
    const error = await failure(v.ready());
    expect(error.message).toContain('introspection refused the client credentials (HTTP 401');
    expect(error.message).toContain('check introspection.clientId and clientSecret');
    expect(error.message).not.toContain(secret);
    expect((error.cause as OperatorFault).kind).toBe('introspection-client-refused');
  });

  it('takes a 400 invalid_client from the introspection endpoint as refused credentials', async () => {
    idp.faults.set('introspect', { status: 400, body: '{"error":"invalid_client"}' });
    const error = await failure(verifier({ introspection: credentials }).ready());
    expect(error.message).toContain('introspection refused the client credentials (HTTP 400');
  });

  it('takes any other 400 from the introspection endpoint as an endpoint it cannot use', async () => {
    idp.faults.set('introspect', { status: 400, body: '{"error":"invalid_request"}' });
    const error = await failure(verifier({ introspection: credentials }).ready());
    expect(error.message).toContain(
      'could not be used (the introspection endpoint answered HTTP 400)',
    );
    idp.faults.set('introspect', { status: 400, body: 'garbage' });
    await failure(verifier({ introspection: credentials }).ready());
  });

  it('names the key set URL when the keys cannot be read', async () => {
    idp.faults.set('keys', { status: 500 });
    const error = await failure(verifier().ready());
    expect(error.message).toContain(`the key set at ${idp.issuer}/oauth/v2/keys could not be read`);
    expect((error.cause as OperatorFault).kind).toBe('keys-unreachable');
  });

  it('says the IdP cannot be reached when nothing listens at the issuer', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    const error = await failure(verifier({ issuer }).ready());
    expect(error.message).toContain(
      `the discovery document at ${issuer}/.well-known/openid-configuration could not be read`,
    );
    expect(error.message).toContain('ECONNREFUSED');
    expect((error.cause as OperatorFault).kind).toBe('discovery-unreachable');
  });

  it('publishes the fault on the operator-fault channel as requests would', async () => {
    const seen: unknown[] = [];
    const listener = (message: unknown): void => void seen.push(message);
    subscribe(CHANNELS.operatorFault, listener);
    try {
      await failure(verifier({ issuer: `${idp.issuer}/` }).ready());
    } finally {
      unsubscribe(CHANNELS.operatorFault, listener);
    }
    expect(seen).toEqual([expect.objectContaining({ kind: 'issuer-mismatch' })]);
  });

  it('reports an open circuit by the fault that names the endpoint', async () => {
    idp.faults.set('introspect', { status: 500 });
    const v = verifier({
      mode: 'introspect',
      introspection: credentials,
      circuitBreaker: { failureThreshold: 1, coolOffMs: 60_000 },
    });
    await failure(v.ready());
    const error = await failure(v.ready());
    expect(error.message).toContain(
      `zitauth: start-up check failed: circuit open after 1 failure of the introspection endpoint ${idp.issuer}/oauth/v2/introspect: `,
    );
  });
});

describe('multi-issuer ready()', () => {
  function multi(issuers: VerifierOptions[]): MultiIssuerVerifier {
    const created = createMultiIssuerVerifier({ issuers });
    closers.push(created);
    return created;
  }

  it('resolves when every issuer is ready', async () => {
    const v = multi([
      { issuer: idp.issuer, projectId: idp.defaultProject.id, introspection: credentials },
      { issuer: other.issuer, projectId: other.defaultProject.id },
    ]);
    await v.ready();
    expect(idp.calls('introspect')).toBe(1);
    expect(other.calls('keys')).toBe(1);
  });

  it('names the issuer that failed', async () => {
    other.faults.set('keys', { status: 503 });
    const v = multi([
      { issuer: idp.issuer, projectId: idp.defaultProject.id },
      { issuer: other.issuer, projectId: other.defaultProject.id },
    ]);
    const error = await failure(v.ready());
    expect(error.message).toMatch(
      new RegExp(
        `^zitauth: start-up check failed for issuers\\[1\\] \\(${other.issuer}\\): the key set at`,
      ),
    );
    expect(error.message).not.toContain(`issuers[0]`);
    expect(error.cause).toBeInstanceOf(OperatorFault);
  });

  it('names every issuer that failed, in configured order', async () => {
    const v = multi([
      {
        issuer: idp.issuer,
        projectId: idp.defaultProject.id,
        introspection: { clientId: credentials.clientId, clientSecret: 'wrong' },
      },
      { issuer: `${other.issuer}/`, projectId: other.defaultProject.id },
    ]);
    const error = await failure(v.ready());
    const [first, second] = error.message.split('\n');
    expect(first).toContain(
      `for issuers[0] (${idp.issuer}): introspection refused the client credentials`,
    );
    expect(second).toContain(`for issuers[1] (${other.issuer}/): the discovery document at`);
    expect((error.cause as OperatorFault).kind).toBe('introspection-client-refused');
  });
});
