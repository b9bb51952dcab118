/**
 * The hooks the plugin decorates the instance with: `authenticate` (for `onRequest`) and
 * the guards (for `preHandler`). Each is an async hook that throws on failure, so the
 * error takes Fastify's own error path. Decisions are core's; this file maps requests.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  authenticateRequest,
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
} from '@zitauth/core';
import type { FaultReporter } from './operator-log.js';

/** An async `onRequest` / `preHandler` hook. */
export type ZitauthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

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
  return async (request) => {
    authenticated.add(request);
    const tokenRequest = nodeTokenRequest(request.raw, request.query, request.body);
    try {
      const caller = authenticateRequest(verifier, tokenRequest, required);
      // A cached token is answered at once: no await inside the hook.
      request.auth = caller instanceof Promise ? await caller : caller;
    } catch (error) {
      reportFault(request, error);
      throw error;
    }
  };
}

/**
 * Requests `authenticate` ran for. `request.auth` starts as `null` (Fastify decorators need
 * a value), which would make a guard that runs before `authenticate` answer 401 "no
 * token" to a caller who sent a valid one; this tells that misuse (a 500 naming the fix)
 * apart from optional auth without a token.
 */
const authenticated = new WeakSet<FastifyRequest>();

function hook(guard: Guard<FastifyRequest>, challenge: ChallengeOptions): ZitauthHook {
  return async (request) => {
    const ran = request.auth !== null || authenticated.has(request);
    await guard(ran ? request.auth : undefined, request, challenge);
  };
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
