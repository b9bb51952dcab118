/**
 * What every route module is given: the checked options and the shared clients, built
 * once per gateway so all routes use one key set, one token cache and one discovery
 * document.
 */
import type { Discovery, Verifier } from '@zitauth/core';
import type { ResolvedOptions } from './options.js';
import type { GatewayStore } from './store.js';

export interface GatewayContext {
  readonly config: ResolvedOptions;
  readonly verifier: Verifier;
  readonly discovery: Discovery;
  /** Shared state (sessions, codes, counters): in memory, or Redis for a fleet. */
  readonly store: GatewayStore;
}

/** The realm of every `WWW-Authenticate` challenge the gateway sends. */
export const REALM = 'zitauth-gateway';

/** Where the routes live, as in the seed. */
export const API_PREFIX = '/api/v1';
