// Type tests, checked by `tsc -p tsconfig.test.json`: request.auth and the decorations
// are typed without casts, option typos and wrong guard arguments do not compile.
import Fastify from 'fastify';
import { expectTypeOf } from 'vitest';
import {
  authenticate,
  authenticateOptional,
  createMultiIssuerVerifier,
  createVerifier,
  errorHandler,
  protect,
  zitauth,
  type AuthContext,
  type ZitauthHook,
} from '../src/index.js';
import defaultExport from '../src/index.js';

const app = Fastify();
const issuer = 'https://acme.zitadel.cloud';

await app.register(zitauth, { issuer, projectId: '1', authRequired: false, errorHandler: false });
await app.register(zitauth, createVerifier({ issuer, projectId: '1' }));
await app.register(zitauth, { verifier: createVerifier({ issuer, projectId: '1' }) });
await app.register(zitauth, { issuer, projectId: '1', checkOnReady: false });
await app.register(zitauth, {
  verifier: createVerifier({ issuer, projectId: '1' }),
  checkOnReady: true,
});
expectTypeOf(defaultExport).toEqualTypeOf(zitauth);

expectTypeOf(authenticate).toEqualTypeOf<ZitauthHook>();
expectTypeOf(authenticateOptional).toEqualTypeOf<ZitauthHook>();
app.get('/imported', { onRequest: authenticate }, async (request) => request.auth?.subject);

app.get('/me', { onRequest: app.authenticate }, async (request) => {
  expectTypeOf(request.auth).toEqualTypeOf<AuthContext | null>();
  return request.auth?.subject;
});
app.get<{ Params: { orgId: string } }>(
  '/orgs/:orgId',
  {
    onRequest: [app.authenticate],
    preHandler: [app.requireRoles('admin', { org: { param: 'orgId' } }), app.requireScopes('a')],
  },
  async (request) => request.params.orgId,
);
app.addHook('onRequest', app.authenticateOptional);
await app.register(async (scope) => {
  await scope.register(protect, { authRequired: false });
  scope.addHook('onRequest', scope.authenticate);
});

expectTypeOf(app.authenticate).toEqualTypeOf<ZitauthHook>();
expectTypeOf(app.requireRoles('admin')).toEqualTypeOf<ZitauthHook>();
app.requireRoles(['admin', 'editor'], { match: 'any', org: { header: 'x-zitadel-orgid' } });
app.requireRoles('admin', { org: (request) => request.headers['x-org'] as string | undefined });
app.requireCheck((caller) => caller.roles['admin'] !== undefined);
app.requireCheck(async (caller) => caller.subject === 'me');
app.setErrorHandler(errorHandler());

// @ts-expect-error: typo of issuer
await app.register(zitauth, { issur: issuer, projectId: '1' });
// @ts-expect-error: typo of authRequired
await app.register(zitauth, { issuer, projectId: '1', authRequierd: false });
// @ts-expect-error: checkOnReady is a boolean
await app.register(zitauth, { issuer, projectId: '1', checkOnReady: 'yes' });
// @ts-expect-error: authRequired is a boolean
await app.register(zitauth, { issuer, projectId: '1', authRequired: 'no' });
// @ts-expect-error: roles are strings
app.requireRoles(42);
// @ts-expect-error: match is 'all' or 'any'
app.requireScopes('a', { match: 'some' });
// @ts-expect-error: org names a param, a header or a function
app.requireRoles('admin', { org: 'orgId' });
// @ts-expect-error: the predicate returns a boolean
app.requireCheck((caller) => caller.subject);

// Several issuers: the plugin takes `issuers` or a multi-issuer verifier, and guards by issuer.
const issuers = [
  { issuer, projectId: '1' },
  { issuer: 'https://b.example', audience: 'api' },
];
await app.register(zitauth, { issuers, opaqueIssuer: issuer });
await app.register(zitauth, createMultiIssuerVerifier({ issuers }));
expectTypeOf(app.requireIssuer([issuer, 'https://b.example'])).toEqualTypeOf<ZitauthHook>();
// @ts-expect-error: realm is set once, beside issuers
await app.register(zitauth, { issuers: [{ issuer, projectId: '1', realm: 'x' }] });
// @ts-expect-error: issuers are URLs
app.requireIssuer(42);
