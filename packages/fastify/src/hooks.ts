/**
 * The hooks the plugin decorates the instance with: `authenticate` (for `onRequest`) and
 * the guards (for `preHandler`). Each works both ways Fastify calls a hook: with `done`
 * (Fastify's own call: a cached token continues synchronously, with no promise) or
 * without (`await app.authenticate(request, reply)` in a hook of yours: a promise). A
 * failure takes Fastify's own error path. Decisions are core's; this file maps requests.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import {
  answerRequest,
  checkGuard,
  issuerGuard,
  nodeTokenRequest,
  roleGuard,
  scopeGuard,
  type AuthContext,
  type ChallengeOptions,
  type Guard,
  type OrgSource as CoreOrgSource,
  type RequestAccess,
  type RoleGuardOptions,
  type ScopeGuardOptions,
  type Verifier,
  MisuseError,
  reportOperatorFault,
  ZitauthError,
} from '@zitauth/core';
import { createFaultReporter, type FaultReporter } from './operator-log.js';

/**
 * A zitauth hook, for `onRequest` or `preHandler`: called by Fastify with `done`, or by
 * your code without it, when it returns a promise.
 */
export interface ZitauthHook {
  (request: FastifyRequest, reply: FastifyReply): Promise<void>;
  (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
}

/** A hook's work: done, a promise of it, or an error to refuse with (returned, not thrown). */
type HookStep = (request: FastifyRequest, reply: FastifyReply) => Promise<void> | Error | void;

/**
 * A {@link ZitauthHook} running `step`. With `done`, a step that finishes at once (a cached
 * token) calls it synchronously, and a refusal goes to `done(error)` without a rejected
 * promise on the way; without `done`, the outcome is a promise.
 */
function hybrid(step: HookStep): ZitauthHook {
  function zitauthHook(
    request: FastifyRequest,
    reply: FastifyReply,
    done?: HookHandlerDoneFunction,
  ): Promise<void> | void {
    let pending: Promise<void> | Error | void;
    try {
      pending = step(request, reply);
    } catch (error) {
      if (done === undefined) return Promise.reject(error);
      return done(error as Error);
    }
    if (pending instanceof Error) {
      return done === undefined ? Promise.reject(pending) : done(pending);
    }
    if (done === undefined) return pending instanceof Promise ? pending : Promise.resolve();
    if (!(pending instanceof Promise)) return done();
    pending.then(() => done(), done);
  }
  return zitauthHook as ZitauthHook;
}

/** Where the organisation comes from: `{ param }`, `{ header }` or `(request) => orgId`. */
export type OrgSource = CoreOrgSource<FastifyRequest>;
/** Options of `app.requireRoles`. */
export type RequireRolesOptions = RoleGuardOptions<FastifyRequest>;
/** Options of `app.requireScopes`. */
export type RequireScopesOptions = ScopeGuardOptions;

const access: RequestAccess<FastifyRequest> = {
  param: (request, name) => (request.params as Record<string, unknown> | undefined)?.[name],
  message: (request) => request.raw,
};

/**
 * The `onRequest` hook: verifies the bearer token and sets `request.auth`. An operator
 * problem behind a failure goes to `reportFault` before the error takes Fastify's path.
 */
export function authenticateHook(
  verifier: Verifier,
  required: boolean,
  reportFault: FaultReporter,
): ZitauthHook {
  const settle = (request: FastifyRequest, caller: AuthContext | null): void => {
    request.auth = caller;
    if (caller === null) anonymous.add(request);
  };
  return hybrid((request) => {
    let caller: ReturnType<typeof answerRequest>;
    try {
      const tokenRequest = nodeTokenRequest(request.raw, request.query, request.body);
      caller = answerRequest(verifier, tokenRequest, required);
    } catch (error) {
      reportFault(request, error);
      throw error;
    }
    // A refusal known at once comes back as a value (see answerRequest), not a throw.
    if (caller instanceof ZitauthError) {
      reportFault(request, caller);
      return caller;
    }
    // A cached token is answered at once: nothing to wait for.
    if (!(caller instanceof Promise)) return settle(request, caller);
    return caller.then(
      (verified) => settle(request, verified),
      (error: unknown) => {
        reportFault(request, error);
        throw error;
      },
    );
  });
}

/**
 * Requests optional auth let through without a token. `request.auth` starts as `null`
 * (Fastify decorators need a value), which would make a guard that runs before
 * `authenticate` answer 401 "no token" to a caller who sent a valid one; this tells that
 * misuse (a 500 naming the fix) apart from optional auth without a token. Only that rare
 * case is recorded, so a verified request costs nothing extra.
 */
const anonymous = new WeakSet<FastifyRequest>();

function hook(guard: Guard<FastifyRequest>, challenge: ChallengeOptions): ZitauthHook {
  return hybrid((request) => {
    const ran = request.auth !== null || anonymous.has(request);
    return guard(ran ? request.auth : undefined, request, challenge);
  });
}

/** The guards, bound to the plugin's challenge parameters so their 401 matches `authenticate`'s. */
export function guards(challenge: ChallengeOptions) {
  return {
    requireRoles(
      roles: string | readonly string[],
      options: RequireRolesOptions = {},
    ): ZitauthHook {
      return hook(roleGuard(roles, options, access), challenge);
    },
    requireScopes(
      scopes: string | readonly string[],
      options: RequireScopesOptions = {},
    ): ZitauthHook {
      return hook(scopeGuard(scopes, options), challenge);
    },
    requireCheck(predicate: (auth: AuthContext) => boolean | Promise<boolean>): ZitauthHook {
      return hook(checkGuard(predicate), challenge);
    },
    requireIssuer(issuers: string | readonly string[]): ZitauthHook {
      return hook(issuerGuard(issuers), challenge);
    },
  };
}

/** The hooks the plugin decorated an instance with, so a look-up finds ours, not a namesake. */
const decorated = new WeakSet<ZitauthHook>();

/** Marks `hook` as the plugin's own, for {@link authenticate} to find. */
export function ownHook(hook: ZitauthHook): ZitauthHook {
  decorated.add(hook);
  return hook;
}

/** The plugin's own hook `name` in `scope`; undefined where no zitauth plugin reaches it. */
export function pluginHookOf(
  scope: { hasDecorator(name: string): boolean },
  name: 'authenticate' | 'authenticateOptional',
): ZitauthHook | undefined {
  if (!scope.hasDecorator(name)) return undefined;
  const hook = (scope as unknown as Record<string, unknown>)[name] as ZitauthHook;
  return decorated.has(hook) ? hook : undefined;
}

const reportMisuse = createFaultReporter();

/**
 * The plugin's hook `name` for the route's scope, found when a request arrives: the route
 * may have been declared before the plugin loaded (`register` not awaited), when
 * `app.authenticate` was still undefined. Without the plugin in the route's scope or a
 * parent one (e.g. registered in a sibling scope), the request is refused with a 500
 * naming the fix: never let through.
 */
function delegate(name: 'authenticate' | 'authenticateOptional'): ZitauthHook {
  function zitauthHook(
    request: FastifyRequest,
    reply: FastifyReply,
    done?: HookHandlerDoneFunction,
  ): Promise<void> | void {
    const hook = pluginHookOf(request.server, name);
    if (hook !== undefined) {
      return done === undefined ? hook(request, reply) : hook(request, reply, done);
    }
    const fault = reportOperatorFault(
      'misuse',
      `zitauth: ${name} ran on ${request.method} ${request.routeOptions.url ?? '(unknown route)'}, ` +
        'whose scope has no zitauth plugin, so it cannot check the caller and answers 500. ' +
        'Register it with await app.register(zitauth, …) in this scope or a parent one: ' +
        'plugins registered in a sibling scope do not reach it.',
    );
    const error = new MisuseError({ cause: fault });
    reportMisuse(request, error);
    if (done === undefined) return Promise.reject(error);
    done(error);
  }
  return zitauthHook as ZitauthHook;
}

/**
 * `onRequest` hook usable wherever the zitauth plugin is registered (this scope or a
 * parent): `app.get('/me', { onRequest: authenticate }, handler)`. Unlike
 * `app.authenticate`, an import is never undefined, so a route declared before the
 * plugin has loaded is protected too.
 */
export const authenticate: ZitauthHook = delegate('authenticate');

/** {@link authenticate} for optional auth: no token continues with `request.auth = null`. */
export const authenticateOptional: ZitauthHook = delegate('authenticateOptional');
