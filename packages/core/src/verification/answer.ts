/**
 * Refusals as values, for the adapters. In a request handler a `throw` costs about a
 * microsecond (V8 records where each one happened), and a refusal that went through
 * the verifier's throws and the adapter's catch-and-rethrow paid for two or three: more
 * than the rest of the refusal. A verifier built here answers its adapters through
 * {@link ANSWER_SYNC} instead, returning the refusal.
 *
 * The symbol is this copy of the package's own (not `Symbol.for`): a verifier built by
 * another installed copy lacks it, so an adapter never mistakes that copy's errors for
 * callers; it takes the throwing `authenticateSync` path instead.
 */
import { ZitauthError } from '../errors.js';
import type { AuthContext, TokenRequest } from '../types.js';

/** `authenticateSync` with the refusal returned: the caller, null, a refusal, or undefined (needs I/O). */
export type AnswerSync = (
  request: TokenRequest,
  required: boolean,
) => AuthContext | null | ZitauthError | undefined;

export const ANSWER_SYNC = Symbol('zitauth.answerSync');

/** A verifier that may answer with refusals as values. */
export interface Answering {
  [ANSWER_SYNC]?: AnswerSync;
}

/**
 * A caught error as the refusal to return; anything that is not a `ZitauthError` (a bug,
 * not a refusal) is thrown on.
 */
export function asRefusal(error: unknown): ZitauthError {
  if (error instanceof ZitauthError) return error;
  throw error;
}

/** A returned refusal thrown: for the paths whose contract is to throw (or to reject). */
export function thrown<T>(answer: T): Exclude<T, ZitauthError> {
  if (answer instanceof ZitauthError) throw answer;
  return answer as Exclude<T, ZitauthError>;
}
