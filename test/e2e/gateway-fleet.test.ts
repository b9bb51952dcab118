/**
 * Two gateway replicas (separate processes of the `zitauth-gateway` command) sharing one
 * real redis-server, behind a real nginx that round-robins between them, under a path of
 * the app's origin (`app.localhost/auth`), with headless Chromium as the user. Proven over
 * HTTP: rate limits count across the replicas; a session started on one replica is served
 * by the other; one replica is killed mid-session and the session goes on; a flood of
 * `/login` requests from many addresses leaves a login in progress intact.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp, type User } from '@zitauth/testing';
import { createApp } from '../../examples/express-quotes/src/app.js';
import { createSpaServer } from '../../examples/spa/src/server.js';
import { startRedisServer, type RedisServer } from '../../packages/redis/test/redis-server.js';
import { startNodeScript, type Instance } from './fleet-support.js';
import { ARTIFACTS, freePort, requireExecutable, startNginx, type Nginx } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
const GATEWAY = fileURLToPath(
  new URL('../../packages/gateway/dist/bin/zitauth-gateway.js', import.meta.url),
);
/** Login requests per minute and client address. */
const LOGIN_LIMIT = 40;

let idp: TestIdp;
let ada: User;
let redis: RedisServer;
let api: Server;
let spa: Server;
let replicas: Instance[];
let nginx: Nginx;
let appUrl: string;
let browser: Browser;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** nginx: `/auth/` round-robins over the replicas, everything else is the app's server. */
function site(port: number, spaPort: number, fleet: Instance[]): string {
  return `
  upstream gateways {
${fleet.map((replica) => `    server 127.0.0.1:${replica.port} max_fails=1 fail_timeout=30s;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location /auth/ {
      proxy_pass http://gateways/;
      proxy_set_header X-Forwarded-For $remote_addr;
      add_header X-Replica $upstream_addr always;
    }
    location / {
      proxy_pass http://127.0.0.1:${spaPort};
    }
  }`;
}

beforeAll(async () => {
  requireExecutable('nginx', ['-v'], 'apt-get install -y --no-install-recommends nginx');
  requireExecutable(CHROMIUM, ['--version'], 'apt-get install -y chromium');
  mkdirSync(ARTIFACTS, { recursive: true });
  [idp, redis] = await Promise.all([startTestIdp(), startRedisServer()]);
  ada = idp.createUser({
    userName: 'ada',
    givenName: 'Ada',
    familyName: 'Lovelace',
    roles: ['editor'],
  });
  const introspector = idp.createApiApp({ auth: 'basic' });
  api = createApp({
    auth: {
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      introspection: { clientId: introspector.clientId, clientSecret: introspector.clientSecret },
    },
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => api.once('listening', resolve));
  const apiPort = (api.address() as AddressInfo).port;
  spa = createSpaServer({ gatewayUrl: '/auth' });
  const spaPort = await listen(spa);
  const port = await freePort();
  appUrl = `http://app.localhost:${port}`;
  const web = idp.createWebApp({
    redirectUris: [`${appUrl}/auth/api/v1/callback`],
    postLogoutRedirectUris: [`${appUrl}/`],
  });
  const env = {
    ZITADEL_ISSUER: idp.issuer,
    ZITADEL_PROJECT_ID: idp.defaultProject.id,
    ZITADEL_CLIENT_ID: web.clientId,
    ZITADEL_API_CLIENT_ID: introspector.clientId,
    ZITADEL_API_CLIENT_SECRET: introspector.clientSecret,
    GATEWAY_PUBLIC_URL: `${appUrl}/auth`,
    GATEWAY_ALLOWED_ORIGINS: appUrl,
    GATEWAY_UPSTREAMS: `quotes=http://127.0.0.1:${apiPort}/api`,
    GATEWAY_REDIS_URL: redis.url,
    GATEWAY_COOKIE_SECRET: randomBytes(32).toString('base64'),
    GATEWAY_TRUST_PROXY: '127.0.0.1',
    GATEWAY_RATE_LIMIT_LOGIN: String(LOGIN_LIMIT),
    GATEWAY_LOG_LEVEL: 'warn',
  };
  replicas = await Promise.all(
    ['replica-a', 'replica-b'].map((name) =>
      startNodeScript(name, GATEWAY, (port) => ({ ...env, GATEWAY_PORT: String(port) })),
    ),
  );
  nginx = await startNginx(port, () => site(port, spaPort, replicas));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await nginx?.stop();
  await Promise.all((replicas ?? []).map((replica) => replica.stop()));
  for (const server of [spa, api])
    if (server !== undefined) await new Promise((r) => server.close(r));
  await Promise.all([idp?.close(), redis?.stop()]);
});

interface Answer {
  status: number;
  replica: string;
}

/** A GET through nginx from a chosen loopback address (the client address nginx forwards). */
/**
 * One GET through nginx from `address`. A connection nginx resets under the flood (its
 * worker may be recycling a keep-alive socket to a replica) is tried once more: the test
 * is about what the gateway answers, not about one lost TCP connection.
 */
function getFrom(address: string, path: string): Promise<Answer> {
  return getOnce(address, path).catch(() => getOnce(address, path));
}

function getOnce(address: string, path: string): Promise<Answer> {
  const { port } = new URL(nginx.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        localAddress: address,
        headers: { host: new URL(appUrl).host },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, replica: String(res.headers['x-replica']) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Runs `task` over `items`, `size` at a time (the test nginx takes 64 connections). */
async function inBatches<T, R>(
  items: T[],
  size: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size)
    results.push(...(await Promise.all(items.slice(i, i + size).map(task))));
  return results;
}

/** Waits, if needed, so a burst does not straddle two rate-limit windows (aligned to the clock). */
async function awayFromWindowEdge(windowMs = 60_000, burstMs = 15_000): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < burstMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/** From the app to the IdP's login page, with the form filled in but not sent. */
async function openLoginForm(page: Page): Promise<void> {
  await page.goto(appUrl);
  await expect.poll(() => page.textContent('#status')).toBe('Not logged in');
  await page.click('#login');
  await page.waitForURL((url) => url.href.startsWith(idp.issuer));
  await page.fill('#username', ada.userName);
  await page.fill('#password', ada.password);
}

async function submitLogin(page: Page): Promise<void> {
  await page.click('#login-submit');
  await page.waitForURL((url) => url.href.startsWith(appUrl) && !url.pathname.startsWith('/auth'));
  await expect.poll(() => page.textContent('#status')).toBe('Signed in as Ada Lovelace');
}

/** `count` requests of `path` from the page, in order: status and which replica answered. */
function fromPage(page: Page, path: string, count: number): Promise<Answer[]> {
  return page.evaluate(
    async ([url, n]) => {
      const answers = [];
      for (let i = 0; i < n; i++) {
        const response = await fetch(url, { credentials: 'include' });
        answers.push({ status: response.status, replica: response.headers.get('x-replica') ?? '' });
      }
      return answers;
    },
    [path, count] as const,
  );
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `gateway-fleet-${name}.png`), fullPage: true });

describe('two gateway replicas behind nginx with Redis', () => {
  it('counts the login rate limit across both replicas', async () => {
    await awayFromWindowEdge();
    const answers: Answer[] = [];
    for (let i = 0; i < 2 * LOGIN_LIMIT; i++)
      answers.push(await getFrom('127.0.0.3', '/auth/api/v1/login'));
    expect(new Set(answers.map((a) => a.replica)).size).toBe(2);
    // Counted per replica, twice the limit would pass; counted in Redis, the limit holds.
    expect(answers.filter((a) => a.status === 302)).toHaveLength(LOGIN_LIMIT);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(LOGIN_LIMIT);
  });

  it('keeps a login in progress through a flood of /login requests from many addresses', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await openLoginForm(page);
      // 60 addresses, each up to its limit: thousands of started logins, none kept server-side.
      const sources = Array.from(
        { length: 60 * LOGIN_LIMIT },
        (_, i) => `127.0.1.${10 + (i % 60)}`,
      );
      const answers = await inBatches(sources, 16, (source) =>
        getFrom(source, '/auth/api/v1/login'),
      );
      expect(answers.filter((answer) => answer.status === 302).length).toBeGreaterThan(2000);
      await submitLogin(page);
      await shot(page, '1-signed-in-after-flood');
    } finally {
      await context.close();
    }
  });

  it('serves a session on both replicas, and goes on when one of them is killed', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await openLoginForm(page);
      await submitLogin(page);
      const both = await fromPage(page, '/auth/api/v1/session', 6);
      expect(both.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(new Set(both.map((a) => a.replica)).size).toBe(2);

      await replicas[0]!.kill();
      const after = await fromPage(page, '/auth/api/quotes/quote', 4);
      expect(after.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      expect(after.map((a) => a.replica)).toContain(`127.0.0.1:${replicas[1]!.port}`);
      await page.click('#call-api');
      await expect.poll(() => page.textContent('#quote')).toMatch(/^“.+” — .+$/);
      await shot(page, '2-quote-after-a-replica-died');
    } finally {
      await context.close();
    }
  });
});
