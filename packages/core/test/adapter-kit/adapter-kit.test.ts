/**
 * The adapter kit's request plumbing: every value of a header from raw headers, and
 * authentication that answers synchronously when it can and falls back to the promise.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  authenticateRequest,
  challengeOptions,
  checkGuard,
  headerValues,
  nodeTokenRequest,
} from '../../src/adapter-kit/index.js';
import type { AuthContext, Verifier } from '../../src/types.js';

const caller = { subject: 'user-1' } as AuthContext;

function handWritten(extra: Partial<Verifier> = {}): Verifier {
  return {
    issuer: 'https://acme.zitadel.cloud',
    realm: 'api',
    verify: async () => caller,
    authenticate: async () => caller,
    close: () => undefined,
    ...extra,
  };
}

describe('headerValues', () => {
  const message = (rawHeaders: string[]) => ({ rawHeaders }) as unknown as IncomingMessage;

  it('collects every value of a header whatever the case of its name', () => {
    const raw = ['Host', 'x', 'authorization', 'Bearer a', 'AUTHORIZATION', 'Bearer b'];
    expect(headerValues(message(raw), 'authorization')).toEqual(['Bearer a', 'Bearer b']);
  });

  it('answers undefined for a header that was not sent', () => {
    expect(headerValues(message(['Host', 'x', 'Author', 'y']), 'authorization')).toBeUndefined();
  });
});

describe('nodeTokenRequest', () => {
  const message = (rawHeaders: string[]) =>
    ({
      rawHeaders,
      headers: {},
      method: 'GET',
      url: '/x',
      socket: {},
    }) as unknown as IncomingMessage;

  it('reads Authorization and DPoP in any case, one value as a string', () => {
    const request = nodeTokenRequest(
      message(['AUTHORIZATION', 'Bearer a', 'dPoP', 'proof', 'Authorisation', 'Bearer b']),
    );
    expect(request.authorization).toBe('Bearer a');
    expect(request.dpop).toBe('proof');
  });

  it('keeps every value of a repeated header, in order', () => {
    const request = nodeTokenRequest(
      message(['Authorization', 'Bearer a', 'authorization', 'Bearer b', 'Authorization', 'c']),
    );
    expect(request.authorization).toEqual(['Bearer a', 'Bearer b', 'c']);
    expect(request.dpop).toBeUndefined();
  });

  it('takes no header whose name only looks alike', () => {
    // Same lengths; one letter off, and a control character where a letter would be.
    const request = nodeTokenRequest(message(['Authorizatioo', 'Bearer a', 'dpo\u0010', 'p']));
    expect(request.authorization).toBeUndefined();
    expect(request.dpop).toBeUndefined();
  });
});

describe('authenticateRequest', () => {
  it('answers synchronously when the verifier knows the answer', () => {
    const verifier = handWritten({ authenticateSync: () => caller });
    expect(authenticateRequest(verifier, {}, true)).toBe(caller);
  });

  it('falls back to authenticate when memory has no answer', async () => {
    const verifier = handWritten({ authenticateSync: () => undefined });
    const answer = authenticateRequest(verifier, {}, true);
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toBe(caller);
  });

  it('uses authenticate alone for a verifier without authenticateSync', async () => {
    await expect(authenticateRequest(handWritten(), {}, false)).resolves.toBe(caller);
  });
});

describe('guards with DPoP on', () => {
  const challenge = challengeOptions(
    handWritten({ dpopChallenge: { algs: 'ES256', bearer: true } }),
  );
  const bound = { subject: 'user-1', claims: { cnf: { jkt: 'abc' } } } as unknown as AuthContext;
  const plain = { subject: 'user-1', claims: {} } as unknown as AuthContext;

  it('puts the error on the DPoP challenge for a bound token, also when the check is async', async () => {
    const guard = checkGuard<unknown>(async () => false);
    const error = await Promise.resolve(guard(bound, {}, challenge)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 403,
      headers: {
        'WWW-Authenticate':
          'Bearer realm="api", DPoP realm="api", error="insufficient_scope", ' +
          'error_description="The access token does not grant the required permission", algs="ES256"',
      },
    });
  });

  it('keeps the error on the Bearer challenge for an unbound token', () => {
    const guard = checkGuard<unknown>(() => false);
    expect(() => guard(plain, {}, challenge)).toThrow(
      expect.objectContaining({
        headers: expect.objectContaining({
          'WWW-Authenticate': expect.stringMatching(
            /^Bearer realm="api", error="insufficient_scope"/,
          ),
        }),
      }),
    );
  });

  it('lets anything that is not a refusal through unchanged', () => {
    const bug = new TypeError('predicate bug');
    const guard = checkGuard<unknown>(() => {
      throw bug;
    });
    expect(() => guard(bound, {}, challenge)).toThrow(bug);
  });

  it('allows as before', async () => {
    await expect(
      Promise.resolve(checkGuard<unknown>(async () => true)(bound, {}, challenge)),
    ).resolves.toBeUndefined();
  });
});
