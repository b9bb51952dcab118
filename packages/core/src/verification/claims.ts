/**
 * Normalization: verified claims (a JWT payload or an active introspection response)
 * become one camelCase `AuthContext`, so routes never care how a token was checked.
 * Roles follow ZITADEL: the project-specific claim wins, then the generic one; any other
 * provider's shape can be read with the `roles` option (a claim name or a mapper).
 */
import type { AuthContext, Roles, TokenClaims } from '../types.js';

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
 * claim as fallback, both read strictly. The built-in readers share one deeply frozen
 * role map per distinct claim value (see {@link createInterner}): most callers of an API
 * hold one of a few role sets, and a cache of 10,000 tokens then keeps a few maps, not
 * 10,000. A custom mapper's answer is its own and is not shared.
 */
export function createRolesSource(
  option: string | ((claims: TokenClaims) => Roles) | undefined,
  projectId: string | undefined,
  intern: Interner = noInterning,
): RolesSource {
  if (typeof option === 'function') return option;
  const shared = (parse: (value: unknown) => Roles, value: unknown): Roles =>
    value === undefined
      ? EMPTY_ROLES
      : intern(`r${JSON.stringify(value)}`, () => deepFreeze(parse(value)));
  if (typeof option === 'string') {
    const parse = option.startsWith('urn:zitadel:') ? parseRolesClaim : parseRolesList;
    return (claims) => shared(parse, claims[option]);
  }
  const specific = projectId === undefined ? undefined : projectRolesClaim(projectId);
  return (claims) => {
    const fromProject = specific === undefined ? undefined : claims[specific];
    return shared(parseRolesClaim, fromProject ?? claims[ZITADEL_ROLES_CLAIM]);
  };
}

/** A role map frozen at both levels, so sharing it between callers is safe. */
function deepFreeze(roles: Roles): Roles {
  for (const orgs of Object.values(roles)) Object.freeze(orgs);
  return Object.freeze(roles);
}

const EMPTY_ROLES: Roles = Object.freeze(emptyRoles());
const NO_STRINGS: readonly string[] = Object.freeze([]);

/**
 * Hands out one shared value per key: `make()` runs for a key not held yet. Values must
 * be frozen and fully described by their key (the JSON of the claim they are read from).
 */
export type Interner = <T>(key: string, make: () => T) => T;

/** An interner that shares nothing (each call makes its own value). */
export const noInterning: Interner = (_key, make) => make();

/**
 * A bounded interner: up to `maxKeys` values, then it starts afresh. Claims are signed by
 * the IdP, so the keys are values it issued (a few role sets, audiences, scope lists);
 * forged tokens never get this far, and an IdP issuing many distinct sets costs at most
 * a rebuild of the table.
 */
export function createInterner(maxKeys = 4096): Interner {
  const values = new Map<string, unknown>();
  return <T>(key: string, make: () => T): T => {
    let value = values.get(key) as T | undefined;
    if (value === undefined) {
      if (values.size >= maxKeys) values.clear();
      value = make();
      values.set(key, value);
    }
    return value;
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

/** Claims whose values repeat from token to token: issuer, audiences, client, scopes. */
const REPEATING_CLAIMS: readonly string[] = ['iss', 'aud', 'client_id', 'azp', 'scope', 'scp'];
/** ZITADEL's role and organisation claims, which repeat too (one project, a few orgs). */
const REPEATING_PREFIXES: readonly string[] = [
  'urn:zitadel:iam:org:project:',
  'urn:zitadel:iam:user:resourceowner:',
];

function repeats(name: string): boolean {
  return REPEATING_CLAIMS.includes(name) || REPEATING_PREFIXES.some((p) => name.startsWith(p));
}

/** A JSON value frozen all the way down, so one copy can serve every token carrying it. */
function deepFreezeJson<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreezeJson(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Replaces the values of repeating claims with one shared, deeply frozen copy of each
 * distinct value (equal JSON, so nothing a caller can read changes). A cached token then
 * keeps only what is its own (`sub`, `jti`, times) instead of its own copy of the issuer,
 * the audience list and the role claims.
 */
function shareRepeatingClaims(claims: Record<string, unknown>, intern: Interner): void {
  // Claims already frozen were handed over before (a result shared through a store).
  if (intern === noInterning || Object.isFrozen(claims)) return;
  for (const name of Object.keys(claims)) {
    const value = claims[name];
    if (value === undefined || !repeats(name)) continue;
    claims[name] = intern(`v${JSON.stringify(value)}`, () => deepFreezeJson(value));
  }
}

/** `aud` as a frozen array: the shared claim itself when it is one already. */
function audienceOf(aud: unknown, intern: Interner): readonly string[] {
  if (typeof aud === 'string') return intern(`a${JSON.stringify(aud)}`, () => Object.freeze([aud]));
  if (!Array.isArray(aud)) return NO_STRINGS;
  return Object.isFrozen(aud) ? (aud as string[]) : Object.freeze([...aud] as string[]);
}

/** The scopes as a frozen array, shared between tokens granting the same scopes. */
function scopesOf(claims: TokenClaims, intern: Interner): readonly string[] {
  const value = claims['scope'] ?? claims['scp'];
  if (value === undefined) return NO_STRINGS;
  return intern(`s${JSON.stringify(value)}`, () => Object.freeze(parseScopes(claims)));
}

/**
 * Builds the `AuthContext` of claims that already passed every check. The context is the
 * only object kept per cached token, so it holds `claims` itself (frozen here, not
 * copied: the caller hands them over) and, through `intern`, shares repeating claim
 * values, role maps, audience and scope arrays with the contexts of other tokens.
 */
export function toAuthContext(
  claims: Record<string, unknown>,
  kind: 'jwt' | 'opaque',
  roles: RolesSource,
  intern: Interner = noInterning,
): AuthContext {
  shareRepeatingClaims(claims, intern);
  return Object.freeze({
    subject: String(claims['sub']),
    clientId: optionalString(claims['client_id']) ?? optionalString(claims['azp']),
    orgId: optionalString(claims[RESOURCE_OWNER_ID_CLAIM]),
    scopes: scopesOf(claims, intern),
    roles: Object.freeze(roles(claims)),
    issuer: String(claims['iss']),
    audience: audienceOf(claims['aud'], intern),
    expiresAt: toDate(claims['exp']) ?? new Date(0),
    issuedAt: toDate(claims['iat']),
    tokenId: optionalString(claims['jti']),
    tokenKind: kind,
    claims: Object.freeze(claims),
  });
}
