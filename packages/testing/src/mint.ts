/**
 * Building and issuing tokens in ZITADEL's shapes. `resolveMint` fills in defaults from
 * the IdP (default project, org, a known subject's roles); `issueAccessToken` and
 * `issueIdToken` turn a complete spec into a signed JWT or a stored opaque token. The
 * token endpoint builds specs itself and shares the issuing half.
 */
import { createHash } from 'node:crypto';
import { mergeClaims, profileClaims, resourceOwnerClaims, roleClaims, toRoles } from './claims.js';
import type { IdpContext } from './context.js';
import { newId, randomToken } from './ids.js';
import { signJwt } from './jwt.js';
import type { MintOptions, Roles, SigningAlgorithm } from './types.js';

/** A complete description of one token. Times are epoch seconds. */
export interface TokenSpec {
  format: 'jwt' | 'opaque';
  subject: string;
  projectId: string;
  orgId: string;
  roles: Roles | undefined;
  audience: string[];
  clientId: string;
  /** Kept by the IdP for introspection and userinfo; a JWT carries it only with `jwtScopeClaim`. */
  scope: string;
  /** Emit the generic roles claim too (the token's client belongs to `projectId`). */
  genericRolesClaim: boolean;
  iat: number;
  nbf: number;
  exp: number;
  claims?: Record<string, unknown> | undefined;
  header?: Record<string, unknown> | undefined;
  kid?: string | undefined;
  alg?: SigningAlgorithm | undefined;
}

function knownSubject(
  ctx: IdpContext,
  subject: string,
): { orgId: string; projectId: string; roles: Roles } | undefined {
  return ctx.store.users.get(subject) ?? ctx.store.serviceUsers.get(subject)?.user;
}

/** Fills in every default of `MintOptions`. */
export function resolveMint(ctx: IdpContext, o: MintOptions = {}): TokenSpec {
  const subject = o.subject ?? newId();
  const known = knownSubject(ctx, subject);
  const projectId = o.projectId ?? ctx.defaultProject.id;
  const clientId = o.clientId ?? (ctx.store.projects.get(projectId) ?? ctx.defaultProject).clientId;
  const orgId = o.orgId ?? known?.orgId ?? ctx.defaultOrg.id;
  const domain = ctx.store.orgs.get(orgId)?.primaryDomain ?? '';
  const ownRoles = known?.projectId === projectId ? known.roles : undefined;
  const now = Math.floor(Date.now() / 1000);
  return {
    format: o.format ?? 'jwt',
    subject,
    projectId,
    orgId,
    roles: o.roles === undefined ? ownRoles : toRoles(o.roles, orgId, domain),
    audience: o.audience ?? [projectId, clientId],
    clientId,
    scope: o.scope ?? 'openid profile email',
    genericRolesClaim: true,
    iat: now + (o.issuedAtSeconds ?? 0),
    nbf: now + (o.notBeforeSeconds ?? 0),
    exp: now + (o.expiresInSeconds ?? ctx.settings.accessTokenLifetimeSeconds),
    claims: o.claims,
    header: o.header,
    kid: o.kid,
    alg: o.alg,
  };
}

async function sign(
  ctx: IdpContext,
  spec: TokenSpec,
  payload: Record<string, unknown>,
): Promise<string> {
  const header = { ...spec.header, ...(spec.alg === undefined ? {} : { alg: spec.alg }) };
  return signJwt(ctx.keys, header, payload, spec.kid);
}

/**
 * The claims of an access token, and the extra claims introspection releases. ZITADEL's
 * JWT access tokens carry no `scope` (internal/api/oidc/token.go, createJWT builds them
 * without one; zitadel/zitadel#12180 proposes adding it) while its introspection answers
 * do (introspect.go), so `scope` is an introspection-only claim here unless
 * `jwtScopeClaim` is set.
 */
function accessClaims(
  ctx: IdpContext,
  spec: TokenSpec,
): { claims: Record<string, unknown>; extra: Record<string, unknown> } {
  const scope = { scope: spec.scope };
  const base = {
    iss: ctx.issuer,
    sub: spec.subject,
    aud: spec.audience,
    exp: spec.exp,
    iat: spec.iat,
    nbf: spec.nbf,
    client_id: spec.clientId,
    jti: `V2_${newId()}-at_${newId()}`,
    ...(ctx.settings.jwtScopeClaim ? scope : {}),
    ...resourceOwnerClaims(ctx.store, spec.orgId, spec.scope),
    ...roleClaims(spec.projectId, spec.roles, spec.genericRolesClaim),
  };
  const claims = mergeClaims(base, spec.claims);
  const profile = ctx.store.profileOf(spec.subject);
  const extra =
    profile === undefined
      ? scope
      : { ...scope, username: profile.userName, ...profileClaims(profile, spec.scope) };
  return { claims, extra };
}

/** Issues an opaque access token, remembered by the IdP for introspection. */
export function issueOpaqueToken(ctx: IdpContext, spec: TokenSpec): string {
  const token = randomToken();
  ctx.tokens.saveOpaque(token, { format: 'opaque', ...accessClaims(ctx, spec) });
  return token;
}

/** Issues an access token: a signed JWT, or an opaque token remembered by the IdP. */
export async function issueAccessToken(ctx: IdpContext, spec: TokenSpec): Promise<string> {
  if (spec.format === 'opaque') return issueOpaqueToken(ctx, spec);
  const { claims, extra } = accessClaims(ctx, spec);
  if (typeof claims['jti'] === 'string')
    ctx.tokens.saveJwt(claims['jti'], { format: 'jwt', claims, extra });
  return sign(ctx, spec, claims);
}

const HASHES: Record<SigningAlgorithm, string> = {
  RS256: 'sha256',
  PS256: 'sha256',
  ES256: 'sha256',
  RS384: 'sha384',
  ES384: 'sha384',
  RS512: 'sha512',
  ES512: 'sha512',
  EdDSA: 'sha512',
};

/** OIDC `at_hash`/`c_hash`: the left half of the value's hash under the signing alg's hash. */
export function halfHash(value: string, alg: SigningAlgorithm): string {
  const digest = createHash(HASHES[alg]).update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** Extra inputs of an ID token. */
export interface IdTokenExtras {
  nonce?: string | undefined;
  accessToken?: string | undefined;
  authTime?: number | undefined;
  sid?: string | undefined;
}

/** Issues an ID token: `azp`, `nonce`, `at_hash`, `sid`, `auth_time`, `amr`, and no `jti`. */
export async function issueIdToken(
  ctx: IdpContext,
  spec: TokenSpec,
  extras: IdTokenExtras,
): Promise<string> {
  const alg = spec.kid !== undefined ? ctx.keys.find(spec.kid)?.alg : spec.alg;
  const hashAlg = alg ?? ctx.keys.active().alg;
  const base = {
    iss: ctx.issuer,
    sub: spec.subject,
    aud: spec.audience,
    exp: spec.exp,
    iat: spec.iat,
    auth_time: extras.authTime ?? spec.iat,
    amr: ['pwd'],
    azp: spec.clientId,
    client_id: spec.clientId,
    ...(extras.nonce === undefined ? {} : { nonce: extras.nonce }),
    at_hash: halfHash(extras.accessToken ?? randomToken(), hashAlg),
    sid: extras.sid ?? `V1_${newId()}`,
    ...resourceOwnerClaims(ctx.store, spec.orgId, spec.scope),
    ...roleClaims(spec.projectId, spec.roles, spec.genericRolesClaim),
  };
  return sign(ctx, spec, mergeClaims(base, spec.claims));
}
