/**
 * Normalization: verified claims (a JWT payload or an active introspection response)
 * become one camelCase `AuthContext`, so routes never care how a token was checked.
 * Roles follow ZITADEL: the project-specific claim wins, then the generic one; any other
 * provider's shape can be read with the `roles` option (a claim name or a mapper).
 */
import type { AuthContext, Roles, TokenClaims } from './types.js';

/** ZITADEL's generic roles claim (the roles of the requested project). */
export const ZITADEL_ROLES_CLAIM = 'urn:zitadel:iam:org:project:roles';

/** ZITADEL's project-specific roles claim. */
export function projectRolesClaim(projectId: string): string {
  return `urn:zitadel:iam:org:project:${projectId}:roles`;
}

/** The claim naming the user's organisation. */
export const RESOURCE_OWNER_ID_CLAIM = 'urn:zitadel:iam:user:resourceowner:id';

/** How roles are read from claims. */
export type RolesSource = (claims: TokenClaims) => Roles;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An empty role map without a prototype: a role named `__proto__` is just a role. */
function emptyRoles(): Roles {
  return Object.create(null) as Roles;
}

/**
 * Reads ZITADEL's roles claim, `{ role: { orgId: domain } }`, into a map without a
 * prototype (so `__proto__` or `constructor` can neither hide nor invent a role). Any
 * other shape grants nothing, and malformed entries are dropped rather than trusted.
 */
export function parseRolesClaim(value: unknown): Roles {
  const roles = emptyRoles();
  if (!isRecord(value)) return roles;
  for (const [role, orgs] of Object.entries(value)) {
    if (!isRecord(orgs)) continue;
    const entry = Object.create(null) as Record<string, string>;
    for (const [orgId, domain] of Object.entries(orgs)) {
      if (typeof domain === 'string') entry[orgId] = domain;
    }
    roles[role] = entry;
  }
  return roles;
}

/**
 * Reads another provider's roles claim: ZITADEL's shape, or a plain string array
 * (`["admin"]`), which becomes roles held in no particular organisation (`{ admin: {} }`).
 * Only used for a claim named with the `roles` option, never for ZITADEL's own claims.
 */
export function parseRolesList(value: unknown): Roles {
  if (!Array.isArray(value)) return parseRolesClaim(value);
  const roles = emptyRoles();
  for (const role of value) {
    if (typeof role === 'string' && role !== '')
      roles[role] = Object.create(null) as Record<string, string>;
  }
  return roles;
}

/**
 * The roles source for a verifier: a custom mapper, a named claim (arrays accepted unless
 * it is one of ZITADEL's claims), or ZITADEL's project-specific claim with the generic
 * claim as fallback, both read strictly.
 */
export function createRolesSource(
  option: string | ((claims: TokenClaims) => Roles) | undefined,
  projectId: string | undefined,
): RolesSource {
  if (typeof option === 'function') return option;
  if (typeof option === 'string') {
    const parse = option.startsWith('urn:zitadel:') ? parseRolesClaim : parseRolesList;
    return (claims) => parse(claims[option]);
  }
  const specific = projectId === undefined ? undefined : projectRolesClaim(projectId);
  return (claims) => {
    const fromProject = specific === undefined ? undefined : claims[specific];
    return parseRolesClaim(fromProject ?? claims[ZITADEL_ROLES_CLAIM]);
  };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function toDate(seconds: unknown): Date | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds)
    ? new Date(seconds * 1000)
    : undefined;
}

/**
 * Scopes from `scope` (space-separated, RFC 8693 / 7662) or `scp` (an array, or a
 * space-separated string as Entra ID sends it).
 */
export function parseScopes(claims: TokenClaims): string[] {
  const value = claims['scope'] ?? claims['scp'];
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string');
  return [];
}

/** Builds the `AuthContext` of claims that already passed every check. */
export function toAuthContext(
  claims: TokenClaims,
  kind: 'jwt' | 'opaque',
  roles: RolesSource,
): AuthContext {
  const aud = claims['aud'];
  return Object.freeze({
    subject: String(claims['sub']),
    clientId: optionalString(claims['client_id']) ?? optionalString(claims['azp']),
    orgId: optionalString(claims[RESOURCE_OWNER_ID_CLAIM]),
    scopes: Object.freeze(parseScopes(claims)),
    roles: Object.freeze(roles(claims)),
    issuer: String(claims['iss']),
    audience: Object.freeze(typeof aud === 'string' ? [aud] : Array.isArray(aud) ? [...aud] : []),
    expiresAt: toDate(claims['exp']) ?? new Date(0),
    issuedAt: toDate(claims['iat']),
    tokenId: optionalString(claims['jti']),
    tokenKind: kind,
    claims: Object.freeze({ ...claims }),
  });
}
