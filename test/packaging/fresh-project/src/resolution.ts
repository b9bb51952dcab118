// Every entry point and subpath, with a type from each, so the same file checks module
// resolution under nodenext, bundler and node10 (CommonJS, which reads typesVersions).
import { createVerifier, type AuthContext, type VerifierOptions } from '@zitauth/core';
import { createTokenClient, type TokenClientOptions } from '@zitauth/core/token-client';
import { auth as expressAuth, type AuthMiddleware } from '@zitauth/express';
import { auth as koaAuth, type AuthState } from '@zitauth/koa';
import { zitauth, type ZitauthOptions } from '@zitauth/fastify';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { createGateway } from '@zitauth/gateway';

const options: VerifierOptions = { issuer: 'https://acme.zitadel.cloud', projectId: '1' };
export const client: TokenClientOptions = { issuer: options.issuer, personalAccessToken: 'pat' };
export const plugin: ZitauthOptions = options;
export const entries = [
  createVerifier,
  createTokenClient,
  expressAuth,
  koaAuth,
  zitauth,
  startTestIdp,
  createGateway,
];
export type Shapes = [
  AuthContext,
  AuthMiddleware,
  AuthState,
  TestIdp,
  typeof client,
  typeof plugin,
];
