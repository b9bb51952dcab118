/**
 * The claim rules shared by JWT payloads and introspection answers: issuer, lifetime
 * (with tolerance and non-finite values), maximum age, audience, client and subject.
 */
import { describe, expect, it } from 'vitest';
import { checkClaims, type ClaimPolicy } from '../../src/verification/claim-checks.js';
import { InvalidTokenError } from '../../src/errors.js';

const ISSUER = 'https://acme.zitadel.cloud';
const PROJECT = '178204173316174381';
const NOW = Date.UTC(2026, 0, 1);
const NOW_S = NOW / 1000;

const POLICY: ClaimPolicy = { issuer: ISSUER, audiences: [PROJECT], clockToleranceMs: 5_000 };

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    sub: '2234567890',
    aud: [PROJECT, '2234@acme'],
    exp: NOW_S + 300,
    iat: NOW_S - 10,
    nbf: NOW_S - 10,
    client_id: '2234@acme',
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
}

/** Runs the checks as a promise, so failures can be asserted with `rejects`. */
async function check(
  overrides: Record<string, unknown>,
  policy: Partial<ClaimPolicy> = {},
): Promise<void> {
  checkClaims(claims(overrides), { ...POLICY, ...policy }, NOW);
}

describe('checkClaims', () => {
  it('accepts claims that satisfy the policy', async () => {
    await expect(check({})).resolves.toBeUndefined();
  });

  it('accepts claims without nbf and iat', async () => {
    await expect(check({ nbf: undefined, iat: undefined })).resolves.toBeUndefined();
  });

  it('throws an InvalidTokenError answering 401', async () => {
    const failure = check({ iss: 'https://evil.example' });
    await expect(failure).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(failure).rejects.toMatchObject({ status: 401, error: 'invalid_token' });
  });

  describe('issuer', () => {
    it.each([
      ['another issuer', 'https://evil.example'],
      ['a trailing slash', `${ISSUER}/`],
      ['a different case', ISSUER.toUpperCase()],
      ['no issuer', undefined],
      ['a non-string issuer', 42],
    ])('rejects %s', async (_, iss) => {
      await expect(check({ iss })).rejects.toMatchObject({ code: 'ERR_ZITAUTH_ISSUER_MISMATCH' });
    });
  });

  describe('expiry', () => {
    it.each([
      ['missing', undefined],
      ['a string', String(NOW_S + 300)],
      ['null (what JSON makes of 1e400)', null],
      ['Infinity (what JSON.parse makes of 1e400)', Infinity],
      ['NaN', NaN],
      ['a boolean', true],
    ])('rejects an exp that is %s', async (_, exp) => {
      await expect(check({ exp })).rejects.toMatchObject({ code: 'ERR_ZITAUTH_CLAIM_INVALID' });
    });

    it('rejects an expired token', async () => {
      await expect(check({ exp: NOW_S - 60 })).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_TOKEN_EXPIRED',
      });
    });

    it('rejects a token that expires exactly at now minus the tolerance', async () => {
      await expect(check({ exp: NOW_S - 5 })).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_TOKEN_EXPIRED',
      });
    });

    it('accepts a token that expired within the clock tolerance', async () => {
      await expect(check({ exp: NOW_S - 4 })).resolves.toBeUndefined();
    });

    it('accepts fractional NumericDates', async () => {
      await expect(check({ exp: NOW_S + 0.5, iat: NOW_S - 0.5 })).resolves.toBeUndefined();
    });
  });

  describe('not before and issued at', () => {
    it('rejects an nbf beyond the clock tolerance', async () => {
      await expect(check({ nbf: NOW_S + 6 })).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_TOKEN_NOT_YET_VALID',
      });
    });

    it('accepts an nbf within the clock tolerance', async () => {
      await expect(check({ nbf: NOW_S + 5 })).resolves.toBeUndefined();
    });

    it('rejects an iat in the future beyond the clock tolerance', async () => {
      await expect(check({ iat: NOW_S + 60, nbf: undefined })).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_TOKEN_NOT_YET_VALID',
      });
    });

    it.each([
      ['nbf', 'soon'],
      ['nbf', Infinity],
      ['iat', null],
      ['iat', -Infinity],
    ])('rejects a non-finite %s (%s)', async (name, value) => {
      await expect(check({ [name]: value })).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_CLAIM_INVALID',
      });
    });
  });

  describe('maximum token age', () => {
    it('accepts a token younger than the maximum age', async () => {
      await expect(check({ iat: NOW_S - 60 }, { maxTokenAgeMs: 120_000 })).resolves.toBeUndefined();
    });

    it('rejects a token older than the maximum age plus tolerance', async () => {
      await expect(check({ iat: NOW_S - 126 }, { maxTokenAgeMs: 120_000 })).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_TOKEN_TOO_OLD',
      });
    });

    it('accepts a token exactly at the maximum age plus tolerance', async () => {
      await expect(
        check({ iat: NOW_S - 125 }, { maxTokenAgeMs: 120_000 }),
      ).resolves.toBeUndefined();
    });

    it('requires iat when a maximum age is set', async () => {
      await expect(check({ iat: undefined }, { maxTokenAgeMs: 120_000 })).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_CLAIM_INVALID',
      });
    });
  });

  describe('audience', () => {
    it('accepts a string aud equal to an accepted audience', async () => {
      await expect(check({ aud: PROJECT })).resolves.toBeUndefined();
    });

    it('accepts when any accepted audience is in aud', async () => {
      await expect(check({ aud: ['other', 'api'] }, { audiences: [PROJECT, 'api'] })).resolves.toBe(
        undefined,
      );
    });

    it.each([
      ['missing', undefined],
      ['another project', '999'],
      ['an array without the project', ['999', '2234@acme']],
      ['an empty array', []],
    ])('rejects an aud that is %s', async (_, aud) => {
      await expect(check({ aud })).rejects.toMatchObject({ code: 'ERR_ZITAUTH_AUDIENCE_MISMATCH' });
    });

    it('rejects every aud when no audience is accepted', async () => {
      await expect(check({}, { audiences: [] })).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_AUDIENCE_MISMATCH',
      });
    });

    it.each([
      ['a number', 1782041733],
      ['an array holding a number', [PROJECT, 7]],
      ['an object', { [PROJECT]: true }],
      ['null', null],
    ])('rejects an aud that is %s as invalid', async (_, aud) => {
      await expect(check({ aud })).rejects.toMatchObject({ code: 'ERR_ZITAUTH_CLAIM_INVALID' });
    });
  });

  describe('allowed clients', () => {
    const allowedClientIds = ['2234@acme', '5678@acme'];

    it('accepts an allowed client_id', async () => {
      await expect(check({}, { allowedClientIds })).resolves.toBeUndefined();
    });

    it('falls back to azp when client_id is absent', async () => {
      await expect(
        check({ client_id: undefined, azp: '5678@acme' }, { allowedClientIds }),
      ).resolves.toBeUndefined();
    });

    it('prefers client_id over azp', async () => {
      await expect(
        check({ client_id: 'evil@acme', azp: '5678@acme' }, { allowedClientIds }),
      ).rejects.toMatchObject({ code: 'ERR_ZITAUTH_CLIENT_NOT_ALLOWED' });
    });

    it.each([
      ['another client', 'evil@acme'],
      ['no client', undefined],
      ['a non-string client', 2234],
    ])('rejects %s', async (_, clientId) => {
      await expect(check({ client_id: clientId }, { allowedClientIds })).rejects.toMatchObject({
        code: 'ERR_ZITAUTH_CLIENT_NOT_ALLOWED',
      });
    });

    it('ignores the client when no allowlist is set', async () => {
      await expect(check({ client_id: undefined }, { allowedClientIds: undefined })).resolves.toBe(
        undefined,
      );
    });
  });

  describe('subject', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['a number', 2234567890],
    ])('rejects a sub that is %s', async (_, sub) => {
      await expect(check({ sub })).rejects.toMatchObject({ code: 'ERR_ZITAUTH_CLAIM_INVALID' });
    });
  });

  it('checks the issuer before the lifetime', async () => {
    await expect(check({ iss: 'https://evil.example', exp: NOW_S - 600 })).rejects.toMatchObject({
      code: 'ERR_ZITAUTH_ISSUER_MISMATCH',
    });
  });
});
