/**
 * `GET /validate`: one place to check any token, JWT (verified locally against the IdP's
 * keys) or opaque (introspected), through @zitauth/fastify's `authenticate` hook.
 *
 * As a JSON endpoint (the seed's contract): 200 with the normalized caller, 400 for a
 * missing or malformed `Authorization`, 401 for a bad token, 403 for a missing role,
 * 503 when the IdP cannot be reached.
 *
 * As forward-auth for a reverse proxy (nginx `auth_request`, Traefik ForwardAuth), told
 * apart by the proxy's `X-Original-URI` / `X-Forwarded-Uri` header: nginx only
 * understands 2xx, 401 and 403 from an auth subrequest, so a missing or malformed
 * credential is a 401 there. A 200 carries the caller in `X-Auth-*` headers for the
 * proxy to pass upstream. A location can demand roles with `?role=editor` on the auth
 * URL or an `X-Required-Role: editor` header set by the proxy (comma-separated: all needed),
 * and with `?org=<orgId>` (or `X-Required-Org`) demand them in that organisation.
 *
 * `X-Auth-Roles` names each grant with its organisation, `role@orgId`, both parts
 * percent-encoded, so neither a `,` nor an `@` in a role key can make one grant read as
 * two or move it to another organisation. `X-Auth-Home-Org-Id` is the organisation the
 * user belongs to, which says nothing about where their roles apply.
 *
 * Only GET and HEAD: anything else is 405 with `Allow`, so a misrouted request is not
 * mistaken for an answer.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireRoles, UnauthorizedError, ZitauthError, type AuthContext } from '@zitauth/core';
import { errorHandler } from '@zitauth/fastify';
import { API_PREFIX, REALM, type GatewayContext } from '../context.js';
import { badRequest } from '../http-errors.js';
import { headerValues, rawQuery } from '../request-values.js';

const ROLE = /^[A-Za-z0-9._:-]{1,64}$/;
const ORG = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_ROLES = 16;
/** Longest `X-Auth-Roles`; grants past it are left out whole, never cut in the middle. */
const MAX_ROLES_HEADER = 4096;
const METHODS = ['GET', 'HEAD'];

/** True when a reverse proxy sent the request as an auth subrequest. */
export function isForwardAuth(request: FastifyRequest): boolean {
  return (
    request.headers['x-original-uri'] !== undefined ||
    request.headers['x-forwarded-uri'] !== undefined
  );
}

/** Roles the request demands: `?role=` values and `X-Required-Role` headers, comma-separated. */
export function requiredRoles(request: FastifyRequest): string[] {
  const listed = [
    ...rawQuery(request).getAll('role'),
    ...headerValues(request.raw, 'x-required-role'),
  ];
  const roles = listed.flatMap((value) => value.split(',')).map((role) => role.trim());
  const named = [...new Set(roles.filter((role) => role !== ''))];
  if (named.length > MAX_ROLES || named.some((role) => !ROLE.test(role))) {
    throw badRequest('A required role is malformed');
  }
  return named;
}

/**
 * The organisation the roles must be held in: `?org=` or `X-Required-Org`, at most one
 * value in all; undefined when none is asked for.
 */
export function requiredOrg(request: FastifyRequest): string | undefined {
  const values = [
    ...rawQuery(request).getAll('org'),
    ...headerValues(request.raw, 'x-required-org'),
  ]
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (values.length > 1 || (values[0] !== undefined && !ORG.test(values[0]))) {
    throw badRequest('The required organisation is malformed or given more than once');
  }
  return values[0];
}

/** `role@orgId,…` with both parts percent-encoded; a role granted in no organisation is `role`. */
export function rolesHeader(roles: AuthContext['roles']): string {
  const grants: string[] = [];
  for (const [role, orgs] of Object.entries(roles)) {
    const orgIds = Object.keys(orgs);
    if (orgIds.length === 0) grants.push(encodeURIComponent(role));
    for (const orgId of orgIds)
      grants.push(`${encodeURIComponent(role)}@${encodeURIComponent(orgId)}`);
  }
  let header = '';
  for (const grant of grants) {
    const next = header === '' ? grant : `${header},${grant}`;
    if (next.length > MAX_ROLES_HEADER) break;
    header = next;
  }
  return header;
}

/** Header-safe text: printable ASCII only, so a claim can never split a header. */
function headerText(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '').slice(0, 512);
}

/** The caller as `X-Auth-*` headers for the proxy to forward. */
export function authHeaders(auth: AuthContext): Record<string, string> {
  const headers: Record<string, string> = {
    'x-auth-subject': headerText(auth.subject),
    'x-auth-roles': rolesHeader(auth.roles),
    'x-auth-token-kind': auth.tokenKind,
  };
  if (auth.orgId !== undefined) headers['x-auth-home-org-id'] = headerText(auth.orgId);
  if (auth.clientId !== undefined) headers['x-auth-client-id'] = headerText(auth.clientId);
  return headers;
}

/** Sends `error`'s challenge and body with another status. */
function sendAs(reply: FastifyReply, status: number, error: ZitauthError, body = error.body): void {
  void reply.code(status).headers(error.headers).send(body);
}

/**
 * Maps errors by mode, then renders them with the adapter's handler: the seed answered
 * 400 to a request without a token, and a proxy needs 401 for anything unauthenticated.
 */
function validateErrors(): (
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) => void {
  const render = errorHandler();
  return (error, request, reply) => {
    if (!(error instanceof ZitauthError)) throw error;
    const forward = isForwardAuth(request);
    if (!forward && error instanceof UnauthorizedError) {
      return sendAs(reply, 400, error, {
        error: 'invalid_request',
        error_description: error.message,
      });
    }
    if (forward && error.status === 400) return sendAs(reply, 401, error);
    render(error, request, reply);
  };
}

async function validate(request: FastifyRequest, reply: FastifyReply) {
  const auth = request.auth as AuthContext;
  const roles = requiredRoles(request);
  const orgId = requiredOrg(request);
  if (orgId !== undefined && roles.length === 0) {
    throw badRequest('An organisation is only checked together with a role');
  }
  if (roles.length > 0) requireRoles(roles)(auth, { realm: REALM, orgId });
  return reply
    .header('cache-control', 'no-store')
    .headers(authHeaders(auth))
    .send({ active: true, ...auth });
}

/** Registers `GET /validate` in its own scope (for its error mapping). */
export async function validateRoutes(app: FastifyInstance, _ctx: GatewayContext): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler(validateErrors());
    scope.get(`${API_PREFIX}/validate`, { onRequest: scope.authenticate }, validate);
    scope.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE'],
      url: `${API_PREFIX}/validate`,
      handler: async (_request, reply) =>
        reply
          .code(405)
          .header('allow', METHODS.join(', '))
          .send({ error: 'method_not_allowed', error_description: 'Use GET' }),
    });
  });
}
