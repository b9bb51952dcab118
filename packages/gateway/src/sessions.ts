/**
 * Browser sessions of the backend-for-frontend mode: the tokens of a finished login stay
 * here, sealed in the gateway's store (see `session-seal.ts`), and the browser holds only
 * the session id in an HttpOnly cookie. `fresh` hands out a session whose access token is
 * good for at least the refresh margin, refreshing it first when needed. One refresh per
 * session runs at a time: in this process through a shared promise, across replicas
 * through a short lock in the store, because ZITADEL rotates refresh tokens and a second,
 * concurrent refresh with the same token would be refused and end the session.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LoginFlowError } from './login-flow.js';
import { newSessionId, seal, sessionKey, unseal } from './session-seal.js';
import type { Profile, RefreshedTokens, TokenEndpoint } from './token-endpoint.js';

/** The part of the gateway's store sessions use; values are JSON. */
export interface SessionBackend {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  /** Atomic read-and-delete; used to delete. */
  take(key: string): Promise<unknown>;
  /** Adds 1 and returns the count; the counter expires `ttlMs` after its first increment. */
  increment(key: string, ttlMs: number): Promise<number>;
}

/** One signed-in browser. Times are epoch milliseconds. */
export interface SessionData {
  readonly accessToken: string;
  readonly accessExpiresAt: number;
  readonly refreshToken: string | undefined;
  readonly idToken: string;
  /** Display claims fetched at login; decide nothing. */
  readonly profile: Profile | undefined;
  readonly createdAt: number;
  /** The session ends here, refreshed or not. */
  readonly expiresAt: number;
}

/** The tokens of a finished login. */
export interface LoginTokens {
  accessToken: string;
  /** Seconds. */
  expiresIn: number | undefined;
  refreshToken: string | undefined;
  idToken: string;
}

/** Options of {@link createSessions}. */
export interface SessionsOptions {
  backend: SessionBackend;
  tokens: TokenEndpoint;
  /** Longest a session lives, in milliseconds. */
  lifetimeMs: number;
  /** Refresh when the access token has less than this left, in milliseconds. */
  refreshMarginMs: number;
  /** Access token lifetime assumed when the IdP names none, in milliseconds. */
  defaultAccessLifetimeMs?: number;
  /** Clock in epoch milliseconds. @default Date.now */
  now?: () => number;
  /** Operator log for refresh problems (never given a token). */
  warn?: (details: Record<string, unknown>, message: string) => void;
}

export interface Sessions {
  /** Stores a new session; resolves its id (for the cookie). */
  create(login: LoginTokens, profile?: Profile): Promise<{ id: string; data: SessionData }>;
  /** The session as stored, or undefined (unknown, expired, or not sealed under this id). */
  load(id: string): Promise<SessionData | undefined>;
  /**
   * The session with an access token good for at least the refresh margin, refreshed if
   * needed; undefined when the session is gone or its refresh token was refused. Rejects
   * with `LoginFlowError('unavailable')` when the IdP cannot be reached and the current
   * access token has expired.
   */
  fresh(id: string): Promise<SessionData | undefined>;
  /** Deletes the session; resolves what it held, so its tokens can be revoked. */
  end(id: string): Promise<SessionData | undefined>;
}

/** How long one replica may hold the refresh lock, in milliseconds. */
const LOCK_TTL_MS = 10_000;
/** How often a replica waiting for another one's refresh looks at the store, in milliseconds. */
const LOCK_POLL_MS = 50;

function isSessionData(value: unknown): value is SessionData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['accessToken'] === 'string' &&
    typeof v['accessExpiresAt'] === 'number' &&
    typeof v['idToken'] === 'string' &&
    typeof v['expiresAt'] === 'number' &&
    (v['refreshToken'] === undefined || typeof v['refreshToken'] === 'string')
  );
}

export function createSessions(options: SessionsOptions): Sessions {
  const { backend, tokens } = options;
  const now = options.now ?? Date.now;
  const defaultAccessMs = options.defaultAccessLifetimeMs ?? 300_000;
  const inFlight = new Map<string, Promise<SessionData | undefined>>();

  const accessUntil = (expiresIn: number | undefined): number =>
    now() + (expiresIn === undefined ? defaultAccessMs : expiresIn * 1000);

  async function save(id: string, data: SessionData): Promise<void> {
    await backend.set(sessionKey(id), seal(id, data), Math.max(1, data.expiresAt - now()));
  }

  async function load(id: string): Promise<SessionData | undefined> {
    const data = unseal(id, await backend.get(sessionKey(id)));
    return isSessionData(data) && data.expiresAt > now() ? data : undefined;
  }

  async function end(id: string): Promise<SessionData | undefined> {
    const data = unseal(id, await backend.take(sessionKey(id)));
    return isSessionData(data) ? data : undefined;
  }

  function next(data: SessionData, refreshed: RefreshedTokens): SessionData {
    return {
      ...data,
      accessToken: refreshed.accessToken,
      accessExpiresAt: accessUntil(refreshed.expiresIn),
      refreshToken: refreshed.refreshToken ?? data.refreshToken,
      idToken: refreshed.idToken ?? data.idToken,
    };
  }

  /** Another replica holds the lock: wait for the rotated refresh token to appear. */
  async function awaitOtherRefresh(id: string, old: SessionData): Promise<SessionData | undefined> {
    for (let waited = 0; waited < LOCK_TTL_MS; waited += LOCK_POLL_MS) {
      await sleep(LOCK_POLL_MS);
      const current = await load(id);
      if (current === undefined || current.refreshToken !== old.refreshToken) return current;
    }
    return old.accessExpiresAt > now() ? old : undefined;
  }

  async function refreshOnce(id: string, old: SessionData, refreshToken: string) {
    const lock = `session-refresh:${sessionKey(id).slice('session:'.length)}`;
    if ((await backend.increment(lock, LOCK_TTL_MS)) > 1) return awaitOtherRefresh(id, old);
    try {
      const data = next(old, await tokens.refresh(refreshToken));
      await save(id, data);
      return data;
    } catch (error) {
      if (!(error instanceof LoginFlowError) || error.kind !== 'rejected') throw error;
      // Refused: spent, revoked or expired. A replica may have rotated it meanwhile.
      const current = await load(id);
      if (current !== undefined && current.refreshToken !== refreshToken) return current;
      options.warn?.({ reason: error.reason }, 'refresh token refused; the session ends');
      await end(id);
      return undefined;
    } finally {
      await backend.take(lock);
    }
  }

  async function refresh(id: string, old: SessionData): Promise<SessionData | undefined> {
    try {
      return await refreshOnce(id, old, old.refreshToken ?? '');
    } catch (error) {
      // The IdP is down: a still valid access token keeps the session going meanwhile.
      const reason = error instanceof LoginFlowError ? error.reason : 'store';
      if (old.accessExpiresAt <= now()) throw error;
      options.warn?.(
        { reason },
        'a session could not be refreshed; its access token is still valid',
      );
      return old;
    }
  }

  return {
    async create(login, profile) {
      const id = newSessionId();
      const created = now();
      const data: SessionData = {
        accessToken: login.accessToken,
        accessExpiresAt: accessUntil(login.expiresIn),
        refreshToken: login.refreshToken,
        idToken: login.idToken,
        profile,
        createdAt: created,
        expiresAt: created + options.lifetimeMs,
      };
      await save(id, data);
      return { id, data };
    },
    load,
    end,
    async fresh(id) {
      const data = await load(id);
      if (data === undefined || data.accessExpiresAt - now() > options.refreshMarginMs) return data;
      if (data.refreshToken === undefined) return data.accessExpiresAt > now() ? data : undefined;
      const key = sessionKey(id);
      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = refresh(id, data).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
  };
}
