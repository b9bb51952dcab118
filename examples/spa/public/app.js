/*
 * The demo app's script. The gateway is this app's backend-for-frontend: it keeps the
 * tokens, the browser holds only its HttpOnly session cookie, and this script never sees
 * a token. It asks the gateway who is signed in, calls the quote API through the
 * gateway's proxy, and logs out with a POST that carries the CSRF header. Plain
 * JavaScript, no build step.
 */
/* global document, location */

const state = { gatewayUrl: '', session: undefined };

const element = (id) => document.getElementById(id);

/** A request to the gateway, with its session cookie (also across subdomains). */
function gateway(path, init = {}) {
  return fetch(`${state.gatewayUrl}${path}`, { credentials: 'include', ...init });
}

function render() {
  const { session } = state;
  element('status').textContent =
    session === undefined
      ? 'Not logged in'
      : `Signed in as ${session.name ?? session.preferred_username ?? session.subject}`;
  element('login').disabled = session !== undefined;
  for (const id of ['call-api', 'userinfo', 'logout']) element(id).disabled = session === undefined;
}

function showError(text) {
  element('error').textContent = text;
}

async function describeFailure(response) {
  const body = await response.json().catch(() => ({}));
  return `${response.status}: ${body.error_description ?? body.error ?? response.statusText}`;
}

async function loadSession() {
  const response = await gateway('/api/v1/session');
  if (response.ok) state.session = await response.json();
  else if (response.status === 401) state.session = undefined;
  else showError(`The gateway answered ${await describeFailure(response)}`);
  render();
}

async function callApi() {
  showError('');
  const response = await gateway('/api/quotes/quote');
  if (!response.ok) {
    showError(`The quote API answered ${await describeFailure(response)}`);
    return;
  }
  const { quote } = await response.json();
  element('quote').textContent = `“${quote.text}” — ${quote.author}`;
}

function showSession() {
  const { session } = state;
  const roles = session.roles.map((r) => `${r.role} (${r.orgDomain})`).join(', ');
  element('user').textContent = `Roles: ${roles || 'none'}`;
  element('userinfo-json').textContent = JSON.stringify(session, null, 2);
}

/** Where the gateway sends the browser back to: this page, on this origin. */
function returnTo() {
  return encodeURIComponent(`${location.origin}${location.pathname}`);
}

async function logout() {
  // The custom header is the CSRF proof: another site cannot send it without a preflight.
  const response = await gateway(`/api/v1/logout?return_to=${returnTo()}`, {
    method: 'POST',
    headers: { 'X-Zitauth-CSRF': '1' },
  });
  if (!response.ok) {
    showError(`The gateway answered ${await describeFailure(response)}`);
    return;
  }
  state.session = undefined;
  render();
  location.assign((await response.json()).endSessionUrl);
}

const onClick = (id, action) =>
  element(id).addEventListener('click', () => void action().catch((e) => showError(String(e))));

async function start() {
  const config = await (await fetch('/config.json')).json();
  state.gatewayUrl = config.gatewayUrl;
  element('login').addEventListener('click', () => {
    location.assign(`${state.gatewayUrl}/api/v1/login?return_to=${returnTo()}`);
  });
  onClick('logout', logout);
  onClick('call-api', callApi);
  onClick('userinfo', async () => showSession());
  render();
  await loadSession();
}

start().catch((error) => showError(`The page could not start: ${error}`));
