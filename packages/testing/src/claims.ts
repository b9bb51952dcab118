/**
 * ZITADEL's reserved claims: roles (`{ role: { orgId: orgDomain } }` under a
 * project-specific and a generic name), the user's organisation, and the profile and
 * email claims released by scope. Shared by minting, the token endpoint, introspection
 * and userinfo so every path emits the same shapes. As in ZITADEL's
 * internal/api/oidc/userinfo.go: the generic roles claim names the client's own project,
 * so grants without a client project (the JWT bearer grant, client credentials) carry only
 * the project-specific one (setUserInfoRoleClaims); the organisation claims come only with
 * the `urn:zitadel:iam:user:resourceowner` scope (userInfoToOIDC).
 */
import { RESOURCE_OWNER_SCOPE } from './scopes.js';
import type { Profile, Store } from './store.js';
import type { Roles } from './types.js';

export const ROLES_CLAIM = 'urn:zitadel:iam:org:project:roles';
export const projectRolesClaim = (projectId: string): string =>
  `urn:zitadel:iam:org:project:${projectId}:roles`;
export const RESOURCE_OWNER_ID = 'urn:zitadel:iam:user:resourceowner:id';
export const RESOURCE_OWNER_NAME = 'urn:zitadel:iam:user:resourceowner:name';
export const RESOURCE_OWNER_DOMAIN = 'urn:zitadel:iam:user:resourceowner:primary_domain';

/** Turns a role list into ZITADEL's shape for one org; copies a shape as given. */
export function toRoles(roles: string[] | Roles, orgId: string, orgDomain: string): Roles {
  if (!Array.isArray(roles)) return structuredClone(roles);
  const out: Roles = {};
  for (const role of roles) out[role] = { [orgId]: orgDomain };
  return out;
}

/**
 * The project-specific roles claim, plus the generic one when `generic` (the token's client
 * belongs to the project); nothing when there are no roles.
 */
export function roleClaims(
  projectId: string,
  roles: Roles | undefined,
  generic = true,
): Record<string, unknown> {
  if (roles === undefined || Object.keys(roles).length === 0) return {};
  const specific = { [projectRolesClaim(projectId)]: roles };
  return generic ? { ...specific, [ROLES_CLAIM]: structuredClone(roles) } : specific;
}

/**
 * The resourceowner claims of an org when `scope` asks for them (only the id when the org
 * is not known here), else nothing.
 */
export function resourceOwnerClaims(
  store: Store,
  orgId: string,
  scope: string,
): Record<string, unknown> {
  if (!scope.split(' ').includes(RESOURCE_OWNER_SCOPE)) return {};
  const org = store.orgs.get(orgId);
  if (org === undefined) return { [RESOURCE_OWNER_ID]: orgId };
  return {
    [RESOURCE_OWNER_ID]: org.id,
    [RESOURCE_OWNER_NAME]: org.name,
    [RESOURCE_OWNER_DOMAIN]: org.primaryDomain,
  };
}

/** Profile claims (`profile` scope) and email claims (`email` scope) of a known subject. */
export function profileClaims(
  profile: Profile | undefined,
  scope: string,
): Record<string, unknown> {
  if (profile === undefined) return {};
  const scopes = scope.split(' ');
  const out: Record<string, unknown> = {};
  if (scopes.includes('profile')) {
    const name = [profile.givenName, profile.familyName].filter(Boolean).join(' ');
    out['name'] = name === '' ? profile.userName : name;
    if (profile.givenName !== undefined) out['given_name'] = profile.givenName;
    if (profile.familyName !== undefined) out['family_name'] = profile.familyName;
    out['preferred_username'] = profile.userName;
  }
  if (scopes.includes('email') && profile.email !== undefined) {
    out['email'] = profile.email;
    out['email_verified'] = true;
  }
  return out;
}

/** Applies `claims` over `base`; a value of `undefined` removes the claim. */
export function mergeClaims(
  base: Record<string, unknown>,
  claims: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out = { ...base };
  for (const [name, value] of Object.entries(claims ?? {})) {
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}
