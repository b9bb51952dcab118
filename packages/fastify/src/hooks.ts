/**
 * The hooks the plugin decorates the instance with: `authenticate` (for `onRequest`) and
 * the guards (for `preHandler`). Each is an async hook that throws on failure, so the
 * error takes Fastify's own error path. Decisions are core's; this file maps requests.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  requireCheck as coreRequireCheck,
  requireRoles as coreRequireRoles,
  requireScopes as coreRequireScopes,
  ZitauthConfigError,
  type AuthContext,
  type CheckContext,
  type Match,
  type TokenRequest,
  type Verifier,
} from '@zitauth/core';

/** An async `onRequest` / `preHandler` hook. */
export type ZitauthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Where the organisation a role must be granted in comes from: a route parameter, a
 * request header, or a function. A request that names none is refused (403).
 */
export type OrgSource =
  { param: string } | { header: string } | ((request: FastifyRequest) => string | undefined);

/** Options of `app.requireRoles`. */
export interface RequireRolesOptions {
  /** `'all'`: every role is needed; `'any'`: one is enough. @default 'all' */
  match?: Match;
  /** Require the role in the organisation the request names. @default undefined (any organisation) */
  org?: OrgSource;
}

/** Options of `app.requireScopes`. */
export interface RequireScopesOptions {
  /** `'all'`: every scope is needed; `'any'`: one is enough. @default 'all' */
  match?: Match;
}

type Check = (auth: AuthContext | null | undefined, context: CheckContext) => unknown;
type OrgReader = (request: FastifyRequest) => string | undefined;

/**
 * Every value of a header. Node's `req.headers` keeps only the first `Authorization`,
 * which would hide a second credential; `headersDistinct` keeps them all. `app.inject()`
 * requests lack `headersDistinct`, so fall back to `rawHeaders`, which holds each line.
 */
function headerValues(raw: IncomingMessage, name: string): string[] | undefined {
  if (raw.headersDistinct !== undefined) return raw.headersDistinct[name];
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.rawHeaders.length; i += 2) {
    if (raw.rawHeaders[i]?.toLowerCase() === name) values.push(raw.rawHeaders[i + 1] ?? '');
  }
  return values.length > 0 ? values : undefined;
}

function strings(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return undefined;
}

function field(source: unknown, name: string): unknown {
  return typeof source === 'object' && source !== null && name in source
    ? (source as Record<string, unknown>)[name]
    : undefined;
}

/** `Authorization` headers, plus `access_token` from query and body (core ignores those unless enabled). */
function tokenRequest(request: FastifyRequest): TokenRequest {
  return {
    authorization: headerValues(request.raw, 'authorization'),
    query: strings(field(request.query, 'access_token')),
    body: strings(field(request.body, 'access_token')),
  };
}

/** The `onRequest` hook: verifies the bearer token and sets `request.auth`. */
export function authenticateHook(verifier: Verifier, required: boolean): ZitauthHook {
  return async (request) => {
    request.auth = await verifier.authenticate(tokenRequest(request), { required });
  };
}

/**
 * A header counts only when sent exactly once: two values are ambiguous, and picking
 * one could check a role in an organisation other than the one the handler acts on.
 */
function orgReader(source: OrgSource): OrgReader {
  if (typeof source === 'function') return source;
  if (typeof source === 'object' && source !== null) {
    if ('param' in source && typeof source.param === 'string') {
      const name = source.param;
      return (request) => {
        const value = field(request.params, name);
        return typeof value === 'string' ? value : undefined;
      };
    }
    if ('header' in source && typeof source.header === 'string') {
      const name = source.header.toLowerCase();
      return (request) => {
        const values = headerValues(request.raw, name);
        return values?.length === 1 ? values[0] : undefined;
      };
    }
  }
  throw new ZitauthConfigError('zitauth: org must be { param }, { header } or (request) => orgId');
}

function guard(check: Check, realm: string | undefined, orgOf?: OrgReader): ZitauthHook {
  return async (request) => {
    const orgId = orgOf?.(request) || undefined; // an empty value names no organisation
    await check(request.auth, { orgId, realm });
  };
}

/** The guards, bound to the plugin's realm so their 401 matches `authenticate`'s. */
export function guards(realm: string | undefined) {
  return {
    requireRoles(
      roles: string | readonly string[],
      options: RequireRolesOptions = {},
    ): ZitauthHook {
      const check = coreRequireRoles(roles, {
        ...(options.match === undefined ? {} : { match: options.match }),
        orgRequired: options.org !== undefined,
      });
      return guard(check, realm, options.org === undefined ? undefined : orgReader(options.org));
    },
    requireScopes(
      scopes: string | readonly string[],
      options: RequireScopesOptions = {},
    ): ZitauthHook {
      const match = options.match === undefined ? {} : { match: options.match };
      return guard(coreRequireScopes(scopes, match), realm);
    },
    // The predicate may be async; it is awaited here and core decides on its result.
    requireCheck(predicate: (auth: AuthContext) => boolean | Promise<boolean>): ZitauthHook {
      coreRequireCheck(predicate as (auth: AuthContext) => boolean); // validates now
      return guard(async (auth, context) => {
        const allowed = auth == null ? false : (await predicate(auth)) === true;
        coreRequireCheck(() => allowed)(auth, context);
      }, realm);
    },
  };
}
