import { describe, expect, it } from 'vitest';
import {
  createInterner,
  createRolesSource,
  parseRolesClaim,
  parseScopes,
  projectRolesClaim,
  toAuthContext,
  ZITADEL_ROLES_CLAIM,
} from '../../src/verification/claims.js';

const base = {
  iss: 'https://idp.example',
  sub: 'u1',
  aud: ['p1', 'client@project'],
  exp: 2_000_000_000,
  iat: 1_999_990_000,
  jti: 'V2_1-at_1',
  client_id: 'client@project',
  scope: 'openid  profile',
  'urn:zitadel:iam:user:resourceowner:id': 'org-1',
};

describe('parseRolesClaim', () => {
  it('keeps ZITADEL role maps and drops malformed entries', () => {
    expect(
      parseRolesClaim({
        admin: { '1': 'acme.example', '2': 42 },
        broken: 'yes',
        list: ['x'],
      }),
    ).toEqual({ admin: { '1': 'acme.example' } });
  });

  it('grants nothing for a string array: ZITADEL always sends an object of objects', () => {
    expect(Object.keys(parseRolesClaim(['admin', 'reader']))).toEqual([]);
  });

  it('answers no roles for anything else', () => {
    expect(parseRolesClaim(undefined)).toEqual({});
    expect(parseRolesClaim('admin')).toEqual({});
    expect(parseRolesClaim(null)).toEqual({});
  });

  it('keeps a role named __proto__ as a plain role, changing no other lookup', () => {
    const claim = JSON.parse('{"__proto__":{"admin":{"o":"d"}},"reader":{"o":"d"}}') as unknown;
    const roles = parseRolesClaim(claim);
    expect(Object.keys(roles)).toEqual(['__proto__', 'reader']);
    expect('admin' in roles).toBe(false);
    expect(roles['admin']).toBeUndefined();
    expect('toString' in roles).toBe(false);
    expect(Object.getPrototypeOf(roles)).toBeNull();
    expect(Object.getPrototypeOf(roles['reader'])).toBeNull();
  });
});

describe('createRolesSource', () => {
  const specific = { [projectRolesClaim('p1')]: { admin: { o: 'd' } } };
  const generic = { [ZITADEL_ROLES_CLAIM]: { reader: { o: 'd' } } };

  it('prefers the project-specific claim and falls back to the generic one', () => {
    const source = createRolesSource(undefined, 'p1');
    expect(source({ ...specific, ...generic })).toEqual({ admin: { o: 'd' } });
    expect(source(generic)).toEqual({ reader: { o: 'd' } });
    expect(createRolesSource(undefined, undefined)({ ...specific, ...generic })).toEqual({
      reader: { o: 'd' },
    });
  });

  it('reads a named claim, as a string array too, or uses a mapper', () => {
    expect(createRolesSource('roles', 'p1')({ roles: ['a', '', 7] })).toEqual({ a: {} });
    expect(createRolesSource('roles', 'p1')({ roles: { a: { o: 'd' } } })).toEqual({
      a: { o: 'd' },
    });
    expect(createRolesSource(() => ({ x: {} }), 'p1')({})).toEqual({ x: {} });
  });

  it('reads a named ZITADEL claim strictly', () => {
    const source = createRolesSource(ZITADEL_ROLES_CLAIM, 'p1');
    expect(source({ [ZITADEL_ROLES_CLAIM]: ['admin'] })).toEqual({});
  });

  it('grants nothing for an array in the default ZITADEL claims', () => {
    const source = createRolesSource(undefined, 'p1');
    expect(source({ [projectRolesClaim('p1')]: ['admin'] })).toEqual({});
    expect(source({ [ZITADEL_ROLES_CLAIM]: ['admin'] })).toEqual({});
  });
});

describe('parseScopes', () => {
  it('splits scope, or reads an scp array', () => {
    expect(parseScopes({ scope: 'a  b ' })).toEqual(['a', 'b']);
    expect(parseScopes({ scp: ['a', 1, 'b'] })).toEqual(['a', 'b']);
    expect(parseScopes({ scp: 'User.Read  Mail.Send' })).toEqual(['User.Read', 'Mail.Send']);
    expect(parseScopes({})).toEqual([]);
  });
});

describe('toAuthContext', () => {
  it('normalizes claims to camelCase', () => {
    const auth = toAuthContext({ ...base }, 'opaque', createRolesSource(undefined, 'p1'));
    expect(auth).toMatchObject({
      subject: 'u1',
      clientId: 'client@project',
      orgId: 'org-1',
      scopes: ['openid', 'profile'],
      roles: {},
      issuer: 'https://idp.example',
      audience: ['p1', 'client@project'],
      expiresAt: new Date(2_000_000_000_000),
      issuedAt: new Date(1_999_990_000_000),
      tokenId: 'V2_1-at_1',
      tokenKind: 'opaque',
    });
    expect(auth.claims).toEqual(base);
    expect(Object.isFrozen(auth)).toBe(true);
  });

  it('keeps the claims it is handed, frozen, instead of a copy', () => {
    const claims = { ...base };
    const auth = toAuthContext(claims, 'jwt', createRolesSource(undefined, 'p1'));
    expect(auth.claims).toBe(claims);
    expect(Object.isFrozen(claims)).toBe(true);
  });

  it('shares interned role maps, audiences and scopes between contexts', () => {
    const intern = createInterner();
    const roles = createRolesSource(undefined, 'p1', intern);
    const claim = { [ZITADEL_ROLES_CLAIM]: { admin: { o1: 'acme' } } };
    const a = toAuthContext({ ...base, ...claim, sub: 'a' }, 'jwt', roles, intern);
    const b = toAuthContext({ ...base, ...claim, sub: 'b' }, 'jwt', roles, intern);
    expect(a.roles).toBe(b.roles);
    expect(a.audience).toBe(b.audience);
    expect(a.scopes).toBe(b.scopes);
    expect(Object.isFrozen(a.roles['admin'])).toBe(true);
    const c = toAuthContext({ ...base, sub: 'c', scope: 'openid' }, 'jwt', roles, intern);
    expect(c.scopes).toEqual(['openid']);
    expect(c.scopes).not.toBe(a.scopes);
  });

  it('starts an interner afresh once it holds its most keys', () => {
    const intern = createInterner(2);
    const first = intern('a', () => ['a']);
    intern('b', () => ['b']);
    expect(intern('a', () => ['other'])).toBe(first);
    intern('c', () => ['c']);
    expect(intern('a', () => ['again'])).toEqual(['again']);
  });

  it('falls back to azp, a string audience and missing optional claims', () => {
    const auth = toAuthContext(
      { iss: 'i', sub: 's', aud: 'only', exp: 1, azp: 'spa' },
      'jwt',
      createRolesSource(undefined, undefined),
    );
    expect(auth).toMatchObject({
      clientId: 'spa',
      audience: ['only'],
      orgId: undefined,
      issuedAt: undefined,
      tokenId: undefined,
    });
    expect(toAuthContext({ sub: 's', exp: 'x' }, 'jwt', () => ({})).audience).toEqual([]);
    expect(toAuthContext({ sub: 's', exp: 'x' }, 'jwt', () => ({})).expiresAt).toEqual(new Date(0));
  });
});
