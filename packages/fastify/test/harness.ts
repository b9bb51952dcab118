// What the plugin's integration tests share: one testing IdP per file, verifier options for
// its default project, and apps that are closed after each test.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { observeApp } from '../src/hook-check.js';

export interface Harness {
  /** The testing IdP, started before the file's first test. */
  readonly idp: TestIdp;
  /** `{ issuer, projectId }` for the IdP's default project. */
  options(): { issuer: string; projectId: string };
  /** A Fastify app, closed after the test. */
  newApp(options?: FastifyServerOptions): FastifyInstance;
  /**
   * An app the package does not see being created, as one made before it was imported:
   * only the checks that need no `onRoute` hook from creation apply to it.
   */
  newUnseenApp(options?: FastifyServerOptions): FastifyInstance;
  /** `Authorization` with a fresh access token for `subject`. */
  bearer(subject?: string): Promise<{ authorization: string }>;
}

/** Registers the file's `beforeAll`, `afterAll` and `afterEach`; call at the top level. */
export function useHarness(): Harness {
  let idp: TestIdp | undefined;
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    idp = await startTestIdp();
  });
  afterAll(async () => {
    await idp?.close();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  const started = (): TestIdp => {
    if (idp === undefined) throw new Error('the testing IdP starts in beforeAll');
    return idp;
  };
  const newApp = (options?: FastifyServerOptions): FastifyInstance => {
    const app = Fastify(options);
    apps.push(app);
    return app;
  };
  return {
    get idp() {
      return started();
    },
    options: () => ({ issuer: started().issuer, projectId: started().defaultProject.id }),
    newApp,
    newUnseenApp: (options) => {
      unsubscribe('fastify.initialization', observeApp);
      try {
        return newApp(options);
      } finally {
        subscribe('fastify.initialization', observeApp);
      }
    },
    bearer: async (subject = 'user-1') => ({
      authorization: `Bearer ${await started().mintAccessToken({ subject })}`,
    }),
  };
}
