// Helpers shared by the tests: client authentication built by hand (so the IdP is tested
// against the wire format, not against our own client code) and small fetch wrappers.
import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ApplicationKeyFile, ServiceAccountKeyFile } from '../src/types.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`).toString('base64')}`;
}

export interface AssertionOverrides {
  kid?: string;
  iss?: string;
  sub?: string;
  aud?: string | string[];
  iat?: number;
  exp?: number | undefined;
}

/** Signs an assertion with a key file, as a ZITADEL client would; overrides bend one rule. */
export async function assertion(
  keyFile: ApplicationKeyFile | ServiceAccountKeyFile,
  issuer: string,
  o: AssertionOverrides = {},
): Promise<string> {
  const subject = keyFile.type === 'application' ? keyFile.clientId : keyFile.userId;
  const now = Math.floor(Date.now() / 1000);
  const iat = o.iat ?? now;
  const payload: Record<string, unknown> = {
    iss: o.iss ?? subject,
    sub: o.sub ?? subject,
    aud: o.aud ?? issuer,
    iat,
    jti: randomUUID(),
  };
  if (!('exp' in o)) payload['exp'] = iat + 60;
  else if (o.exp !== undefined) payload['exp'] = o.exp;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? keyFile.keyId })
    .sign(createPrivateKey(keyFile.key));
}

export async function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

export function decodePayload(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function decodeHeader(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[0] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Introspects `token` as an API app with Basic credentials; resolves the JSON answer. */
export async function introspectAs(
  issuer: string,
  app: { clientId: string; clientSecret: string },
  token: string,
): Promise<Record<string, unknown>> {
  const res = await postForm(
    `${issuer}/oauth/v2/introspect`,
    { token },
    { Authorization: basic(app.clientId, app.clientSecret) },
  );
  return (await res.json()) as Record<string, unknown>;
}
