/*
 * The demo app's script: log in through the gateway, call the quote API with the access
 * token, fetch the user's profile through the gateway. Plain JavaScript, no build step.
 *
 * The token arrives in the URL fragment (the gateway's callback puts it there, as the
 * seed does): it is read once, removed from the address bar and history right away, and
 * kept in memory only, so a reload or a new tab starts logged out.
 */
/* global document, location, history */

const state = { token: undefined, gatewayUrl: '' };

const element = (id) => document.getElementById(id);

function render() {
  const loggedIn = state.token !== undefined;
  element('status').textContent = loggedIn ? 'Access token received' : 'Not logged in';
  element('login').disabled = loggedIn;
  for (const id of ['call-api', 'userinfo', 'logout']) element(id).disabled = !loggedIn;
}

function showError(text) {
  element('error').textContent = text;
}

/** The token from `#access_token=…`, and the fragment gone from the URL and history. */
function takeTokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('access_token');
  if (location.hash !== '') history.replaceState(null, '', location.pathname + location.search);
  return token === null || token === '' ? undefined : token;
}

async function describeFailure(response) {
  const body = await response.json().catch(() => ({}));
  return `${response.status}: ${body.error_description ?? body.error ?? response.statusText}`;
}

async function callApi() {
  showError('');
  const response = await fetch('/api/quote', {
    headers: { authorization: `Bearer ${state.token}` },
  });
  if (!response.ok) {
    showError(`The quote API answered ${await describeFailure(response)}`);
    return;
  }
  const { quote } = await response.json();
  element('quote').textContent = `“${quote.text}” — ${quote.author}`;
}

async function fetchUserinfo() {
  showError('');
  const response = await fetch(`${state.gatewayUrl}/api/v1/userinfo`, {
    headers: { authorization: `Bearer ${state.token}` },
  });
  if (!response.ok) {
    showError(`The gateway answered ${await describeFailure(response)}`);
    return;
  }
  const { userinfo } = await response.json();
  element('user').textContent =
    `Signed in as ${userinfo.name ?? userinfo.sub} (${userinfo.email ?? 'no email'})`;
  element('userinfo-json').textContent = JSON.stringify(userinfo, null, 2);
}

/** Where the gateway sends the browser back to: this page, on this origin. */
function returnTo() {
  return encodeURIComponent(`${location.origin}${location.pathname}`);
}

async function start() {
  const config = await (await fetch('/config.json')).json();
  state.gatewayUrl = config.gatewayUrl;
  state.token = takeTokenFromFragment();
  element('login').addEventListener('click', () => {
    location.assign(`${state.gatewayUrl}/api/v1/login?return_to=${returnTo()}`);
  });
  element('logout').addEventListener('click', () => {
    state.token = undefined;
    location.assign(`${state.gatewayUrl}/api/v1/logout?return_to=${returnTo()}`);
  });
  element('call-api').addEventListener(
    'click',
    () => void callApi().catch((e) => showError(String(e))),
  );
  element('userinfo').addEventListener(
    'click',
    () => void fetchUserinfo().catch((e) => showError(String(e))),
  );
  render();
}

start().catch((error) => showError(`The page could not start: ${error}`));
