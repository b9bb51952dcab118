/**
 * The seed's user journey in a real browser (Debian's headless Chromium through
 * playwright-core; no browser is downloaded): open the demo app, log in on the local
 * IdP's page through the gateway, come back with a token, call the quote API and see a
 * quote, fetch user info and see the name, log out. Screenshots of each step go to
 * test-artifacts/.
 */
import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGateway } from '@zitauth/gateway';
import { startTestIdp, type TestIdp, type User } from '@zitauth/testing';
import { createApp } from '../../examples/express-quotes/src/app.js';
import { createSpaServer } from '../../examples/spa/src/server.js';
import { ARTIFACTS, freePort, requireExecutable } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let idp: TestIdp;
let ada: User;
let api: Server;
let gateway: FastifyInstance;
let spa: Server;
let spaUrl: string;
let browser: Browser;

beforeAll(async () => {
  requireExecutable(CHROMIUM, ['--version'], 'apt-get install -y chromium');
  mkdirSync(ARTIFACTS, { recursive: true });
  idp = await startTestIdp();
  ada = idp.createUser({
    userName: 'ada',
    givenName: 'Ada',
    familyName: 'Lovelace',
    roles: ['editor'],
  });
  const introspector = idp.createApiApp({ auth: 'basic' });
  const introspection = {
    clientId: introspector.clientId,
    clientSecret: introspector.clientSecret,
  };
  api = createApp({
    auth: { issuer: idp.issuer, projectId: idp.defaultProject.id, introspection },
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => api.once('listening', resolve));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

  // The gateway's URL is registered with the IdP before it starts, so its port is picked first.
  const gatewayUrl = `http://127.0.0.1:${await freePort()}`;
  spa = createSpaServer({ gatewayUrl, apiUrl });
  spaUrl = await listen(spa);
  const web = idp.createWebApp({
    redirectUris: [`${gatewayUrl}/api/v1/callback`],
    postLogoutRedirectUris: [`${spaUrl}/`],
  });
  gateway = await createGateway({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    publicUrl: gatewayUrl,
    allowedOrigins: [spaUrl],
    login: { clientId: web.clientId },
    introspection,
    browserMode: 'token',
    logger: false,
  });
  await gateway.listen({ host: '127.0.0.1', port: Number(new URL(gatewayUrl).port) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  for (const server of [spa, api]) {
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
  await idp?.close();
});

let page: Page;
let problems: string[];
beforeEach(async () => {
  const context = await browser.newContext();
  page = await context.newPage();
  problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
});
afterEach(async () => {
  await page.context().close();
});

const shot = (name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `browser-${name}.png`), fullPage: true });

/** From the demo app to the IdP's login page and back, logged in. */
async function logIn(): Promise<void> {
  await page.goto(spaUrl);
  await expect.poll(() => page.textContent('#status')).toBe('Not logged in');
  await shot('1-app');
  await page.click('#login');
  await page.waitForURL((url) => url.href.startsWith(idp.issuer));
  await page.fill('#username', ada.userName);
  await page.fill('#password', ada.password);
  await shot('2-idp-login');
  await page.click('#login-submit');
  await page.waitForURL((url) => url.href.startsWith(spaUrl));
  await expect.poll(() => page.textContent('#status')).toBe('Access token received');
}

describe('the demo app in Chromium', () => {
  it('logs in through the gateway, calls the quote API and fetches user info', async () => {
    await logIn();
    // The token is taken out of the address bar at once.
    expect(new URL(page.url()).hash).toBe('');
    await shot('3-logged-in');

    await page.click('#call-api');
    await expect.poll(() => page.textContent('#quote')).toMatch(/^“.+” — .+$/);
    await shot('4-quote');

    await page.click('#userinfo');
    await expect.poll(() => page.textContent('#user')).toContain('Ada Lovelace');
    expect(await page.textContent('#userinfo-json')).toContain(ada.email);
    await shot('5-userinfo');
    expect(await page.textContent('#error')).toBe('');
    expect(problems).toEqual([]);
  });

  it('logs out through the IdP and comes back logged out', async () => {
    await logIn();
    await page.click('#logout');
    await page.waitForURL(
      (url) => url.href.startsWith(spaUrl) && !url.href.includes('end_session'),
    );
    await expect.poll(() => page.textContent('#status')).toBe('Not logged in');
    expect(await page.isDisabled('#call-api')).toBe(true);
    await shot('6-logged-out');
  });

  it('keeps the user on the IdP page after a wrong password', async () => {
    await page.goto(spaUrl);
    await page.click('#login');
    await page.waitForURL((url) => url.href.startsWith(idp.issuer));
    await page.fill('#username', ada.userName);
    await page.fill('#password', 'wrong password');
    await page.click('#login-submit');
    await expect
      .poll(() => page.textContent('#login-error'))
      .toContain('Invalid login name or password');
    expect(page.url().startsWith(spaUrl)).toBe(false);
    await shot('7-wrong-password');
  });
});
