/**
 * The no-account mode: a local ZITADEL-compatible IdP from @zitauth/testing, set up the
 * way a real project is (an API application with Basic credentials for introspection,
 * users with and without the `editor` role, a service user with a personal access token).
 * Everything it issues is a test token, valid only against this local IdP.
 */
import type { VerifierOptions } from '@zitauth/core';
import { startTestIdp, type TestIdp } from '@zitauth/testing';

/** A running local IdP and the verifier options that trust it. */
export interface LocalIdp {
  readonly idp: TestIdp;
  /** Issuer, project id and the API application's Basic credentials for introspection. */
  readonly verifierOptions: VerifierOptions;
  /** The API application's client id (shown, never its secret). */
  readonly apiClientId: string;
}

/** A caller with a token, and how to describe it. */
export interface SampleCaller {
  readonly name: string;
  readonly description: string;
  readonly token: string;
}

/** The callers the demo and the server print. */
export interface SampleCallers {
  /** A user with role `editor`, holding a JWT access token. */
  readonly editor: SampleCaller;
  /** A user with role `reader` only, holding a JWT access token. */
  readonly reader: SampleCaller;
  /** A service user with role `editor`, holding an opaque personal access token. */
  readonly bot: SampleCaller;
  /** The editor again, with a JWT that expired five minutes ago. */
  readonly expired: SampleCaller;
}

/** Starts the local IdP and registers the API application that introspects opaque tokens. */
export async function startLocalIdp(): Promise<LocalIdp> {
  const idp = await startTestIdp();
  const api = idp.createApiApp({ auth: 'basic' });
  return {
    idp,
    apiClientId: api.clientId,
    verifierOptions: {
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      introspection: { clientId: api.clientId, clientSecret: api.clientSecret },
    },
  };
}

/**
 * The scope a front end of this API requests at login: the project audience, the roles,
 * and the user's organisation (ZITADEL names it only when asked).
 */
export function loginScope(projectId: string): string {
  return [
    'openid profile email',
    `urn:zitadel:iam:org:project:id:${projectId}:aud`,
    'urn:zitadel:iam:org:projects:roles',
    'urn:zitadel:iam:user:resourceowner',
  ].join(' ');
}

/** Creates the sample users and mints their tokens. */
export async function createSampleCallers(idp: TestIdp): Promise<SampleCallers> {
  const ada = idp.createUser({ userName: 'ada', roles: ['editor'] });
  const bob = idp.createUser({ userName: 'bob', roles: ['reader'] });
  const bot = idp.createServiceUser({ userName: 'quote-bot', roles: ['editor'] });
  const scope = loginScope(idp.defaultProject.id);
  return {
    editor: {
      name: 'ada',
      description: 'user, role editor, JWT',
      token: await idp.mintAccessToken({ subject: ada.id, format: 'jwt', scope }),
    },
    reader: {
      name: 'bob',
      description: 'user, role reader, JWT',
      token: await idp.mintAccessToken({ subject: bob.id, format: 'jwt', scope }),
    },
    bot: {
      name: 'quote-bot',
      description: 'service user, role editor, opaque PAT (introspected)',
      token: bot.pat,
    },
    expired: {
      name: 'ada',
      description: 'the same user with a JWT that expired 5 minutes ago',
      token: await idp.mintAccessToken({
        subject: ada.id,
        format: 'jwt',
        scope,
        expiresInSeconds: -300,
      }),
    },
  };
}
