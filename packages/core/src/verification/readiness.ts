/**
 * The start-up check, `await verifier.ready()`: does once, before the first request, what
 * the first requests would do, so a wrong issuer, refused introspection credentials or an
 * unreachable IdP stop the deployment with a message instead of answering every request
 * with 503. It fetches the key set (through discovery unless the URL is configured), which
 * also warms it for the first token, and, when introspection is configured, introspects
 * one made-up token: `active: false` proves the client credentials work, a 401 means they
 * are wrong. Every failure already carries an `OperatorFault` naming the fix; the check
 * rethrows it as a `ZitauthConfigError`, the error start-up code expects.
 */
import { randomBytes } from 'node:crypto';
import { ZitauthConfigError } from '../errors.js';
import type { Introspector } from './introspection.js';
import type { KeySet } from '../idp/key-set.js';
import { describeCause, findOperatorFault } from '../observability/operator-fault.js';

/** The parts of a verifier that talk to the IdP; each is checked when present. */
export interface ReadinessParts {
  /** The key set of the local JWT path, absent with `mode: 'introspect'`. */
  keySet: KeySet | undefined;
  /** The introspector, present when `introspection` credentials are configured. */
  introspect: Introspector | undefined;
}

/** What a start-up check message begins with, so a crash log says where it came from. */
const PREFIX = 'zitauth: start-up check failed';

/**
 * A token no IdP issued: random, so it can never match a real one, and recognisable in
 * the IdP's own logs. The IdP answers it `active: false` once it accepts our credentials.
 */
function probeToken(): string {
  return `zitauth-start-up-check-${randomBytes(16).toString('base64url')}`;
}

/** What the operator reads: the fault's own message (it names the fix), after the prefix. */
function reasonOf(error: unknown): { reason: string; cause: unknown } {
  const fault = findOperatorFault(error);
  if (fault !== undefined) return { reason: fault.message.replace(/^zitauth: /, ''), cause: fault };
  return { reason: describeCause(error), cause: error };
}

/**
 * The `ZitauthConfigError` a failed check rejects with; `label` names the issuer when
 * several are trusted. Its `cause` is the `OperatorFault` (whose `kind` classifies it).
 */
export function notReady(error: unknown, label?: string): ZitauthConfigError {
  const { reason, cause } = reasonOf(error instanceof ZitauthConfigError ? error.cause : error);
  const where = label === undefined ? '' : ` for ${label}`;
  return new ZitauthConfigError(`${PREFIX}${where}: ${reason}`, 'ERR_ZITAUTH_INVALID_OPTION', {
    cause,
  });
}

/** Builds `ready()` for one verifier. It may run again (e.g. a health check); each run calls the IdP. */
export function createReadinessCheck(parts: ReadinessParts): () => Promise<void> {
  return async () => {
    try {
      await parts.keySet?.refresh();
      if (parts.introspect !== undefined) await parts.introspect(probeToken());
    } catch (error) {
      throw notReady(error);
    }
  };
}
