/**
 * The no-account mode: a local ZITADEL-compatible IdP from @zitauth/testing, set up the
 * way the seed asks you to set up ZITADEL by hand (a "User Agent" app with PKCE whose
 * redirect URI is the gateway's callback, an API app for introspection, a service user
 * with a key for M2M, and a user to log in with). Everything it issues is a test
 * credential, valid only against this local IdP, which is why it may be printed.
 *
 * `@zitauth/testing` is a development dependency: a production install does not carry an
 * IdP with demo passwords. It is loaded only here, when the embedded IdP is asked for.
 */
import { randomBytes } from 'node:crypto';
import type { ApiApp, ServiceUser, TestIdp, TestIdpOptions, User, WebApp } from '@zitauth/testing';
import { hashSecret, type M2mClient } from './m2m-clients.js';
import type { GatewayOptions } from './options.js';

/** Options of {@link startDevIdp}. */
export interface DevIdpOptions {
  /** The gateway's external base URL (its callback is registered with the web app). */
  publicUrl: string;
  /** Origins whose pages may be post-logout targets. */
  allowedOrigins: readonly string[];
  /** M2M callers; a demo caller with a fresh secret is made when none are given. */
  m2mClients?: readonly M2mClient[] | undefined;
  /** Port of the IdP; 0 picks a free one. @default 0 */
  port?: number | undefined;
}

/** The running IdP, the gateway options that trust it, and what to tell the user. */
export interface DevIdp {
  readonly idp: TestIdp;
  readonly options: Pick<
    GatewayOptions,
    'issuer' | 'projectId' | 'login' | 'introspection' | 'm2m'
  >;
  /** Human-readable lines describing what was set up (test credentials included). */
  readonly summary: string[];
  close(): Promise<void>;
}

function m2mCallers(given: readonly M2mClient[] | undefined): {
  clients: readonly M2mClient[];
  demo: { id: string; secret: string } | undefined;
} {
  if (given !== undefined && given.length > 0) return { clients: given, demo: undefined };
  const demo = { id: 'demo-service', secret: randomBytes(24).toString('base64url') };
  return { clients: [{ id: demo.id, secretSha256: hashSecret(demo.secret) }], demo };
}

/** What was registered, for the summary. */
interface Registered {
  idp: TestIdp;
  web: WebApp;
  api: ApiApp & { readonly clientSecret: string };
  service: ServiceUser;
  users: User[];
  m2m: ReturnType<typeof m2mCallers>;
}

function summarize(r: Registered, publicUrl: string): string[] {
  const project = r.idp.defaultProject.id;
  const users = r.users.map(
    (u) => `${u.userName} / ${u.password} (${Object.keys(u.roles).join(', ')})`,
  );
  const { clients, demo } = r.m2m;
  return [
    `Local test IdP (no ZITADEL account needed): ${r.idp.issuer}`,
    `  project ${project}; web app (PKCE) ${r.web.clientId}, redirect ${r.web.redirectUris[0] ?? ''}`,
    `  users: ${users.join(', ')}`,
    `  API app for introspection (test credentials): ${r.api.clientId} / ${r.api.clientSecret}`,
    `  service user for M2M: ${r.service.userName} (editor)`,
    demo === undefined
      ? `  M2M callers: ${clients.map((client) => client.id).join(', ')}`
      : `  M2M caller (test credentials): ${demo.id} / ${demo.secret}`,
    'Quote API trusting this IdP, then the SPA (http://127.0.0.1:3001):',
    `  ZITADEL_ISSUER=${r.idp.issuer} ZITADEL_PROJECT_ID=${project} ZITADEL_CLIENT_ID='${r.api.clientId}' ZITADEL_CLIENT_SECRET='${r.api.clientSecret}' npm start -w @zitauth/example-express-quotes`,
    `  GATEWAY_URL=${publicUrl} npm start -w @zitauth/example-spa`,
  ];
}

/** `@zitauth/testing`'s `startTestIdp`, or an error saying how to install it. */
async function loadTestIdp(): Promise<(options: TestIdpOptions) => Promise<TestIdp>> {
  try {
    return (await import('@zitauth/testing')).startTestIdp;
  } catch (error) {
    throw new Error(
      'the embedded test IdP needs @zitauth/testing, a development dependency: npm install --save-dev @zitauth/testing (or set ZITADEL_ISSUER)',
      { cause: error },
    );
  }
}

/** Starts the local IdP and registers the apps, users and keys the gateway needs. */
export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const startTestIdp = await loadTestIdp();
  const idp = await startTestIdp({ port: options.port ?? 0 });
  const r: Registered = {
    idp,
    web: idp.createWebApp({
      redirectUris: [`${options.publicUrl}/api/v1/callback`],
      postLogoutRedirectUris: options.allowedOrigins.map((origin) => `${origin}/`),
    }),
    api: idp.createApiApp({ auth: 'basic' }),
    service: idp.createServiceUser({ userName: 'gateway-service', roles: ['editor'] }),
    users: [
      idp.createUser({
        userName: 'ada',
        givenName: 'Ada',
        familyName: 'Lovelace',
        roles: ['editor'],
      }),
      idp.createUser({
        userName: 'bob',
        givenName: 'Bob',
        familyName: 'Reader',
        roles: ['reader'],
      }),
    ],
    m2m: m2mCallers(options.m2mClients),
  };
  return {
    idp,
    options: {
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      login: { clientId: r.web.clientId },
      introspection: { clientId: r.api.clientId, clientSecret: r.api.clientSecret },
      m2m: { keyFile: r.service.keyFile, clients: r.m2m.clients },
    },
    summary: summarize(r, options.publicUrl),
    close: () => idp.close(),
  };
}
