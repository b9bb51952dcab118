/**
 * The Fastify plugin. Wrapped with fastify-plugin so its decorations reach the scope it
 * is registered in: `request.auth`, `app.authenticate`, `app.authenticateOptional` and
 * the guards. A verifier the plugin builds is closed with the app.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { challengeOptions, checkOptionKeys, type AuthContext, type Verifier } from '@zitauth/core';
import { renderErrors as renderErrorsWith } from './error-handler.js';
import {
  authenticateHook,
  guards,
  ownHook,
  type RequireRolesOptions,
  type RequireScopesOptions,
  type ZitauthHook,
} from './hooks.js';
import { createFaultReporter } from './operator-log.js';
import { refuseHooksThatCannotProtect } from './hook-check.js';
import { refuseRoutesDeclaredBeforeLoad } from './route-check.js';
import { resolvePluginOptions, type AuthOptions } from './options.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller; `null` before `authenticate` ran, or for optional auth without a token. */
    auth: AuthContext | null;
  }
  interface FastifyInstance {
    /** `onRequest` hook: verifies the bearer token and sets `request.auth` (required unless `authRequired: false`). */
    authenticate: ZitauthHook;
    /** `onRequest` hook like `authenticate`, but a request without a token continues with `request.auth = null`. */
    authenticateOptional: ZitauthHook;
    /** `preHandler` hook: callers need `roles` (403 otherwise); with `org`, in the request's organisation. */
    requireRoles(roles: string | readonly string[], options?: RequireRolesOptions): ZitauthHook;
    /** `preHandler` hook: the token must grant `scopes` (403 naming them otherwise). */
    requireScopes(scopes: string | readonly string[], options?: RequireScopesOptions): ZitauthHook;
    /** `preHandler` hook: `predicate` must return `true` (403 otherwise); may be async. */
    requireCheck(predicate: (auth: AuthContext) => boolean | Promise<boolean>): ZitauthHook;
    /** `preHandler` hook: the caller must have been verified by one of `issuers` (403 otherwise). */
    requireIssuer(issuers: string | readonly string[]): ZitauthHook;
  }
}

/** Why neither start-up check can run: the app predates the import, and no handler of ours. */
const UNCHECKED =
  'zitauth: this Fastify app was created before @zitauth/fastify was imported, and ' +
  'errorHandler is false, so a route declared with app.authenticate before the plugin ' +
  'loaded (an unawaited register) cannot be found at start-up and would be open. Import ' +
  '(or require) @zitauth/fastify before creating the app, await the register, or use the ' +
  "imported hooks (import { authenticate } from '@zitauth/fastify').";

/** Plugin options: verifier options or `{ verifier }`, plus the adapter's own; or a verifier. */
export type ZitauthOptions = AuthOptions | Verifier;

const plugin: FastifyPluginAsync<ZitauthOptions> = async (app: FastifyInstance, options) => {
  const { verifier, required, renderErrors, owned, checkOnReady } = resolvePluginOptions(options);
  // Routes whose hook was undefined when declared (app.authenticate read before this load,
  // or in a scope it does not reach), or whose imported hook no plugin reaches, fail
  // start-up naming them, with or without our handler.
  if (!refuseHooksThatCannotProtect(app) && !renderErrors) app.log.warn(UNCHECKED);
  // Routes declared after an unawaited register, before this load, got the error handler
  // set below but were never seen: start-up fails naming them (before the IdP check, which
  // needs the network). Without our handler there is no trace of them to find.
  if (renderErrors) refuseRoutesDeclaredBeforeLoad(app);
  // A shared verifier belongs to whoever built it; closing it here would break other apps.
  // preClose, not onClose: onClose runs after the server has drained, and a request held
  // by a hanging IdP call would keep it from draining until that call timed out.
  if (owned) app.addHook('preClose', async () => verifier.close());
  // The start-up check: app.ready() and listen() reject with what to fix (a hand-written
  // verifier without ready() has nothing to check).
  const ready = verifier.ready?.bind(verifier);
  if (checkOnReady && ready !== undefined) app.addHook('onReady', ready);
  app.decorateRequest('auth', null);
  const reportFault = createFaultReporter();
  app.decorate('authenticate', ownHook(authenticateHook(verifier, required, reportFault)));
  app.decorate('authenticateOptional', ownHook(authenticateHook(verifier, false, reportFault)));
  const { requireRoles, requireScopes, requireCheck, requireIssuer } = guards(
    challengeOptions(verifier),
  );
  app.decorate('requireRoles', requireRoles);
  app.decorate('requireScopes', requireScopes);
  app.decorate('requireCheck', requireCheck);
  app.decorate('requireIssuer', requireIssuer);
  if (renderErrors) app.setErrorHandler(renderErrorsWith(reportFault));
  serveResourceMetadata(app, verifier);
};

/**
 * With `protectedResource` configured, `GET` (and `HEAD`) of its well-known path answers
 * the RFC 9728 document, without a token: a client reads it to learn where to get one.
 */
function serveResourceMetadata(app: FastifyInstance, verifier: Verifier): void {
  const resource = verifier.protectedResource;
  if (resource === undefined) return;
  app.get(resource.metadataPath, async (_request, reply) => {
    const { body, headers } = await resource.response();
    // A Buffer is sent as it is: with a string, Fastify would append a charset to the type.
    return reply.headers(headers).send(Buffer.from(body));
  });
}

/** `await app.register(zitauth, { issuer, projectId })`. */
export const zitauth = fp(plugin, { fastify: '5.x', name: '@zitauth/fastify' });

const PROTECT_KEYS = ['authRequired'];

/**
 * Protects every route of the scope it is registered in with an `onRequest` hook:
 * `app.register(async (api) => { await api.register(protect); api.get(...) })`.
 * Needs `zitauth` registered in this scope or a parent one.
 */
export const protect = fp<{ authRequired?: boolean }>(
  async (scope, options) => {
    checkOptionKeys(options, PROTECT_KEYS, 'protect options');
    if (!scope.hasDecorator('authenticate')) {
      throw new Error('zitauth: register the zitauth plugin before protect');
    }
    scope.addHook(
      'onRequest',
      options.authRequired === false ? scope.authenticateOptional : scope.authenticate,
    );
  },
  { fastify: '5.x', name: '@zitauth/fastify/protect' },
);
