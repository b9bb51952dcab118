/**
 * The `scope` of an M2M token request, built from ZITADEL's reserved scopes. A service
 * user's token only carries a project in `aud` when it asks for that project's audience
 * scope, and only carries roles when it asks for the roles scope; forgetting either is
 * the usual reason a protected API rejects an otherwise fine token, so both are derived
 * from `projectIds` rather than left to hand-written scope strings.
 */
import { ZitauthConfigError } from '../errors.js';

/** Always requested first: ZITADEL issues M2M tokens for OpenID Connect clients. */
export const OPENID_SCOPE = 'openid';
/** Asks ZITADEL to put the project roles of the service user in the token. */
export const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
/** Puts ZITADEL's own API in `aud`, for calling ZITADEL's management APIs. */
export const ZITADEL_API_SCOPE = 'urn:zitadel:iam:org:project:id:zitadel:aud';

/** The scope that puts project `projectId` in the token's `aud`. */
export function projectAudienceScope(projectId: string): string {
  return `urn:zitadel:iam:org:project:id:${projectId}:aud`;
}

/** The scope options of a token client. */
export interface ScopeOptions {
  projectIds?: readonly string[] | undefined;
  roles?: boolean | undefined;
  zitadelApi?: boolean | undefined;
  scopes?: readonly string[] | undefined;
}

// RFC 6749 §3.3 scope-token: no spaces (a space would smuggle in another scope), no quotes.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function checkList(value: unknown, name: string, hint: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new ZitauthConfigError(`zitauth: ${name} must be an array of strings (${hint})`);
  }
  for (const item of value) {
    if (typeof item !== 'string' || !SCOPE_TOKEN.test(item)) {
      throw new ZitauthConfigError(
        `zitauth: every entry of ${name} must be a non-empty string without spaces (${hint})`,
      );
    }
  }
  return value as readonly string[];
}

/**
 * The space-separated scope: `openid`, one audience scope per project, the roles scope
 * (on by default when projects are given), ZITADEL's API audience, then extra scopes.
 * Duplicates are dropped. Throws `ZitauthConfigError` on malformed entries.
 */
export function buildScope(options: ScopeOptions): string {
  const projectIds = checkList(options.projectIds, 'projectIds', 'ZITADEL project ids');
  const extra = checkList(options.scopes, 'scopes', 'one scope per entry');
  const roles = options.roles ?? projectIds.length > 0;
  const scopes = [
    OPENID_SCOPE,
    ...projectIds.map(projectAudienceScope),
    ...(roles ? [ROLES_SCOPE] : []),
    ...(options.zitadelApi === true ? [ZITADEL_API_SCOPE] : []),
    ...extra,
  ];
  return [...new Set(scopes)].join(' ');
}
