/**
 * `answerRequest`: the adapters' way to a verifier's answer, with refusals known at once
 * returned as values. Every answer must be the one `authenticateRequest` throws or
 * returns, for a single verifier and a multi-issuer one; a verifier built elsewhere is
 * asked the throwing way.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import type { ZitauthError } from '../../src/index.js';
import {
  answerRequest,
  authenticateRequest,
  createMultiIssuerVerifier,
  createVerifier,
  InvalidRequestError,
  InvalidTokenError,
  UnauthorizedError,
  type AuthContext,
  type TokenRequest,
  type Verifier,
} from '../../src/index.js';

let idp: TestIdp;
let other: TestIdp;
let token: string;
let forged: string;

beforeAll(async () => {
  [idp, other] = await Promise.all([startTestIdp(), startTestIdp({ algorithm: 'ES256' })]);
  token = await idp.mintAccessToken({ roles: ['reader'] });
  forged = `${token.slice(0, -6)}AAAAAA`;
});
afterAll(async () => {
  await Promise.all([idp.close(), other.close()]);
});

const bearer = (value: string): TokenRequest => ({ authorization: `Bearer ${value}` });

/** What `authenticateRequest` gives for the same request: its value, or what it throws. */
function thrownOrReturned(verifier: Verifier, request: TokenRequest, required = true) {
  try {
    return authenticateRequest(verifier, request, required);
  } catch (error) {
    return error;
  }
}

function verifiers(): Array<[string, () => Verifier]> {
  const options = { realm: 'orders', protectedResource: { resource: 'https://api.example' } };
  return [
    [
      'a verifier',
      () => createVerifier({ issuer: idp.issuer, projectId: idp.defaultProject.id, ...options }),
    ],
    [
      'a multi-issuer verifier',
      () =>
        createMultiIssuerVerifier({
          issuers: [
            { issuer: other.issuer, projectId: other.defaultProject.id },
            { issuer: idp.issuer, projectId: idp.defaultProject.id },
          ],
          ...options,
        }),
    ],
  ];
}

describe.each(verifiers())('answerRequest with %s', (_name, build) => {
  it('returns the no-token refusal, or null when auth is optional', () => {
    const verifier = build();
    const answer = answerRequest(verifier, {}, true);
    expect(answer).toBeInstanceOf(UnauthorizedError);
    expect(answer).toEqual(thrownOrReturned(verifier, {}));
    expect((answer as ZitauthError).headers['WWW-Authenticate']).toBe(
      'Bearer realm="orders", resource_metadata="https://api.example/.well-known/oauth-protected-resource"',
    );
    expect(answerRequest(verifier, {}, false)).toBeNull();
    verifier.close();
  });

  it('returns a malformed request’s refusal', () => {
    const verifier = build();
    const request = { authorization: ['Bearer a', 'Bearer b'] };
    const answer = answerRequest(verifier, request, true);
    expect(answer).toBeInstanceOf(InvalidRequestError);
    expect(answer).toEqual(thrownOrReturned(verifier, request));
    verifier.close();
  });

  it('returns the refusal of a token memory already refused, published once per request', async () => {
    const verifier = build();
    await expect(verifier.authenticate(bearer(forged))).rejects.toBeInstanceOf(InvalidTokenError);
    const published: unknown[] = [];
    const listener = (message: unknown) => published.push(message);
    subscribe('zitauth:refused', listener);
    try {
      const answer = answerRequest(verifier, bearer(forged), true);
      expect(answer).toBeInstanceOf(InvalidTokenError);
      expect(answer).toMatchObject({ status: 401, code: 'ERR_ZITAUTH_SIGNATURE_INVALID' });
      expect((answer as ZitauthError).headers['WWW-Authenticate']).toMatch(
        /^Bearer realm="orders", error="invalid_token", .*resource_metadata=/,
      );
      expect(published).toHaveLength(1);
      expect(answer).toEqual(thrownOrReturned(verifier, bearer(forged)));
    } finally {
      unsubscribe('zitauth:refused', listener);
    }
    verifier.close();
  });

  it('returns a first-seen forged token’s refusal at once when the keys are in memory', async () => {
    const verifier = build();
    await verifier.authenticate(bearer(token));
    const dot = token.lastIndexOf('.');
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    signature[7]! ^= 1;
    const fresh = `${token.slice(0, dot + 1)}${signature.toString('base64url')}`;
    const events: string[] = [];
    const channels = ['zitauth:refused', 'zitauth:cache:hit', 'zitauth:cache:miss'];
    const listeners = channels.map((name) => {
      const listener = () => events.push(name);
      subscribe(name, listener);
      return [name, listener] as const;
    });
    try {
      const answer = answerRequest(verifier, bearer(fresh), true);
      expect(answer).toBeInstanceOf(InvalidTokenError);
      expect(answer).toMatchObject({ status: 401, code: 'ERR_ZITAUTH_SIGNATURE_INVALID' });
      expect(events).toEqual(['zitauth:cache:miss', 'zitauth:refused']);
      events.length = 0;
      // The second time memory answers, with the same refusal and the same events.
      expect(answerRequest(verifier, bearer(fresh), true)).toEqual(answer);
      expect(events).toEqual(['zitauth:cache:miss', 'zitauth:refused']);
      expect(answer).toEqual(thrownOrReturned(verifier, bearer(fresh)));
    } finally {
      for (const [name, listener] of listeners) unsubscribe(name, listener);
    }
    verifier.close();
  });

  it('answers a token memory knows with its caller, and a token it must fetch keys for with a promise', async () => {
    const verifier = build();
    const first = answerRequest(verifier, bearer(token), true);
    expect(first).toBeInstanceOf(Promise);
    const caller = await (first as Promise<AuthContext>);
    expect(caller.subject).toBeTypeOf('string');
    const again = answerRequest(verifier, bearer(token), true);
    expect(again).not.toBeInstanceOf(Promise);
    expect((again as AuthContext).subject).toBe(caller.subject);
    verifier.close();
  });
});

describe('answerRequest with a verifier built elsewhere', () => {
  it('asks it the throwing way, so its refusal still reaches the caller', () => {
    const refusal = new InvalidTokenError('ERR_ZITAUTH_TOKEN_EXPIRED');
    const verifier: Verifier = {
      issuer: 'https://acme.zitadel.cloud',
      realm: 'api',
      verify: () => Promise.reject(refusal),
      authenticate: () => Promise.reject(refusal),
      authenticateSync: () => {
        throw refusal;
      },
      close: () => undefined,
    };
    expect(() => answerRequest(verifier, bearer('abc'), true)).toThrow(refusal);
  });
});
