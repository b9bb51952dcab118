/**
 * ZITADEL's reserved scopes as the token endpoint reads them. Each rule follows ZITADEL's
 * source: `urn:zitadel:iam:org:project:id:{id}:aud` adds project `id` to `aud` unchecked,
 * and `zitadel` in place of the id means the instance's own API project
 * (internal/domain/token.go, AddAudScopeToAudience); the roles scope or any
 * `urn:zitadel:iam:org:project:role:{key}` scope asks for the roles claim, the latter
 * narrowed to the keys named (internal/api/oidc/userinfo.go, prepareRoles and
 * newProjectRoles); `urn:zitadel:iam:user:resourceowner` asks for the organisation claims
 * (userinfo.go, userInfoToOIDC). Refusing unknown project ids is an opt-in of this IdP.
 */
import type { IdpContext } from './context.js';
import { HttpError } from './http.js';
import type { Roles } from './types.js';

export const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
export const ROLE_SCOPE_PREFIX = 'urn:zitadel:iam:org:project:role:';
export const RESOURCE_OWNER_SCOPE = 'urn:zitadel:iam:user:resourceowner';
const AUDIENCE_SCOPE = /^urn:zitadel:iam:org:project:id:(.+):aud$/;

/** What a scope string asks for. */
export interface ScopeRequest {
  readonly scope: string;
  /** Projects named by audience scopes, `zitadel` already replaced by the IdP's own API project. */
  readonly projectIds: string[];
  /** Role keys named by `urn:zitadel:iam:org:project:role:{key}`; empty means all roles. */
  readonly requestedRoles: string[];
  readonly wantsRoles: boolean;
  readonly openid: boolean;
}

function audienceProject(ctx: IdpContext, scope: string): string | undefined {
  const id = AUDIENCE_SCOPE.exec(scope)?.[1];
  if (id === undefined) return undefined;
  if (id === 'zitadel') return ctx.zitadelProjectId;
  if (ctx.settings.rejectUnknownProjectScopes && !ctx.store.projects.has(id))
    throw new HttpError(400, 'invalid_scope', `unknown project ${id}`);
  return id;
}

export function readScope(ctx: IdpContext, scope: string | undefined): ScopeRequest {
  const scopes = (scope ?? '').split(' ').filter((s) => s !== '');
  const projectIds: string[] = [];
  for (const s of scopes) {
    const id = audienceProject(ctx, s);
    if (id !== undefined && !projectIds.includes(id)) projectIds.push(id);
  }
  const requestedRoles = scopes
    .filter((s) => s.startsWith(ROLE_SCOPE_PREFIX))
    .map((s) => s.slice(ROLE_SCOPE_PREFIX.length));
  return {
    scope: scopes.join(' '),
    projectIds,
    requestedRoles,
    wantsRoles: scopes.includes(ROLES_SCOPE) || requestedRoles.length > 0,
    openid: scopes.includes('openid'),
  };
}

/** Whether issued tokens carry roles of `projectId`: asked for, or asserted by the project. */
export function assertsRoles(ctx: IdpContext, request: ScopeRequest, projectId: string): boolean {
  return request.wantsRoles || ctx.store.projects.get(projectId)?.roleAssertion === true;
}

/** The granted roles a request asserts: only the requested keys when role scopes name any. */
export function requestedRoles(roles: Roles, request: ScopeRequest): Roles {
  if (request.requestedRoles.length === 0) return roles;
  return Object.fromEntries(
    Object.entries(roles).filter(([key]) => request.requestedRoles.includes(key)),
  );
}
