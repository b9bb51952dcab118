/**
 * ZITADEL's reserved scopes as the token endpoint reads them: the project audience scope
 * adds a project to `aud`, the roles scope asks for role claims, `openid` asks for an ID
 * token. Unknown project ids are refused rather than silently dropped, because a typo in
 * an audience scope otherwise shows up much later as a puzzling `active: false`.
 */
import type { IdpContext } from './context.js';
import { HttpError } from './http.js';

export const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
const AUDIENCE_SCOPE = /^urn:zitadel:iam:org:project:id:(.+):aud$/;

/** What a scope string asks for. */
export interface ScopeRequest {
  readonly scope: string;
  readonly projectIds: string[];
  readonly wantsRoles: boolean;
  readonly openid: boolean;
}

export function readScope(ctx: IdpContext, scope: string | undefined): ScopeRequest {
  const scopes = (scope ?? '').split(' ').filter((s) => s !== '');
  const projectIds: string[] = [];
  for (const s of scopes) {
    const id = AUDIENCE_SCOPE.exec(s)?.[1];
    if (id === undefined || id === 'zitadel' || projectIds.includes(id)) continue;
    if (!ctx.store.projects.has(id))
      throw new HttpError(400, 'invalid_scope', `unknown project ${id}`);
    projectIds.push(id);
  }
  return {
    scope: scopes.join(' '),
    projectIds,
    wantsRoles: scopes.includes(ROLES_SCOPE),
    openid: scopes.includes('openid'),
  };
}

/** Whether issued tokens carry roles of `projectId`: asked for, or asserted by the project. */
export function assertsRoles(ctx: IdpContext, request: ScopeRequest, projectId: string): boolean {
  return request.wantsRoles || ctx.store.projects.get(projectId)?.roleAssertion === true;
}
