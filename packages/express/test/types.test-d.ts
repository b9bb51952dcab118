// Type tests, checked by `tsc -p tsconfig.test.json`: req.auth is typed without casts,
// option typos and wrong guard arguments do not compile.
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
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
  type Verifier,
} from '../src/index.js';

const app = express();
const issuer = 'https://acme.zitadel.cloud';

app.get('/me', auth({ issuer, projectId: '1' }), (req, res) => {
  expectTypeOf(req.auth).toEqualTypeOf<AuthContext | null | undefined>();
  expectTypeOf(getAuth(req)).toEqualTypeOf<AuthContext>();
  res.json({ subject: getAuth(req).subject });
});

expectTypeOf(auth({ issuer, projectId: '1', authRequired: false })).toEqualTypeOf<AuthMiddleware>();
expectTypeOf<AuthMiddleware['verifier']>().toEqualTypeOf<Verifier>();
expectTypeOf(auth).toBeCallableWith(createVerifier({ issuer, projectId: '1' }));
expectTypeOf(auth).toBeCallableWith({ verifier: createVerifier({ issuer, projectId: '1' }) });
expectTypeOf(requireRoles('admin')).toEqualTypeOf<RequestHandler>();
expectTypeOf(errorHandler()).toEqualTypeOf<ErrorRequestHandler>();

requireRoles(['admin', 'editor'], { match: 'any', org: { param: 'orgId' } });
requireRoles('admin', { org: { header: 'x-zitadel-orgid' } });
requireRoles('admin', { org: (req) => req.get('x-org') });
requireScopes('quotes:read', { match: 'all' });
requireCheck((caller) => caller.roles['admin'] !== undefined);
requireCheck(async (caller) => caller.subject === 'me');

// @ts-expect-error: typo of issuer
auth({ issur: issuer, projectId: '1' });
// @ts-expect-error: typo of authRequired
auth({ issuer, projectId: '1', authRequierd: false });
// @ts-expect-error: authRequired is a boolean
auth({ issuer, projectId: '1', authRequired: 'no' });
// @ts-expect-error: no issuer at all
auth({ projectId: '1' });
// @ts-expect-error: roles are strings
requireRoles(42);
// @ts-expect-error: match is 'all' or 'any'
requireRoles('admin', { match: 'some' });
// @ts-expect-error: org names a param, a header or a function
requireRoles('admin', { org: 'orgId' });
// @ts-expect-error: unknown option of requireScopes
requireScopes('a', { org: { param: 'orgId' } });
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
expectTypeOf(requireIssuer([issuer, 'https://b.example'])).toEqualTypeOf<RequestHandler>();
// @ts-expect-error: realm is set once, beside issuers
auth({ issuers: [{ issuer, projectId: '1', realm: 'x' }] });
// @ts-expect-error: issuers are URLs
requireIssuer(42);
