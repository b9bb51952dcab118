// Type tests, checked by `tsc -p tsconfig.test.json`: ctx.state.auth is typed without
// casts, option typos and wrong guard arguments do not compile.
import Router from '@koa/router';
import Koa from 'koa';
import { expectTypeOf } from 'vitest';
import {
  auth,
  createMultiIssuerVerifier,
  createVerifier,
  errorHandler,
  getAuth,
  requireCheck,
  requireIssuer,
  requireRoles,
  requireScopes,
  type AuthContext,
  type AuthMiddleware,
  type AuthState,
  type Verifier,
} from '../src/index.js';

const issuer = 'https://acme.zitadel.cloud';

// A router typed with AuthState: every handler sees ctx.state.auth.
const router = new Router<AuthState>();
router.get('/me', auth({ issuer, projectId: '1' }), requireRoles('admin'), (ctx) => {
  expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthContext | null>();
  expectTypeOf(getAuth(ctx)).toEqualTypeOf<AuthContext>();
});

// An app typed with AuthState, as `new Koa<AuthState>()`.
new Koa<AuthState>().use(errorHandler()).use((ctx) => {
  expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthContext | null>();
});

// Untyped app and router: the state type is inferred from auth() in the chain.
new Koa().use(auth({ issuer, projectId: '1' })).use((ctx) => {
  expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthContext | null>();
});
new Router().get('/me', auth({ issuer, projectId: '1' }), (ctx) => {
  expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthContext | null>();
});

expectTypeOf(auth({ issuer, projectId: '1', authRequired: false })).toEqualTypeOf<AuthMiddleware>();
expectTypeOf(auth({ issuer, projectId: '1' })).toMatchTypeOf<Koa.Middleware<AuthState>>();
expectTypeOf<AuthMiddleware['verifier']>().toEqualTypeOf<Verifier>();
expectTypeOf(auth).toBeCallableWith(createVerifier({ issuer, projectId: '1' }));
expectTypeOf(auth).toBeCallableWith({ verifier: createVerifier({ issuer, projectId: '1' }) });
expectTypeOf(requireRoles('admin')).toEqualTypeOf<Koa.Middleware<AuthState>>();

requireRoles(['admin', 'editor'], { match: 'any', org: { param: 'orgId' } });
requireRoles('admin', { org: { header: 'x-zitadel-orgid' } });
requireRoles('admin', { org: (ctx) => ctx.get('x-org') });
requireScopes('quotes:read', { match: 'all' });
requireCheck((caller) => caller.roles['admin'] !== undefined);
requireCheck(async (caller) => caller.subject === 'me');

// @ts-expect-error: typo of issuer
auth({ issur: issuer, projectId: '1' });
// @ts-expect-error: typo of authRequired
auth({ issuer, projectId: '1', authRequierd: false });
// @ts-expect-error: authRequired is a boolean
auth({ issuer, projectId: '1', authRequired: 'no' });
// @ts-expect-error: roles are strings
requireRoles(42);
// @ts-expect-error: match is 'all' or 'any'
requireRoles('admin', { match: 'some' });
// @ts-expect-error: org names a param, a header or a function
requireRoles('admin', { org: 'orgId' });
// @ts-expect-error: the predicate returns a boolean
requireCheck((caller) => caller.subject);

// Several issuers: the same middleware from `issuers`, and a guard naming one of them.
const issuers = [
  { issuer, projectId: '1' },
  { issuer: 'https://b.example', audience: 'api' },
];
expectTypeOf(
  auth({ issuers, opaqueIssuer: (r) => r.headers?.['host'] as string }),
).toEqualTypeOf<AuthMiddleware>();
expectTypeOf(auth).toBeCallableWith(createMultiIssuerVerifier({ issuers }));
expectTypeOf(requireIssuer([issuer, 'https://b.example'])).toEqualTypeOf<
  Koa.Middleware<AuthState>
>();
// @ts-expect-error: realm is set once, beside issuers
auth({ issuers: [{ issuer, projectId: '1', realm: 'x' }] });
// @ts-expect-error: issuers are URLs
requireIssuer(42);
