/**
 * Token introspection (RFC 7662) against ZITADEL's introspection endpoint, authenticated
 * with `client_secret_basic` or `private_key_jwt` from an application key file. Only an
 * answer of exactly `"active": true` makes a token valid. A 401/403 from the endpoint
 * means our own client credentials are wrong, which is an outage of this API (503), never
 * a bad token. The token travels only in the request body: no error or cause names it.
 *
 * The answer must be JSON by its `Content-Type` and carry a boolean `active`; anything else
 * is an IdP fault (503, never cached as "inactive"). A token the IdP calls something other
 * than a bearer token (`token_type`, or a `cnf` binding it to a key) is refused: accepting
 * it as a bearer token would drop the sender constraint. Calls pass a circuit breaker and a
 * two-lane concurrency cap (tokens seen active before go first), so an IdP outage or a
 * flood of junk costs callers no wait.
 *
 * The POST is built on `idpFetch` rather than oauth4webapi: its `PrivateKeyJwt` needs a
 * WebCrypto key and reads the system clock, while `client-auth.ts` already signs ZITADEL's form.
 */
import {
  createCircuitBreaker,
  DEFAULT_COOL_OFF_MS,
  type CircuitBreakerOptions,
} from '../idp/circuit-breaker.js';
import { basicAuthorization, privateKeyJwtFields } from '../idp/client-auth.js';
import { InvalidTokenError, isZitauthError, UpstreamError, ZitauthConfigError } from '../errors.js';
import { idpFetch, parseJsonObject, type HttpOptions, type IdpResponse } from '../idp/http.js';
import { loadKeyFile } from '../idp/key-file.js';
import { isDpopBinding } from './dpop.js';
import { createLimiter, isShed } from '../idp/limiter.js';
import { traceIdpCall } from '../observability/idp-calls.js';
import {
  describeCause,
  findOperatorFault,
  reportOperatorFault,
  upstreamFault,
} from '../observability/operator-fault.js';
import type { IntrospectionAuth } from '../types.js';

/** Options of {@link createIntrospector}. */
export interface IntrospectorOptions {
  /** The issuer; also the `aud` of `private_key_jwt` assertions (exactly, no trailing slash added). */
  issuer: string;
  /** Resolves the introspection endpoint URL (discovery or an override); called per request. */
  endpoint: () => Promise<string>;
  /** Client authentication: `{ clientId, clientSecret }` or `{ keyFile }`. */
  auth: IntrospectionAuth;
  /** fetch, timeout, body cap and shutdown signal of every call. */
  http: HttpOptions;
  /** Introspection calls in flight at once; more callers wait their turn. @default 64 */
  maxConcurrent?: number;
  /** Callers allowed to wait for a slot; past this they get `UpstreamError`. @default 1024 */
  maxQueued?: number;
  /**
   * Slots kept for tokens seen active before (`known`); unknown tokens use the rest and at
   * most half the queue. @default a quarter of `maxConcurrent`
   */
  reservedForKnown?: number;
  /** When consecutive failures stop calls for a cool-off. @default 5 failures, 10000 ms */
  circuitBreaker?: CircuitBreakerOptions;
  /** Clock in epoch milliseconds (the assertion's `iat`). @default Date.now */
  now?: () => number;
  /**
   * Accept active answers for DPoP-bound tokens (`token_type` DPoP, `cnf: { jkt }`); the
   * verifier then checks the binding against the request's proof. @default false
   */
  dpopBinding?: boolean;
}

/**
 * Introspects one token: the active response's claims, or `null` when the token is not
 * active. Rejects with `UpstreamError` when the IdP cannot give a trustworthy answer, and
 * with `InvalidTokenError` for an active token that is not a bearer token. `known` marks
 * a token seen active before, which may use the capacity kept for known callers.
 */
export type Introspector = (
  token: string,
  known?: boolean,
) => Promise<Record<string, unknown> | null>;

/** Adds client authentication to a request's form and headers. */
type ClientAuthenticator = (
  form: URLSearchParams,
  headers: Record<string, string>,
) => Promise<void>;

function invalidOption(message: string): ZitauthConfigError {
  return new ZitauthConfigError(`zitauth: ${message}`, 'ERR_ZITAUTH_INVALID_OPTION');
}

function requireNonEmpty(value: unknown, name: string, hint: string): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(`${name} must be a non-empty string (${hint})`);
  }
}

/** Builds the client authentication once, so configuration mistakes surface at start-up. */
function createClientAuth(
  auth: IntrospectionAuth,
  issuer: string,
  now: () => number,
): ClientAuthenticator {
  if (typeof auth !== 'object' || auth === null) {
    throw invalidOption('introspection must be { clientId, clientSecret } or { keyFile }');
  }
  if ('keyFile' in auth) {
    if ('clientId' in auth || 'clientSecret' in auth) {
      throw invalidOption('introspection takes either keyFile or clientId/clientSecret, not both');
    }
    const key = loadKeyFile(auth.keyFile, 'application', 'introspection.keyFile');
    // A fresh assertion (new jti, new iat) per call: a captured one is useless within a minute.
    return async (form) => {
      const fields = await privateKeyJwtFields(key, issuer, now());
      for (const [name, value] of Object.entries(fields)) form.set(name, value);
    };
  }
  requireNonEmpty(
    auth.clientId,
    'introspection.clientId',
    'the Client ID of the API application in the ZITADEL console',
  );
  requireNonEmpty(
    auth.clientSecret,
    'introspection.clientSecret',
    'the Client Secret shown when the API application was created; or use keyFile',
  );
  const authorization = basicAuthorization(auth.clientId, auth.clientSecret);
  return async (_form, headers) => {
    headers['authorization'] = authorization;
  };
}

/**
 * The endpoint refused our own client credentials: every token would fail, so this is
 * the operator's to fix, and the message says where the credentials come from.
 */
function clientRefused(url: string, status: number): UpstreamError {
  return upstreamFault(
    'introspection-client-refused',
    `zitauth: introspection refused the client credentials (HTTP ${status} from ${url}); ` +
      'check introspection.clientId and clientSecret (or keyFile): they belong to the API ' +
      'application of your project in the ZITADEL console',
  );
}

/** RFC 7662 §2.2: the answer is `application/json` (or a `+json` type), whatever it looks like. */
function requireJson(response: IdpResponse): void {
  const type = (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[\w.-]+\+json$/.test(type)) {
    throw new Error('the introspection endpoint answered with a Content-Type that is not JSON');
  }
}

/**
 * An active answer must describe a bearer token: `token_type` (when present) is bearer,
 * and no `cnf` binds it to a key or certificate (RFC 7800, RFC 8705, RFC 9449), which a
 * bearer-token check cannot prove possession of. With DPoP on, a DPoP-bound token
 * (`token_type` DPoP and `cnf: { jkt }`) is accepted too: the verifier then checks the
 * binding against the request's proof.
 */
function requireBearer(body: Record<string, unknown>, dpopBinding: boolean): void {
  const type = body['token_type'];
  const kind = typeof type === 'string' ? type.toLowerCase() : type;
  const cnf = body['cnf'];
  if (dpopBinding && isDpopBinding(cnf) && (kind === undefined || kind === 'dpop')) return;
  if (kind !== undefined && kind !== 'bearer')
    throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TYPE');
  if (cnf !== undefined) throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TYPE');
}

/** Maps the endpoint's answer to claims or null; anything untrustworthy is an upstream fault. */
function readIntrospectionResponse(
  response: IdpResponse,
  dpopBinding: boolean,
): Record<string, unknown> | null {
  if (response.status !== 200) {
    throw new Error(`the introspection endpoint answered HTTP ${response.status}`);
  }
  requireJson(response);
  const body = parseJsonObject(response.body);
  // RFC 7662 §2.2: `active` is REQUIRED and a boolean. Without one the IdP said nothing
  // about the token: an outage to retry, never an "inactive" to cache.
  if (typeof body['active'] !== 'boolean') {
    throw new Error('the introspection answer has no boolean "active"');
  }
  if (!body['active']) return null;
  requireBearer(body, dpopBinding);
  // `sub` is optional in RFC 7662, and a token granted to a client alone (client
  // credentials) may come without one. RFC 9068 §2.2 names the client as the subject
  // then, as the same IdP's JWT access tokens do, so both paths see the same caller.
  if (body['sub'] === undefined && typeof body['client_id'] === 'string') {
    return { ...body, sub: body['client_id'] };
  }
  return body;
}

/**
 * Whether the endpoint refused our client credentials: 401/403, or a 400 `invalid_client`,
 * which RFC 6749 §5.2 allows and some IdPs send (ZITADEL answers 401).
 */
function refusesClient(response: IdpResponse): boolean {
  if (response.status === 401 || response.status === 403) return true;
  if (response.status !== 400) return false;
  try {
    return parseJsonObject(response.body)['error'] === 'invalid_client';
  } catch {
    return false;
  }
}

/** One introspection POST, traced; a refusal of our credentials is reported as such. */
async function post(url: string, init: RequestInit, http: HttpOptions, dpopBinding: boolean) {
  return traceIdpCall('introspection', url, async (note) => {
    const response = await idpFetch(url, init, http);
    note.status = response.status;
    if (refusesClient(response)) {
      throw clientRefused(url, response.status);
    }
    return readIntrospectionResponse(response, dpopBinding);
  });
}

function checkOptions(options: IntrospectorOptions): void {
  requireNonEmpty(options.issuer, 'issuer', 'the issuer URL, e.g. https://acme.zitadel.cloud');
  if (typeof options.endpoint !== 'function') {
    throw invalidOption('the introspection endpoint resolver must be a function');
  }
}

/** Builds an introspector. Throws `ZitauthConfigError` synchronously on bad options or key files. */
export function createIntrospector(options: IntrospectorOptions): Introspector {
  checkOptions(options);
  const { issuer, endpoint, http } = options;
  const authenticate = createClientAuth(options.auth, issuer, options.now ?? Date.now);
  const maxConcurrent = options.maxConcurrent ?? 64;
  const limit = createLimiter({
    maxConcurrent,
    maxQueued: options.maxQueued ?? 1024,
    reserved: options.reservedForKnown ?? Math.floor(maxConcurrent / 4),
  });
  const coolOffSeconds = (options.circuitBreaker?.coolOffMs ?? DEFAULT_COOL_OFF_MS) / 1000;
  /** The endpoint of the latest call, for the circuit's message. */
  let lastUrl: string | undefined;
  const breaker = createCircuitBreaker({
    ...options.circuitBreaker,
    // A caller shed by the cap made no call; a refused token is an answer.
    classify: (error) =>
      isShed(error) ? 'neutral' : error instanceof UpstreamError ? 'failure' : 'success',
    // Published once per opening, and the cause of every 503 of its cool-off, so the
    // operator log says why requests fail without an IdP call.
    onOpen: (error, failures) =>
      reportOperatorFault(
        'circuit-open',
        `zitauth: circuit open after ${failures} failure${failures === 1 ? '' : 's'} of the introspection endpoint ` +
          `${lastUrl ?? '(not resolved)'}: introspection calls are answered 503 at once for ` +
          `${coolOffSeconds} s, then one probe goes through (last failure: ` +
          `${describeCause(findOperatorFault(error) ?? error)}); check that the IdP is reachable from here`,
      ),
  });

  async function introspect(token: string): Promise<Record<string, unknown> | null> {
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    let url: string | undefined;
    try {
      url = await endpoint();
      lastUrl = url;
      await authenticate(form, headers);
      const init = { method: 'POST', headers, body: form.toString() };
      return await post(url, init, http, options.dpopBinding === true);
    } catch (error) {
      // The resolver (discovery) reports its own faults, and so does a refused credential;
      // a token the IdP calls something other than a bearer token is the caller's.
      if (findOperatorFault(error) !== undefined || error instanceof InvalidTokenError) throw error;
      if (url === undefined && isZitauthError(error)) throw error;
      throw upstreamFault(
        'introspection-unreachable',
        `zitauth: the introspection endpoint ${url ?? '(not resolved)'} could not be used ` +
          `(${describeCause(error)}); check that the IdP is reachable from here`,
        error,
      );
    }
  }

  return (token, known = false) => breaker(() => limit(() => introspect(token), known));
}
