/**
 * A real fleet: the Express, Koa and Fastify quote API examples as three separate
 * processes sharing one real redis-server, behind a real nginx round-robin upstream, all
 * trusting one testing IdP that counts its calls. Everything is asserted over HTTP through
 * nginx: one introspection per distinct token, at most one key-set fetch per instance, a
 * revoked token refused by every instance within the documented time, every request
 * answered correctly while Redis is dead, and sharing back once Redis is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '@zitauth/testing';
import { startRedisServer, type RedisServer } from '../../packages/redis/test/redis-server.js';
import { startInstance, type Instance } from './fleet-support.js';
import { freePort, requireExecutable, startNginx, type Nginx } from './support.js';

/** How long an instance reuses a result (CACHE_MAX_TTL_MS): the revocation delay. */
const MAX_TTL_MS = 2000;

let idp: TestIdp;
let redis: RedisServer;
let instances: Instance[];
let nginx: Nginx;

beforeAll(async () => {
  requireExecutable('nginx', ['-v'], 'apt-get install -y --no-install-recommends nginx');
  [idp, redis] = await Promise.all([startTestIdp(), startRedisServer()]);
  const app = idp.createApiApp({ auth: 'basic' });
  const env = {
    ZITADEL_ISSUER: idp.issuer,
    ZITADEL_PROJECT_ID: idp.defaultProject.id,
    ZITADEL_CLIENT_ID: app.clientId,
    ZITADEL_CLIENT_SECRET: app.clientSecret,
    REDIS_URL: redis.url,
    CACHE_MAX_TTL_MS: String(MAX_TTL_MS),
    // Generous: on a loaded test machine a slow answer would cost an extra introspection.
    REDIS_COMMAND_TIMEOUT_MS: '2000',
  };
  instances = await Promise.all(
    ['express-quotes', 'koa-quotes', 'fastify-quotes'].map((name) => startInstance(name, env)),
  );
  const port = await freePort();
  nginx = await startNginx(port, () => upstream(port, instances));
  await sharingResumes(); // every instance has connected to Redis
});
afterAll(async () => {
  await nginx?.stop();
  await Promise.all((instances ?? []).map((instance) => instance.stop()));
  await Promise.all([idp?.close(), redis?.stop()]);
});

/** Round robin over the instances; no retry on another one, so every failure shows. */
function upstream(port: number, fleet: Instance[]): string {
  return `
  upstream fleet {
${fleet.map((instance) => `    server 127.0.0.1:${instance.port};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://fleet;
      proxy_next_upstream off;
      add_header X-Instance $upstream_addr always;
    }
  }`;
}

interface Answer {
  status: number;
  challenge: string | null;
  instance: string | null;
  subject: string | undefined;
}

async function get(token: string): Promise<Answer> {
  const response = await fetch(`${nginx.url}/api/me`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as { subject?: string };
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    instance: response.headers.get('x-instance'),
    subject: body.subject,
  };
}

/** `perToken` requests for each token, all at once (the test nginx takes 64 connections). */
async function burst(tokens: string[], perToken: number): Promise<Answer[]> {
  return Promise.all(tokens.flatMap((token) => Array.from({ length: perToken }, () => get(token))));
}

async function freshTokens(count: number, format: 'jwt' | 'opaque'): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      idp.mintAccessToken({ format, subject: `caller-${i}` }),
    ),
  );
}

const subjects = (count: number, perToken: number) =>
  Array.from({ length: count }, (_, i) =>
    Array.from({ length: perToken }, () => `caller-${i}`),
  ).flat();

/** Waits until a fresh token asked of every instance costs one introspection (all share Redis). */
async function sharingResumes(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [token] = await freshTokens(1, 'opaque');
    idp.resetCalls();
    const answers = await Promise.all([1, 2, 3].map(() => get(token!)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    if (idp.calls('introspect') === 1) return;
    if (Date.now() > deadline) {
      const logs = instances.map((instance) => `${instance.name}:\n${instance.output()}`);
      throw new Error(`the instances do not share results on Redis:\n${logs.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a fleet of three instances behind nginx with Redis', () => {
  it('introspects each distinct opaque token once across the fleet', async () => {
    const tokens = await freshTokens(4, 'opaque');
    idp.resetCalls();
    const answers = await burst(tokens, 6);
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    expect(answers.map((answer) => answer.subject)).toEqual(subjects(4, 6));
    expect(new Set(answers.map((answer) => answer.instance)).size).toBe(3);
    expect(idp.calls('introspect')).toBe(4);
  });

  it('fetches the key set at most once per instance for JWTs', async () => {
    const tokens = await freshTokens(4, 'jwt');
    idp.resetCalls();
    const answers = await burst(tokens, 6);
    expect(answers.map((answer) => answer.subject)).toEqual(subjects(4, 6));
    expect(idp.calls('keys')).toBeLessThanOrEqual(3);
    expect(idp.calls('introspect')).toBe(0);
  });

  it('refuses a revoked token on every instance once the cache time has passed', async () => {
    const [token] = await freshTokens(1, 'opaque');
    const before = await burst([token!], 6);
    expect(before.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    idp.revoke(token!);
    idp.resetCalls();
    await new Promise((resolve) => setTimeout(resolve, MAX_TTL_MS + 200));
    const after = await burst([token!], 6);
    expect(new Set(after.map((answer) => answer.instance)).size).toBe(3);
    for (const answer of after) {
      expect(answer.status).toBe(401);
      expect(answer.challenge).toBe(
        'Bearer realm="api", error="invalid_token", error_description="The access token is not active"',
      );
    }
    expect(idp.calls('introspect')).toBe(1);
  });

  it('answers every request correctly while Redis is dead, and shares again once it is back', async () => {
    const cached = await freshTokens(3, 'opaque');
    await burst(cached, 4);
    const fresh = await freshTokens(3, 'opaque');
    const traffic = burst([...cached, ...fresh], 4);
    await redis.kill();
    const during = await traffic;
    expect(during.map((answer) => answer.status)).toEqual(during.map(() => 200));
    expect(during.map((answer) => answer.subject)).toEqual([...subjects(3, 4), ...subjects(3, 4)]);
    await redis.restart();
    await sharingResumes();
  });
});
