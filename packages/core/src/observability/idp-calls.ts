/**
 * The `zitauth:idp` tracing channel around every call to the IdP (discovery, keys,
 * introspection, token, userinfo). A call is traced as one unit, from the request to
 * the processed answer, so a 200 with a body that is not JSON counts as a failed call.
 * The traced function resolves `undefined`: Node would otherwise put the result (claims,
 * an access token) on the context object subscribers receive.
 */
import { performance } from 'node:perf_hooks';
import { isZitauthError } from '../errors.js';
import { idpCallChannel, type IdpCallMessage, type IdpEndpoint } from './channels.js';

/** What a traced call may report about itself while it runs. */
export interface IdpCallNote {
  /** Records the HTTP status of the answer. */
  status: number | undefined;
}

/** The HTTP status an answer that was refused as a whole (a redirect, a 5xx) came with. */
function refusedStatus(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth += 1) {
    const status = (current as { idpStatus?: unknown }).idpStatus;
    if (typeof status === 'number') return status;
    current = current.cause;
  }
  return undefined;
}

/**
 * Runs one IdP call, traced on `zitauth:idp` when anyone subscribes. `run` records the
 * HTTP status on the note it receives; duration and error code are filled in here.
 */
export async function traceIdpCall<T>(
  endpoint: IdpEndpoint,
  url: string,
  run: (note: IdpCallNote) => Promise<T>,
): Promise<T> {
  if (!idpCallChannel.hasSubscribers) return run({ status: undefined });
  const message: IdpCallMessage = {
    endpoint,
    url,
    status: undefined,
    durationMs: undefined,
    errorCode: undefined,
  };
  const started = performance.now();
  let result: T | undefined;
  await idpCallChannel.tracePromise(async () => {
    try {
      result = await run(message);
    } catch (error) {
      message.errorCode = isZitauthError(error) ? error.code : 'ERR_ZITAUTH_UPSTREAM';
      message.status ??= refusedStatus(error);
      throw error;
    } finally {
      message.durationMs = performance.now() - started;
    }
  }, message);
  return result as T;
}
