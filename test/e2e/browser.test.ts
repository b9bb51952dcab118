/**
 * The demo app in a real browser (Debian's headless Chromium through playwright-core; no
 * browser is downloaded), with the gateway as its backend-for-frontend, in both supported
 * placements: on its own subdomain of the app's site (`auth.zitauth.localhost` serving
 * `app.zitauth.localhost`, credentialed CORS) and under a path of the app's own origin
 * (`app.localhost/auth`, forwarded by the app's server as a reverse proxy would).
 * Chromium resolves `*.localhost` to 127.0.0.1 itself. Each journey: log in on the local
 * IdP's page through the gateway, call the quote API through the gateway's proxy, check
 * that no token is readable by page script, log out. A login-CSRF attempt (an attacker's
 * callback sent to the victim) is refused; in the opt-in token mode, an attacker's one-time
 * code opened in the victim's browser is refused too. Screenshots go to test-artifacts/.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

type Placement = 'subdomain' | 'path';

/** One app with its gateway, in one placement. */
interface Deployment {
  appUrl: string;
  gatewayPublicUrl: string;
  close(): Promise<void>;
}

let idp: TestIdp;
let ada: User;
let mallory: User;
let api: Server;
let apiUrl: string;
let introspection: { clientId: string; clientSecret: string };
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
  mallory = idp.createUser({ userName: 'mallory', roles: ['reader'] });
  const introspector = idp.createApiApp({ auth: 'basic' });
  introspection = { clientId: introspector.clientId, clientSecret: introspector.clientSecret };
  api = createApp({
    auth: { issuer: idp.issuer, projectId: idp.defaultProject.id, introspection },
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => api.once('listening', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (api !== undefined) await new Promise((resolve) => api.close(resolve));
  await idp?.close();
});

const close = (server: Server) => new Promise((resolve) => server.close(resolve));

/** Starts the app and its gateway; ports are picked first, as the IdP must know the URLs. */
async function deploy(placement: Placement): Promise<Deployment> {
  const appPort = await freePort();
  const gatewayPort = await freePort();
  const appUrl =
    placement === 'subdomain'
      ? `http://app.zitauth.localhost:${appPort}`
      : `http://app.localhost:${appPort}`;
  const gatewayPublicUrl =
    placement === 'subdomain' ? `http://auth.zitauth.localhost:${gatewayPort}` : `${appUrl}/auth`;
  const web = idp.createWebApp({
    redirectUris: [`${gatewayPublicUrl}/api/v1/callback`],
    postLogoutRedirectUris: [`${appUrl}/`],
  });
  const gateway: FastifyInstance = await createGateway({
    issuer: idp.issuer,
    projectId: idp.defaultProject.id,
    publicUrl: gatewayPublicUrl,
    allowedOrigins: [appUrl],
    login: { clientId: web.clientId },
    introspection,
    upstreams: { quotes: `${apiUrl}/api` },
    logger: false,
  });
  await gateway.listen({ host: '127.0.0.1', port: gatewayPort });
  const spa = createSpaServer(
    placement === 'subdomain'
      ? { gatewayUrl: gatewayPublicUrl }
      : { gatewayUrl: '/auth', gatewayUpstream: `http://127.0.0.1:${gatewayPort}` },
  );
  await new Promise<void>((resolve) => spa.listen(appPort, '127.0.0.1', resolve));
  return {
    appUrl,
    gatewayPublicUrl,
    close: async () => {
      await close(spa);
      await gateway.close();
    },
  };
}

/** A fresh browser profile with a page that records script errors. */
async function openPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('401'))
      problems.push(`console: ${message.text()}`);
  });
  return { context, page, problems };
}

/** What page script can read: cookies and both storages (evaluated in the page). */
function scriptVisibleState(page: Page): Promise<unknown> {
  return page.evaluate(
    '({ cookie: document.cookie, local: Object.entries(localStorage), session: Object.entries(sessionStorage) })',
  );
}

describe.each(['subdomain', 'path'] as const)(
  'the demo app with the gateway on a %s',
  (placement) => {
    let deployment: Deployment;
    beforeAll(async () => {
      deployment = await deploy(placement);
    });
    afterAll(() => deployment?.close());

    const shot = (page: Page, name: string) =>
      page.screenshot({
        path: join(ARTIFACTS, `browser-${placement}-${name}.png`),
        fullPage: true,
      });

    /** From the app to the IdP's login page and back, signed in. */
    async function logIn(page: Page, user: User): Promise<void> {
      await page.goto(deployment.appUrl);
      await expect.poll(() => page.textContent('#status')).toBe('Not logged in');
      await page.click('#login');
      await page.waitForURL((url) => url.href.startsWith(idp.issuer));
      await page.fill('#username', user.userName);
      await page.fill('#password', user.password);
      await page.click('#login-submit');
      await page.waitForURL(
        (url) => url.href.startsWith(deployment.appUrl) && !url.href.includes('/auth/'),
      );
      await expect
        .poll(() => page.textContent('#status'))
        .toBe(`Signed in as ${user.givenName} ${user.familyName}`);
    }

    it('logs in, calls the quote API through the gateway, and page script holds no token', async () => {
      const { context, page, problems } = await openPage();
      try {
        await page.goto(deployment.appUrl);
        await shot(page, '1-app');
        await logIn(page, ada);
        await shot(page, '2-signed-in');

        await page.click('#call-api');
        await expect.poll(() => page.textContent('#quote')).toMatch(/^“.+” — .+$/);
        await page.click('#userinfo');
        await expect.poll(() => page.textContent('#user')).toBe('Roles: editor (acme.localhost)');
        await shot(page, '3-quote-and-session');

        // The session cookie exists, but only the browser and the gateway can see it.
        const cookies = await context.cookies();
        const session = cookies.find((c) => c.name === 'zitauth_session');
        expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
        expect(new URL(deployment.gatewayPublicUrl).hostname).toBe(session?.domain);
        expect(await scriptVisibleState(page)).toEqual({ cookie: '', local: [], session: [] });
        expect(await page.content()).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
        expect(await page.textContent('#error')).toBe('');
        expect(problems).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it('logs out: the session ends at the gateway and at the IdP', async () => {
      const { context, page } = await openPage();
      try {
        await logIn(page, ada);
        // The page is already on the app's URL when the button is clicked, so waiting for that
        // URL would return before the logout's navigation starts: wait for the navigation back
        // from the IdP's end-session endpoint instead (armed before the click).
        const back = page.waitForEvent('framenavigated', {
          predicate: (frame) =>
            frame === page.mainFrame() && frame.url().startsWith(deployment.appUrl),
        });
        await page.click('#logout');
        await back;
        await page.waitForLoadState('load');
        await expect.poll(() => page.textContent('#status')).toBe('Not logged in');
        expect(await page.isDisabled('#call-api')).toBe(true);
        expect((await context.cookies()).map((c) => c.name)).not.toContain('zitauth_session');
        const status = await page.evaluate(
          async (url) => (await fetch(url, { credentials: 'include' })).status,
          `${deployment.gatewayPublicUrl}/api/quotes/quote`,
        );
        expect(status).toBe(401);
        await shot(page, '4-logged-out');
      } finally {
        await context.close();
      }
    });

    it("refuses a login CSRF: the attacker's callback opened in the victim's browser", async () => {
      // The attacker logs in as themself and stops before the gateway's callback: the IdP's
      // answer to the login form is read, not followed (a route sees no redirect targets).
      const attacker = await openPage();
      let forged = '';
      await attacker.context.route(
        (url) => url.pathname === '/ui/login/login',
        async (route) => {
          const answer = await route.fetch({ maxRedirects: 0 });
          forged = answer.headers()['location'] ?? '';
          await route.abort();
        },
      );
      await attacker.page.goto(deployment.appUrl);
      await attacker.page.click('#login');
      await attacker.page.waitForURL((url) => url.href.startsWith(idp.issuer));
      await attacker.page.fill('#username', mallory.userName);
      await attacker.page.fill('#password', mallory.password);
      await attacker.page.click('#login-submit').catch(() => undefined);
      await expect.poll(() => forged).toContain('code=');
      await attacker.context.close();

      // The victim's browser is made to open it.
      const victim = await openPage();
      try {
        const answer = await victim.page.goto(forged);
        expect(answer?.status()).toBe(400);
        expect(await answer?.text()).toContain('invalid_request');
        await shot(victim.page, '5-login-csrf-refused');
        expect((await victim.context.cookies()).map((c) => c.name)).not.toContain(
          'zitauth_session',
        );
        await victim.page.goto(deployment.appUrl);
        await expect.poll(() => victim.page.textContent('#status')).toBe('Not logged in');
      } finally {
        await victim.context.close();
      }
    });
  },
);

/**
 * A token-mode page, as small as the protocol allows: it makes a secret, keeps it in
 * sessionStorage, sends its hash to /login, and redeems the `#code` it comes back with.
 */
function tokenModePage(gatewayUrl: string): string {
  return `<!doctype html><meta charset="utf-8"><p id="status">starting</p>
<button id="login">Login</button>
<script type="module">
const gateway = ${JSON.stringify(gatewayUrl)};
const status = document.getElementById('status');
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/[+]/g, '-').replace(/[/]/g, '_').replace(/=+$/, '');
const code = new URLSearchParams(location.hash.slice(1)).get('code');
history.replaceState(null, '', location.pathname);
document.getElementById('login').onclick = async () => {
  const secret = b64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem('handoff', secret);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
  const back = encodeURIComponent(location.origin + '/');
  location.assign(gateway + '/api/v1/login?return_to=' + back + '&handoff=' + b64url(new Uint8Array(digest)));
};
if (code === null) status.textContent = 'ready';
else {
  const secret = sessionStorage.getItem('handoff');
  sessionStorage.removeItem('handoff');
  if (secret === null) status.textContent = 'refused: not started here';
  else {
    const answer = await fetch(gateway + '/api/v1/handoff', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, secret }),
    });
    window.accessToken = answer.ok ? (await answer.json()).access_token : undefined;
    status.textContent = answer.ok ? 'token received' : 'refused: ' + answer.status;
  }
}
</script>`;
}

describe('token mode (opt-in) in Chromium', () => {
  let appUrl: string;
  let gatewayUrl: string;
  let gatewayPort: number;
  let page: Server;
  let gateway: FastifyInstance;
  beforeAll(async () => {
    const appPort = await freePort();
    gatewayPort = await freePort();
    appUrl = `http://app.zitauth.localhost:${appPort}`;
    gatewayUrl = `http://auth.zitauth.localhost:${gatewayPort}`;
    const web = idp.createWebApp({ redirectUris: [`${gatewayUrl}/api/v1/callback`] });
    gateway = await createGateway({
      issuer: idp.issuer,
      projectId: idp.defaultProject.id,
      publicUrl: gatewayUrl,
      allowedOrigins: [appUrl],
      login: { clientId: web.clientId },
      introspection,
      browserMode: 'token',
      logger: false,
    });
    await gateway.listen({ host: '127.0.0.1', port: gatewayPort });
    page = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(tokenModePage(gatewayUrl));
    });
    await new Promise<void>((resolve) => page.listen(appPort, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    if (page !== undefined) await close(page);
    await gateway?.close();
  });

  /** The attacker's own login, done outside any browser: resolves their one-time code. */
  async function attackersCode(): Promise<string> {
    const secretHash = createHash('sha256').update('the attacker page secret').digest('base64url');
    const direct = `http://127.0.0.1:${gatewayPort}`;
    const started = await fetch(
      `${direct}/api/v1/login?return_to=${encodeURIComponent(`${appUrl}/`)}&handoff=${secretHash}`,
      { redirect: 'manual' },
    );
    const cookie = (started.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '';
    const form = await (await fetch(String(started.headers.get('location')))).text();
    const request = /name="request" value="([^"]+)"/.exec(form)?.[1] ?? '';
    const posted = await fetch(`${idp.issuer}/ui/login/login`, {
      method: 'POST',
      body: new URLSearchParams({
        request,
        username: mallory.userName,
        password: mallory.password,
      }),
      redirect: 'manual',
    });
    const callback = new URL(String(posted.headers.get('location')));
    const back = await fetch(`${direct}${callback.pathname}${callback.search}`, {
      headers: { cookie },
      redirect: 'manual',
    });
    return (
      new URLSearchParams(new URL(String(back.headers.get('location'))).hash.slice(1)).get(
        'code',
      ) ?? ''
    );
  }

  it('hands the token only to the page that started the login', async () => {
    const { context, page: tab } = await openPage();
    try {
      await tab.goto(`${appUrl}/`);
      await expect.poll(() => tab.textContent('#status')).toBe('ready');
      await tab.click('#login');
      await tab.waitForURL((url) => url.href.startsWith(idp.issuer));
      await tab.fill('#username', ada.userName);
      await tab.fill('#password', ada.password);
      await tab.click('#login-submit');
      await expect.poll(() => tab.textContent('#status')).toBe('token received');
      expect(new URL(tab.url()).hash).toBe('');
      expect(await tab.evaluate('sessionStorage.length')).toBe(0);
    } finally {
      await context.close();
    }
  });

  it("refuses an attacker's code opened in the victim's browser", async () => {
    const code = await attackersCode();
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { context, page: tab } = await openPage();
    try {
      // A page that started no login refuses the code itself.
      await tab.goto(`${appUrl}/#code=${code}`);
      await expect.poll(() => tab.textContent('#status')).toBe('refused: not started here');
      // A page with a login of its own pending sends its own secret: the gateway refuses.
      await tab.goto(`${appUrl}/`);
      await tab.click('#login');
      await tab.waitForURL((url) => url.href.startsWith(idp.issuer));
      await tab.goto(`${appUrl}/#code=${await attackersCode()}`);
      await expect.poll(() => tab.textContent('#status')).toBe('refused: 400');
      expect(await tab.evaluate('window.accessToken')).toBeUndefined();
      await tab.screenshot({ path: join(ARTIFACTS, 'browser-token-mode-login-csrf-refused.png') });
    } finally {
      await context.close();
    }
  });
});

describe('the IdP login page', () => {
  it('keeps the user on the IdP page after a wrong password', async () => {
    const deployment = await deploy('subdomain');
    const { context, page } = await openPage();
    try {
      await page.goto(deployment.appUrl);
      await page.click('#login');
      await page.waitForURL((url) => url.href.startsWith(idp.issuer));
      await page.fill('#username', ada.userName);
      await page.fill('#password', 'wrong password');
      await page.click('#login-submit');
      await expect
        .poll(() => page.textContent('#login-error'))
        .toContain('Invalid login name or password');
      expect(page.url().startsWith(deployment.appUrl)).toBe(false);
      await page.screenshot({ path: join(ARTIFACTS, 'browser-wrong-password.png') });
    } finally {
      await context.close();
      await deployment.close();
    }
  });
});
