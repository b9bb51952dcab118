import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  hasAllRoles,
  hasAnyRole,
  hasRole,
  hasScope,
  requireCheck,
  requireRoles,
  requireScopes,
  roleOrganizations,
  type AuthContext,
} from '../../src/index.js';
import { JWT_WITHOUT_SCOPE_HINT } from '../../src/adapter-kit/authorize.js';
import { toAuthContext, createRolesSource } from '../../src/verification/claims.js';

const ACME = '178204173316174381';
const OTHER = '200000000000000001';

function caller(
  roles: Record<string, Record<string, string>>,
  scope = 'openid profile',
): AuthContext {
  return toAuthContext(
    {
      iss: 'https://idp.example',
      sub: 'user-1',
      aud: ['project'],
      exp: 2_000_000_000,
      scope,
      'urn:zitadel:iam:org:project:roles': roles,
    },
    'jwt',
    createRolesSource(undefined, undefined),
  );
}

const editor = caller({
  editor: { [ACME]: 'acme.zitadel.cloud' },
  reader: { [OTHER]: 'other.example' },
});

describe('role helpers', () => {
  it('finds a role in any organisation or in a named one', () => {
    expect(hasRole(editor, 'editor')).toBe(true);
    expect(hasRole(editor, 'editor', ACME)).toBe(true);
    expect(hasRole(editor, 'editor', OTHER)).toBe(false);
    expect(hasRole(editor, 'admin')).toBe(false);
    expect(roleOrganizations(editor, 'editor')).toEqual({ [ACME]: 'acme.zitadel.cloud' });
    expect(roleOrganizations(editor, 'admin')).toEqual({});
  });

  it('does not treat inherited object keys as roles', () => {
    expect(hasRole(editor, 'constructor')).toBe(false);
    expect(hasRole(editor, 'toString', ACME)).toBe(false);
  });

  it('combines roles with any and all', () => {
    expect(hasAnyRole(editor, ['admin', 'editor'])).toBe(true);
    expect(hasAllRoles(editor, ['admin', 'editor'])).toBe(false);
    expect(hasAllRoles(editor, ['reader', 'editor'])).toBe(true);
    expect(hasAllRoles(editor, ['reader', 'editor'], ACME)).toBe(false);
  });

  it('reads scopes', () => {
    expect(hasScope(editor, 'profile')).toBe(true);
    expect(hasScope(editor, 'email')).toBe(false);
  });
});

describe('requireRoles', () => {
  it('passes when every role is held', () => {
    expect(() => requireRoles(['editor', 'reader'])(editor)).not.toThrow();
  });

  it('refuses a missing role with 403 insufficient_scope', () => {
    expect(() => requireRoles('admin')(editor)).toThrow(
      expect.objectContaining({
        status: 403,
        code: 'ERR_ZITAUTH_INSUFFICIENT_SCOPE',
        headers: {
          'WWW-Authenticate':
            'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required permission"',
        },
      }),
    );
  });

  it('accepts one of several roles with match any', () => {
    expect(() => requireRoles(['admin', 'editor'], { match: 'any' })(editor)).not.toThrow();
    expect(() => requireRoles(['admin', 'owner'], { match: 'any' })(editor)).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });

  it('checks the role in the organisation the request names', () => {
    const check = requireRoles('editor');
    expect(() => check(editor, { orgId: ACME })).not.toThrow();
    expect(() => check(editor, { orgId: OTHER })).toThrow(expect.objectContaining({ status: 403 }));
  });

  it('refuses when an organisation is required and the request names none', () => {
    const check = requireRoles('editor', { orgRequired: true });
    expect(() => check(editor)).toThrow(expect.objectContaining({ status: 403 }));
    expect(() => check(editor, { orgId: ACME })).not.toThrow();
  });

  it('answers 401 with a bare challenge when nobody is authenticated', () => {
    expect(() => requireRoles('editor')(null, { realm: 'quotes' })).toThrow(
      expect.objectContaining({
        status: 401,
        headers: { 'WWW-Authenticate': 'Bearer realm="quotes"' },
      }),
    );
    expect(() => requireRoles('editor')(undefined)).toThrow(
      expect.objectContaining({ status: 401 }),
    );
  });

  it('refuses an empty role list at construction', () => {
    expect(() => requireRoles([])).toThrow(
      expect.objectContaining({ code: 'ERR_ZITAUTH_INVALID_OPTION' }),
    );
    expect(() => requireRoles([''])).toThrow(TypeError);
  });
});

describe('requireScopes', () => {
  it('names the required scopes in the challenge', () => {
    expect(() => requireScopes(['quotes:write', 'profile'])(editor)).toThrow(
      expect.objectContaining({
        status: 403,
        headers: {
          'WWW-Authenticate':
            'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required permission", scope="quotes:write profile"',
        },
      }),
    );
  });

  it('passes with all scopes, or any with match any', () => {
    expect(() => requireScopes(['openid', 'profile'])(editor)).not.toThrow();
    expect(() => requireScopes(['email', 'profile'], { match: 'any' })(editor)).not.toThrow();
    expect(() => requireScopes(['email', 'phone'], { match: 'any' })(editor)).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });

  it('answers 401 when nobody is authenticated', () => {
    expect(() => requireScopes('openid')(null)).toThrow(expect.objectContaining({ status: 401 }));
  });

  describe('on a JWT without any scope claim (every ZITADEL JWT access token)', () => {
    afterEach(() => void vi.restoreAllMocks());
    const { scope: _omitted, ...withoutScope } = editor.claims;
    const scopeless = (kind: 'jwt' | 'opaque'): AuthContext =>
      toAuthContext(withoutScope, kind, createRolesSource(undefined, undefined));

    it('refuses with the generic 403 and explains the setup in the cause and one warning', () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      const guard = requireScopes('quotes:read');
      for (let i = 0; i < 2; i++) {
        expect(() => guard(scopeless('jwt'))).toThrow(
          expect.objectContaining({
            status: 403,
            message: 'The access token does not grant the required permission',
            cause: expect.objectContaining({ message: JWT_WITHOUT_SCOPE_HINT }),
          }),
        );
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledWith(JWT_WITHOUT_SCOPE_HINT, {
        code: 'ZITAUTH_JWT_WITHOUT_SCOPE',
      });
    });

    it('stays quiet for an opaque token or a JWT whose scope lacks the one required', () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      for (const auth of [scopeless('opaque'), editor]) {
        expect(() => requireScopes('quotes:read')(auth)).toThrow(
          expect.not.objectContaining({ cause: expect.anything() }),
        );
        expect(() => requireScopes('quotes:read')(auth)).toThrow(
          expect.objectContaining({ status: 403 }),
        );
      }
      expect(warn).not.toHaveBeenCalled();
    });
  });
});

describe('requireCheck', () => {
  it('runs the predicate on the caller', () => {
    expect(() => requireCheck((auth) => auth.subject === 'user-1')(editor)).not.toThrow();
    expect(() => requireCheck((auth) => auth.subject === 'someone')(editor)).toThrow(
      expect.objectContaining({ status: 403 }),
    );
    expect(() => requireCheck(() => true)(null)).toThrow(expect.objectContaining({ status: 401 }));
  });

  it('refuses a predicate that is not a function', () => {
    expect(() => requireCheck('admin' as never)).toThrow(TypeError);
  });
});
