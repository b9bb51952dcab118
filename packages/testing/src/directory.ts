/**
 * Creating organisations, projects, users, applications and service users with
 * ZITADEL-like defaults (18-digit ids, `<id>@<project>` client ids, console-style key
 * files). Every creator validates references up front and throws a TypeError, so a test
 * typo fails at setup rather than as a puzzling `active: false` later.
 */
import type { KeyObject } from 'node:crypto';
import { toRoles } from './claims.js';
import type { IdpContext } from './context.js';
import { clientIdFor, newId, randomToken, slug } from './ids.js';
import { issueOpaqueToken, resolveMint } from './mint.js';
import type { Store } from './store.js';
import type {
  ApiApp,
  ApiAppOptions,
  Org,
  OrgOptions,
  Project,
  ProjectOptions,
  Roles,
  ServiceUser,
  ServiceUserOptions,
  User,
  UserOptions,
  WebApp,
  WebAppOptions,
} from './types.js';

/** Personal access tokens live for ten years, like a long-lived console-issued PAT. */
const PAT_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

let counter = 0;
const next = (): number => ++counter;

export function createOrg(store: Store, o: OrgOptions = {}): Org {
  const name = o.name ?? `Org ${next()}`;
  const org: Org = {
    id: newId(),
    name,
    primaryDomain: o.primaryDomain ?? `${slug(name)}.localhost`,
  };
  store.orgs.set(org.id, org);
  return org;
}

export function createProject(store: Store, o: ProjectOptions = {}): Project {
  const name = o.name ?? `project-${next()}`;
  const project: Project = {
    id: newId(),
    name,
    roles: [...(o.roles ?? ['admin', 'editor', 'reader'])],
    roleAssertion: o.roleAssertion ?? false,
    clientId: clientIdFor(newId(), name),
  };
  store.projects.set(project.id, project);
  return project;
}

function grant(
  ctx: IdpContext,
  roles: string[] | Roles | undefined,
  orgId: string,
  projectId: string,
): Roles {
  const org = ctx.store.org(orgId);
  ctx.store.project(projectId);
  return roles === undefined ? {} : toRoles(roles, org.id, org.primaryDomain);
}

export function createUser(ctx: IdpContext, o: UserOptions = {}): User {
  const orgId = o.orgId ?? ctx.defaultOrg.id;
  const projectId = o.projectId ?? ctx.defaultProject.id;
  const roles = grant(ctx, o.roles, orgId, projectId);
  const userName = o.userName ?? `user${next()}`;
  const domain = ctx.store.org(orgId).primaryDomain;
  const user: User = {
    id: newId(),
    userName,
    loginName: `${userName}@${domain}`,
    orgId,
    givenName: o.givenName ?? 'Test',
    familyName: o.familyName ?? 'User',
    email: o.email ?? `${userName}@${domain}`,
    password: o.password ?? 'Password1!',
    roles,
    projectId,
  };
  ctx.store.users.set(user.id, user);
  return user;
}

function assertFreeClientId(store: Store, clientId: string): void {
  if (store.clients.has(clientId) || store.serviceUserByClientId(clientId) !== undefined) {
    throw new TypeError(`@zitauth/testing: client id ${clientId} is taken`);
  }
}

export function createApiApp(ctx: IdpContext, o: ApiAppOptions): ApiApp {
  if (o.auth !== 'basic' && o.auth !== 'private_key_jwt') {
    throw new TypeError("@zitauth/testing: createApiApp needs auth 'basic' or 'private_key_jwt'");
  }
  const project = ctx.store.project(o.projectId ?? ctx.defaultProject.id);
  const appId = newId();
  const clientId = o.clientId ?? clientIdFor(appId, project.name);
  assertFreeClientId(ctx.store, clientId);
  const keys = new Map<string, KeyObject>();
  const base = { appId, clientId, projectId: project.id, auth: o.auth };
  let app: ApiApp;
  if (o.auth === 'basic') {
    app = { ...base, clientSecret: o.clientSecret ?? randomToken(32) };
  } else {
    const key = ctx.rsaKeys.take();
    keys.set(key.keyId, key.publicKey);
    app = {
      ...base,
      keyFile: { type: 'application', keyId: key.keyId, key: key.pem, appId, clientId },
    };
  }
  ctx.store.clients.set(clientId, { kind: 'api', app, keys });
  return app;
}

export function createWebApp(ctx: IdpContext, o: WebAppOptions): WebApp {
  const project = ctx.store.project(o.projectId ?? ctx.defaultProject.id);
  if (!Array.isArray(o.redirectUris) || o.redirectUris.length === 0) {
    throw new TypeError('@zitauth/testing: createWebApp needs at least one redirect URI');
  }
  for (const uri of [...o.redirectUris, ...(o.postLogoutRedirectUris ?? [])]) new URL(uri);
  const appId = newId();
  const app: WebApp = {
    appId,
    clientId: clientIdFor(appId, project.name),
    projectId: project.id,
    redirectUris: [...o.redirectUris],
    postLogoutRedirectUris: [...(o.postLogoutRedirectUris ?? [])],
    accessTokenType: o.accessTokenType ?? 'jwt',
  };
  ctx.store.clients.set(app.clientId, { kind: 'web', app });
  return app;
}

/** A personal access token: opaque, long-lived, for the user's project with its roles. */
function issuePat(
  ctx: IdpContext,
  userId: string,
  orgId: string,
  projectId: string,
  roles: Roles,
): string {
  const project = ctx.store.project(projectId);
  const spec = resolveMint(ctx, { subject: userId, projectId, orgId, roles, format: 'opaque' });
  return issueOpaqueToken(ctx, {
    ...spec,
    clientId: userId,
    audience: [project.id, project.clientId],
    scope: `openid profile urn:zitadel:iam:org:project:id:${project.id}:aud`,
    exp: spec.iat + PAT_LIFETIME_SECONDS,
  });
}

export function createServiceUser(ctx: IdpContext, o: ServiceUserOptions = {}): ServiceUser {
  const orgId = o.orgId ?? ctx.defaultOrg.id;
  const projectId = o.projectId ?? ctx.defaultProject.id;
  const roles = grant(ctx, o.roles, orgId, projectId);
  const userId = newId();
  const userName = o.userName ?? `service-user-${next()}`;
  assertFreeClientId(ctx.store, userName);
  const key = ctx.rsaKeys.take();
  const user: ServiceUser = {
    userId,
    userName,
    orgId,
    keyFile: { type: 'serviceaccount', keyId: key.keyId, key: key.pem, userId },
    clientId: userName,
    clientSecret: randomToken(32),
    pat: issuePat(ctx, userId, orgId, projectId, roles),
    roles,
    projectId,
    accessTokenType: o.accessTokenType ?? 'jwt',
  };
  ctx.store.serviceUsers.set(userId, { user, keys: new Map([[key.keyId, key.publicKey]]) });
  return user;
}
