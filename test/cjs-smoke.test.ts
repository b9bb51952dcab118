// CommonJS users can require() the built packages: Node ^20.19 and >=22.12 load ES modules
// through require(). Runs real `node -e "require(...)"` processes against dist/, which
// beforeAll builds (a quick no-op when `npm test` has just built it in typecheck).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['core', 'express', 'koa', 'fastify', 'redis'];

/** Runs `script` in a plain CommonJS node process at the repository root; returns stdout. */
function node(script: string): string {
  return execFileSync(process.execPath, ['-e', script], {
    cwd: root,
    encoding: 'utf8',
    // No loader hooks or flags inherited from the test runner: a user's plain `node`.
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const projects = packages.map((name) => `packages/${name}`);
  execFileSync(process.execPath, [tsc, '-b', ...projects], { cwd: root, stdio: 'pipe' });
}, 120_000);

describe('require() of the built packages', () => {
  it.each([
    ['@zitauth/core', ['createVerifier', 'requireRoles', 'ZitauthError']],
    ['@zitauth/express', ['auth', 'getAuth', 'requireRoles', 'requireScopes', 'errorHandler']],
    ['@zitauth/koa', ['auth', 'getAuth', 'requireRoles', 'requireCheck', 'errorHandler']],
    ['@zitauth/fastify', ['zitauth', 'protect', 'errorHandler', 'default']],
    ['@zitauth/redis', ['createRedisStore', 'createRedisKeyValueStore', 'RedisUnavailableError']],
  ])('loads %s with its exports', (name, names) => {
    const keys = node(`console.log(JSON.stringify(Object.keys(require(${JSON.stringify(name)}))))`);
    expect(JSON.parse(keys)).toEqual(expect.arrayContaining(names));
  });

  it('throws the same coded config error from a required adapter', () => {
    const script = `
      const { auth } = require('@zitauth/express');
      try { auth({ issuer: 'https://acme.zitadel.cloud' }); } catch (error) {
        console.log(error instanceof TypeError, error.code);
      }`;
    expect(node(script).trim()).toBe('true ERR_ZITAUTH_INVALID_OPTION');
  });

  it('registers the required Fastify plugin in a CommonJS app', () => {
    const script = `
      const fastify = require('fastify');
      const { zitauth } = require('@zitauth/fastify');
      const app = fastify();
      app.register(zitauth, { issuer: 'https://acme.zitadel.cloud', projectId: '1' })
        .then(() => console.log(typeof app.authenticate, app.hasRequestDecorator('auth')))
        .then(() => app.close());`;
    expect(node(script).trim()).toBe('function true');
  });
});
