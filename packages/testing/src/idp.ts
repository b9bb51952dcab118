/**
 * `startTestIdp`: wires the directory, keys, tokens and server into the `TestIdp` a test
 * holds. The object is a thin facade; each method delegates to the module that owns the
 * concept, so the behaviour lives in one place whether reached over HTTP or from a test.
 */
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { IdpContext } from './context.js';
import {
  createApiApp,
  createOrg,
  createProject,
  createServiceUser,
  createUser,
  createWebApp,
} from './directory.js';
import { FaultRegistry } from './faults.js';
import { newId } from './ids.js';
import { signJwt } from './jwt.js';
import { assertAlgorithm, KeyRing } from './keys.js';
import { sharedRsaKeyPool, writeKeyFile } from './key-files.js';
import { LoginStore } from './login-store.js';
import { issueAccessToken, issueIdToken, resolveMint } from './mint.js';
import { RefreshTokenStore } from './refresh-tokens.js';
import { listen, shutdown } from './server.js';
import { Store } from './store.js';
import { TokenStore } from './tokens.js';
import type {
  ApiAppOptions,
  KeyFile,
  SigningAlgorithm,
  TestIdp,
  TestIdpKeys,
  TestIdpOptions,
} from './types.js';

async function buildContext(
  options: TestIdpOptions,
  signal: AbortSignal,
): Promise<IdpContext & { issuer: string }> {
  const algorithm = options.algorithm ?? 'RS256';
  assertAlgorithm(algorithm);
  const keys = new KeyRing();
  await keys.add(algorithm, true);
  const store = new Store();
  const defaultOrg = createOrg(store, { name: 'Acme', primaryDomain: 'acme.localhost' });
  const defaultProject = createProject(store, { name: 'zitauth-test' });
  return {
    issuer: '',
    store,
    keys,
    rsaKeys: sharedRsaKeyPool(),
    tokens: new TokenStore(),
    logins: new LoginStore(),
    refreshTokens: new RefreshTokenStore({
      idleSeconds: options.refreshTokenIdleSeconds ?? 30 * 24 * 3600,
      absoluteSeconds: options.refreshTokenLifetimeSeconds ?? 90 * 24 * 3600,
    }),
    faults: new FaultRegistry(),
    settings: {
      accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3600,
      keysCacheControl: options.keysCacheControl ?? 'max-age=300, must-revalidate',
      jwtScopeClaim: options.jwtScopeClaim ?? false,
      rejectUnknownProjectScopes: options.rejectUnknownProjectScopes ?? false,
    },
    defaultOrg,
    defaultProject,
    zitadelProjectId: newId(),
    signal,
  };
}

function keysApi(ctx: IdpContext): TestIdpKeys {
  const current = (): SigningAlgorithm => ctx.keys.list().find((k) => k.active)?.alg ?? 'RS256';
  return {
    rotate: async (alg) => (await ctx.keys.add(alg ?? current(), true)).kid,
    add: async (alg) => (await ctx.keys.add(alg ?? current(), false)).kid,
    remove: (kid) => ctx.keys.remove(kid),
    list: () => ctx.keys.list(),
  };
}

/** Writes key files; temp dirs it created are removed by `cleanUp` (on close). */
function keyFileWriter(): {
  write: (keyFile: KeyFile, dir?: string) => Promise<string>;
  cleanUp: () => Promise<void>;
} {
  const created: string[] = [];
  return {
    write: async (keyFile, dir) => {
      const path = await writeKeyFile(keyFile, dir);
      if (dir === undefined) created.push(dirname(path));
      return path;
    },
    cleanUp: async () => {
      await Promise.all(created.splice(0).map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

/** Starts a local ZITADEL-compatible IdP on 127.0.0.1 (a free port by default). */
export async function startTestIdp(options: TestIdpOptions = {}): Promise<TestIdp> {
  const abort = new AbortController();
  const ctx = await buildContext(options, abort.signal);
  const { server, issuer } = await listen(
    () => ctx,
    options.host ?? '127.0.0.1',
    options.port ?? 0,
  );
  ctx.issuer = issuer;
  const keyFiles = keyFileWriter();
  let closing: Promise<void> | undefined;
  return {
    issuer,
    defaultOrg: ctx.defaultOrg,
    defaultProject: ctx.defaultProject,
    zitadelProjectId: ctx.zitadelProjectId,
    createOrg: (o) => createOrg(ctx.store, o),
    createProject: (o) => createProject(ctx.store, o),
    createUser: (o) => createUser(ctx, o),
    createApiApp: ((o: ApiAppOptions) => createApiApp(ctx, o)) as TestIdp['createApiApp'],
    createWebApp: (o) => createWebApp(ctx, o),
    createServiceUser: (o) => createServiceUser(ctx, o),
    mintAccessToken: (o) => issueAccessToken(ctx, resolveMint(ctx, o)),
    mintIdToken: (o = {}) =>
      issueIdToken(ctx, resolveMint(ctx, o), { nonce: o.nonce, accessToken: o.accessToken }),
    signJwt: (header, payload, o) => signJwt(ctx.keys, header, payload, o?.kid),
    keys: keysApi(ctx),
    revoke: (token) => {
      if (!ctx.refreshTokens.delete(token)) ctx.tokens.revoke(token);
    },
    faults: { set: (e, f) => ctx.faults.set(e, f), clear: (e) => ctx.faults.clear(e) },
    calls: (endpoint) => ctx.faults.calls(endpoint),
    resetCalls: () => ctx.faults.resetCalls(),
    writeKeyFile: keyFiles.write,
    close: () => {
      abort.abort();
      closing ??= shutdown(server).then(keyFiles.cleanUp);
      return closing;
    },
  };
}
