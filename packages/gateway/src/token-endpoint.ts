/**
 * The IdP calls a browser session needs after the login: the refresh token grant
 * (ZITADEL rotates the refresh token on each use, so the answer's new one replaces the
 * old), revocation at logout (RFC 7009), and the user's display name from userinfo
 * (ZITADEL's ID tokens carry no profile claims unless the app asks for them). Protocol steps are
 * oauth4webapi's; failures become a `LoginFlowError` that says whether the IdP refused
 * (`rejected`: the refresh token is spent, revoked or expired) or could not be reached
 * (`unavailable`), and never carries a token in its message.
 */
import * as oauth from 'oauth4webapi';
import type { Discovery, FetchLike } from '@zitauth/core';
import { classify, httpOptions, LoginFlowError } from './login-flow.js';

/** Options of {@link createTokenEndpoint}. */
export interface TokenEndpointOptions {
  discovery: Discovery;
  clientId: string;
  clientSecret?: string | undefined;
  /** Time limit of each call, in milliseconds. */
  timeoutMs: number;
  fetch?: FetchLike | undefined;
}

/** The tokens a refresh yields. */
export interface RefreshedTokens {
  accessToken: string;
  /** Seconds, as the IdP said; undefined when it did not. */
  expiresIn: number | undefined;
  /** The next refresh token; undefined when the IdP keeps the old one valid. */
  refreshToken: string | undefined;
  idToken: string | undefined;
}

export interface TokenEndpoint {
  /** Rejects with `LoginFlowError`. */
  refresh(refreshToken: string): Promise<RefreshedTokens>;
  /** Revokes a token; rejects with `LoginFlowError('unavailable')` when the IdP cannot be reached. */
  revoke(token: string, hint: 'access_token' | 'refresh_token'): Promise<void>;
  /** Display claims from the userinfo endpoint (name, preferred_username, email). Rejects with `LoginFlowError`. */
  profile(accessToken: string): Promise<Profile>;
}

/** What a session shows of the user besides the verified token: display only. */
export interface Profile {
  name?: string;
  preferred_username?: string;
  email?: string;
}

function displayClaims(claims: Record<string, unknown>): Profile {
  const profile: Profile = {};
  for (const name of ['name', 'preferred_username', 'email'] as const) {
    const value = claims[name];
    if (typeof value === 'string' && value.length <= 200) profile[name] = value;
  }
  return profile;
}

export function createTokenEndpoint(options: TokenEndpointOptions): TokenEndpoint {
  const client: oauth.Client = { client_id: options.clientId };
  const clientAuth =
    options.clientSecret === undefined
      ? oauth.None()
      : oauth.ClientSecretBasic(options.clientSecret);
  const http = httpOptions(options);
  const server = async () => (await options.discovery.metadata()) as oauth.AuthorizationServer;
  return {
    async refresh(refreshToken) {
      try {
        const as = await server();
        const response = await oauth.refreshTokenGrantRequest(
          as,
          client,
          clientAuth,
          refreshToken,
          http,
        );
        if (response.status >= 500)
          throw new LoginFlowError('unavailable', `HTTP ${response.status}`);
        const result = await oauth.processRefreshTokenResponse(as, client, response);
        return {
          accessToken: result.access_token,
          expiresIn: result.expires_in,
          refreshToken: result.refresh_token,
          idToken: result.id_token,
        };
      } catch (error) {
        throw classify(error);
      }
    },
    async revoke(token, hint) {
      try {
        const as = await server();
        const response = await oauth.revocationRequest(as, client, clientAuth, token, {
          ...http,
          additionalParameters: { token_type_hint: hint },
        });
        await oauth.processRevocationResponse(response);
      } catch (error) {
        throw classify(error);
      }
    },
    async profile(accessToken) {
      try {
        const as = await server();
        const response = await oauth.userInfoRequest(as, client, accessToken, http);
        const claims = await oauth.processUserInfoResponse(
          as,
          client,
          oauth.skipSubjectCheck,
          response,
        );
        return displayClaims(claims);
      } catch (error) {
        throw classify(error);
      }
    },
  };
}
