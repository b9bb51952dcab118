/**
 * One API trusting several issuers (regions, customers with their own ZITADEL instance,
 * a migration from one instance to another, ZITADEL plus another provider), built as a
 * composition: one single-issuer verifier per configured issuer, each with its own
 * discovery, key set, introspection credentials, policy and cache, plus this dispatcher
 * with the same `Verifier` surface.
 *
 * A JWT goes to the verifier of its `iss` only: the claim is read unverified to choose,
 * then that verifier checks signature and `iss` exactly. An `iss` nobody configured is
 * refused before any network call, so a stranger cannot make us fetch anything, and one
 * issuer's keys never judge another's tokens. An opaque token names no issuer: it goes
 * to exactly one issuer picked by a rule (the first with introspection credentials, or a
 * resolver reading the request), never to every IdP in turn, which would hand a caller's
 * credential to IdPs that never issued it.
 */
import {
  InvalidTokenError,
  ZitauthConfigError,
  ZitauthError,
  type ChallengeOptions,
} from '../errors.js';
import { ANSWER_SYNC, asRefusal, thrown, type Answering } from './answer.js';
import { extractToken, type ExtractOptions } from './extract.js';
import { publishRefused } from '../observability/decisions.js';
import { checkOptionKeys, optionKeys } from '../option-keys.js';
import { resolveOptions, VERIFIER_KEYS } from './options.js';
import { notReady } from './readiness.js';
import {
  createProtectedResource,
  type ProtectedResourceOptions,
} from '../adapter-kit/resource-metadata.js';
import type {
  AuthContext,
  TokenRequest,
  TokenTransport,
  Verifier,
  VerifierOptions,
  ZitauthVerifier,
} from '../types.js';
import { bearerMethods, createVerifier, isCompactJws } from './verifier.js';

/** Options set once for the whole API, not per issuer: they shape the request, not the token. */
const SHARED_KEYS = ['realm', 'tokenTransport', 'maxTokenBytes', 'protectedResource'] as const;

/** One trusted issuer: the options of `createVerifier`, minus those set once for the API. */
export type IssuerOptions = Omit<VerifierOptions, (typeof SHARED_KEYS)[number]>;

/** Picks the issuer that introspects an opaque token, from the request; `undefined` refuses it. */
export type OpaqueIssuerResolver = (request: TokenRequest) => string | undefined;

/** Options of `createMultiIssuerVerifier`. */
export interface MultiIssuerOptions {
  /** The trusted issuers, each with its own audience, introspection credentials and policy. */
  issuers: readonly IssuerOptions[];
  /**
   * Which issuer introspects an opaque token (it names no issuer): an issuer URL from
   * `issuers`, or a function of the request (e.g. its host or a tenant header) returning
   * one; a result that is not a configured issuer refuses the token (401) without any
   * IdP call. `verify(token)` passes the function an empty request.
   * @default the first issuer with `introspection` and a mode other than 'jwt'
   */
  opaqueIssuer?: string | OpaqueIssuerResolver;
  /** Realm of the `WWW-Authenticate` challenge. @default 'api' */
  realm?: string;
  /** Transports besides the `Authorization` header. @default header only */
  tokenTransport?: TokenTransport;
  /** Largest accepted token, in bytes; larger ones are refused before decoding. @default 8192 */
  maxTokenBytes?: number;
  /**
   * Protected resource metadata (RFC 9728), set once for the API: `authorization_servers`
   * lists every configured issuer unless given. @default off
   */
  protectedResource?: ProtectedResourceOptions;
}

/** A verifier trusting several issuers. */
export interface MultiIssuerVerifier extends Verifier {
  /** The first configured issuer (the `Verifier` surface has one). */
  readonly issuer: string;
  /** Every trusted issuer, in configured order. */
  readonly issuers: readonly string[];
  /**
   * The start-up check of every issuer at once (see `ZitauthVerifier.ready`); rejects with
   * one `ZitauthConfigError` naming each issuer that failed, one line each (`issuers[1] (https://…)`) and why.
   */
  ready(): Promise<void>;
}

/** Every key of `MultiIssuerOptions`. */
export const MULTI_ISSUER_KEYS = optionKeys<MultiIssuerOptions>({
  issuers: true,
  opaqueIssuer: true,
  realm: true,
  tokenTransport: true,
  maxTokenBytes: true,
  protectedResource: true,
});

/** The keys of one entry of `issuers`: a verifier's, minus those set once for the API. */
const ENTRY_KEYS = VERIFIER_KEYS.filter((key) => !(SHARED_KEYS as readonly string[]).includes(key));

function fail(message: string): never {
  throw new ZitauthConfigError(`zitauth: ${message}`);
}

/** Top-level options: a known key set, and at least one issuer object. */
function checkShape(options: MultiIssuerOptions): readonly IssuerOptions[] {
  if (typeof options !== 'object' || options === null) {
    fail('createMultiIssuerVerifier needs { issuers: [{ issuer, projectId }, …] }');
  }
  for (const key of Object.keys(options)) {
    if (key === 'issuer') fail('set issuer inside each entry of issuers, not beside it');
    if (ENTRY_KEYS.includes(key)) {
      fail(`unknown option "${key}" beside issuers: it is set per issuer, inside each entry`);
    }
  }
  checkOptionKeys(options, MULTI_ISSUER_KEYS, 'createMultiIssuerVerifier options');
  const list = options.issuers as unknown;
  if (!Array.isArray(list) || list.length === 0) {
    fail('issuers must be a non-empty array of { issuer, projectId | audience, … }');
  }
  list.forEach((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null) fail(`issuers[${index}] must be an object`);
    for (const key of SHARED_KEYS) {
      if (key in entry) fail(`issuers[${index}].${key}: set ${key} once, beside issuers`);
    }
    // The proof is checked per request, which routing by token does not carry yet.
    const dpop = (entry as { dpop?: unknown }).dpop;
    if (dpop !== undefined && dpop !== 'off') {
      fail(`issuers[${index}].dpop: DPoP needs a single-issuer verifier (createVerifier)`);
    }
    checkOptionKeys(entry, ENTRY_KEYS, `issuers[${index}]`);
  });
  return list as readonly IssuerOptions[];
}

/** One verifier per entry, sharing the request-level options; duplicates are refused. */
function buildVerifiers(
  entries: readonly IssuerOptions[],
  shared: Pick<VerifierOptions, (typeof SHARED_KEYS)[number]>,
): Map<string, ZitauthVerifier> {
  const byIssuer = new Map<string, ZitauthVerifier>();
  try {
    for (const entry of entries) {
      const verifier = createVerifier({ ...entry, ...shared });
      if (byIssuer.has(verifier.issuer)) {
        verifier.close();
        fail(`issuer ${verifier.issuer} is listed twice in issuers; merge the two entries`);
      }
      byIssuer.set(verifier.issuer, verifier);
    }
  } catch (error) {
    for (const verifier of byIssuer.values()) verifier.close();
    throw error;
  }
  return byIssuer;
}

/** The issuer an entry with introspection credentials would introspect opaque tokens for. */
function canIntrospect(entry: IssuerOptions): boolean {
  return entry.introspection !== undefined && entry.mode !== 'jwt';
}

/** The documented opaque-token rule, checked against the configured issuers at start-up. */
function opaqueRule(
  option: MultiIssuerOptions['opaqueIssuer'],
  entries: readonly IssuerOptions[],
  known: ReadonlyMap<string, Verifier>,
): OpaqueIssuerResolver {
  if (typeof option === 'function') return option;
  if (option === undefined) {
    const first = entries.find(canIntrospect)?.issuer;
    return () => first;
  }
  if (typeof option !== 'string' || !known.has(option)) {
    fail(
      `opaqueIssuer must be one of the configured issuers (${[...known.keys()].join(', ')}) or a function of the request`,
    );
  }
  return () => option;
}

/**
 * The `iss` of a compact JWS, read without verifying: only to choose whose keys verify
 * it. Buffer's decoder and `JSON.parse` rather than jose's `decodeJwt`, which checks more
 * than routing needs and doubled the cost of a cached request; the chosen verifier still
 * parses and checks everything.
 */
function unverifiedIssuer(token: string): unknown {
  const payload = token.slice(token.indexOf('.') + 1, token.lastIndexOf('.'));
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED', { cause });
  }
  return typeof claims === 'object' && claims !== null
    ? (claims as { iss?: unknown }).iss
    : undefined;
}

/**
 * Builds a verifier trusting every issuer in `options.issuers`. Throws
 * `ZitauthConfigError` synchronously on a configuration mistake, naming the entry.
 */
export function createMultiIssuerVerifier(options: MultiIssuerOptions): MultiIssuerVerifier {
  const entries = checkShape(options);
  const shared: Pick<VerifierOptions, (typeof SHARED_KEYS)[number]> = {};
  for (const key of SHARED_KEYS)
    if (options[key] !== undefined) Object.assign(shared, { [key]: options[key] });
  const byIssuer = buildVerifiers(entries, shared);
  const opaqueIssuerOf = opaqueRule(options.opaqueIssuer, entries, byIssuer);
  const opaqueAccepted = options.opaqueIssuer !== undefined || entries.some(canIntrospect);
  // The first entry already passed createVerifier, so resolving it again cannot throw; it
  // yields the request-level settings with their defaults, exactly as each verifier has them.
  const resolved = resolveOptions({ ...entries[0]!, ...shared });
  const realm = resolved.realm;
  const issuers = Object.freeze([...byIssuer.keys()]);
  // Each issuer's verifier already checked these options; this one lists every issuer.
  const protectedResource =
    options.protectedResource === undefined
      ? undefined
      : createProtectedResource(options.protectedResource, {
          issuers,
          bearerMethods: bearerMethods(resolved.transport),
        });
  const challenge: ChallengeOptions = Object.freeze({
    realm,
    resourceMetadata: protectedResource?.metadataUrl,
  });
  const extractOptions: ExtractOptions = {
    transport: resolved.transport,
    maxTokenBytes: resolved.maxTokenBytes,
    errors: challenge,
  };

  /** The verifier that owns `token`, chosen without any network call. */
  function route(token: string, request: TokenRequest): ZitauthVerifier {
    if (Buffer.byteLength(token, 'utf8') > resolved.maxTokenBytes) {
      throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TOO_LARGE');
    }
    const jws = isCompactJws(token);
    // Like a single verifier without introspection credentials: opaque tokens are not accepted.
    if (!jws && !opaqueAccepted) throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_TYPE');
    const issuer = jws ? unverifiedIssuer(token) : opaqueIssuerOf(request);
    const verifier = typeof issuer === 'string' ? byIssuer.get(issuer) : undefined;
    if (verifier === undefined) throw new InvalidTokenError('ERR_ZITAUTH_ISSUER_MISMATCH');
    return verifier;
  }

  /**
   * The owning verifier's answer. Not async: a cached token costs no extra promise, and
   * the owner's errors already carry the shared realm; only routing refusals need it.
   */
  function verifyFor(token: string, request: TokenRequest): Promise<AuthContext> {
    let owner: Verifier;
    try {
      owner = ownerOf(token, request);
    } catch (error) {
      return Promise.reject(refused(error));
    }
    return owner.verify(token);
  }

  /** The owner of a raw token; throws the routing refusal (not yet published). */
  function ownerOf(token: string, request: TokenRequest): ZitauthVerifier {
    if (typeof token !== 'string' || token === '') {
      throw new InvalidTokenError('ERR_ZITAUTH_TOKEN_MALFORMED');
    }
    return route(token, request);
  }

  const first = byIssuer.get(issuers[0]!)!;
  // Refusals made before any issuer owns the token are published under every trusted issuer.
  const trusted = issuers.join(' ');

  /** A routing refusal on its way out: the shared realm applied, and published. */
  function refused(error: unknown): unknown {
    if (!(error instanceof ZitauthError)) return error;
    publishRefused(trusted, error);
    return error.withChallenge(challenge);
  }

  function authenticate(
    request: TokenRequest,
    options?: { required?: boolean },
  ): Promise<AuthContext | null> {
    let token: string | undefined;
    try {
      token = extractToken(request, extractOptions);
    } catch (error) {
      return Promise.reject(refused(error));
    }
    // Without a token the answer (null, or a bare challenge) is the same whoever would
    // have verified it: any issuer's verifier gives it, with the shared realm.
    if (token === undefined) return first.authenticate(request, options);
    return verifyFor(token, request);
  }

  /**
   * `authenticate` from memory alone, as a single verifier's, with refusals returned (see
   * answer.ts): routing costs no I/O, so a token is routed here and its owner answers
   * from its own in-process cache (its `undefined` sends the adapter to `authenticate`).
   * The owner extracts the token again with the same shared settings, so it sees the
   * token routed here.
   */
  function answerSync(
    request: TokenRequest,
    required: boolean,
  ): AuthContext | null | ZitauthError | undefined {
    let owner: Answering;
    try {
      const token = extractToken(request, extractOptions);
      // Every owner is a verifier built here (buildVerifiers), so it answers this way.
      owner = (token === undefined ? first : ownerOf(token, request)) as Answering;
    } catch (error) {
      return asRefusal(refused(error));
    }
    return owner[ANSWER_SYNC]!(request, required);
  }

  function authenticateSync(
    request: TokenRequest,
    { required = true }: { required?: boolean } = {},
  ): AuthContext | null | undefined {
    return thrown(answerSync(request, required));
  }

  /** Every issuer checked at once; one error naming each that failed, in configured order. */
  async function ready(): Promise<void> {
    const outcomes = await Promise.allSettled([...byIssuer.values()].map((v) => v.ready()));
    const failures = outcomes.flatMap((outcome, index) =>
      outcome.status === 'rejected'
        ? [notReady(outcome.reason, `issuers[${index}] (${issuers[index]!})`)]
        : [],
    );
    if (failures.length === 1) throw failures[0]!;
    if (failures.length > 1) {
      throw new ZitauthConfigError(failures.map((error) => error.message).join('\n'), undefined, {
        cause: failures[0]!.cause,
      });
    }
  }

  const verifier: MultiIssuerVerifier & Answering = {
    [ANSWER_SYNC]: answerSync,
    issuer: issuers[0]!,
    issuers,
    realm,
    protectedResource,
    verify: (token) => verifyFor(token, {}),
    authenticate,
    authenticateSync,
    ready,
    close: () => {
      for (const verifier of byIssuer.values()) verifier.close();
    },
  };
  return verifier;
}
